"""One bad row is rejected by its line and the rest imports; a file that cannot
be read at all is refused with a message and writes nothing. Never an error
on our side: every importer, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import random

import pytest
from sqlalchemy import func, select

from campaign.directory.csvfile import ImportRefused, whole_number
from campaign.directory.imports import run_import_job
from campaign.directory.models import (
    Constituency,
    Headship,
    ImportJob,
    ImportState,
    Mp,
    Role,
    School,
    User,
)
from campaign.directory.mps import import_mps
from campaign.directory.register import import_register
from campaign.directory.roster import import_roster
from campaign.extensions import db
from tests.factories import make_association, make_school, make_user, sign_in

BOM = b"\xef\xbb\xbf"
REGISTER_HEADER = "URN,EstablishmentName,EstablishmentStatus (name),Postcode,NumberOfPupils"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def csv_bytes(header: str, *rows: str) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def reasons(summary) -> dict[int, str]:
    return {r["line"]: r["reason"] for r in summary.rejected}


def test_whole_numbers_are_ascii_digits_within_a_bound():
    assert whole_number("900001", 99_999_999) == 900001
    assert whole_number("000123", 99_999_999) == 123
    for text in ("", "²", "①", "٣", "12³", "-1", "1.0", " 1", "1e5", "100000000", "9" * 5000):
        assert whole_number(text, 99_999_999) is None, text


def test_register_rejects_each_bad_row_by_line_and_imports_the_rest(app):
    association = make_association()
    data = csv_bytes(
        REGISTER_HEADER,
        "900001,Good One,Open,SS14 1AA,900",  # line 2
        "900002,Too Short,Open",  # 3: fewer fields than the header
        "900003,Too Long,Open,SS14 1AA,900,surplus",  # 4: more
        "900004,Trailing Empties,Open,SS14 1AA,900,,",  # 5: extra but empty: fine
        "90000²,Superscript,Open,SS14 1AA,900",  # 6
        "①,Circled,Open,SS14 1AA,900",  # 7
        "99999999999999999999,Huge,Open,SS14 1AA,900",  # 8: beyond the integer column
        "100000000,Nine Digits,Open,SS14 1AA,900",  # 9
        f"900009,{'N' * 201},Open,SS14 1AA,900",  # 10: longer than String(200)
        "900010,Long Postcode,Open,SS14 1AA SS14 1AA,900",  # 11: 17 > String(16)
        "900011,Nul\x00Name,Open,SS14 1AA,900",  # 12
        "900012,Bell\x07Name,Open,SS14 1AA,900",  # 13
        "900013,Odd Pupils,Open,SS14 1AA,²",  # 14: an unknown count, as GIAS's ".."
        "900014,Huge Pupils,Open,SS14 1AA,99999999999",  # 15
        f"900015,{'N' * 200},Open,SS14 1AA,900",  # 16: exactly 200 fits
    )
    summary = import_register(association, data)
    db.session.commit()
    got = reasons(summary)
    assert sorted(got) == [3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 15]
    assert got[3].startswith("the row has 3 fields but the header has 5")
    assert got[4].startswith("the row has 6 fields but the header has 5")
    assert got[6] == 'URN "90000²" is not a number.'
    assert got[7] == 'URN "①" is not a number.'
    assert got[8] == 'URN "99999999999999999999" is not a number.'
    assert got[10] == "EstablishmentName is longer than 200 characters."
    assert got[11] == "Postcode is longer than 16 characters."
    assert got[12] == "EstablishmentName contains a control character (U+0000)."
    assert got[13] == "EstablishmentName contains a control character (U+0007)."
    assert got[15] == "NumberOfPupils 99999999999 is more than 1,000,000."
    assert summary.read == 15 and summary.added == 4
    schools = {s.urn: s for s in db.session.scalars(select(School))}
    assert sorted(schools) == [900001, 900004, 900013, 900015]
    assert schools[900013].pupils is None and schools[900001].pupils == 900


@pytest.mark.parametrize("data", [b"", BOM, BOM + b"\r\n\r\n", b"  \n"])
def test_an_empty_or_bom_only_file_is_refused_with_a_message(app, data):
    association = make_association()
    make_school(association, urn=900001)
    make_constituency_count = count(Constituency)
    with pytest.raises(ImportRefused, match="The file is empty: expected a GIAS"):
        import_register(association, data)
    with pytest.raises(ImportRefused, match="The file is empty: expected an association roster"):
        import_roster(association, data)
    with pytest.raises(ImportRefused, match="The file is empty: expected an MPs file"):
        import_mps(data)
    assert (count(School), count(User), count(Constituency)) == (1, 0, make_constituency_count)


def test_a_bom_only_upload_is_refused_on_the_page_not_an_error_on_our_side(client, app):
    association = make_association(slug="assoc-a")
    lead = make_user("lead@a.example", "Lead A", association, Role.LEAD)
    db.session.commit()
    sign_in(client, lead)
    for kind in ("register", "roster"):
        data = {f"{kind}-file": (io.BytesIO(BOM), f"{kind}.csv"), f"{kind}-submit": "1"}
        page = client.post(
            "/a/assoc-a/imports", data=data, content_type="multipart/form-data",
            follow_redirects=True,
        ).get_data(as_text=True)  # fmt: skip
        assert "The file is empty" in page and "Nothing was imported" in page
        assert "on our side" not in page
    states = set(db.session.scalars(select(ImportJob.state)))
    assert states == {ImportState.REFUSED}


def test_roster_rejects_each_bad_row_by_line_and_imports_the_rest(app):
    association = make_association(name="Test Heads")
    make_school(association, urn=900001)
    make_school(association, urn=900002)
    data = csv_bytes(
        "URN,School,Head name,Email,Role",
        "900001,Saxon,Grace Vaughan,grace@saxon.example,Principal",  # line 2
        "900002,Abbey,Short Row,short@abbey.example",  # 3
        "90000²,Abbey,Odd Digit,odd@abbey.example,Head",  # 4
        "99999999999999999999999,Abbey,Huge,huge@abbey.example,Head",  # 5
        f"900002,Abbey,{'N' * 201},long@abbey.example,Head",  # 6: String(200)
        f"900002,Abbey,Long Role,role@abbey.example,{'R' * 101}",  # 7: String(100)
        "900002,Abbey,Nul\x00Name,nul@abbey.example,Head",  # 8
        "900002,Abbey,Nul Email,nul\x00@abbey.example,Head",  # 9
        "900002,Abbey,Alan Abbey,alan@abbey.example,Head",  # 10
    )
    summary = import_roster(association, data)
    db.session.commit()
    got = reasons(summary)
    assert sorted(got) == [3, 4, 5, 6, 7, 8, 9]
    assert got[3].startswith("the row has 4 fields but the header has 5")
    assert got[4] == 'URN "90000²" is not a member school of Test Heads.'
    assert got[6] == "Head name is longer than 200 characters."
    assert got[7] == "Role is longer than 100 characters."
    assert got[8] == "Head name contains a control character (U+0000)."
    assert got[9] == "Email contains a control character (U+0000)."
    assert summary.added == 2 and count(Headship) == 2
    assert set(db.session.scalars(select(User.email))) == {
        "grace@saxon.example",
        "alan@abbey.example",
    }


MPS_HEADER = "ONS ID,Constituency name,Region name,Member first name,Member surname,Email"


def test_mps_rejects_each_bad_row_by_line_and_imports_the_rest(app):
    data = csv_bytes(
        MPS_HEADER,
        "E14001077,Basildon and Billericay,East,Richard,Holden,",  # line 2
        "E14001078,Short Row,East",  # 3
        "E1400107²,Odd Digit,East,A,B,",  # 4: \d would take it
        '"E14001079\n",Trailing Line Break,East,A,B,',  # 5-6: stripped, so a good code
        f"E14001080,{'N' * 201},East,A,B,",  # 7
        f"E14001081,Long Surname,East,A,{'S' * 101},",  # 8
        f"E14001082,Long Country,East,A,B,{'x' * 300}@example.org",  # 9: not an address
        "E14001083,Nul\x00Seat,East,A,B,",  # 10
        "E14001084,Hackney,London,Diane,Abbott,diane@parliament.example",  # 11
    )
    summary = import_mps(data)
    db.session.commit()
    got = reasons(summary)
    assert sorted(got) == [3, 4, 7, 8, 9, 10]
    assert got[4] == 'ONS ID "E1400107²" is not a constituency code.'
    assert got[7] == "Constituency name is longer than 200 characters."
    assert got[8] == "Member surname is longer than 100 characters."
    assert got[10] == "Constituency name contains a control character (U+0000)."
    assert summary.added == 3
    codes = set(db.session.scalars(select(Constituency.ons_code)))
    assert codes == {"E14001077", "E14001079", "E14001084"}
    assert count(Mp) == 3


def test_an_mps_file_that_cannot_be_read_is_refused(app):
    # Refused before any database work: an unclosed quote running to the end.
    with pytest.raises(ImportRefused):
        import_mps(b'ONS ID,Constituency name\r\n"E14001077,Basildon' + b"x" * 200_000)


# A bounded fuzz of the three importers with a fixed seed, so a failure repeats:
# each file is either imported (bad rows rejected) or refused, and what was
# imported can be committed, on SQLite and PostgreSQL alike.
NASTY = ["", "²", "①", "٣", "\x00", "\x07", "\x7f", "\ufeff", '"', ",", "\n", "\r", "é", "’",
         "9" * 12, "9" * 40, "-1", "0", "N" * 250, "E1400107²", "E14001077", "900001",
         "a@b.example", "x" * 400 + "@b.example", "..", " ", "\t"]  # fmt: skip


def _fuzz_file(rng: random.Random, header: list[str]) -> bytes:
    lines = [",".join(header)]
    for _ in range(rng.randint(0, 6)):
        width = len(header) + rng.choice([-2, -1, 0, 0, 0, 0, 1, 2])
        fields = []
        for _ in range(max(width, 0)):
            value = "".join(rng.choice(NASTY) for _ in range(rng.randint(0, 3)))
            fields.append(f'"{value}"' if rng.random() < 0.5 else value)
        lines.append(",".join(fields))
    text = "\r\n".join(lines)
    prefix = BOM if rng.random() < 0.2 else b""
    encoding = rng.choice(["utf-8", "cp1252"])
    return prefix + text.encode(encoding, errors="replace")


@pytest.mark.parametrize("target", ["register", "roster", "mps"])
def test_fuzzed_files_are_imported_or_refused_never_an_error(app, target):
    association = make_association()
    make_school(association, urn=900001)
    db.session.commit()
    headers = {
        "register": REGISTER_HEADER.split(",") + ["ParliamentaryConstituency (code)"],
        "roster": ["URN", "School", "Head name", "Email", "Role"],
        "mps": MPS_HEADER.split(",") + ["First party"],
    }
    run = {
        "register": lambda data: import_register(association, data),
        "roster": lambda data: import_roster(association, data),
        "mps": import_mps,
    }[target]
    rng = random.Random(f"bad-rows-{target}")
    outcomes = {"imported": 0, "refused": 0}
    for _ in range(60):
        data = _fuzz_file(rng, headers[target])
        try:
            run(data)
            db.session.commit()
            outcomes["imported"] += 1
        except ImportRefused:
            db.session.rollback()
            outcomes["refused"] += 1
    assert outcomes["imported"] > 0


def test_a_bad_register_row_in_a_background_import_is_rejected_not_failed(app):
    association = make_association()
    user = make_user(association=association, role=Role.LEAD)
    data = csv_bytes(REGISTER_HEADER, "900001,Good,Open,SS14 1AA,1", "900002,Nul\x00,Open,X,1")
    job = ImportJob(association_id=association.id, created_by_id=user.id, kind="register",
                    data=data, options={})  # fmt: skip
    db.session.add(job)
    db.session.commit()
    run_import_job(job.id)
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert job.state is ImportState.DONE
    assert job.summary["added"] == 1 and [r["line"] for r in job.summary["rejected"]] == [3]


def test_a_bom_before_windows_1252_text_still_finds_the_header(app):
    association = make_association()
    data = BOM + csv_bytes(REGISTER_HEADER, "900001,St Anne’s,Open,SS14 1AA,1").decode().encode(
        "cp1252"
    )
    summary = import_register(association, data)
    assert summary.added == 1
    assert db.session.scalar(select(School.name)) == "St Anne’s"
