"""Pages of the register, and the wall between associations."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from campaign.directory.imports import run_import_job
from campaign.directory.models import ImportJob, ImportState, Role, School
from campaign.extensions import db
from tests.conftest import DEMO_DATA
from tests.factories import (
    make_association,
    make_constituency,
    make_headship,
    make_school,
    make_user,
    sign_in,
)


@pytest.fixture
def two_associations(app):
    """Association A (with a school, a head) and association B with its own lead."""
    a = make_association(slug="assoc-a", name="Association A")
    b = make_association(slug="assoc-b", name="Association B")
    seat = make_constituency()
    school_a = make_school(a, urn=900001, name="Saxon High School", constituency_id=seat.id)
    head_a = make_user("head@a.example", "Head A", a, Role.HEAD)
    make_headship(a, head_a, school_a)
    lead_a = make_user("lead@a.example", "Lead A", a, Role.LEAD)
    lead_b = make_user("lead@b.example", "Lead B", b, Role.LEAD)
    make_school(b, urn=900002, name="Beta School")
    db.session.commit()
    return {"a": a, "b": b, "lead_a": lead_a, "lead_b": lead_b, "head_a": head_a}


A_PAGES = [
    "/a/assoc-a/",
    "/a/assoc-a/schools",
    "/a/assoc-a/schools/900001",
    "/a/assoc-a/mps",
    "/a/assoc-a/needs-attention",
    "/a/assoc-a/imports",
]


@pytest.mark.parametrize("path", A_PAGES)
def test_lead_of_another_association_gets_404(client, two_associations, path):
    sign_in(client, two_associations["lead_b"])
    response = client.get(path)
    assert response.status_code == 404
    assert b"Saxon" not in response.data


def test_lead_of_another_association_cannot_import_into_it(client, two_associations):
    sign_in(client, two_associations["lead_b"])
    roster = b"URN,Email\n900001,intruder@b.example\n"
    response = client.post(
        "/a/assoc-a/imports",
        data={"roster-file": (io.BytesIO(roster), "roster.csv"), "roster-submit": "1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404


def test_school_of_another_association_is_404_in_your_own(client, two_associations):
    sign_in(client, two_associations["lead_b"])
    assert client.get("/a/assoc-b/schools/900001").status_code == 404
    assert client.get("/a/assoc-b/schools/900002").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, two_associations):
    response = client.get("/a/assoc-a/schools")
    assert response.status_code == 302 and "/sign-in" in response.location


def test_lead_sees_members_with_head_constituency_and_mp(client, two_associations):
    sign_in(client, two_associations["lead_a"])
    page = client.get("/a/assoc-a/schools").get_data(as_text=True)
    assert "Saxon High School" in page and "Head A" in page
    assert "Basildon and Billericay" in page and "Richard Holden" in page
    assert "Beta School" not in page
    mps = client.get("/a/assoc-a/mps").get_data(as_text=True)
    assert "Basildon and Billericay" in mps and "1 constituency" in mps


def test_head_sees_their_schools_but_not_the_register(client, two_associations):
    sign_in(client, two_associations["head_a"])
    home = client.get("/a/assoc-a/").get_data(as_text=True)
    assert "Your school" in home and "Saxon High School" in home
    assert client.get("/a/assoc-a/schools").status_code == 403
    assert client.get("/a/assoc-a/imports").status_code == 403
    assert client.get("/a/assoc-a/schools/900001").status_code == 200


def test_needs_attention_lists_unknown_constituency_codes(client, two_associations):
    make_school(
        two_associations["a"], urn=900003, name="Old Code School", constituency_code="E14000999"
    )
    db.session.commit()
    sign_in(client, two_associations["lead_a"])
    page = client.get("/a/assoc-a/needs-attention").get_data(as_text=True)
    assert "Old Code School" in page and "E14000999" in page
    assert "Constituency not recognised (1)" in page
    assert "No head on the roster (1)" in page


def upload(client, kind: str, content: bytes, **fields):
    data = {f"{kind}-file": (io.BytesIO(content), f"{kind}.csv"), f"{kind}-submit": "1"}
    data.update({f"{kind}-{k}": v for k, v in fields.items()})
    return client.post(
        "/a/assoc-a/imports", data=data, content_type="multipart/form-data", follow_redirects=True
    )


def test_lead_uploads_register_and_roster_and_sees_the_summary(client, two_associations):
    sign_in(client, two_associations["lead_a"])
    register = (DEMO_DATA / "gias-east-of-england.csv").read_bytes()
    response = upload(
        client,
        "register",
        register,
        phase="Secondary",
        local_authorities="Thurrock, Southend-on-Sea",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-count="read">245<' in page and 'data-count="added">21<' in page
    roster = (DEMO_DATA / "roster-essex-secondary-heads.csv").read_bytes()
    page = upload(client, "roster", roster).get_data(as_text=True)
    assert 'data-count="read">84<' in page
    assert "is not a member school of Association A" in page  # Essex rows are not members here


def test_upload_of_a_wrong_file_is_refused_and_changes_nothing(client, two_associations):
    sign_in(client, two_associations["lead_a"])
    before = db.session.scalar(select(func.count()).select_from(School))
    page = upload(client, "register", b"Name,Town\nOakfield,Basildon\n").get_data(as_text=True)
    assert "The file was not imported" in page
    assert "no &#34;URN&#34; or &#34;EstablishmentName&#34; columns" in page
    assert "Nothing was imported" in page
    assert db.session.scalar(select(func.count()).select_from(School)) == before
    job = db.session.scalar(select(ImportJob))
    assert job.state is ImportState.REFUSED and job.data == b""


def test_import_runs_as_a_job_with_a_status_page_and_json(client, two_associations):
    sign_in(client, two_associations["lead_a"])
    register = (DEMO_DATA / "gias-east-of-england.csv").read_bytes()
    response = client.post(
        "/a/assoc-a/imports",
        data={
            "register-file": (io.BytesIO(register), "gias.csv"),
            "register-phase": "",
            "register-submit": "1",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    job = db.session.scalar(select(ImportJob))
    assert response.location == f"/a/assoc-a/imports/{job.id}"
    assert job.state is ImportState.DONE and job.rows_expected == 245
    status = client.get(f"/a/assoc-a/imports/{job.id}.json").get_json()
    assert status["finished"] is True and status["read"] == 245
    summary = status["summary"]
    assert (summary["added"], summary["updated"], summary["skipped"]) == (243, 1, 1)
    listing = client.get("/a/assoc-a/imports").get_data(as_text=True)
    assert "gias.csv" in listing and "Imported" in listing
    # Running the same job again (a retried task) does nothing.
    run_import_job(job.id)
    assert db.session.scalar(select(func.count()).select_from(School)) == 245


def test_import_job_of_another_association_is_404(client, two_associations):
    sign_in(client, two_associations["lead_a"])
    upload(client, "roster", b"URN,Email\n900001,x@a.example\n")
    job = db.session.scalar(select(ImportJob))
    sign_in(client, two_associations["lead_b"])
    assert client.get(f"/a/assoc-a/imports/{job.id}").status_code == 404
    assert client.get(f"/a/assoc-b/imports/{job.id}").status_code == 404
    assert client.get(f"/a/assoc-b/imports/{job.id}.json").status_code == 404


def test_upload_must_be_a_csv(client, two_associations):
    sign_in(client, two_associations["lead_a"])
    response = client.post(
        "/a/assoc-a/imports",
        data={"roster-file": (io.BytesIO(b"x"), "roster.pdf"), "roster-submit": "1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "The file must be a CSV file" in response.get_data(as_text=True)


def test_oversized_upload_is_refused(app, client, two_associations):
    sign_in(client, two_associations["lead_a"])
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = upload(client, "register", b"x" * 4096)
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)
