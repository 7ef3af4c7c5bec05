"""The demo association: Essex, Southend-on-Sea and Thurrock secondary heads."""

from __future__ import annotations

import re
from importlib import resources

from sqlalchemy import select

from campaign.auth.services import issue_sign_in_link
from campaign.demo_campaign import ensure_campaign, run_consultation, run_signoff
from campaign.directory import services
from campaign.directory.models import (
    Constituency,
    Headship,
    Role,
    School,
    User,
)
from campaign.directory.mps import import_mps, packaged_results
from campaign.directory.register import import_register
from campaign.directory.roster import ensure_membership, get_or_create_user, import_roster
from campaign.extensions import db

SLUG = "essex-heads"
NAME = "Essex Secondary Heads' Association"
LEAD_EMAIL = "lead@demo.example"
LOCAL_AUTHORITIES = ["Essex", "Southend-on-Sea", "Thurrock"]


def _data(name: str) -> bytes:
    return (resources.files("campaign") / "data" / name).read_bytes()


def _demo_mp_emails(association) -> None:
    """Fictional addresses (the reserved .example domain) for the MPs of the demo's
    seats, so MP letters go by email; Thurrock's MP is left without one, so the
    demo shows a letter going by post too. Real addresses come from `mps refresh`."""
    seats = db.session.scalars(
        select(Constituency)
        .join(School, School.constituency_id == Constituency.id)
        .where(School.association_id == association.id)
        .distinct()
    )
    for seat in seats:
        mp = seat.mp
        if mp is None or mp.email or seat.name == "Thurrock":
            continue
        local = re.sub(r"[^a-z]+", ".", f"{mp.first_name} {mp.last_name}".lower()).strip(".")
        mp.email = f"{local}.mp@parliament.example"


def load_demo(with_consultation: bool = False, with_signoff: bool = False) -> list[str]:
    """Create or refresh the demo association and its campaign; return lines to
    print. Idempotent."""
    import_mps(packaged_results())
    association = services.association_by_slug(SLUG)
    if association is None:
        association = services.create_association(SLUG, NAME, LEAD_EMAIL)
    if not association.address:
        association.address = "Chelmsford Business Centre\nMarket Road\nChelmsford\nCM1 1XA"
        association.email = LEAD_EMAIL
    lead, _ = get_or_create_user(LEAD_EMAIL)
    lead.name = lead.name or "Alex Morgan"
    ensure_membership(lead, association, Role.LEAD)
    register = import_register(
        association,
        _data("gias-east-of-england.csv"),
        phase="Secondary",
        local_authorities=LOCAL_AUTHORITIES,
    )
    roster = import_roster(association, _data("roster-essex-secondary-heads.csv"))
    _demo_mp_emails(association)
    campaign = ensure_campaign(association, lead)
    consulted = run_consultation(campaign, lead) if with_consultation or with_signoff else False
    signed = run_signoff(campaign, lead) if with_signoff else False
    # The head who leads the most schools shows the multi-school journey.
    head = db.session.scalars(
        select(User)
        .join(Headship, Headship.user_id == User.id)
        .where(Headship.association_id == association.id)
        .group_by(User.id)
        .order_by(db.func.count(Headship.id).desc(), User.email)
    ).first()
    lead_link = issue_sign_in_link(lead)
    head_link = issue_sign_in_link(head) if head else None
    db.session.commit()
    counts = services.dao_counts(association.id)
    lines = [
        f"{NAME}: {counts.schools} member schools, {counts.heads} heads, "
        f"{counts.constituencies} constituencies "
        f"(register: {register.added} added, {register.updated} updated, "
        f"{register.unchanged} unchanged; roster: {roster.added} added, "
        f"{roster.updated} updated, {roster.unchanged} unchanged).",
        f'Campaign "{campaign.title}": {campaign.state.label.lower()}, '
        f"version {campaign.current_version.number}"
        + (" (consultation round simulated)" if consulted else "")
        + (" (sign-off simulated)" if signed else "")
        + ".",
        f"Sign in as the lead ({lead.email}): {lead_link}",
    ]
    if head and head_link:
        lines.append(f"Sign in as a head ({head.name}, {head.email}): {head_link}")
    return lines
