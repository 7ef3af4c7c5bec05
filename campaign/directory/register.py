"""Import of the DfE schools register (the GIAS "all establishments" download)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select

from campaign.directory.csvfile import PROGRESS_EVERY, ImportSummary, column, read_rows
from campaign.directory.models import Association, Constituency, School, SchoolMembership
from campaign.extensions import db

# School attribute -> GIAS column header. Read by name: layouts since 2018 have
# had 133, 135 and 139 columns in different orders.
GIAS_COLUMNS = {
    "name": "EstablishmentName",
    "type": "TypeOfEstablishment (name)",
    "phase": "PhaseOfEducation (name)",
    "status": "EstablishmentStatus (name)",
    "local_authority": "LA (name)",
    "street": "Street",
    "locality": "Locality",
    "address3": "Address3",
    "town": "Town",
    "county": "County (name)",
    "postcode": "Postcode",
    "head_title": "HeadTitle (name)",
    "head_first_name": "HeadFirstName",
    "head_last_name": "HeadLastName",
    "head_job_title": "HeadPreferredJobTitle",
    "constituency_code": "ParliamentaryConstituency (code)",
    "constituency_name": "ParliamentaryConstituency (name)",
}
REQUIRED = ["URN", "EstablishmentName"]
CLOSED = "closed"


def import_register(
    association: Association,
    data: bytes,
    *,
    phase: str | None = None,
    local_authorities: Iterable[str] = (),
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Add or update the association's member schools from a GIAS file, in one transaction.

    Raises ImportRefused (and writes nothing) when the file is not a GIAS file.
    The caller commits.
    """
    summary = ImportSummary()
    wanted_las = {la.strip().lower() for la in local_authorities if la.strip()}
    wanted_phase = phase.strip().lower() if phase else None
    rows: dict[int, tuple[int, dict]] = {}

    for line, row in read_rows(data, REQUIRED, "a GIAS schools register file"):
        summary.read += 1
        if progress and summary.read % PROGRESS_EVERY == 0:
            progress(summary.read)
        fields = {attr: column(row, header) for attr, header in GIAS_COLUMNS.items()}
        if (
            (wanted_phase and fields["phase"].lower() != wanted_phase)
            or (wanted_las and fields["local_authority"].lower() not in wanted_las)
            or fields["status"].lower() == CLOSED
        ):
            summary.skipped += 1
            continue
        urn_text = row["URN"]
        if not urn_text.isdigit() or int(urn_text) == 0:
            summary.reject(line, f'URN "{urn_text}" is not a number.')
            continue
        if not fields["name"]:
            summary.reject(line, f"URN {urn_text} has no EstablishmentName.")
            continue
        urn = int(urn_text)
        if urn in rows:
            summary.reject(line, f"URN {urn} appears again (first on line {rows[urn][0]}).")
            continue
        fields["pupils"] = _count(column(row, "NumberOfPupils"))
        fields["constituency_code"] = fields["constituency_code"].upper()
        rows[urn] = (line, fields)

    _save(association, rows, summary)
    return summary


def _count(text: str) -> int | None:
    # GIAS suppresses small or unknown numbers as "..".
    return int(text) if text.isdigit() else None


def _save(association: Association, rows: dict[int, tuple[int, dict]], summary: ImportSummary):
    constituencies = dict(db.session.execute(select(Constituency.ons_code, Constituency.id)).all())
    existing: dict[int, School] = {}
    members: set[int] = set()
    if rows:
        # One index range scan, filtered here: far cheaper than long IN lists
        # on PostgreSQL, and the range is tight for a regional file.
        in_range = School.urn.between(min(rows), max(rows))
        existing = {
            s.urn: s for s in db.session.scalars(select(School).where(in_range)) if s.urn in rows
        }
        members = set(
            db.session.scalars(
                select(School.urn)
                .join(SchoolMembership, SchoolMembership.school_id == School.id)
                .where(SchoolMembership.association_id == association.id, in_range)
            )
        )

    for urn, (_line, fields) in rows.items():
        fields["constituency_id"] = constituencies.get(fields["constituency_code"])
        school = existing.get(urn)
        if school is None:
            school = School(urn=urn, **fields)
            db.session.add(school)
            changed = True
        else:
            changed = False
            for attr, value in fields.items():
                if getattr(school, attr) != value:
                    setattr(school, attr, value)
                    changed = True
        if urn not in members:
            db.session.add(SchoolMembership(school=school, association_id=association.id))
            summary.added += 1
        elif changed:
            summary.updated += 1
        else:
            summary.unchanged += 1
    db.session.flush()
