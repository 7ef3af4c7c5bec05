"""Fuzz every importer with the CSV files people bring and break (tests.security.fuzzing):
each answers with a summary that names its rejected lines, or refuses the file
(ImportRefused) having written nothing. No other exception, through the function
or through the upload page, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import html
import io
import json

from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import select

from campaign.delivery.parents import read_parent_list, save_parent_list
from campaign.directory.csvfile import ImportRefused, ImportSummary
from campaign.directory.models import Association, ImportJob, ImportState, School, User
from campaign.directory.mps import PARTIES, import_mps
from campaign.directory.register import GIAS_COLUMNS, import_register
from campaign.directory.register import REQUIRED as REGISTER_REQUIRED
from campaign.directory.roster import import_roster
from campaign.drafting.models import Campaign
from campaign.extensions import db
from tests.security.fuzzing import (
    URNS,
    World,
    anything,
    csv_files,
    dump,
    examples,
    sometimes,
    words,
)

FUNCTION_EXAMPLES = 60
PAGE_EXAMPLES = 25

urns = st.one_of(st.sampled_from([str(u) for u in URNS]), st.integers(100000, 999999).map(str))
seats = st.sampled_from(["E14001077", "E14001535", "W07000041", "e14001077", ""])
REGISTER = {
    **dict.fromkeys(GIAS_COLUMNS.values(), words),
    "URN": urns,
    "PhaseOfEducation (name)": st.sampled_from(["Secondary", "Primary", "All-through", ""]),
    "EstablishmentStatus (name)": st.sampled_from(["Open", "Closed", "Proposed to open"]),
    "ParliamentaryConstituency (code)": seats,
    "Postcode": st.sampled_from(["SS14 1AA", "CM1 1AA", ""]),
    "NumberOfPupils": st.one_of(st.integers(0, 3000).map(str), st.just("")),
}
ROSTER = {"URN": urns, "School": words, "Head name": words, "Email": st.emails(), "Role": words}
MPS = {
    "ONS ID": st.one_of(seats, st.from_regex(r"[ENSW][0-9]{8}", fullmatch=True)),
    "Constituency name": words,
    "Region name": words,
    "Country name": st.sampled_from(["England", "Wales", "Scotland", "Northern Ireland"]),
    "Member first name": words,
    "Member surname": words,
    "First party": st.one_of(st.sampled_from(sorted(PARTIES)), words),
    "Email": st.one_of(st.emails(), st.just("")),
}
PARENTS = {"Email": st.emails(), "Name": words}

register_files = csv_files(REGISTER, REGISTER_REQUIRED)
roster_files = csv_files(ROSTER, ["URN", "Email"])
mps_files = csv_files(MPS, ["ONS ID", "Constituency name"])
parent_files = csv_files(PARENTS, ["Email"])


def check_summary(summary: ImportSummary) -> None:
    """A summary that adds up: every row read was added, updated, unchanged, skipped
    or rejected with its line and a reason, and it prints as JSON."""
    assert isinstance(summary, ImportSummary)
    done = summary.added + summary.updated + summary.unchanged + summary.skipped
    assert summary.read == done + len(summary.rejected), summary
    for rejected in summary.rejected:
        assert isinstance(rejected["line"], int) and rejected["line"] >= 2, rejected
        assert rejected["reason"], rejected
    json.dumps(summary.as_dict())


def imported(run):
    """Run an importer as its callers do and return what it gives, flushed; or, if it
    refuses the file, None, having checked that nothing was written, not even left
    pending in the session. Rolled back either way, so examples do not meet."""
    before = dump(db.session.connection())
    try:
        result = run()
        db.session.flush()
        return result
    except ImportRefused as refused:
        assert str(refused)
        db.session.flush()  # anything the importer left pending would be written now
        assert dump(db.session.connection()) == before, "a refused import wrote rows"
        return None
    finally:
        db.session.rollback()


def check_import(run) -> None:
    if (summary := imported(run)) is None:
        event("refused")
        return
    check_summary(summary)
    event("rows rejected" if summary.rejected else "no row rejected")
    event("rows written" if summary.added or summary.updated else "no row written")


def association(world: World) -> Association:
    return db.session.get(Association, world.ids["association"])


# --- the functions -------------------------------------------------------------------


@examples(FUNCTION_EXAMPLES)
@given(
    data=register_files,
    phase=sometimes(st.none(), st.one_of(st.sampled_from(["Secondary", "primary"]), anything), 3),
    las=st.lists(st.one_of(st.sampled_from(["Essex", "thurrock"]), anything), max_size=3),
)
def test_the_register_import_rejects_or_refuses(world, data, phase, las):
    check_import(lambda: import_register(association(world), data, phase=phase,
                                         local_authorities=las))  # fmt: skip


@examples(FUNCTION_EXAMPLES)
@given(data=roster_files)
def test_the_roster_import_rejects_or_refuses(world, data):
    check_import(lambda: import_roster(association(world), data))


@examples(FUNCTION_EXAMPLES)
@given(data=mps_files)
def test_the_mps_import_rejects_or_refuses(world, data):
    check_import(lambda: import_mps(data))


@examples(FUNCTION_EXAMPLES)
@given(data=parent_files)
def test_a_parents_list_is_read_or_refused(world, data):
    addresses = imported(lambda: read_parent_list(data))
    event("refused" if addresses is None else "read")
    if addresses is not None:
        assert addresses and len({a.lower() for a in addresses}) == len(addresses)
        campaign = db.session.get(Campaign, world.ids["signing"])
        school = db.session.get(School, world.ids["school"])
        head = db.session.get(User, world.ids["head"])
        saved = imported(lambda: save_parent_list(campaign, school, head, data))
        assert saved is not None and saved.count == len(addresses)


# --- the upload pages ------------------------------------------------------------------


def _post_import(world: World, kind: str, data: bytes, name: str, **fields):
    form = {f"{kind}-file": (io.BytesIO(data), name), f"{kind}-submit": "y"}
    form.update({f"{kind}-{k}": v for k, v in fields.items()})
    return world.client("lead").post(
        "/a/assoc-a/imports", data=form, content_type="multipart/form-data",
        follow_redirects=True,
    )  # fmt: skip


def check_import_page(world: World, response, rerun) -> None:
    """The upload ends as a finished job: done with its summary, or refused with its
    reason and the register untouched. A failed job is an exception the importer let
    escape: run again here, it shows its traceback."""
    assert response.status_code < 500, response.status_code
    job = db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()))
    if job is None:  # the form itself was refused
        assert response.status_code == 400
        return
    if job.state is ImportState.FAILED:
        with contextlib.suppress(ImportRefused):
            rerun(job.data)
        raise AssertionError(f"the import failed: {job.error}")
    assert job.state in (ImportState.DONE, ImportState.REFUSED), job.state
    if job.state is ImportState.REFUSED:
        assert job.error in html.unescape(response.text)
        after = dump(db.engine)
        assert {t: rows for t, rows in after.items() if t != "import_job"} == {
            t: rows for t, rows in world.snapshot.items() if t != "import_job"
        }, "a refused import wrote rows"
    else:
        check_summary(ImportSummary(**{k: v for k, v in job.summary.items()}))


@examples(PAGE_EXAMPLES)
@given(data=register_files, phase=st.one_of(st.just("Secondary"), anything))
def test_a_register_upload_finishes_done_or_refused(world, data, phase):
    try:
        response = _post_import(world, "register", data, "register.csv", phase=phase)
        check_import_page(world, response, lambda d: import_register(association(world), d))
    finally:
        world.reset()


@examples(PAGE_EXAMPLES)
@given(data=roster_files)
def test_a_roster_upload_finishes_done_or_refused(world, data):
    try:
        response = _post_import(world, "roster", data, "roster.csv")
        check_import_page(world, response, lambda d: import_roster(association(world), d))
    finally:
        world.reset()


@examples(PAGE_EXAMPLES)
@given(data=parent_files)
def test_a_parents_list_upload_is_saved_or_refused(world, data):
    try:
        response = world.client("head").post(
            "/a/assoc-a/campaigns/signing/parents/900001",
            data={"file": (io.BytesIO(data), "parents.csv")},
            content_type="multipart/form-data", follow_redirects=True,
        )  # fmt: skip
        assert response.status_code < 500
        event("saved" if response.history else "refused")
        if not response.history:  # refused: said so, and nothing saved
            said = html.unescape(response.text)
            assert "Nothing was saved" in said or "Choose the CSV file" in said
            assert dump(db.engine) == world.snapshot
    finally:
        world.reset()
