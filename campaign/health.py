"""`/healthz`: whether this process can reach what it needs, for a load balancer,
a process supervisor or a person after an upgrade.

No sign-in, no session, no cookie, no rate limit. Each check is a function in
CHECKS that returns quietly or raises; the answer names a failing check and a short
reason (the kind of error, never its text, which may hold a host or a user name);
the full error goes to the log under the request's id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, jsonify
from sqlalchemy import text

from campaign import logs
from campaign.extensions import db, huey, limiter
from campaign.letters.store import letter_store

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def check_database() -> None:
    """A round trip to the database, on a connection of its own (not the request's session)."""
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def check_queue() -> None:
    """A round trip to the task queue's storage: Redis (LLEN) or the SQLite file (COUNT)."""
    huey.storage.queue_size()


def check_letters() -> None:
    """The letter store can be written to (a folder, or an S3 bucket)."""
    letter_store().check()


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "queue": check_queue,
    "letters": check_letters,
}


def run_checks() -> dict[str, str]:
    """Each check's outcome: "ok", or "failed: <kind of error>"."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:
            log.error("Health check %s failed", name, exc_info=error)
            results[name] = f"failed: {type(error).__name__}"
        else:
            results[name] = "ok"
    return results


@bp.get("/healthz")
@limiter.exempt
@logs.quiet
def healthz():
    checks = run_checks()
    failing = sorted(name for name, outcome in checks.items() if outcome != "ok")
    body = {"status": "failing" if failing else "ok", "checks": checks}
    if failing:
        body["failing"] = failing
    response = jsonify(body)
    response.status_code = 503 if failing else 200
    response.headers["Cache-Control"] = "no-store"
    return response
