"""Importing the association's own roster of heads."""

from __future__ import annotations

from sqlalchemy import func, select

from campaign.directory.models import Headship, Membership, Role, School, User
from campaign.directory.register import import_register
from campaign.directory.roster import import_roster
from campaign.extensions import db
from tests.conftest import DEMO_DATA
from tests.factories import make_association, make_school, make_user

REGISTER = DEMO_DATA / "gias-east-of-england.csv"
ROSTER = DEMO_DATA / "roster-essex-secondary-heads.csv"


def demo_members():
    association = make_association(name="Essex Heads")
    import_register(
        association,
        REGISTER.read_bytes(),
        phase="Secondary",
        local_authorities=["Essex", "Southend-on-Sea", "Thurrock"],
    )
    return association


def test_demo_roster_with_executive_head_and_office_only_row(app):
    association = demo_members()
    summary = import_roster(association, ROSTER.read_bytes())
    db.session.commit()
    assert (summary.read, summary.added, summary.rejected) == (84, 84, [])
    # One executive head leads two schools: 84 headships, 83 people.
    assert db.session.scalar(select(func.count()).select_from(Headship)) == 84
    assert db.session.scalar(select(func.count()).select_from(User)) == 83
    executive = db.session.scalar(
        select(User).where(User.email == "thomas.kowalski@abbey-community-college.example")
    )
    led = db.session.scalars(
        select(School.name).join(Headship).where(Headship.user_id == executive.id)
    ).all()
    assert len(led) == 2
    role = db.session.scalar(select(Membership.role).where(Membership.user_id == executive.id))
    assert role is Role.HEAD
    # The office-only row: an address but no head's name.
    office = db.session.scalar(select(User).where(User.email == "office@abbey-academy.example"))
    assert office.name == "" and office.display_name == "office@abbey-academy.example"
    headship = db.session.scalar(select(Headship).where(Headship.user_id == office.id))
    assert headship.school.urn == 900245 and headship.job_title == "Principal"


def test_accented_names_from_utf8_roster(app):
    association = demo_members()
    import_roster(association, ROSTER.read_bytes())
    names = set(db.session.scalars(select(User.name)))
    assert {"Zoë Young", "Siobhán Patel"} <= names


def test_reimport_is_idempotent_and_counts_updates(app):
    association = demo_members()
    data = ROSTER.read_bytes()
    import_roster(association, data)
    db.session.commit()
    again = import_roster(association, data)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 84)
    changed = data.replace(b"Grace Vaughan,", b"Grace Vaughan-Smith,")
    third = import_roster(association, changed)
    assert (third.added, third.updated, third.unchanged) == (0, 1, 83)
    assert db.session.scalar(select(func.count()).select_from(Headship)) == 84


def test_unknown_urn_and_invalid_email_are_rejected_by_line(app):
    association = make_association(name="Test Heads")
    make_school(association, urn=900001, name="Saxon High School")
    other = make_association()
    make_school(other, urn=900002, name="Not Ours")
    data = (
        b"URN,School,Head name,Email,Role\n"
        b"900001,Saxon High School,Grace Vaughan,grace@saxon.example,Principal\n"
        b"900002,Not Ours,Someone,someone@other.example,Headteacher\n"
        b"abc,Bad,Someone,bad@x.example,Headteacher\n"
        b"900001,Saxon High School,Co Head,not-an-email,Co-head\n"
    )
    summary = import_roster(association, data)
    assert summary.added == 1
    assert [r["line"] for r in summary.rejected] == [3, 4, 5]
    assert "not a member school of Test Heads" in summary.rejected[0]["reason"]
    assert 'Email "not-an-email" is not valid' in summary.rejected[2]["reason"]
    assert set(db.session.scalars(select(User.email))) == {"grace@saxon.example"}


def test_roster_keeps_an_existing_lead_a_lead(app):
    association = make_association()
    school = make_school(association, urn=900001)
    lead = make_user("lead@x.example", association=association, role=Role.LEAD)
    import_roster(association, f"URN,Email\n{school.urn},LEAD@X.example\n".encode())
    assert db.session.scalar(select(Membership.role).where(Membership.user_id == lead.id)) is (
        Role.LEAD
    )
