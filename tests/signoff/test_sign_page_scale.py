"""The sign page names the signing schools of the head's own local authority (at
most 30) and counts the rest in SQL: each signature must not make the next head's
page bigger or slower."""

from __future__ import annotations

import re

from sqlalchemy import event

from campaign.extensions import db
from campaign.signoff import steps
from campaign.signoff.models import Decision
from tests.factories import BASE, make_headship, make_school, make_user, sign_in


def _page(client, urn: int) -> tuple[int, str]:
    seen = []
    listen = lambda *args, **kwargs: seen.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        text = client.get(f"{BASE}/sign/{urn}").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return len(seen), re.sub(r"\s+", " ", text)


def _sign(signoff, schools: int, la: str, first_urn: int) -> None:
    campaign = signoff.campaign
    for n in range(schools):
        head = make_user(f"h{first_urn + n}@a.example", f"Head {n}", signoff.a)
        school = make_school(signoff.a, first_urn + n, name=f"{la} School {n:03d}",
                             local_authority=la)  # fmt: skip
        make_headship(signoff.a, head, school)
        steps.sign(campaign, school, head, decision=Decision.SIGNED, name=head.name,
                   role="Head", shown_sha256=campaign.frozen_version.sha256)  # fmt: skip


def test_the_page_counts_every_signature_but_names_only_nearby_schools(client, signoff):
    sign_in(client, signoff.exec)
    _sign(signoff, 3, "Essex", 910000)
    _sign(signoff, 5, "Kent", 920000)
    queries, page = _page(client, 900002)  # Abbey Academy, Essex
    assert "Schools that have signed (8)" in page
    assert "Those in Essex:" in page and "Essex School 002" in page
    assert "Kent School" not in page

    _sign(signoff, 40, "Essex", 930000)
    _sign(signoff, 200, "Kent", 940000)
    more_queries, page = _page(client, 900002)
    assert "Schools that have signed (248)" in page
    assert "Those in Essex (the first 30 by name):" in page
    assert page.count("Essex School") == 30
    assert more_queries == queries
