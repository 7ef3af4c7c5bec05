"""Import of the DfE schools register (the GIAS "all establishments" download)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select

from campaign.directory.csvfile import (
    PROGRESS_EVERY,
    ImportSummary,
    column,
    column_limits,
    read_rows,
    too_long,
    whole_number,
)
from campaign.directory.models import Association, Constituency, School
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
# URNs are six digits today; anything past eight is not a URN (and would not
# fit the integer column).
MAX_URN = 99_999_999
# The largest school in England has under 5,000 pupils.
MAX_PUPILS = 1_000_000
LIMITS = column_limits(School.__table__, GIAS_COLUMNS)


def import_register(
    association: Association,
    data: bytes,
    *,
    phase: str | None = None,
    local_authorities: Iterable[str] = (),
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Add or update the association's member schools from a GIAS file, in one transaction.

    Writes only this association's own copies of the schools: another
    association holding the same URN keeps its own facts. A bad row is
    rejected with its line and the rest imported; raises ImportRefused (and
    writes nothing) when the file is not a GIAS file. The caller commits.
    """
    summary = ImportSummary()
    wanted_las = {la.strip().lower() for la in local_authorities if la.strip()}
    wanted_phase = phase.strip().lower() if phase else None
    rows: dict[int, tuple[int, dict]] = {}

    for line, row in read_rows(data, REQUIRED, "a GIAS schools register file", summary):
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
        urn = whole_number(urn_text, MAX_URN)
        if not urn:
            summary.reject(line, f'URN "{urn_text[:20]}" is not a number.')
            continue
        if not fields["name"]:
            summary.reject(line, f"URN {urn_text} has no EstablishmentName.")
            continue
        if urn in rows:
            summary.reject(line, f"URN {urn} appears again (first on line {rows[urn][0]}).")
            continue
        pupils = column(row, "NumberOfPupils")
        fields["pupils"] = whole_number(pupils, MAX_PUPILS)
        if fields["pupils"] is None and pupils.isascii() and pupils.isdigit():
            summary.reject(line, f"NumberOfPupils {pupils[:20]} is more than {MAX_PUPILS:,}.")
            continue
        if fields["constituency_code"].isascii():
            fields["constituency_code"] = fields["constituency_code"].upper()
        if problem := too_long(fields, LIMITS, GIAS_COLUMNS):
            summary.reject(line, problem)
            continue
        rows[urn] = (line, fields)

    _save(association, rows, summary)
    return summary


def _save(association: Association, rows: dict[int, tuple[int, dict]], summary: ImportSummary):
    constituencies = dict(db.session.execute(select(Constituency.ons_code, Constituency.id)).all())
    existing: dict[int, School] = {}
    if rows:
        # One index range scan of this association's own schools, filtered
        # here: far cheaper than long IN lists on PostgreSQL, and the range is
        # tight for a regional file.
        own = select(School).where(
            School.association_id == association.id, School.urn.between(min(rows), max(rows))
        )
        existing = {s.urn: s for s in db.session.scalars(own) if s.urn in rows}

    for urn, (_line, fields) in rows.items():
        fields["constituency_id"] = constituencies.get(fields["constituency_code"])
        school = existing.get(urn)
        if school is None:
            db.session.add(School(association_id=association.id, urn=urn, **fields))
            summary.added += 1
            continue
        changed = False
        for attr, value in fields.items():
            if getattr(school, attr) != value:
                setattr(school, attr, value)
                changed = True
        if changed:
            summary.updated += 1
        else:
            summary.unchanged += 1
    db.session.flush()
