"""Settings, read from the environment with embedded defaults.

Every variable is listed in the README. Nothing here needs a network service:
with no environment at all the app runs on a SQLite file and a file outbox. This
module only reads the environment; development defaults that need the app's own
code are filled in by `campaign.devtools.init_app`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def instance_path() -> Path:
    return Path(os.environ.get("CAMPAIGN_INSTANCE", PROJECT_ROOT / "instance")).resolve()


def _secret_key(instance: Path) -> str:
    """Use SECRET_KEY if set, else one generated on first run and kept in instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment() -> dict:
    """Build the app's configuration from the environment."""
    instance = instance_path()
    development = os.environ.get("CAMPAIGN_ENV", "production") == "development"
    return {
        "INSTANCE": str(instance),
        "DEVELOPMENT": development,
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance / 'campaign.sqlite3'}"
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "campaigns@demo.example"),
        "OUTBOX_DIR": os.environ.get("OUTBOX_DIR", str(instance / "outbox")),
        # Rendered PDFs: a folder, or s3://bucket/prefix on any S3-compatible store
        # (LETTER_STORE_ENDPOINT for one other than AWS; credentials as boto3 reads them).
        "LETTER_STORE": os.environ.get("LETTER_STORE", str(instance / "letters")),
        "LETTER_STORE_ENDPOINT": os.environ.get("LETTER_STORE_ENDPOINT", ""),
        "SENDGRID_API_KEY": os.environ.get("SENDGRID_API_KEY", ""),
        "SENDGRID_API_HOST": os.environ.get("SENDGRID_API_HOST", "https://api.sendgrid.com"),
        "SENDGRID_TIMEOUT": float(os.environ.get("SENDGRID_TIMEOUT", "30")),
        # The event webhook's verification key, as SendGrid shows it (base64, no PEM
        # lines); in development devtools fills in a key of its own.
        "SENDGRID_WEBHOOK_PUBLIC_KEY": os.environ.get("SENDGRID_WEBHOOK_PUBLIC_KEY", ""),
        # Sending: parallel requests, messages claimed at a time, bounded retries.
        "SEND_WORKERS": int(os.environ.get("SEND_WORKERS", "16")),
        # Sender tasks a send queues; they drain one outbox together, over the workers.
        "SEND_TASKS": int(os.environ.get("SEND_TASKS", "4")),
        "SEND_CLAIM_SIZE": int(os.environ.get("SEND_CLAIM_SIZE", "1000")),
        "SEND_MAX_ATTEMPTS": int(os.environ.get("SEND_MAX_ATTEMPTS", "8")),
        "SEND_BACKOFF_BASE": float(os.environ.get("SEND_BACKOFF_BASE", "2")),
        "SEND_BACKOFF_CAP": float(os.environ.get("SEND_BACKOFF_CAP", "300")),
        # A message claimed this long ago with no outcome is "in doubt" (see README).
        "SEND_IN_DOUBT_MINUTES": int(os.environ.get("SEND_IN_DOUBT_MINUTES", "10")),
        "PARLIAMENT_API_URL": os.environ.get(
            "PARLIAMENT_API_URL", "https://members-api.parliament.uk"
        ).rstrip("/"),
        # "json" (one object per line, for a log collector) or "text" (for reading in a
        # terminal); development defaults to text (campaign.logs).
        "LOG_FORMAT": os.environ.get("LOG_FORMAT") or ("text" if development else "json"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # `campaign retention`: sign-in links, parents' lists and finished campaigns'
        # personal data older than this many days are deleted or anonymised.
        "RETENTION_DAYS": int(os.environ.get("RETENTION_DAYS", "365")),
        "LOGIN_TOKEN_MINUTES": int(os.environ.get("LOGIN_TOKEN_MINUTES", "30")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "80")) * 1024 * 1024,
        # Counted in Redis when there is one, so every worker shares one budget.
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        # How many reverse proxies in front of the app set X-Forwarded-For and
        # X-Forwarded-Proto; 0 (the default) trusts neither header.
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        "RATELIMIT_ENABLED": True,
        "SESSION_COOKIE_SECURE": not development,
        "REMEMBER_COOKIE_SECURE": not development,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Sign-in never sets a remember-me cookie, and one alone would not sign in:
        # the user loader wants the session's version (auth.services.load_session_user).
        "REMEMBER_COOKIE_HTTPONLY": True,
        # A form left open longer than a working day asks to be reloaded.
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    }
