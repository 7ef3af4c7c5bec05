"""Sign-off progress for the lead's dashboard: a fixed number of queries,
however many schools the association has."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from campaign.directory.models import Constituency, Mp, School
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.signoff.models import Decision, Signature


@dataclass
class Row:
    group: str
    schools: int
    signed: int
    declined: int
    pupils: int  # pupils of the signing schools
    mp: str = ""
    code: str = ""

    @property
    def no_answer(self) -> int:
        return self.schools - self.signed - self.declined

    @property
    def percent_signed(self) -> float:
        return 100 * self.signed / self.schools if self.schools else 0.0


@dataclass
class Progress:
    total: Row
    by_la: list[Row]
    by_constituency: list[Row]


def _aggregates():
    standing = Signature.withdrawn.is_(None)
    signed = and_(Signature.decision == Decision.SIGNED, standing)
    declined = and_(Signature.decision == Decision.DECLINED, standing)
    return (
        func.count(School.id),
        func.coalesce(func.sum(case((signed, 1), else_=0)), 0),
        func.coalesce(func.sum(case((declined, 1), else_=0)), 0),
        func.coalesce(func.sum(case((signed, func.coalesce(School.pupils, 0)), else_=0)), 0),
    )


def _members(campaign: Campaign, *columns):
    return (
        select(*columns, *_aggregates())
        .select_from(School)
        .outerjoin(
            Signature,
            and_(Signature.school_id == School.id, Signature.campaign_id == campaign.id),
        )
        .where(School.association_id == campaign.association_id)
    )


def total(campaign: Campaign) -> Row:
    """Signed, declined and unanswered over every member school. One query."""
    n, signed, declined, pupils = db.session.execute(_members(campaign)).one()
    return Row("All member schools", n, int(signed), int(declined), int(pupils))


def progress(campaign: Campaign) -> Progress:
    """Signed, declined and unanswered: in total, per local authority and per
    constituency (with its MP), with the pupils of signing schools. Three queries."""
    by_la = [
        Row(la or "Unknown", n, int(s), int(d), int(p))
        for la, n, s, d, p in db.session.execute(
            _members(campaign, School.local_authority)
            .group_by(School.local_authority)
            .order_by(School.local_authority)
        )
    ]
    by_constituency = [
        Row(
            name or "Constituency not recognised",
            n,
            int(s),
            int(d),
            int(p),
            mp=(display or f"{first or ''} {last or ''}").strip(),
            code=code or "",
        )
        for code, name, display, first, last, n, s, d, p in db.session.execute(
            _members(
                campaign,
                Constituency.ons_code,
                Constituency.name,
                Mp.display_as,
                Mp.first_name,
                Mp.last_name,
            )
            .outerjoin(Constituency, Constituency.id == School.constituency_id)
            .outerjoin(Mp, Mp.constituency_id == Constituency.id)
            .group_by(
                Constituency.ons_code, Constituency.name, Mp.display_as, Mp.first_name, Mp.last_name
            )
            .order_by(Constituency.name)
        )
    ]
    return Progress(total(campaign), by_la, by_constituency)
