"""Queries and operations on the register, each scoped to one association."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

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
from campaign.directory.roster import ensure_membership, get_or_create_user, normalise_email
from campaign.extensions import db
from campaign.paging import Page, paginate


class AssociationExists(Exception):
    """An association with this slug already exists."""


def create_association(slug: str, name: str, lead_email: str) -> Association:
    """Create an association and its first lead. The caller commits."""
    slug = slug.strip().lower()
    if db.session.scalar(select(Association).where(Association.slug == slug)):
        raise AssociationExists(f'An association with the slug "{slug}" already exists.')
    association = Association(slug=slug, name=name.strip())
    db.session.add(association)
    lead, _ = get_or_create_user(normalise_email(lead_email))
    db.session.flush()
    ensure_membership(lead, association, Role.LEAD).role = Role.LEAD
    return association


def association_by_slug(slug: str) -> Association | None:
    return db.session.scalar(select(Association).where(Association.slug == slug))


def _member_schools(association_id: int) -> Select:
    return select(School).where(School.association_id == association_id)


@dataclass
class SchoolRow:
    school: School
    heads: list[Headship]


def dao_member_schools(
    association_id: int,
    *,
    la: str = "",
    constituency: str = "",
    query: str = "",
    page: int = 1,
    per_page: int | None = None,
) -> Page:
    """One page of member schools, with the association's heads for each."""
    stmt = _member_schools(association_id)
    if la:
        stmt = stmt.where(School.local_authority == la)
    if constituency:
        stmt = stmt.where(School.constituency_code == constituency)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(func.lower(School.name).like(like), func.lower(School.postcode).like(like))
        )
    schools, total, page, pages = paginate(
        stmt.options(joinedload(School.constituency).joinedload(Constituency.mp)).order_by(
            School.name, School.urn
        ),
        page,
        per_page,
    )
    heads = _heads_by_school(association_id, [s.id for s in schools])
    return Page([SchoolRow(s, heads.get(s.id, [])) for s in schools], total, page, pages)


def _heads_by_school(association_id: int, school_ids: list[int]) -> dict[int, list[Headship]]:
    heads: dict[int, list[Headship]] = {}
    for headship in db.session.scalars(
        select(Headship)
        .where(Headship.association_id == association_id, Headship.school_id.in_(school_ids))
        .options(joinedload(Headship.user))
        .order_by(Headship.id)
    ):
        heads.setdefault(headship.school_id, []).append(headship)
    return heads


def _not_in(association_id: int, answered: Select, la: str, constituency: str) -> Select:
    stmt = _member_schools(association_id).where(School.id.not_in(answered))
    if la:
        stmt = stmt.where(School.local_authority == la)
    if constituency:
        stmt = stmt.where(School.constituency_code == constituency)
    return stmt


def _named(stmt: Select, query: str) -> Select:
    """Only the schools whose name holds `query`, or whose URN it is."""
    query = query.strip()
    if not query:
        return stmt
    found = func.lower(School.name).like(f"%{query.lower()}%")
    if query.isdigit():
        found = or_(found, School.urn == int(query))
    return stmt.where(found)


def dao_member_schools_not_in(
    association_id: int,
    answered: Select,
    *,
    la: str = "",
    constituency: str = "",
    query: str = "",
    page: int = 1,
) -> Page[School]:
    """One page of the member schools whose id is not in `answered` (a select of school
    ids), optionally in one local authority or constituency and named by `query`
    (part of the name, or the URN), by name: who has not answered."""
    stmt = (
        _named(_not_in(association_id, answered, la, constituency), query)
        .options(joinedload(School.constituency))
        .order_by(School.name, School.id)
    )
    return Page(*paginate(stmt, page))


def _heads_not_in(association_id: int, answered: Select, la: str, constituency: str):
    schools = _not_in(association_id, answered, la, constituency).with_only_columns(School.id)
    return (Headship.association_id == association_id, Headship.school_id.in_(schools))


def dao_head_ids_not_in(
    association_id: int, answered: Select, *, la: str = "", constituency: str = ""
) -> list[int]:
    """The heads of every such school (not one page of them): who to chase."""
    where = _heads_not_in(association_id, answered, la, constituency)
    return list(db.session.scalars(select(Headship.user_id).where(*where).distinct()))


def dao_heads_school_not_in(association_id: int, answered: Select, user_id: int) -> bool:
    """Whether the user heads one of those schools: one row, however many there are."""
    where = _heads_not_in(association_id, answered, "", "")
    return bool(
        db.session.scalar(
            select(select(Headship.id).where(*where, Headship.user_id == user_id).exists())
        )
    )


def dao_head_count_not_in(
    association_id: int, answered: Select, *, la: str = "", constituency: str = ""
) -> int:
    """How many heads dao_head_ids_not_in would chase, counted in SQL."""
    where = _heads_not_in(association_id, answered, la, constituency)
    count = select(func.count(func.distinct(Headship.user_id))).where(*where)
    return db.session.scalar(count) or 0


def dao_local_authorities(association_id: int) -> list[str]:
    stmt = _member_schools(association_id).with_only_columns(School.local_authority).distinct()
    return sorted(la for la in db.session.scalars(stmt) if la)


def dao_member_school(association_id: int, urn: int) -> SchoolRow | None:
    """A member school by URN, or None if it is not this association's."""
    school = db.session.scalar(_member_schools(association_id).where(School.urn == urn))
    if school is None:
        return None
    return SchoolRow(school, _heads_by_school(association_id, [school.id]).get(school.id, []))


