"""gunicorn settings for the web app: `gunicorn -c gunicorn.conf.py`.

Every value can be changed from the environment (README, "Running it in production").
The app writes one log line per request itself (campaign.logs, with the request id),
so gunicorn's own access log is off unless ACCESS_LOG names a file or "-".
"""

import json
import os

from campaign import logs

wsgi_app = "campaign:create_app()"

# BIND ("127.0.0.1:8000", "unix:/run/campaign/web.sock") wins; PORT alone is a platform
# handing us a port (a Procfile host), which must be reachable from its router.
if "BIND" in os.environ:
    bind = os.environ["BIND"]
elif "PORT" in os.environ:
    bind = f"0.0.0.0:{os.environ['PORT']}"
else:
    bind = "127.0.0.1:8000"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# Uploads of the full GIAS register (60 MB) and a print pack's download take a while.
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then, so a slow leak never grows unbounded.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The heartbeat file on a RAM disk: a slow disk would make gunicorn kill healthy workers.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("ACCESS_LOG") or None
access_log_format = json.dumps(
    {
        "time": "%(t)s",
        "level": "INFO",
        "logger": "gunicorn.access",
        "message": "%(m)s %(U)s %(s)s",
        "request_id": "%({x-request-id}o)s",
        "method": "%(m)s",
        "path": "%(U)s",
        "status": "%(s)s",
        "duration_ms": "%(M)s",
        "remote_addr": "%(h)s",
    }
)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn's own lines (starting, a worker timed out) in the app's format too.
_development = os.environ.get("CAMPAIGN_ENV") == "development"
_format = os.environ.get("LOG_FORMAT") or ("text" if _development else "json")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "app": {"()": logs.make_formatter, "fmt": _format},
        "access": {"format": "%(message)s"},  # already a JSON object (access_log_format)
    },
    "filters": {"request_id": {"()": logs.RequestIdFilter}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "app",
            "filters": ["request_id"],
            "stream": "ext://sys.stderr",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "stream": "ext://sys.stdout",
        },
    },
    # The app's own handler goes on the root logger when the app is made (campaign.logs).
    "root": {"level": loglevel.upper(), "handlers": []},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}
