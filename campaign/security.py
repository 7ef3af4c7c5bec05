"""Security headers, set once for every response: pages, downloads, error pages;
and the client's address behind trusted proxies.

The pages' own scripts and styles are files under /static, so the policy allows
nothing inline. A route that needs a stricter or different policy (the logo
preview, a letter's HTML email) sets its own header, and that one is kept.
"""

from __future__ import annotations

from flask import Flask, Response, current_app
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# An HTML email as a recipient's mail client shows it: inline styles, no scripts,
# nothing fetched from elsewhere, no forms, never framed.
EMAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    if proxies := app.config.get("PROXY_COUNT", 0):
        # Only then are X-Forwarded-For/-Proto believed (the rate limits, the
        # signatures' audit log); anyone can send them to an app facing the internet.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def add_security_headers(response: Response) -> Response:
    """Add the headers a response does not already set."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not (current_app.config["DEVELOPMENT"] or current_app.testing):
        # Browsers ignore it over plain HTTP, so a local run is not locked to HTTPS.
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
