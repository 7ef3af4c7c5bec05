"""Running a consultation: opening it, stances, comments, amendments, reminders, closing."""

from __future__ import annotations

import difflib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import contains_eager, joinedload

from campaign.consultation.models import (
    Amendment,
    AmendmentState,
    Comment,
    ConsultationError,
    Stance,
    StanceKind,
)
from campaign.directory.models import School, User
from campaign.directory.services import (
    dao_head_count_not_in,
    dao_head_ids,
    dao_head_ids_not_in,
    dao_member_schools_not_in,
)
from campaign.drafting import text
from campaign.drafting.models import Campaign, CampaignState, StatementVersion
from campaign.drafting.services import save_statement
from campaign.extensions import db
from campaign.formatting import when
from campaign.paging import Page, paginate


def require_open(campaign: Campaign) -> None:
    if campaign.state is not CampaignState.CONSULTATION:
        raise ConsultationError("This campaign is not being consulted on at the moment.")
    if not campaign.consultation_open():
        closed = campaign.consultation_closed or campaign.consultation_deadline
        raise ConsultationError(
            f"The consultation closed on {when(closed)}; answers can no longer change."
        )


def open_consultation(campaign: Campaign) -> list[int]:
    """Move to consultation and return the ids of the heads to invite. The caller
    commits, then queues one invitation per head."""
    if campaign.current_version is None:
        raise ConsultationError("Write the statement before opening a consultation.")
    if campaign.consultation_deadline and campaign.consultation_deadline <= datetime.now(UTC):
        raise ConsultationError("Set a consultation deadline in the future first.")
    campaign.move_to(CampaignState.CONSULTATION)
    campaign.consultation_closed = None
    return dao_head_ids(campaign.association_id)


def close_consultation(campaign: Campaign) -> None:
    """Stop answers now, before the deadline. The caller commits."""
    require_open(campaign)
    campaign.consultation_closed = datetime.now(UTC)


def invitation_key(campaign: Campaign, user_id: int) -> str:
    return f"consultation-invite:{campaign.id}:v{campaign.current_version.number}:{user_id}"


# --- stances --------------------------------------------------------------


def record_stance(
    campaign: Campaign, school: School, user: User, kind: StanceKind, reason: str = ""
) -> Stance | None:
    """Record the school's stance on the current version; None if it is unchanged
    (a form posted twice). The caller commits."""
    require_open(campaign)
    reason = reason.strip()
    if kind.needs_reason and not reason:
        raise ConsultationError(f"Say why your school would {kind.value}.")
    version = campaign.current_version
    latest = dao_latest_stances(campaign.id, [school.id]).get(school.id)
    if latest and (latest.kind, latest.reason, latest.version_id) == (kind, reason, version.id):
        return None
    stance = Stance(
        campaign_id=campaign.id, school=school, user=user, version=version, kind=kind, reason=reason
    )
    db.session.add(stance)
    db.session.flush()
    return stance


def dao_latest_stances(campaign_id: int, school_ids: list[int] | None = None) -> dict[int, Stance]:
    """Each school's current stance (its latest), by school id."""
    latest = (
        select(func.max(Stance.id))
        .where(Stance.campaign_id == campaign_id)
        .group_by(Stance.school_id)
    )
    if school_ids is not None:
        latest = latest.where(Stance.school_id.in_(school_ids))
    stances = db.session.scalars(
        select(Stance)
        .where(Stance.id.in_(latest))
        .options(joinedload(Stance.school), joinedload(Stance.user), joinedload(Stance.version))
    )
    return {s.school_id: s for s in stances}


def dao_stance_history(campaign_id: int, school_id: int) -> list[Stance]:
    return list(
        db.session.scalars(
            select(Stance)
            .where(Stance.campaign_id == campaign_id, Stance.school_id == school_id)
            .order_by(Stance.id.desc())
        )
    )


@dataclass
class Tally:
    counts: dict[str, int]
    members: int

    @property
    def responded(self) -> int:
        return sum(self.counts.values())

    @property
    def no_answer(self) -> int:
        return self.members - self.responded


