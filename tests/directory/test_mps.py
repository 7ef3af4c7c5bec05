"""Constituencies and MPs: the Commons Library file, a simple CSV, and Parliament's API."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from campaign.cli import main
from campaign.directory.csvfile import ImportRefused
from campaign.directory.models import Constituency, Mp, School
from campaign.directory.mps import MembersApiClient, import_mps, link_schools, packaged_results
from campaign.extensions import db
from tests import fakes
from tests.factories import make_association, make_school

BASILDON, THURROCK, HACKNEY_N, YNYS_MON = "E14001077", "E14001546", "E14001259", "W07000112"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def mp_for(code: str) -> Mp:
    return db.session.scalar(select(Mp).join(Constituency).where(Constituency.ons_code == code))


def saved_mps() -> dict[str, dict]:
    """Every MP as the database holds it, read on a fresh connection (not the session)."""
    query = (
        select(Constituency.ons_code, *Mp.__table__.c)
        .join_from(Mp, Constituency)
        .order_by(Constituency.ons_code)
    )
    with db.engine.connect() as conn:
        return {row["ons_code"]: dict(row) for row in conn.execute(query).mappings()}


@pytest.fixture
def imported(app):
    """The packaged 2024 file, imported and committed."""
    import_mps(packaged_results())
    db.session.commit()


# --- The Commons Library results file and simple CSVs -------------------------


def test_packaged_file_is_the_commons_library_file_unchanged():
    # The SHA-256 of the Commons Library file as published (campaign/data/README.md).
    assert hashlib.sha256(packaged_results()).hexdigest() == (
        "041e5e52442391d29b38b6d830e7f4a192a098fc1d2824a33243cd0817fc1546"
    )


def test_packaged_file_gives_650_constituencies_each_with_an_mp(app):
    summary = import_mps(packaged_results())
    assert summary.as_dict() == {
        "read": 650, "added": 650, "updated": 0, "unchanged": 0, "skipped": 0, "rejected": [],
    }  # fmt: skip
    assert count(Constituency) == 650 and count(Mp) == 650
    assert count(Constituency, ~Constituency.mp.has()) == 0
    assert count(Constituency, Constituency.country == "England") == 543
    basildon = mp_for(BASILDON)
    assert (basildon.name, basildon.party) == ("Richard Holden", "Conservative")
    assert (basildon.constituency.name, basildon.constituency.region) == (
        "Basildon and Billericay", "East of England"
    )  # fmt: skip
    assert mp_for("W07000081").party == "Labour"  # "Lab" in the file
    assert mp_for("E14001170").party == "Speaker"  # "Spk"
    assert set(db.session.scalars(select(Mp.party).distinct())) == {
        "Labour", "Conservative", "Liberal Democrat", "Scottish National Party", "Sinn Féin",
        "Independent", "Reform UK", "Democratic Unionist Party", "Green Party", "Plaid Cymru",
        "Social Democratic and Labour Party", "Speaker", "Alliance",
        "Traditional Unionist Voice", "Ulster Unionist Party",
    }  # fmt: skip


def test_reimporting_the_packaged_file_changes_nothing(app):
    import_mps(packaged_results())
    db.session.commit()
    before = saved_mps()
    again = import_mps(packaged_results())
    db.session.commit()
    assert (again.read, again.added, again.updated, again.unchanged) == (650, 0, 0, 650)
    assert saved_mps() == before and count(Constituency) == 650


def test_simple_csv_with_emails_sets_them_and_leaves_other_columns_alone(app, imported):
    data = (
        b"ONS ID,Constituency name,Email\n"
        b"E14001077,Basildon and Billericay,Richard.Holden.MP@Parliament.UK\n"
        b"e14001546,Thurrock, jen.craft.mp@parliament.uk \n"
    )
    summary = import_mps(data)
    assert (summary.read, summary.added, summary.updated, summary.unchanged) == (2, 0, 2, 0)
    assert summary.rejected == []
    holden = mp_for(BASILDON)
    assert holden.email == "richard.holden.mp@parliament.uk"
    # The file has no name, party or country columns: what we held stays.
    assert (holden.first_name, holden.last_name, holden.party) == (
        "Richard",
        "Holden",
        "Conservative",
    )
    assert holden.constituency.country == "England"
    assert mp_for(THURROCK).email == "jen.craft.mp@parliament.uk"
    db.session.commit()
    # The results file has no Email column, so importing it again keeps the emails.
    again = import_mps(packaged_results())
    assert (again.updated, again.unchanged) == (0, 650)
    assert mp_for(BASILDON).email == "richard.holden.mp@parliament.uk"


def test_bad_rows_are_rejected_by_physical_line_and_the_rest_imported(app):
    data = (
        "ONS ID,Constituency name,Member first name,Member surname,Party,Email,Notes\n"  # 1
        "E14001077,Basildon and Billericay,Richard,Holden,Con,richard.holden.mp@parliament.uk,\n"
        '"E14001546","Thurrock","Jen","Craft","Lab","jen.craft.mp@parliament.uk",""\n'  # 3
        "\n"  # 4: blank lines are skipped but still counted
        "X123,Nowhere,A,B,Lab,,\n"  # 5
        'W07000112,Ynys Môn,Llinos,Medi,PC,,"Office moved\n'  # 6
        'in 2025"\n'  # 7: the quoted note runs onto this line
        "E14001259,Hackney North and Stoke Newington,Diane,Abbott,Ind,not an email,\n"  # 8
        "E14001077,Basildon and Billericay,Richard,Holden,Con,,\n"  # 9
        "E14001302,,Jack,Abbott,Lab,,\n"  # 10
    ).encode()
    summary = import_mps(data)
    assert (summary.read, summary.added, summary.updated) == (7, 3, 0)
    assert [(r["line"], r["reason"]) for r in summary.rejected] == [
        (5, 'ONS ID "X123" is not a constituency code.'),
        (8, 'Email "not an email" is not valid: '
            "An email address must have an @-sign."),
        (9, "E14001077 appears again (first on line 2)."),
        (10, "E14001302 has no constituency name."),
    ]  # fmt: skip
    assert sorted(db.session.scalars(select(Constituency.ons_code))) == [
        BASILDON, THURROCK, YNYS_MON
    ]  # fmt: skip
    assert mp_for(BASILDON).email == "richard.holden.mp@parliament.uk"
    assert (mp_for(THURROCK).party, mp_for(YNYS_MON).party) == ("Labour", "Plaid Cymru")
    assert mp_for(YNYS_MON).constituency.name == "Ynys Môn"


def test_a_file_without_ons_id_is_refused_and_nothing_written(app, imported, runner, tmp_path):
    before = saved_mps()
    with pytest.raises(ImportRefused, match='no "ONS ID" column'):
        import_mps(b"Constituency name,Email\nThurrock,jen.craft.mp@parliament.uk\n")
    db.session.rollback()
    bad = tmp_path / "mps.csv"
    bad.write_text("Constituency name,Email\nThurrock,jen.craft.mp@parliament.uk\n")
    result = runner.invoke(main, ["mps", "import", str(bad), "--json"])
    assert result.exit_code != 0
    assert 'no "ONS ID" column' in result.output and "Nothing was imported" in result.output
    assert saved_mps() == before


def test_cli_imports_the_packaged_file_and_prints_the_json_summary(app, runner):
    association = make_association()
    make_school(association, urn=900001, constituency_code=BASILDON)
    make_school(association, urn=900002, constituency_code="E14000999")  # a retired code
    db.session.commit()
    result = runner.invoke(main, ["mps", "import", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "read": 650, "added": 650, "updated": 0, "unchanged": 0, "skipped": 0, "rejected": [],
    }  # fmt: skip
    assert len(saved_mps()) == 650  # committed
    linked = dict(db.session.execute(select(School.urn, School.constituency_id)).all())
    basildon = db.session.scalar(select(Constituency.id).where(Constituency.ons_code == BASILDON))
    assert linked == {900001: basildon, 900002: None}
    again = runner.invoke(main, ["mps", "import", "--json"])
    assert json.loads(again.output)["unchanged"] == 650


def test_cli_imports_a_file_and_reports_rejected_lines_in_json(app, runner, tmp_path):
    path = tmp_path / "mps.csv"
    path.write_bytes(
        b"ONS ID,Constituency name,Email\n"
        b"E14001546,Thurrock,jen.craft.mp@parliament.uk\n"
        b"E1400154,Thurrock,\n"
    )
    result = runner.invoke(main, ["mps", "import", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "read": 2, "added": 1, "updated": 0, "unchanged": 0, "skipped": 0,
        "rejected": [{"line": 3, "reason": 'ONS ID "E1400154" is not a constituency code.'}],
    }  # fmt: skip
    assert saved_mps()[THURROCK]["email"] == "jen.craft.mp@parliament.uk"


def test_link_schools_follows_the_register_code(app, imported):
    association = make_association()
    school = make_school(association, urn=900001, constituency_code=BASILDON)
    db.session.flush()
    link_schools()
    db.session.refresh(school)
    assert school.constituency.ons_code == BASILDON
    school.constituency_code = "E14000999"  # the register moved it to a code we do not know
    db.session.flush()
    link_schools()
    db.session.refresh(school)
    assert school.constituency_id is None


# --- Parliament's Members API ---------------------------------------------------


def member(id_, display, list_as, title, address_as, party, seat, seat_id, gender) -> dict:
    """A member as /api/Members/Search gives it (recorded shape)."""
    party_id, party_name, abbreviation = party
    return {
        "id": id_,
        "nameDisplayAs": display,
        "nameListAs": list_as,
        "nameFullTitle": title,
        "nameAddressAs": address_as,
        "latestParty": {"id": party_id, "name": party_name, "abbreviation": abbreviation},
        "gender": gender,
        "latestHouseMembership": {
            "membershipFrom": seat,
            "membershipFromId": seat_id,
            "house": 1,
            "membershipStartDate": "2024-07-04T00:00:00",
            "membershipEndDate": None,
            "membershipEndReason": None,
        },
        "thumbnailUrl": f"https://members-api.parliament.uk/api/Members/{id_}/Thumbnail",
    }


def office(email: str | None, phone: str = "020 7219 3000", **lines) -> dict:
    """A contact entry as /api/Members/{id}/Contact gives it (recorded shape)."""
    address = {"line1": "House of Commons", "line2": "London", "postcode": "SW1A 0AA", **lines}
    return {
        "type": "Parliamentary office",
        "typeDescription": "Parliamentary office",
        "typeId": 1,
        "isPreferred": False,
        "isWebAddress": False,
        "notes": None,
        **{f"line{i}": address.get(f"line{i}") for i in range(1, 6)},
        "postcode": address["postcode"],
        "phone": phone,
        "fax": None,
        "email": email,
    }


# Five current members, served two a page: reading them all takes three Search requests.
MEMBERS = [
    member(172, "Ms Diane Abbott", "Abbott, Ms Diane", "Rt Hon Diane Abbott MP", "Ms Abbott",
           (8, "Independent", "Ind"), "Hackney North and Stoke Newington", 3553, "F"),
    member(4813, "Richard Holden", "Holden, Richard", "Richard Holden MP", "Mr Holden",
           (4, "Conservative", "Con"), "Basildon and Billericay", 4893, "M"),
    member(9999, "Someone Else", "Else, Someone", "Someone Else MP", "Mx Else",
           (15, "Labour", "Lab"), "Nowhere North", 9999, "F"),
    member(5085, "Llinos Medi", "Medi, Llinos", "Llinos Medi MP", "Llinos Medi",
           (22, "Plaid Cymru", "PC"), "Ynys Môn", 4970, "F"),
    member(5056, "Jen Craft", "Craft, Jen", "Jen Craft MP", "Ms Craft",
           (15, "Labour", "Lab"), "Thurrock", 4883, "F"),
]  # fmt: skip
CONTACTS = {
    172: [office("diane.abbott.office@parliament.uk", phone="020 7219 4426")],
    4813: [
        # The constituency office comes first but has no email: the one with an email wins.
        office(None, line1="Unit 1", line2="Billericay", postcode="CM12 9AA"),
        office("Richard.Holden.MP@parliament.uk"),
    ],
    5085: [office("llinos.medi.mp@parliament.uk")],
    5056: [],  # Parliament lists no contact for her
}


@pytest.fixture
def parliament(app):
    """A local server speaking the Members API, two members a page; the app points at it."""
    with fakes.serve(fakes.members_api(MEMBERS, CONTACTS, max_take=2)) as (url, recorder):
        app.config["PARLIAMENT_API_URL"] = url
        yield recorder


def test_refresh_updates_names_parties_emails_and_addresses(app, imported, runner, parliament):
    before = saved_mps()
    result = runner.invoke(main, ["mps", "refresh", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"matched": 4, "updated": 4, "unmatched": ["Nowhere North"]}

    search = [r for r in parliament.requests if r["path"] == "/api/Members/Search"]
    assert [r["query"]["skip"] for r in search] == ["0", "2", "4"]
    assert all(
        r["query"]["House"] == "1" and r["query"]["IsCurrentMember"] == "true" for r in search
    )
    assert parliament.paths() == [
        "/api/Members/Search", "/api/Members/172/Contact", "/api/Members/4813/Contact",
        "/api/Members/Search", "/api/Members/5085/Contact",
        "/api/Members/Search", "/api/Members/5056/Contact",
    ]  # fmt: skip

    after = saved_mps()
    abbott = after[HACKNEY_N]
    assert (abbott["display_as"], abbott["party"], abbott["parliament_id"]) == (
        "Ms Diane Abbott", "Independent", 172
    )  # fmt: skip
    assert abbott["email"] == "diane.abbott.office@parliament.uk"
    assert abbott["postal_address"] == "House of Commons, London, SW1A 0AA"
    holden = after[BASILDON]
    assert (holden["parliament_id"], holden["email"]) == (4813, "richard.holden.mp@parliament.uk")
    assert holden["postal_address"] == "House of Commons, London, SW1A 0AA"
    assert (after[YNYS_MON]["parliament_id"], after[YNYS_MON]["email"]) == (
        5085, "llinos.medi.mp@parliament.uk"
    )  # fmt: skip
    craft = after[THURROCK]
    assert (craft["display_as"], craft["party"], craft["parliament_id"]) == (
        "Jen Craft",
        "Labour",
        5056,
    )
    assert (craft["email"], craft["postal_address"]) == ("", "")
    # The election results stay as they were; only the four matched MPs changed.
    assert abbott["first_name"] == "Diane" and mp_for(HACKNEY_N).name == "Ms Diane Abbott"
    changed = {code for code in after if after[code] != before[code]}
    assert changed == {HACKNEY_N, BASILDON, YNYS_MON, THURROCK}


def test_refresh_again_changes_nothing_and_plain_output_names_the_unmatched(
    app, imported, runner, parliament
):
    runner.invoke(main, ["mps", "refresh"])
    before = saved_mps()
    result = runner.invoke(main, ["mps", "refresh"])
    assert result.exit_code == 0, result.output
    assert "Matched 4 MPs; updated 0." in result.output
    assert "no constituency matches 'Nowhere North'" in result.output
    assert saved_mps() == before


def test_refresh_keeps_an_email_parliament_does_not_give(app, imported, runner, parliament):
    import_mps(b"ONS ID,Constituency name,Email\nE14001546,Thurrock,jen.craft.mp@parliament.uk\n")
    db.session.commit()
    result = runner.invoke(main, ["mps", "refresh", "--json"])
    assert result.exit_code == 0, result.output
    assert saved_mps()[THURROCK]["email"] == "jen.craft.mp@parliament.uk"


def test_members_api_client_pages_and_reads_contacts():
    with fakes.serve(fakes.members_api(MEMBERS, CONTACTS, max_take=3)) as (url, recorder):
        client = MembersApiClient(url + "/")
        ids = [m["id"] for m in client.current_mps(page_size=2)]
        contacts = client.contact(172)
    assert ids == [172, 4813, 9999, 5085, 5056]
    search = [r["query"] for r in recorder.requests if r["path"] == "/api/Members/Search"]
    assert [(q["skip"], q["take"]) for q in search] == [("0", "2"), ("2", "2"), ("4", "2")]
    assert contacts[0]["email"] == "diane.abbott.office@parliament.uk"
    assert recorder.requests[-1]["headers"]["Accept"] == "application/json"


def test_a_server_error_fails_clearly_and_changes_nothing(app, imported, runner, parliament):
    before = saved_mps()
    parliament.failing = "/api/Members/Search"
    result = runner.invoke(main, ["mps", "refresh", "--json"])
    assert result.exit_code != 0
    assert f"Could not read {app.config['PARLIAMENT_API_URL']}/api/Members/Search" in result.output
    assert "HTTP Error 500" in result.output and "Nothing was changed." in result.output
    assert parliament.paths() == ["/api/Members/Search"]
    assert saved_mps() == before


def test_a_failure_part_way_through_changes_nothing(app, imported, runner, parliament):
    before = saved_mps()
    parliament.failing = "/api/Members/5085/Contact"  # after two MPs have been updated
    result = runner.invoke(main, ["mps", "refresh"])
    assert result.exit_code != 0
    assert "/api/Members/5085/Contact" in result.output and "Nothing was changed." in result.output
    assert "/api/Members/4813/Contact" in parliament.paths()
    db.session.commit()  # the command rolled back: nothing is left pending to commit
    assert saved_mps() == before


def test_an_unreachable_server_fails_clearly_and_changes_nothing(app, imported, runner):
    before = saved_mps()
    with fakes.refused_url() as url:
        app.config["PARLIAMENT_API_URL"] = url
        result = runner.invoke(main, ["mps", "refresh"])
    assert result.exit_code != 0
    assert f"Could not read {url}/api/Members/Search" in result.output
    assert "Nothing was changed." in result.output
    assert saved_mps() == before
