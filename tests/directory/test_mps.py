"""Constituencies and MPs: the Commons Library file, a simple CSV, and Parliament's API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from campaign.cli import main
from campaign.directory.csvfile import ImportRefused
from campaign.directory.models import Constituency, Mp, School
from campaign.directory.mps import import_mps, packaged_results
from campaign.extensions import db
from tests import fakes
from tests.factories import make_association, make_school


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def mp_for(code: str) -> Mp:
    return db.session.scalar(select(Mp).join(Constituency).where(Constituency.ons_code == code))


def test_packaged_file_knows_all_650_constituencies_and_their_mps(app):
    summary = import_mps(packaged_results())
    assert (summary.read, summary.added, summary.rejected) == (650, 650, [])
    assert count(Constituency) == 650 and count(Mp) == 650
    assert count(Constituency, Constituency.country == "England") == 543
    assert count(Constituency, Constituency.country == "Scotland") == 57
    basildon = mp_for("E14001077")
    assert (basildon.name, basildon.party) == ("Richard Holden", "Conservative")
    assert mp_for("W07000081").party == "Labour"  # "Lab" spelled out
    again = import_mps(packaged_results())
    assert (again.added, again.updated, again.unchanged) == (0, 0, 650)


def test_simple_csv_with_emails_updates_and_rejects_bad_rows(app):
    import_mps(packaged_results())
    data = (
        b"ONS ID,Constituency name,Member first name,Member surname,First party,Email\n"
        b"E14001077,Basildon and Billericay,Richard,Holden,Con,richard.holden.mp@parliament.uk\n"
        b"X123,Nowhere,A,B,Lab,\n"
        b"E14001546,Thurrock,Jen,Craft,Lab,not an email\n"
        b"E14001077,Basildon and Billericay,Richard,Holden,Con,\n"
    )
    summary = import_mps(data)
    assert (summary.read, summary.updated, summary.unchanged) == (4, 1, 0)
    assert [r["line"] for r in summary.rejected] == [3, 4, 5]
    assert "not a constituency code" in summary.rejected[0]["reason"]
    assert 'Email "not an email" is not valid' in summary.rejected[1]["reason"]
    assert "appears again (first on line 2)" in summary.rejected[2]["reason"]
    assert mp_for("E14001077").email == "richard.holden.mp@parliament.uk"
    assert mp_for("E14001546").email == ""


def test_file_without_ons_id_is_refused_and_nothing_written(app, runner, tmp_path):
    with pytest.raises(ImportRefused, match='"ONS ID"'):
        import_mps(b"Constituency name,MP\nThurrock,Jen Craft\n")
    bad = tmp_path / "mps.csv"
    bad.write_text("Constituency name,MP\nThurrock,Jen Craft\n")
    result = runner.invoke(main, ["mps", "import", str(bad), "--json"])
    assert result.exit_code == 1 and 'no "ONS ID" column' in result.output
    assert count(Constituency) == 0


def test_cli_json_summary_and_schools_linked(app, runner):
    association = make_association()
    make_school(association, urn=900001, constituency_code="E14001077")
    make_school(association, urn=900002, constituency_code="E14000999")  # a retired code
    db.session.commit()
    result = runner.invoke(main, ["mps", "import", "--json"])
    assert json.loads(result.output) == {
        "read": 650, "added": 650, "updated": 0, "unchanged": 0, "skipped": 0, "rejected": [],
    }  # fmt: skip
    linked = dict(db.session.execute(select(School.urn, School.constituency_id)).all())
    assert linked[900001] is not None and linked[900002] is None


MEMBERS = [
    {
        "id": 4756,
        "nameDisplayAs": "Richard Holden",
        "nameListAs": "Holden, Richard",
        "nameFullTitle": "Richard Holden MP",
        "nameAddressAs": "Mr Holden",
        "latestParty": {"id": 4, "name": "Conservative", "abbreviation": "Con"},
        "gender": "M",
        "latestHouseMembership": {
            "membershipFrom": "Basildon and Billericay",
            "membershipFromId": 4893,
            "house": 1,
            "membershipStartDate": "2024-07-04T00:00:00",
            "membershipEndDate": None,
        },
    },
    {
        "id": 5000,
        "nameDisplayAs": "Jen Craft",
        "latestParty": {"id": 15, "name": "Labour", "abbreviation": "Lab"},
        "latestHouseMembership": {"membershipFrom": "Thurrock", "house": 1},
    },
    {
        "id": 6000,
        "nameDisplayAs": "Someone Else",
        "latestParty": {"id": 15, "name": "Labour", "abbreviation": "Lab"},
        "latestHouseMembership": {"membershipFrom": "Atlantis", "house": 1},
    },
]
CONTACTS = {
    4756: [
        {
            "type": "Parliamentary office",
            "typeId": 1,
            "isPreferred": False,
            "line1": "House of Commons",
            "line2": "London",
            "line3": None,
            "postcode": "SW1A 0AA",
            "phone": "020 7219 3000",
            "email": "Richard.Holden.MP@parliament.uk",
        }
    ],
    5000: [],
}


def refresh(app, runner, handler, *args):
    with fakes.serve(handler) as (url, recorder):
        app.config["PARLIAMENT_API_URL"] = url
        result = runner.invoke(main, ["mps", "refresh", *args])
    return result, recorder


def test_refresh_updates_names_parties_and_contacts_from_parliament(app, runner):
    import_mps(packaged_results())
    db.session.commit()
    result, recorder = refresh(app, runner, fakes.members_api(MEMBERS, CONTACTS), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"matched": 2, "updated": 2, "unmatched": ["Atlantis"]}
    paths = [r["path"] for r in recorder.requests]
    assert paths.count("/api/Members/Search") == 1  # three members fit one page of 20
    assert "/api/Members/4756/Contact" in paths
    assert recorder.requests[0]["query"]["House"] == "1"
    db.session.expire_all()
    holden = mp_for("E14001077")
    assert holden.parliament_id == 4756 and holden.email == "richard.holden.mp@parliament.uk"
    assert holden.postal_address == "House of Commons, London, SW1A 0AA"
    thurrock = mp_for("E14001546")
    assert (thurrock.display_as, thurrock.party, thurrock.email) == ("Jen Craft", "Labour", "")


def test_refresh_pages_through_search_results(app):
    import_mps(packaged_results())
    from campaign.directory.mps import MembersApiClient

    with fakes.serve(fakes.members_api(MEMBERS, CONTACTS)) as (url, recorder):
        ids = [m["id"] for m in MembersApiClient(url).current_mps(page_size=2)]
    assert ids == [4756, 5000, 6000]
    assert [r["query"]["skip"] for r in recorder.requests] == ["0", "2"]


def test_refresh_failure_is_clear_and_changes_nothing(app, runner):
    import_mps(packaged_results())
    db.session.commit()
    result, _ = refresh(app, runner, fakes.members_api(MEMBERS, CONTACTS, fail=True))
    assert result.exit_code == 1
    assert "Could not read" in result.output and "Nothing was changed" in result.output
    db.session.expire_all()
    assert mp_for("E14001077").parliament_id is None
    app.config["PARLIAMENT_API_URL"] = "http://127.0.0.1:9"  # nothing listens there
    unreachable = runner.invoke(main, ["mps", "refresh"])
    assert unreachable.exit_code == 1 and "Could not read" in unreachable.output
