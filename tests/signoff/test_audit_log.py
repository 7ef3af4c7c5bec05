"""The audit log is paged, newest first: a campaign with thousands of events shows
one page of them, with the same queries whatever the log's length."""

from __future__ import annotations

import re

from sqlalchemy import event

from campaign.extensions import db
from campaign.signoff import services
from campaign.signoff.models import AuditEvent
from tests.factories import BASE, sign_in


def _log(campaign, lead, n: int) -> None:
    db.session.add_all(
        AuditEvent(campaign_id=campaign.id, actor_id=lead.id, action="settings", detail={"n": i})
        for i in range(n)
    )
    db.session.commit()


def _queries(client, path: str) -> tuple[int, str]:
    seen = []
    engine = db.engine
    listen = lambda *args, **kwargs: seen.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        text = client.get(path).get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return len(seen), re.sub(r"\s+", " ", text)


def test_the_log_shows_a_hundred_events_a_page_newest_first(client, signoff):
    before = len(services.dao_audit_events(signoff.campaign.id).rows)  # freezing was logged
    _log(signoff.campaign, signoff.lead, 250)
    sign_in(client, signoff.lead)
    _, first = _queries(client, f"{BASE}/audit")
    assert f"{250 + before} events, newest first." in first
    assert "n: 249" in first and "n: 150" in first and "n: 149" not in first
    assert "Page 1 of 3" in first and ">Older</a>" in first and ">Newer</a>" not in first
    _, last = _queries(client, f"{BASE}/audit?page=3")
    assert "Page 3 of 3" in last and "n: 0" in last and ">Older</a>" not in last
    _, beyond = _queries(client, f"{BASE}/audit?page=99")  # clamped to the last page
    assert "Page 3 of 3" in beyond


def test_the_log_costs_the_same_queries_with_10_or_2000_events(client, signoff):
    sign_in(client, signoff.lead)
    _log(signoff.campaign, signoff.lead, 10)
    few, _ = _queries(client, f"{BASE}/audit")
    _log(signoff.campaign, signoff.lead, 1990)
    many, page = _queries(client, f"{BASE}/audit")
    assert few == many
    assert page.count("<tr>") == 101  # the header and a hundred events