def _latest_ids(campaign_id: int) -> Select:
    return (
        select(func.max(Stance.id))
        .where(Stance.campaign_id == campaign_id)
        .group_by(Stance.school_id)
    )


def tally(campaign: Campaign) -> Tally:
    """Current stances counted, and the member schools: two queries, however many."""
    members = db.session.scalar(
        select(func.count(School.id)).where(School.association_id == campaign.association_id)
    )
    counts = {kind.value: 0 for kind in StanceKind}
    for kind, n in db.session.execute(
        select(Stance.kind, func.count(Stance.id))
        .where(Stance.id.in_(_latest_ids(campaign.id)))
        .group_by(Stance.kind)
    ):
        counts[kind.value] = n
    return Tally(counts, members or 0)


def dao_reasons(campaign_id: int, page: int = 1) -> Page[Stance]:
    """One page of the current stances that give a reason, by stance then school name."""
    order = case({kind: n for n, kind in enumerate(StanceKind)}, value=Stance.kind)
    stmt = (
        select(Stance)
        .join(School, School.id == Stance.school_id)
        .where(Stance.id.in_(_latest_ids(campaign_id)), Stance.reason != "")
        .options(contains_eager(Stance.school), joinedload(Stance.version))
        .order_by(order, School.name, School.id)
    )
    return Page(*paginate(stmt, page))


def _answered(campaign: Campaign) -> Select:
    return select(Stance.school_id).where(Stance.campaign_id == campaign.id)


def dao_non_responders(
    campaign: Campaign, *, la: str = "", constituency: str = "", query: str = "", page: int = 1
) -> Page[School]:
    """One page of the member schools with no stance yet, optionally in one LA or
    constituency, and named by `query` (part of the name, or the URN)."""
    return dao_member_schools_not_in(
        campaign.association_id,
        _answered(campaign),
        la=la,
        constituency=constituency,
        query=query,
        page=page,
    )


def dao_reminder_head_count(campaign: Campaign, *, la: str = "", constituency: str = "") -> int:
    """How many heads a reminder to these schools would reach, counted in SQL."""
    return dao_head_count_not_in(
        campaign.association_id, _answered(campaign), la=la, constituency=constituency
    )


def reminder_recipients(campaign: Campaign, *, la: str = "", constituency: str = "") -> list[int]:
    """The heads of the schools that have not answered (and no one else)."""
    require_open(campaign)
    return dao_head_ids_not_in(
        campaign.association_id, _answered(campaign), la=la, constituency=constituency
    )


def new_batch() -> str:
    """An id for one press of "Send reminders": the same form posted twice sends once."""
    return secrets.token_urlsafe(12)


# --- comments and amendments ---------------------------------------------


def _paragraph_of(version: StatementVersion, paragraph: int) -> str:
    blocks = text.paragraphs(version.body)
    if not 1 <= paragraph <= len(blocks):
        raise ConsultationError(f"Version {version.number} has no paragraph {paragraph}.")
    return blocks[paragraph - 1]


def add_comment(
    campaign: Campaign, version: StatementVersion, paragraph: int, user: User, body: str
) -> Comment | None:
    """Comment on a paragraph; None if the same comment was just posted. The caller commits."""
    require_open(campaign)
    _paragraph_of(version, paragraph)
    body = body.strip()
    if not body:
        raise ConsultationError("Write your comment.")
    if len(body) > 5000:
        raise ConsultationError("A comment can be at most 5,000 characters.")
    last = db.session.scalar(
        select(Comment)
        .where(
            Comment.version_id == version.id,
            Comment.paragraph == paragraph,
            Comment.user_id == user.id,
        )
        .order_by(Comment.id.desc())
    )
    if last and last.body == body:
        return None
    comment = Comment(
        campaign_id=campaign.id, version=version, paragraph=paragraph, user=user, body=body
    )
    db.session.add(comment)
    db.session.flush()
    return comment


