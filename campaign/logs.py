"""Log lines: one JSON object per line in production, plain text in development, each
carrying the id of the request it was written in.

The request id is the caller's `X-Request-ID` when it is a sane one (a proxy or load
balancer in front usually sets it), else one made here; it is sent back in the same
header, and every line logged while the request runs carries it, so one line (an
error's, found by the reference the error page shows) leads to all the others.
The web app (`init_app`) and `campaign worker` both log through `configure`.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, has_request_context, request
from flask.logging import default_handler

HEADER = "X-Request-ID"
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Fields a request's line carries beside the message (see `log_request`).
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "remote_addr")
# Path arguments never written to a log: a sign-in link still unused, an unsubscribe link.
SECRET_ARGS = {"token"}
# Libraries that say a line per step at INFO (WeasyPrint: several per letter rendered).
CHATTY = ("weasyprint", "fontTools", "pikepdf")

request_log = logging.getLogger("campaign.request")


def request_id() -> str:
    """The current request's id, or "-" outside a request (a worker, a command)."""
    if has_request_context():
        return g.get("request_id", "-")
    return "-"


def incoming_or_new_id(header: str | None) -> str:
    """The caller's id if it is short and plain ([A-Za-z0-9._-], at most 100), else a new one."""
    if header and SANE_ID.fullmatch(header):
        return header
    return secrets.token_hex(16)


class RequestIdFilter(logging.Filter):
    """Gives every record the request id, so any logger's line can be matched to its request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, and the
    request fields or exception when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (as logging's last resort does),
    so a replaced stderr (a test's capture, a daemon's redirect) is honoured."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def make_formatter(fmt: str) -> logging.Formatter:
    """The formatter for LOG_FORMAT: "json" or "text"."""
    if fmt == "json":
        return JsonFormatter()
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f'LOG_FORMAT must be "json" or "text", not "{fmt}".')


def configure(fmt: str = "json", level: str = "INFO") -> None:
    """Send every logger's records to stderr in `fmt`, at `level` and above. Calling it
    again replaces its own handler, never adds a second."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(make_formatter(fmt))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def init_app(app: Flask) -> None:
    """Log as LOG_FORMAT says, and give each request an id and one line when it ends."""
    configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    # Flask's own handler would write each app.logger line a second time.
    app.logger.removeHandler(default_handler)
    app.before_request(_start_request)
    app.after_request(log_request)


def quiet(view: Callable) -> Callable:
    """Log this view's successful requests at DEBUG (a load balancer's health checks)."""
    view.quiet_log = True
    return view


def _start_request() -> None:
    g.request_id = incoming_or_new_id(request.headers.get(HEADER))
    g.request_started = time.perf_counter()


def _logged_path() -> str:
    if request.url_rule is not None and SECRET_ARGS & set(request.view_args or {}):
        return request.url_rule.rule  # "/sign-in/<token>", not the token
    return request.path


def log_request(response: Response) -> Response:
    """Echo the request id and write the request's line (no query string, no tokens)."""
    if "request_id" not in g:  # a request refused before the app's hooks ran
        _start_request()
    response.headers[HEADER] = g.request_id
    view = current_app.view_functions.get(request.endpoint or "")
    quiet_view = getattr(view, "quiet_log", False) and response.status_code < 400
    duration_ms = round((time.perf_counter() - g.request_started) * 1000, 1)
    request_log.log(
        logging.DEBUG if quiet_view else logging.INFO,
        "%s %s %s %sms",
        request.method,
        _logged_path(),
        response.status_code,
        duration_ms,
        extra={
            "method": request.method,
            "path": _logged_path(),
            "status": response.status_code,
            "duration_ms": duration_ms,
            "remote_addr": request.remote_addr,
        },
    )
    return response
