"""Rate limits on asking for sign-in links: per client IP (behind trusted proxies
only when configured), counted in Redis when there is one; and a cap on what an
email address receives, which nobody can turn into a lock-out."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
import redis
from flask import request
from limits.storage import MemoryStorage, RedisStorage
from sqlalchemy import select, update

from campaign.auth.models import LoginToken
from campaign.auth.services import MAX_LIVE_LINKS
from campaign.config import from_environment
from campaign.extensions import db, limiter
from tests.factories import links_in, make_association, make_user

REDIS = os.environ.get("TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS and os.environ.get("CI") != "true",
    reason="TEST_REDIS_URL is not set: no Redis to test",
)
JANE = "jane@oakfield.example"


@pytest.fixture
def member(app):
    user = make_user(JANE, "Jane Smith", make_association(slug="essex"))
    db.session.commit()
    return user


@pytest.fixture(params=["memory://", pytest.param(REDIS, id="redis", marks=needs_redis)],
                ids=["memory", "redis"])  # fmt: skip
def rate_limited(app, request):
    app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=request.param)
    limiter.init_app(app)
    limiter.reset()
    yield app
    limiter.reset()


def ask(client, email: str = JANE, ip: str = "192.0.2.10", **headers):
    return client.post(
        "/sign-in", data={"email": email}, environ_base={"REMOTE_ADDR": ip}, headers=headers
    )


def test_a_third_party_cannot_lock_a_person_out(rate_limited, member, outbox):
    client = rate_limited.test_client()
    normal = ask(client, ip="192.0.2.10")
    for i in range(8):  # someone else, from eight addresses
        response = ask(client, ip=f"203.0.113.{i}")
        assert (response.status_code, response.location) == (302, "/sign-in/sent")
    jane = ask(client, ip="192.0.2.10")
    assert (jane.status_code, jane.location, jane.data) == (
        normal.status_code,
        normal.location,
        normal.data,
    )
    assert client.get(jane.location).status_code == 200
    sent = outbox()
    assert len(sent) == MAX_LIVE_LINKS == 5  # nine asked, five sent
    # And every link Jane received works.
    link = links_in(sent[-1])[0].replace("http://localhost", "")
    assert client.post(link).status_code == 302
    assert client.get("/a/essex/").status_code == 200


def test_a_link_used_or_expired_makes_room_for_another(client, member, outbox):
    for _ in range(MAX_LIVE_LINKS + 2):
        client.post("/sign-in", data={"email": JANE})
    assert len(outbox()) == MAX_LIVE_LINKS
    first = links_in(outbox()[0])[0].replace("http://localhost", "")
    client.post(first)  # used
    db.session.execute(  # and one expired
        update(LoginToken)
        .where(LoginToken.used.is_(None))
        .where(LoginToken.id == db.session.scalar(select(db.func.max(LoginToken.id))))
        .values(expires=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()
    for _ in range(3):
        client.post("/sign-in", data={"email": JANE})
    assert len(outbox()) == MAX_LIVE_LINKS + 2


def test_requests_for_links_are_rate_limited_per_ip(rate_limited, member):
    client = rate_limited.test_client()
    statuses = [ask(client, f"person{i}@example.org").status_code for i in range(31)]
    assert statuses[:30] == [302] * 30 and statuses[30] == 429
    assert b"Too many requests" in ask(client, "another@example.org").data
    assert ask(client, "another@example.org", ip="192.0.2.99").status_code == 302


def test_forwarded_for_is_ignored_without_a_trusted_proxy(rate_limited, member):
    client = rate_limited.test_client()
    statuses = [
        ask(client, f"p{i}@example.org", **{"X-Forwarded-For": f"198.51.100.{i}"}).status_code
        for i in range(31)
    ]
    assert statuses[30] == 429  # one budget: the header was not believed


def test_forwarded_for_is_believed_behind_proxy_count_proxies(make_app, member):
    app = make_app(PROXY_COUNT=1, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    limiter.reset()
    client = app.test_client()
    proxy = "10.0.0.2"  # every request arrives from the proxy
    for i in range(30):
        forwarded = {"X-Forwarded-For": "198.51.100.1"}
        assert ask(client, f"p{i}@example.org", ip=proxy, **forwarded).status_code == 302
    assert ask(client, ip=proxy, **{"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert ask(client, ip=proxy, **{"X-Forwarded-For": "198.51.100.2"}).status_code == 302
    # A client cannot pick its address by sending its own header: only the
    # right-most entry, the one the proxy wrote, counts.
    spoofed = {"X-Forwarded-For": "198.51.100.7, 198.51.100.1"}
    assert ask(client, ip=proxy, **spoofed).status_code == 429
    limiter.reset()


@pytest.mark.parametrize("proxies", [0, 1])
def test_proxy_fix_sets_address_and_scheme_only_when_configured(make_app, proxies):
    app = make_app(PROXY_COUNT=proxies)

    @app.get("/test-whoami")
    def whoami():
        return f"{request.remote_addr} {request.scheme}"

    headers = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    seen = app.test_client().get(
        "/test-whoami", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    assert seen.get_data(as_text=True) == ("198.51.100.1 https" if proxies else "10.0.0.2 http")


def test_no_proxy_is_trusted_by_default(monkeypatch):
    monkeypatch.delenv("PROXY_COUNT", raising=False)
    assert from_environment()["PROXY_COUNT"] == 0
    monkeypatch.setenv("PROXY_COUNT", "2")
    assert from_environment()["PROXY_COUNT"] == 2


def test_the_limiter_counts_in_memory_without_redis(monkeypatch, make_app):
    monkeypatch.delenv("REDIS_URL", raising=False)
    make_app(RATELIMIT_ENABLED=True)
    assert isinstance(limiter.storage, MemoryStorage)


@needs_redis
def test_the_limiter_counts_in_redis_when_redis_url_is_set(monkeypatch, make_app):
    monkeypatch.setenv("REDIS_URL", REDIS)
    assert from_environment()["RATELIMIT_STORAGE_URI"] == REDIS
    app = make_app(RATELIMIT_ENABLED=True)
    assert isinstance(limiter.storage, RedisStorage)
    limiter.reset()
    try:
        ask(app.test_client(), "someone@example.org", ip="192.0.2.50")
        keys = redis.Redis.from_url(REDIS).keys("LIMITS*")
        assert any(b"192.0.2.50" in key for key in keys), keys
    finally:
        limiter.reset()
