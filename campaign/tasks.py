"""Running background tasks inside the Flask app.

Tasks are queued by id (save first, then queue). The `campaign worker`
command runs Huey's consumer with the app it was started for.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from flask import Flask, has_app_context

_worker_app: Flask | None = None


def set_worker_app(app: Flask) -> None:
    global _worker_app
    _worker_app = app


def app_context() -> AbstractContextManager:
    """The app context a task runs in: the caller's when run inline, else the worker's."""
    if has_app_context():
        return nullcontext()
    if _worker_app is None:
        raise RuntimeError("Start the workers with `campaign worker`, which gives tasks the app.")
    return _worker_app.app_context()
