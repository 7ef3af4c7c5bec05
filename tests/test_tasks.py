"""Background tasks through a real queue: SQLite (embedded) and Redis (at scale)."""

from __future__ import annotations

import os
import secrets

import pytest
from huey import RedisHuey, SqliteHuey

from campaign.auth import services
from campaign.extensions import db
from campaign.tasks import app_context
from tests.factories import make_association, make_user


@pytest.fixture(params=["sqlite", "redis"])
def queue(request, tmp_path):
    if request.param == "sqlite":
        queue = SqliteHuey("test", filename=str(tmp_path / "tasks.sqlite3"))
    else:
        url = os.environ.get("TEST_REDIS_URL")
        if not url:
            if os.environ.get("CI") == "true":
                raise RuntimeError("CI must set TEST_REDIS_URL so the Redis queue is tested.")
            pytest.skip("TEST_REDIS_URL is not set: no Redis to test")
        queue = RedisHuey(f"test-{secrets.token_hex(4)}", url=url)
    yield queue
    queue.flush()


def test_sign_in_link_task_round_trips_through_a_real_queue(app, queue, outbox):
    @queue.task()
    def send_link(email: str) -> bool:
        with app_context():
            return services.send_sign_in_link(email)

    make_user("jane@oakfield.example", "Jane Smith", make_association())
    db.session.commit()
    send_link("jane@oakfield.example")
    send_link("nobody@nowhere.example")
    assert queue.pending_count() == 2 and outbox() == []
    while (task := queue.dequeue()) is not None:
        queue.execute(task)
    assert [m["To"] for m in outbox()] == ["jane@oakfield.example"]
    assert queue.pending_count() == 0
