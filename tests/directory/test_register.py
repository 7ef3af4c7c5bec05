"""Importing the DfE schools register (GIAS) in its real layouts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campaign.directory.csvfile import ImportRefused
from campaign.directory.models import School
from campaign.directory.mps import import_mps, packaged_results
from campaign.directory.register import import_register
from campaign.extensions import db
from tests.conftest import DEMO_DATA, SAMPLES
from tests.factories import make_association

DEMO = DEMO_DATA / "gias-east-of-england.csv"


def gias(rows: list[dict], encoding: str = "cp1252") -> bytes:
    """A GIAS-shaped file (the demo header, every field quoted) with the given rows."""
    header = DEMO.read_bytes().decode("cp1252").splitlines()[0]
    names = [h.strip('"') for h in header.split('","')]
    lines = [header]
    for row in rows:
        lines.append(",".join(f'"{row.get(n, "")}"' for n in names))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def open_school(urn: str, name: str) -> dict:
    return {"URN": urn, "EstablishmentName": name, "EstablishmentStatus (name)": "Open"}


def tally(column) -> dict:
    return dict(db.session.execute(select(column, func.count()).group_by(column)).all())


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_register_counts_by_phase_la_and_status(app):
    association = make_association()
    summary = import_register(association, DEMO.read_bytes())
    db.session.commit()
    assert summary.read == 245
    assert summary.skipped == 1  # the closed school
    assert summary.added == 244 and summary.rejected == []
    assert tally(School.phase) == {"Primary": 139, "Secondary": 105}
    assert tally(School.local_authority) == {
        "Essex": 174,
        "Southend-on-Sea": 26,
        "Thurrock": 24,
        "Hertfordshire": 20,
    }
    assert tally(School.status) == {"Open": 243, "Open, but proposed to close": 1}


def test_filters_by_phase_and_local_authority(app):
    association = make_association()
    summary = import_register(
        association,
        DEMO.read_bytes(),
        phase="secondary",
        local_authorities=["Essex", "Southend-on-Sea", "Thurrock"],
    )
    assert (summary.read, summary.added, summary.skipped) == (245, 85, 160)
    phases = set(db.session.scalars(select(School.phase)))
    assert phases == {"Secondary"}


def test_reimport_is_idempotent_and_counts_changes(app):
    association = make_association()
    data = DEMO.read_bytes()
    import_register(association, data)
    db.session.commit()
    again = import_register(association, data)
    db.session.commit()
    assert (again.added, again.updated, again.unchanged) == (0, 0, 244)
    assert count(School) == 244

    changed = data.replace(b'"Saxon High School"', b'"Saxon High School and Sixth Form"')
    third = import_register(association, changed)
    assert (third.added, third.updated, third.unchanged) == (0, 1, 243)
    assert db.session.scalar(select(School.name).where(School.urn == 900001)).endswith("Form")


def test_schools_link_to_known_constituencies(app):
    import_mps(packaged_results())
    association = make_association()
    import_register(association, DEMO.read_bytes())
    unlinked = db.session.scalar(
        select(func.count()).select_from(School).where(School.constituency_id.is_(None))
    )
    assert unlinked == 0
    school = db.session.scalar(select(School).where(School.urn == 900001))
    assert school.constituency.name == "Basildon and Billericay"
    assert school.constituency.mp.last_name == "Holden"


@pytest.mark.parametrize(
    ("path", "rows", "expected"),
    [
        # 135 columns, UTF-8, a cp1252 apostrophe mis-decoded upstream as U+0092.
        ("DFE-Digital_publish-teacher-training/downloaded.csv", 1, {100000: "The Aldgate School"}),
        # 139 columns (2023): one closed school, one with no name.
        ("DFE-Digital_publish-teacher-training/test_schools.csv", 7, {100001: None}),
        # 133 columns (2018), with two co-heads packed into the name fields.
        ("DFE-Digital_schools-experience/edubase.csv", 4, {100459: "St Aloysius RC College"}),
    ],
)
def test_real_gias_layouts(app, path, rows, expected):
    association = make_association()
    summary = import_register(association, (SAMPLES / path).read_bytes())
    assert summary.read == rows
    for urn, name in expected.items():
        school = db.session.scalar(select(School).where(School.urn == urn))
        assert school is not None
        if name:
            assert school.name == name


def test_cp1252_apostrophe_in_utf8_sample_comes_out_right(app):
    association = make_association()
    sample = SAMPLES / "DFE-Digital_publish-teacher-training/downloaded.csv"
    import_register(association, sample.read_bytes())
    school = db.session.scalar(select(School).where(School.urn == 100000))
    assert school.constituency_name == "Cities of London and Westminster\u2019"
    assert school.constituency_code == "E14001172"
    assert (school.pupils, school.postcode, school.head_last_name) == (244, "EC3A 5DE", "Allan")


def test_2023_layout_skips_closed_and_rejects_nameless(app):
    association = make_association()
    data = (SAMPLES / "DFE-Digital_publish-teacher-training/test_schools.csv").read_bytes()
    summary = import_register(association, data)
    assert summary.skipped == 1  # Sherborne Nursery School is closed
    assert summary.rejected == [{"line": 2, "reason": "URN 100000 has no EstablishmentName."}]
    assert summary.added == 5


def test_2018_co_heads_kept_as_given(app):
    association = make_association()
    data = (SAMPLES / "DFE-Digital_schools-experience/edubase.csv").read_bytes()
    import_register(association, data)
    school = db.session.scalar(select(School).where(School.urn == 100171))
    assert school.head_title == "Co Headteacher"
    assert school.register_head == "Co Headteacher Claire Harrison Victoria Wainwright"


def test_windows_1252_accents_and_curly_apostrophes(app):
    association = make_association()
    data = gias(
        [
            {
                "URN": "900999",
                "EstablishmentName": "St Anne\u2019s Académie",
                "EstablishmentStatus (name)": "Open",
                "HeadFirstName": "Zoë",
                "HeadLastName": "O\u2019Sullivan-Müller",
            }
        ]
    )
    assert "\u2019".encode("cp1252") in data  # really Windows-1252 bytes
    import_register(association, data)
    school = db.session.scalar(select(School).where(School.urn == 900999))
    assert school.name == "St Anne\u2019s Académie"
    assert school.head_first_name == "Zoë"
    assert school.head_last_name == "O\u2019Sullivan-Müller"


def test_not_a_gias_file_is_refused_naming_missing_columns(app):
    association = make_association()
    with pytest.raises(ImportRefused, match='"URN" or "EstablishmentName"'):
        import_register(association, b"Name,Town\r\nOakfield,Basildon\r\n")
    with pytest.raises(ImportRefused, match='"EstablishmentName"'):
        import_register(association, b'"URN","Town"\r\n"1","Basildon"\r\n')
    assert count(School) == 0


def test_bad_rows_are_reported_by_physical_line_and_the_rest_imported(app):
    association = make_association()
    data = gias(
        [
            open_school("900101", "Good One"),
            open_school("90O102", "Letter O"),
            open_school("900103", "Line\nBreak"),
            open_school("", "No URN"),
            open_school("900101", "Again"),
        ]
    )
    summary = import_register(association, data)
    assert summary.as_dict() == {
        "read": 5,
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "rejected": [
            {"line": 3, "reason": 'URN "90O102" is not a number.'},
            {"line": 6, "reason": 'URN "" is not a number.'},
            {"line": 7, "reason": "URN 900101 appears again (first on line 2)."},
        ],
    }
    assert set(db.session.scalars(select(School.urn))) == {900101, 900103}


def test_long_imports_report_progress(app):
    association = make_association()
    data = gias([open_school(str(900000 + i), f"School {i}") for i in range(1, 1201)])
    seen: list[int] = []
    summary = import_register(association, data, progress=seen.append)
    assert summary.added == 1200
    assert seen == [500, 1000]
