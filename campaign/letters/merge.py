"""The merge data of each letter: everything a template may show, as plain values.

Built from the frozen text, the standing signatures and the evidence, and kept
with the letter, so the PDF and the email body always come from the same facts.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from campaign.consultation.evidence import dao_answers, dao_questions
from campaign.consultation.models import QuestionKind
from campaign.directory.models import Constituency, Mp, User
from campaign.directory.services import dao_first_lead
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.formatting import LONDON, plural
from campaign.letters.models import RecipientKind
from campaign.letters.render import DEFAULT_ACCENT
from campaign.signoff.models import Signature
from campaign.signoff.services import dao_standing, reference

DEFAULT_THRESHOLD = 150  # above this many signatories, a parent letter lists only its own LA
COMMONS = ["House of Commons", "London", "SW1A 0AA"]


def _common(campaign: Campaign) -> dict:
    association = campaign.association
    version = campaign.frozen_version
    code = reference(campaign, version)
    public_url = f"{current_app.config['BASE_URL']}/public/{association.slug}/{campaign.slug}"
    today = datetime.now(UTC).astimezone(LONDON)
    return {
        "title": campaign.title,
        "campaign_title": campaign.title,
        "association": {
            "name": association.name,
            "address_lines": [line for line in association.address.splitlines() if line.strip()],
            "email": association.email,
            # The logo's hash, not the logo: each letter keeps its merge data, and a new
            # logo changes the hash so its letters render again (render adds the logo).
            "logo_sha256": hashlib.sha256(association.logo).hexdigest() if association.logo else "",
            "accent": association.accent or DEFAULT_ACCENT,
        },
        "date": f"{today.day} {today:%B %Y}",
        "reference": code,
        "public_url": public_url,
        "footer": f"Reference {code} · check it at {public_url}",
        "statement_markdown": version.body,
        "version_sha256": version.sha256,
    }


def _address(lines: list[str]) -> list[str]:
    """At most 7 lines, postcode last (the window envelope's rules)."""
    lines = [line for line in lines if line and line.strip()]
    if len(lines) > 7:
        lines = lines[:6] + lines[-1:]
    return lines


def parent_merges(campaign: Campaign, threshold: int = DEFAULT_THRESHOLD) -> dict[str, dict]:
    """One merge per signing school, keyed "school:<URN>"."""
    common = _common(campaign)
    standing = dao_standing(campaign.id)
    limited = len(standing) > threshold

    def listed(schools: list) -> dict[int, str]:
        # Namesakes in one list ("Glebe High School" twice) are told apart by the first of
        # town, local authority and URN that differs between them all.
        namesakes: dict[str, list] = defaultdict(list)
        for school in schools:
            namesakes[" ".join(school.name.split()).casefold()].append(school)
        names = {school.id: school.name for school in schools}
        for same in (group for group in namesakes.values() if len(group) > 1):
            for field in ("town", "local_authority"):
                places = [getattr(school, field).strip() for school in same]
                if all(places) and len({p.casefold() for p in places}) == len(same):
                    break
            else:
                places = [f"URN {school.urn}" for school in same]
            for school, place in zip(same, places, strict=True):
                names[school.id] = f"{school.name}, {place}"
        return names

    by_la_schools: dict[str, list] = defaultdict(list)
    for s in standing:
        by_la_schools[s.school.local_authority or "Other"].append(s.school)
    # The list shown is the school's own LA when limited, else every signatory.
    everyone = {} if limited else listed([s.school for s in standing])
    by_la: dict[str, list[str]] = {}
    for la, schools in by_la_schools.items():
        names = listed(schools) if limited else everyone
        by_la[la] = [names[school.id] for school in schools]
    merges = {}
    for s in standing:
        school = s.school
        groups = (
            [
                {
                    "local_authority": school.local_authority,
                    "schools": by_la[school.local_authority or "Other"],
                }
            ]
            if limited
            else [{"local_authority": la, "schools": names} for la, names in sorted(by_la.items())]
        )
        merges[RecipientKind.SCHOOL.key(school.urn)] = {
            **common,
            "kind": "parents",
            "recipient_name": school.name,
            "address_lines": _address([f"{s.name}, {s.role}", school.name, *school.address_lines]),
            "school": {
                "name": school.name,
                "urn": school.urn,
                "local_authority": school.local_authority,
            },
            "signed_by": {"name": s.name, "role": s.role},
            "signatory_count": len(standing),
            "cosignatories": groups,
            "cosignatories_limited": limited,
        }
    return merges


def _figure(question, total: Decimal, answered: int, signing: int) -> str:
    if answered == signing:
        who = "the school" if signing == 1 else f"the {signing} schools"
    else:
        who = f"{answered} of the {signing} schools"
    amount = f"£{total:,.0f}" if question.kind is QuestionKind.MONEY else f"{total.normalize():,f}"
    if answered == 1:
        return f"{question.prompt}: {who} in your constituency reports {amount}."
    if question.kind is QuestionKind.MONEY:
        return f"{question.prompt}: {who} in your constituency report a combined {amount}."
    return f"{question.prompt}: {who} in your constituency report {amount} in all."


def signing_lead(association) -> User | None:
    """Who signs MP letters: the association's lead; with several, the first made,
    so every render agrees."""
    return dao_first_lead(association.id)


def mp_merges(campaign: Campaign) -> dict[str, dict]:
    """One merge per constituency holding a signing school, keyed "constituency:<code>"."""
    common = _common(campaign)
    standing = dao_standing(campaign.id)
    questions = [
        q for q in dao_questions(campaign.id) if q.kind in (QuestionKind.MONEY, QuestionKind.NUMBER)
    ]
    answers = dao_answers(campaign.id)
    seats: dict[int, list[Signature]] = defaultdict(list)
    for s in standing:
        if s.school.constituency_id:
            seats[s.school.constituency_id].append(s)
    constituencies = {
        c.id: c
        for c in db.session.scalars(select(Constituency).where(Constituency.id.in_(list(seats))))
    }
    association = campaign.association
    sender = signing_lead(association)
    signed_as = {
        # Never the email address: without a name, the association signs.
        "name": (sender.name.strip() if sender else "") or association.name,
        # The template adds ", <association name>".
        "role": (sender.job_title.strip() if sender else "") or "Lead",
    }
    merges = {}
    for seat_id, signatures in seats.items():
        seat = constituencies[seat_id]
        mp: Mp | None = seat.mp
        mp_name = (
            (mp.display_as or f"{mp.first_name} {mp.last_name}").strip()
            if mp
            else "Member of Parliament"
        )
        pupils = sum(s.school.pupils or 0 for s in signatures)
        figures = []
        for q in questions:
            values = [
                answers[(s.school_id, q.id)].number_value
                for s in signatures
                if (s.school_id, q.id) in answers
            ]
            values = [v for v in values if v is not None]
            if values:
                figures.append(_figure(q, sum(values, Decimal(0)), len(values), len(signatures)))
        merges[RecipientKind.MP.key(seat.ons_code)] = {
            **common,
            "kind": "mps",
            "recipient_name": f"{mp_name} MP" if mp else seat.name,
            "address_lines": _address(
                [f"{mp_name} MP" if mp else "The Member of Parliament", *COMMONS]
            ),
            "mp": {
                "name": mp_name,
                "salutation": mp_name,
                "email": mp.email if mp else "",
                "party": mp.party if mp else "",
            },
            "constituency": {"name": seat.name, "code": seat.ons_code},
            "schools": [
                {
                    "name": s.school.name,
                    "urn": s.school.urn,
                    "signed_by": f"{s.name}, {s.role}",
                    "pupils": s.school.pupils or 0,
                    "pupils_text": f"{s.school.pupils:,}" if s.school.pupils else "not given",
                }
                for s in sorted(signatures, key=lambda s: s.school.name)
            ],
            "pupils": pupils,
            "pupils_text": f"{pupils:,}",
            "figures": figures,
            "signatory_count": len(standing),
            "sender": dict(signed_as),
            "summary": f"{plural(len(signatures), 'school')} in {seat.name}, "
            f"educating {pupils:,} pupils",
        }
    return merges