def propose_amendment(
    campaign: Campaign,
    version: StatementVersion,
    paragraph: int,
    user: User,
    replacement: str,
    reason: str = "",
) -> Amendment | None:
    """Propose new text for a paragraph; None if the same proposal was just made."""
    require_open(campaign)
    original = _paragraph_of(version, paragraph)
    try:
        replacement = text.normalise(replacement)
    except text.StatementTooLong as exc:
        raise ConsultationError(str(exc)) from None
    if not replacement:
        raise ConsultationError("Write the text you propose for this paragraph.")
    if "\n\n" in replacement:
        raise ConsultationError("Propose one paragraph at a time (no blank lines).")
    if replacement == original:
        raise ConsultationError("Your text is the same as the paragraph as it stands.")
    duplicate = db.session.scalar(
        select(Amendment.id).where(
            Amendment.version_id == version.id,
            Amendment.paragraph == paragraph,
            Amendment.user_id == user.id,
            Amendment.text == replacement,
        )
    )
    if duplicate:
        return None
    amendment = Amendment(
        campaign_id=campaign.id,
        version=version,
        paragraph=paragraph,
        user=user,
        text=replacement,
        reason=reason.strip(),
    )
    db.session.add(amendment)
    db.session.flush()
    return amendment


def decide_amendment(
    amendment: Amendment, campaign: Campaign, *, accept: bool, note: str, by: User
) -> StatementVersion | None:
    """Accept (making a new version with that paragraph replaced) or reject.
    Returns the new version when accepted. The caller commits and tells people."""
    if campaign.state is not CampaignState.CONSULTATION:
        raise ConsultationError("Amendments can be decided only during a consultation.")
    amendment.require_proposed()
    if not accept:
        amendment.reject(note=note, by=by)
        return None
    original = _paragraph_of(amendment.version, amendment.paragraph)
    current = campaign.current_version
    blocks = text.paragraphs(current.body)
    if original not in blocks:
        raise ConsultationError(
            "That paragraph has changed since the amendment was proposed. "
            "Reject it, or edit the statement by hand."
        )
    index = _where_now(text.paragraphs(amendment.version.body), blocks, amendment.paragraph - 1)
    version = save_statement(
        campaign,
        text.replace_paragraph(current.body, index, amendment.text),
        by,
        note=f"Amendment to paragraph {index + 1} accepted",
    )
    amendment.accept(version, note=note, by=by)
    return version


def _where_now(old: list[str], new: list[str], old_index: int) -> int:
    """Where paragraph `old_index` of the old text is in the new one. The same text
    may appear twice, so follow the alignment of the two texts, not the first copy."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for i, j, size in matcher.get_matching_blocks():
        if i <= old_index < i + size:
            return j + old_index - i
    return min(
        (j for j, block in enumerate(new) if block == old[old_index]),
        key=lambda j: abs(j - old_index),
    )


def people_to_tell(amendment: Amendment) -> list[int]:
    """Who proposed or commented on the amended paragraph (of the version it was made on)."""
    commenters = db.session.scalars(
        select(Comment.user_id).where(
            Comment.version_id == amendment.version_id, Comment.paragraph == amendment.paragraph
        )
    )
    proposers = db.session.scalars(
        select(Amendment.user_id).where(
            Amendment.version_id == amendment.version_id,
            Amendment.paragraph == amendment.paragraph,
        )
    )
    return sorted({uid for uid in [*commenters, *proposers] if uid is not None})


def dao_undecided_amendments(campaign_id: int) -> int:
    """How many amendments wait for the lead's decision."""
    return db.session.scalar(
        select(func.count(Amendment.id)).where(
            Amendment.campaign_id == campaign_id, Amendment.state == AmendmentState.PROPOSED
        )
    )


def dao_feedback(campaign_id: int) -> tuple[list[Comment], list[Amendment]]:
    """All comments and amendments of a campaign, oldest first."""
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.campaign_id == campaign_id)
        .options(joinedload(Comment.user), joinedload(Comment.version))
        .order_by(Comment.id)
    )
    amendments = db.session.scalars(
        select(Amendment)
        .where(Amendment.campaign_id == campaign_id)
        .options(joinedload(Amendment.user), joinedload(Amendment.version))
        .order_by(Amendment.id)
    )
    return list(comments), list(amendments)


def dao_amendment(campaign_id: int, amendment_id: int) -> Amendment | None:
    return db.session.scalar(
        select(Amendment).where(Amendment.id == amendment_id, Amendment.campaign_id == campaign_id)
    )
