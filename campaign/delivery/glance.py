"""The sending page's view of an audience before its outbox is built: what the plan
(outbox.plan) would hold, counted in SQL, so the page costs the same for 80 schools
or 20,000. The confirmation page reads the plan itself, once, before sending."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, cast, func, literal, select

from campaign.delivery.models import ParentList
from campaign.directory.models import Constituency, School
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.formatting import plural
from campaign.letters.listing import dao_totals
from campaign.letters.models import Audience, Letter, RecipientKind
from campaign.signoff.models import Decision, Signature

NAMED = 3  # missing letters named; the rest counted


@dataclass
class Glance:
    letters: int
    failing: int  # letters that fail the mail-house check: nothing is sent until fixed
    email: int  # MPs with an email, or signing heads
    post: int
    parent_lists: int = 0  # uploaded lists whose parents get the letter too
    missing: int = 0  # recipients whose letter is not rendered yet
    missing_names: list[str] = field(default_factory=list)  # the first NAMED of them

    def problem(self) -> str:
        """Why nothing can be sent yet, in the words sending would refuse with; or ""."""
        if self.failing:
            verb = "fails" if self.failing == 1 else "fail"
            return (
                f"{plural(self.failing, 'letter')} {verb} the mail-house check: fix the cause "
                "and render the letters again before sending."
            )
        if self.missing:
            return missing_message(self.missing, self.missing_names)
        return ""


def missing_message(count: int, names: list[str]) -> str:
    """ "2 letters are not rendered yet (A and 1 more). Render the letters again…" """
    named = ", ".join(names)
    if count > len(names):
        named += f" and {count - len(names):,} more"
    return (
        f"{plural(count, 'letter is', 'letters are')} not rendered yet ({named}). "
        "Render the letters again, so that every one is ready before any is sent."
    )


def _standing(campaign: Campaign):
    return (
        Signature.campaign_id == campaign.id,
        Signature.decision == Decision.SIGNED,
        Signature.withdrawn.is_(None),
    )


def _key(kind: RecipientKind, code):
    return literal(f"{kind.value}:") + cast(code, String)


def _letter_to(campaign: Campaign, audience: Audience, recipient):
    return (
        select(Letter.id)
        .where(
            Letter.campaign_id == campaign.id,
            Letter.audience == audience,
            Letter.recipient == recipient,
        )
        .exists()
    )


def missing(campaign: Campaign, audience: Audience) -> tuple[int, list[str]]:
    """How many recipients have no letter rendered yet, and the first NAMED by name."""
    if audience is Audience.PARENTS:
        wanted = (
            select(School.name.label("name"))
            .join(Signature, Signature.school_id == School.id)
            .where(*_standing(campaign))
            .where(~_letter_to(campaign, audience, _key(RecipientKind.SCHOOL, School.urn)))
        )
    else:
        wanted = (
            select(Constituency.name.label("name"))
            .where(
                Constituency.id.in_(
                    select(School.constituency_id)
                    .join(Signature, Signature.school_id == School.id)
                    .where(*_standing(campaign))
                )
            )
            .where(~_letter_to(campaign, audience, _key(RecipientKind.MP, Constituency.ons_code)))
        )
    missing = wanted.subquery()
    count = db.session.scalar(select(func.count()).select_from(missing)) or 0
    names = db.session.scalars(select(missing.c.name).order_by(missing.c.name).limit(NAMED))
    return count, list(names)


def _by_email(campaign: Campaign, audience: Audience) -> int:
    letters = (Letter.campaign_id == campaign.id, Letter.audience == audience)
    if audience is Audience.MPS:
        email = func.coalesce(Letter.merge[("mp", "email")].as_string(), "")
        return db.session.scalar(select(func.count(Letter.id)).where(*letters, email != "")) or 0
    signed = (
        select(Signature.id)
        .join(School, School.id == Signature.school_id)
        .where(*_standing(campaign), Signature.user_id.is_not(None))
        .where(Letter.recipient == _key(RecipientKind.SCHOOL, School.urn))
        .exists()
    )
    return db.session.scalar(select(func.count(Letter.id)).where(*letters, signed)) or 0


def _parent_lists(campaign: Campaign) -> int:
    with_letter = _letter_to(campaign, Audience.PARENTS, _key(RecipientKind.SCHOOL, School.urn))
    count = (
        select(func.count(ParentList.id))
        .join(School, School.id == ParentList.school_id)
        .where(ParentList.campaign_id == campaign.id, ParentList.emails.is_not(None))
        .where(with_letter)
    )
    return db.session.scalar(count) or 0


def glance(campaign: Campaign, audience: Audience) -> Glance:
    """The audience's letters, those failing their check or not rendered yet, and how
    many would go by email and by post: a handful of queries."""
    totals = dao_totals(campaign.id, audience)
    email = _by_email(campaign, audience) if totals.letters else 0
    absent, names = missing(campaign, audience)
    return Glance(
        letters=totals.letters,
        failing=totals.failing,
        email=email,
        post=totals.letters - email,
        parent_lists=_parent_lists(campaign) if audience is Audience.PARENTS else 0,
        missing=absent,
        missing_names=names,
    )
