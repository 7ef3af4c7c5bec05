"""The `campaign` command, through Flask's CLI runner."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from campaign.cli import main
from campaign.directory.models import (
    Association,
    Constituency,
    Headship,
    Membership,
    Role,
    School,
    User,
)
from campaign.extensions import db
from tests.conftest import DEMO_DATA

REGISTER = str(DEMO_DATA / "gias-east-of-england.csv")
ROSTER = str(DEMO_DATA / "roster-essex-secondary-heads.csv")


def run(runner, *args):
    return runner.invoke(main, list(args), catch_exceptions=False)


def counts() -> dict:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Association, User, Membership, School, Headship, Constituency)
    }


@pytest.fixture
def essex(runner, app):
    result = run(
        runner, "associations", "create", "essex", "--name", "Essex", "--lead", "l@x.example"
    )
    assert result.exit_code == 0, result.output


def test_associations_create_makes_the_first_lead(runner, app):
    result = run(
        runner,
        "associations",
        "create",
        "herts",
        "--name",
        "Herts Heads",
        "--lead",
        "Lead@Herts.example",
    )
    assert result.exit_code == 0, result.output
    membership = db.session.scalar(select(Membership))
    assert membership.role is Role.LEAD and membership.user.email == "lead@herts.example"
    again = run(
        runner, "associations", "create", "herts", "--name", "Other", "--lead", "x@y.example"
    )
    assert again.exit_code == 1 and "already exists" in again.output
    assert counts()["Association"] == 1


def test_schools_and_members_import_print_json(runner, essex):
    result = run(
        runner, "schools", "import", REGISTER, "--association", "essex", "--phase", "Secondary",
        "--la", "Essex", "--la", "Thurrock", "--la", "Southend-on-Sea", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "read": 245, "added": 85, "updated": 0, "unchanged": 0, "skipped": 160, "rejected": [],
    }  # fmt: skip
    result = run(runner, "members", "import", ROSTER, "--association", "essex", "--json")
    assert json.loads(result.output) == {
        "read": 84, "added": 84, "updated": 0, "unchanged": 0, "skipped": 0, "rejected": [],
    }  # fmt: skip


def test_refused_file_exits_non_zero_and_writes_nothing(runner, essex, tmp_path):
    before = counts()
    bad = tmp_path / "not-gias.csv"
    bad.write_text("Name,Town\nOakfield,Basildon\n")
    result = run(runner, "schools", "import", str(bad), "--association", "essex", "--json")
    assert result.exit_code == 1
    assert 'no "URN" or "EstablishmentName" columns' in result.output
    assert "Nothing was imported" in result.output
    assert counts() == before


def test_unknown_association_and_missing_file_are_clear_errors(runner, essex):
    result = run(runner, "schools", "import", REGISTER, "--association", "nope")
    assert result.exit_code == 1 and 'No association has the slug "nope"' in result.output
    result = run(runner, "schools", "import", "/no/such.csv", "--association", "essex")
    assert result.exit_code == 1 and "Cannot read /no/such.csv" in result.output


def test_demo_twice_gives_the_same_counts(runner, app):
    first = run(runner, "demo")
    assert first.exit_code == 0, first.output
    after_first = counts()
    assert after_first["School"] == 85 and after_first["Constituency"] == 650
    assert after_first["Headship"] == 84 and after_first["User"] == 84  # 83 heads + the lead
    second = run(runner, "demo")
    assert second.exit_code == 0
    assert counts() == after_first
    assert "85 member schools" in second.output
    assert "Sign in as the lead (lead@demo.example): http://localhost/sign-in/" in second.output
    assert "Sign in as a head (Thomas Kowalski" in second.output


def test_demo_with_consultation_is_deterministic_and_runs_once(runner, app):
    first = run(runner, "demo", "--with-consultation")
    assert first.exit_code == 0, first.output
    assert "consultation round simulated" in first.output
    shown = json.loads(
        run(runner, "campaigns", "show", "fair-funding-for-our-schools", "--json").output
    )
    assert shown["state"] == "consultation" and shown["version"] == 2
    assert shown["questions"] == 2
    assert shown["tally"] == {"agree": 63, "abstain": 6, "disagree": 5, "block": 0, "no_answer": 11}
    assert shown["schools_with_evidence"] == 74
    again = run(runner, "demo", "--with-consultation")
    assert "simulated" not in again.output
    assert (
        json.loads(
            run(runner, "campaigns", "show", "fair-funding-for-our-schools", "--json").output
        )
        == shown
    )


def test_campaigns_list_and_unknown_campaign(runner, app):
    run(runner, "demo")
    listed = json.loads(
        run(runner, "campaigns", "list", "--association", "essex-heads", "--json").output
    )
    assert [(c["slug"], c["state"], c["version"]) for c in listed] == [
        ("fair-funding-for-our-schools", "draft", 1)
    ]
    assert len(listed[0]["version_sha256"]) == 64
    missing = run(runner, "campaigns", "show", "nope")
    assert missing.exit_code == 1 and 'No campaign has the slug "nope"' in missing.output


def test_worker_takes_concurrency_and_still_the_old_workers_name(runner):
    shown = run(runner, "worker", "--help")
    assert "--concurrency" in shown.output and "--workers" not in shown.output
    for args in (["--concurrency", "0"], ["--workers", "0"]):
        refused = runner.invoke(main, ["worker", *args])
        assert refused.exit_code == 2 and "0 is not in the range x>=1" in refused.output
