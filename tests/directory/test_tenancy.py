"""No association's upload changes what another association sees or sends.

Association A has three schools in a signed campaign and a lead who signs its
MP letters. Association B's lead uploads a register with A's URNs (new names,
addresses, constituency) and a roster with A's lead's email and another name.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from campaign.directory.models import Association, Membership, Role, School, User
from campaign.directory.roster import import_roster
from campaign.extensions import db
from campaign.letters.merge import mp_merges, parent_merges
from tests.factories import (
    BASE,
    make_association,
    make_constituency,
    make_school,
    make_user,
    sign_in,
)

GIAS_HEADER = [
    "URN",
    "EstablishmentName",
    "EstablishmentStatus (name)",
    "PhaseOfEducation (name)",
    "LA (name)",
    "Street",
    "Town",
    "Postcode",
    "NumberOfPupils",
    "ParliamentaryConstituency (code)",
    "ParliamentaryConstituency (name)",
]


def gias(*rows: list[str]) -> bytes:
    lines = [",".join(f'"{v}"' for v in GIAS_HEADER)]
    lines += [",".join(f'"{v}"' for v in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def b_register() -> bytes:
    """B's register: A's three URNs, every fact different."""
    return gias(
        *(
            [str(urn), f"Bee name for {urn}", "Open", "Secondary", "Hackney", "9 Other Road",
             "London", "E8 1AA", "50", "E14001259", "Hackney North and Stoke Newington"]
            for urn in (900001, 900002, 900003)
        )
    )  # fmt: skip


def upload(client, slug: str, kind: str, content: bytes):
    data = {f"{kind}-file": (io.BytesIO(content), f"{kind}.csv"), f"{kind}-submit": "1"}
    return client.post(
        f"/a/{slug}/imports", data=data, content_type="multipart/form-data", follow_redirects=True
    )


def what_a_sees(client, signed) -> dict:
    """Everything A shows or sends that holds a school's facts or its lead's name."""
    client = client.application.test_client()  # a browser of its own: no flashes carried over
    sign_in(client, signed.lead)

    def page(path: str) -> str:
        text = client.get(path).get_data(as_text=True)
        return re.sub(r'name="csrf_token" value="[^"]*"', "", text)  # new in every session

    seen = {f"page {urn}": page(f"/a/assoc-a/schools/{urn}") for urn in (900001, 900002, 900003)}
    seen["schools"] = page("/a/assoc-a/schools")
    seen["mps"] = page("/a/assoc-a/mps")
    seen["signatures.csv"] = page(f"{BASE}/signoff/signatures.csv")
    seen["signoff"] = page(f"{BASE}/signoff")
    campaign = signed.campaign
    seen["mp letters"] = {
        key: {k: v for k, v in merge.items() if k != "date"}
        for key, merge in mp_merges(campaign).items()
    }
    seen["parent addresses"] = {
        key: merge["address_lines"] for key, merge in parent_merges(campaign).items()
    }
    return seen


@dataclass
class Other:
    """Another association and its lead."""

    association: Association
    lead: User


@pytest.fixture
def b(signed):
    """Association B with its own lead, and the constituency B's register names."""
    b = make_association(slug="assoc-b2", name="Association B2")
    make_constituency("E14001259", "Hackney North and Stoke Newington")
    lead_b = make_user("lead@b2.example", "Bo Lead", b, Role.LEAD)
    db.session.commit()
    return Other(association=b, lead=lead_b)


def test_b_uploading_a_register_with_as_urns_changes_nothing_a_sees(client, signed, b):
    before = what_a_sees(client, signed)
    assert before["mp letters"] and before["parent addresses"]
    assert "Saxon High" in before["page 900001"]

    sign_in(client, b.lead)
    page = upload(client, "assoc-b2", "register", b_register()).get_data(as_text=True)
    assert "was imported" in page and 'data-count="added">3<' in page
    client.post("/sign-out")
    db.session.expire_all()

    assert what_a_sees(client, signed) == before
    # B holds its own copies, with its own facts.
    sign_in(client, b.lead)
    mine = client.get("/a/assoc-b2/schools/900001").get_data(as_text=True)
    assert "Bee name for 900001" in mine and "9 Other Road" in mine
    assert "Hackney North and Stoke Newington" in mine
    assert "Saxon" not in client.get("/a/assoc-b2/schools").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(School)) == 6


def test_b_roster_with_as_leads_email_does_not_rename_them(client, signed, b):
    lead_a = signed.lead
    lead_a.job_title = "Chair"
    db.session.commit()
    before = what_a_sees(client, signed)
    assert {m["sender"]["name"] for m in before["mp letters"].values()} == {"Lena Lead"}

    sign_in(client, b.lead)
    upload(client, "assoc-b2", "register", b_register())
    roster = b"URN,School,Head name,Email,Role\n900001,X,Mallory Renamed,LEAD@a.example,Head\n"
    page = upload(client, "assoc-b2", "roster", roster).get_data(as_text=True)
    client.post("/sign-out")
    db.session.expire_all()

    assert db.session.get(User, lead_a.id).name == "Lena Lead"
    assert db.session.get(User, lead_a.id).job_title == "Chair"
    assert "was imported" in page
    assert "keeps the name on their account" in page  # the row went in, with a note
    assert what_a_sees(client, signed) == before
    # B's roster still made them a head of B's own copy of the school.
    roles = db.session.scalars(
        select(Membership.association_id).where(Membership.user_id == lead_a.id)
    )
    assert b.association.id in set(roles)


def test_the_roster_names_only_people_it_alone_knows_who_never_named_themselves(app):
    a = make_association(name="Association A")
    other = make_association()
    make_school(a, urn=900001)
    make_user("only@a.example", "Old Name", a)
    named_self = make_user("self@a.example", "Own Name", a)
    named_self.details_saved = datetime.now(UTC)
    in_both = make_user("both@a.example", "Both Name", a)
    db.session.add(Membership(user=in_both, association=other, role=Role.HEAD))
    db.session.commit()
    roster = (
        b"URN,Head name,Email\n"
        b"900001,New Name,only@a.example\n"
        b"900001,New Name,self@a.example\n"
        b"900001,New Name,both@a.example\n"
        b"900001,Fresh Person,new@a.example\n"
    )
    summary = import_roster(a, roster)
    names = dict(db.session.execute(select(User.email, User.name)).all())
    assert names == {
        "only@a.example": "New Name",
        "self@a.example": "Own Name",
        "both@a.example": "Both Name",
        "new@a.example": "Fresh Person",
    }
    assert summary.added == 4 and summary.rejected == []
    assert [n["line"] for n in summary.notes] == [3, 4]


def test_saving_your_details_stops_the_roster_renaming_you(client, app):
    a = make_association(slug="assoc-a")
    make_school(a, urn=900001)
    head = make_user("head@a.example", "Typo Nmae", a)
    db.session.commit()
    sign_in(client, head)
    client.post("/details", data={"name": "Jane Smith", "job_title": "Headteacher"})
    db.session.expire_all()
    assert db.session.get(User, head.id).details_saved is not None
    import_roster(a, b"URN,Head name,Email\n900001,Typo Nmae,head@a.example\n")
    assert db.session.get(User, head.id).name == "Jane Smith"
