"""Factories that build data the way the app does, and helpers to act as a user."""

from __future__ import annotations

import itertools
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

from campaign.auth.services import issue_sign_in_link
from campaign.directory.models import (
    Association,
    Constituency,
    Headship,
    Membership,
    Mp,
    Role,
    School,
    User,
)
from campaign.extensions import db

_ids = itertools.count(1)


def make_association(slug: str | None = None, name: str | None = None) -> Association:
    n = next(_ids)
    association = Association(slug=slug or f"assoc-{n}", name=name or f"Association {n}")
    db.session.add(association)
    db.session.flush()
    return association


def make_user(email: str | None = None, name: str = "", association=None, role=Role.HEAD) -> User:
    user = User(email=email or f"user{next(_ids)}@example.org", name=name)
    db.session.add(user)
    if association is not None:
        db.session.add(Membership(user=user, association=association, role=role))
    db.session.flush()
    return user


def make_constituency(code: str = "E14001077", name: str = "Basildon and Billericay", mp=True):
    seat = Constituency(ons_code=code, name=name, region="East of England", country="England")
    if mp:
        seat.mp = Mp(first_name="Richard", last_name="Holden", party="Conservative")
    db.session.add(seat)
    db.session.flush()
    return seat


def make_school(association, urn: int | None = None, **fields) -> School:
    """A member school of the association: its own copy of the school's register facts."""
    fields.setdefault("name", "Test School")
    # A postal address the window envelope accepts (3 to 7 lines, a postcode last).
    if not any(fields.get(k) for k in ("street", "town", "postcode")):
        fields.update(street="1 School Lane", town="Basildon", postcode="SS14 1AA")
    school = School(association_id=association.id, urn=urn or 800000 + next(_ids), **fields)
    db.session.add(school)
    db.session.flush()
    return school


def make_headship(association, user, school, job_title="Headteacher") -> Headship:
    headship = Headship(
        association_id=association.id, user=user, school=school, job_title=job_title
    )
    db.session.add(headship)
    db.session.flush()
    return headship


def sign_in(client, user: User) -> None:
    """Sign in through the real link: issue, then POST the confirmation."""
    link = issue_sign_in_link(user)
    db.session.commit()
    response = client.post(link.replace("http://localhost", ""))
    assert response.status_code == 302, response.data


def read_outbox(app) -> list:
    directory = Path(app.config["OUTBOX_DIR"])
    return [
        BytesParser(policy=policy.default).parsebytes(p.read_bytes())
        for p in sorted(directory.glob("*.eml"))
    ]


def links_in(message) -> list[str]:
    return re.findall(r"https?://\S+", message.get_body(preferencelist=("plain",)).get_content())
