"""The web app under gunicorn with the shipped gunicorn.conf.py, as production runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from flask_migrate import upgrade

from campaign import create_app
from campaign.extensions import db
from tests.conftest import _config

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_healthz_and_logs_json(tmp_path):
    url = f"sqlite:///{tmp_path / 'campaign.sqlite3'}"
    with create_app(_config(url, tmp_path)).app_context():
        upgrade()
        db.engine.dispose()
    port = free_port()
    env = {**os.environ, "CAMPAIGN_INSTANCE": str(tmp_path), "DATABASE_URL": url,
           "BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "1", "WEB_THREADS": "2"}  # fmt: skip
    for name in ("LOG_FORMAT", "CAMPAIGN_ENV", "ACCESS_LOG", "REDIS_URL"):
        env.pop(name, None)
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    guard = threading.Timer(60, web.kill)
    guard.start()
    try:
        for raw in web.stderr:  # every line is JSON, or this fails
            if json.loads(raw)["message"].startswith("Booting worker"):
                break
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "probe-1"}
        )
        # The worker may still be importing the app: the socket is open, so this waits.
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
            assert response.headers["X-Request-ID"] == "probe-1"
            checks = json.load(response)["checks"]
            assert checks == {"database": "ok", "queue": "ok", "letters": "ok"}
            assert response.headers.get("Set-Cookie") is None
    finally:
        guard.cancel()
        web.terminate()
        web.wait(timeout=30)
        web.stderr.close()
    assert web.returncode == 0  # a graceful stop on SIGTERM