def dao_schools_led_by(association_id: int, user_id: int) -> list[School]:
    """The schools this user leads in this association."""
    return list(
        db.session.scalars(
            select(School)
            .join(Headship, Headship.school_id == School.id)
            .where(Headship.association_id == association_id, Headship.user_id == user_id)
            .options(joinedload(School.constituency).joinedload(Constituency.mp))
            .order_by(School.name)
        )
    )


def dao_headship(association_id: int, user_id: int, urn: int) -> tuple[School, Headship] | None:
    """The school with this URN and the user's headship of it, if they lead it here."""
    row = db.session.execute(
        select(School, Headship)
        .join(Headship, Headship.school_id == School.id)
        .where(
            Headship.association_id == association_id,
            Headship.user_id == user_id,
            School.urn == urn,
        )
    ).first()
    return (row[0], row[1]) if row else None


def dao_head_ids(association_id: int, school_ids: list[int] | None = None) -> list[int]:
    """Users who lead member schools (all, or of these schools)."""
    stmt = select(Headship.user_id).where(Headship.association_id == association_id).distinct()
    if school_ids is not None:
        stmt = stmt.where(Headship.school_id.in_(school_ids))
    return list(db.session.scalars(stmt))


def dao_head_count(association_id: int) -> int:
    """How many users lead member schools, counted in SQL."""
    count = select(func.count(func.distinct(Headship.user_id))).where(
        Headship.association_id == association_id
    )
    return db.session.scalar(count) or 0


@dataclass
class MpRow:
    constituency: Constituency
    schools: int
    pupils: int


def dao_mps_for_members(association_id: int) -> list[MpRow]:
    """Each constituency holding member schools, with its MP, school and pupil counts."""
    stmt = (
        select(Constituency, func.count(School.id), func.coalesce(func.sum(School.pupils), 0))
        .join(School, School.constituency_id == Constituency.id)
        .where(School.association_id == association_id)
        .group_by(Constituency.id)
        .options(selectinload(Constituency.mp))
        .order_by(Constituency.name)
    )
    return [MpRow(c, n, int(p)) for c, n, p in db.session.execute(stmt)]


def _needing_attention(association_id: int) -> Select:
    return _member_schools(association_id).where(School.constituency_id.is_(None))


def _without_head(association_id: int) -> Select:
    has_head = (
        select(Headship.id)
        .where(Headship.association_id == association_id, Headship.school_id == School.id)
        .exists()
    )
    return _member_schools(association_id).where(~has_head)


def dao_schools_needing_attention(association_id: int, page: int = 1) -> Page[School]:
    """One page of the member schools whose constituency code matches no known constituency."""
    stmt = _needing_attention(association_id).order_by(School.name, School.id)
    return Page(*paginate(stmt, page))


def dao_schools_without_head(association_id: int, page: int = 1) -> Page[School]:
    """One page of the member schools nobody on the association's roster leads."""
    return Page(*paginate(_without_head(association_id).order_by(School.name, School.id), page))


@dataclass
class Counts:
    schools: int
    heads: int
    constituencies: int
    needing_attention: int
    without_head: int


def dao_counts(association_id: int) -> Counts:
    schools = _member_schools(association_id).subquery()
    count = lambda stmt: db.session.scalar(stmt) or 0  # noqa: E731
    return Counts(
        schools=count(select(func.count()).select_from(schools)),
        heads=count(
            select(func.count(func.distinct(Headship.user_id))).where(
                Headship.association_id == association_id
            )
        ),
        constituencies=count(
            select(func.count(func.distinct(schools.c.constituency_id))).where(
                schools.c.constituency_id.is_not(None)
            )
        ),
        needing_attention=count(
            select(func.count()).select_from(_needing_attention(association_id).subquery())
        ),
        without_head=count(
            select(func.count()).select_from(_without_head(association_id).subquery())
        ),
    )


def dao_all_mps_count() -> int:
    return db.session.scalar(select(func.count(Mp.id))) or 0


def dao_headships_of(user_id: int) -> list[Headship]:
    """Every school the user leads, in any association."""
    return list(
        db.session.scalars(
            select(Headship)
            .where(Headship.user_id == user_id)
            .options(joinedload(Headship.school).joinedload(School.association))
            .order_by(Headship.id)
        )
    )


@dataclass
class SchoolLed:
    """A school a person leads, named once however many associations list them."""

    name: str
    job_title: str
    associations: list[str]


def schools_led_anywhere(user_id: int) -> list[SchoolLed]:
    """Every school the user leads, once per school (by URN), with the associations
    whose rosters say so, in the order the headships were recorded."""
    schools: dict[int, SchoolLed] = {}
    for headship in dao_headships_of(user_id):
        school = headship.school
        led = schools.setdefault(school.urn, SchoolLed(school.name, headship.job_title, []))
        if school.association.name not in led.associations:
            led.associations.append(school.association.name)
    return list(schools.values())


def dao_first_lead(association_id: int) -> User | None:
    """The association's first lead (lowest membership id), so every caller agrees."""
    return db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.association_id == association_id, Membership.role == Role.LEAD)
        .order_by(Membership.id)
        .limit(1)
    )


def dao_user(user_id: int) -> User | None:
    """The user with their memberships and associations, in one query: what every
    page under /a/<slug>/ needs (access.scope_to_association) before its own."""
    return (
        db.session.execute(
            select(User)
            .where(User.id == user_id)
            .options(joinedload(User.memberships).joinedload(Membership.association))
        )
        .unique()
        .scalar_one_or_none()
    )
