"""/healthz: the database and the queue, reached for real; a broken one is a 503."""

from __future__ import annotations

import os

import pytest
from huey import RedisHuey

from campaign import create_app, health
from tests.conftest import _config


def test_healthy_is_200_with_every_check_ok_and_sets_no_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "queue": "ok", "letters": "ok"},
    }
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_a_database_that_cannot_be_opened_is_a_503_naming_it(tmp_path):
    # A SQLite file in a folder that does not exist: opening it fails, as a dead server would.
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'campaign.sqlite3'}"
    app = create_app(_config(url, tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "failing" and body["failing"] == ["database"]
    assert body["checks"] == {
        "database": "failed: OperationalError",
        "queue": "ok",
        "letters": "ok",
    }
    assert "no-such-folder" not in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_a_postgresql_server_that_refuses_is_a_503_without_the_password(tmp_path):
    app = create_app(_config("postgresql+psycopg://ops:s3cret@127.0.0.1:1/campaign", tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "failed: OperationalError"
    text = response.get_data(as_text=True)
    assert "s3cret" not in text and "127.0.0.1" not in text


def test_a_queue_that_refuses_is_a_503_naming_it(client, monkeypatch):
    # A real Redis client pointed at a port nothing listens on.
    monkeypatch.setattr(health, "huey", RedisHuey("campaign", url="redis://127.0.0.1:1/5"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "failing",
        "checks": {"database": "ok", "queue": "failed: ConnectionError", "letters": "ok"},
        "failing": ["queue"],
    }


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL is not set")
def test_a_redis_queue_that_answers_is_ok(client, monkeypatch):
    monkeypatch.setattr(health, "huey", RedisHuey("campaign", url=os.environ["TEST_REDIS_URL"]))
    assert client.get("/healthz").get_json()["checks"]["queue"] == "ok"
