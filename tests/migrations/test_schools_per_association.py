"""The migration that gives each association its own copy of its schools, run
from the revision before it on a database where associations share schools."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

import campaign
from campaign import create_app
from campaign.extensions import db
from tests.conftest import _config
from tests.migrations.rows import insert_row

REVISION = "4f40d184c63a"
BEFORE = (
    ScriptDirectory(str(Path(campaign.__file__).parent / "migrations"))
    .get_revision(REVISION)
    .down_revision
)
SHA = "a" * 64


def _school(conn, urn: int, name: str, seat: int) -> int:
    blank = dict.fromkeys(
        ["type", "phase", "status", "locality", "address3", "county", "head_title",
         "head_first_name", "head_last_name", "head_job_title", "constituency_name"], ""
    )  # fmt: skip
    return insert_row(
        conn, "school", urn=urn, name=name, local_authority="Essex", street=f"{urn} Lane",
        town="Basildon", postcode="SS14 1AA", pupils=500, constituency_code="E14001077",
        constituency_id=seat, **blank,
    )  # fmt: skip


def _campaign(conn, association: int) -> tuple[int, int, int]:
    """A campaign with a version and a money question: (campaign, version, question)."""
    campaign_id = insert_row(
        conn, "campaign", association_id=association, slug="fair-funding", title="Fair funding",
        summary="", to_parents=True, to_mps=True, state="signoff",
    )  # fmt: skip
    version = insert_row(
        conn, "statement_version", campaign_id=campaign_id, number=1, body="We ask.",
        sha256=SHA, note="",
    )  # fmt: skip
    question = insert_row(
        conn, "evidence_question", campaign_id=campaign_id, position=0, kind="money",
        prompt="Deficit", help="", required=False,
    )  # fmt: skip
    return campaign_id, version, question


def _answers(conn, campaign: tuple[int, int, int], school: int, user: int) -> None:
    """Everything a campaign holds about a school: signature, stance, answer, parents' list."""
    campaign_id, version, question = campaign
    insert_row(conn, "signature", campaign_id=campaign_id, school_id=school, user_id=user,
            decision="signed", name="Head", role="Headteacher", comment="",
            version_sha256=SHA, client_hash="")  # fmt: skip
    insert_row(conn, "stance", campaign_id=campaign_id, school_id=school, user_id=user,
            version_id=version, kind="agree", reason="")  # fmt: skip
    insert_row(conn, "evidence_answer", question_id=question, school_id=school, user_id=user,
            number_value=1000, text_value="")  # fmt: skip
    insert_row(conn, "parent_list", campaign_id=campaign_id, school_id=school, count=0)


def _populate(conn) -> dict:
    """A and B share Saxon (900001); Abbey (900002) is A's alone; Thurrock (900003)
    is B's member but A's roster leads it too; 900004 belongs to nobody."""
    a = insert_row(conn, "association", slug="a", name="A")
    b = insert_row(conn, "association", slug="b", name="B")
    seat = insert_row(conn, "constituency", ons_code="E14001077", name="Basildon", region="",
                   country="")  # fmt: skip
    saxon = _school(conn, 900001, "Saxon High", seat)
    abbey = _school(conn, 900002, "Abbey Academy", seat)
    thurrock = _school(conn, 900003, "Thurrock School", seat)
    _school(conn, 900004, "Nobody's School", seat)
    for school, association in ((saxon, a), (saxon, b), (abbey, a), (thurrock, b)):
        insert_row(conn, "school_membership", school_id=school, association_id=association)
    head_a = insert_row(conn, "user", email="head@a.example", name="Head A")
    head_b = insert_row(conn, "user", email="head@b.example", name="Head B")
    both = insert_row(conn, "user", email="both@x.example", name="Both")
    for user, association, school in (
        (head_a, a, saxon), (head_b, b, saxon), (head_a, a, abbey),
        (both, b, thurrock), (both, a, thurrock),
    ):  # fmt: skip
        insert_row(conn, "headship", association_id=association, user_id=user, school_id=school,
                job_title="Headteacher")  # fmt: skip
    for user, association in ((head_a, a), (head_b, b), (both, a), (both, b)):
        insert_row(conn, "membership", user_id=user, association_id=association, role="head")
    in_a, in_b = _campaign(conn, a), _campaign(conn, b)
    _answers(conn, in_a, saxon, head_a)
    _answers(conn, in_b, saxon, head_b)
    _answers(conn, in_b, thurrock, both)
    return {"a": a, "b": b, "saxon": saxon, "thurrock": thurrock, "campaigns": (in_a, in_b)}


def _schools(conn) -> dict[tuple[int, int], dict]:
    rows = conn.execute(sa.text("SELECT * FROM school")).mappings()
    return {(r["association_id"], r["urn"]): dict(r) for r in rows}


def _pointing(conn, campaign_id: int, question: int) -> set[int]:
    """The schools every row of one campaign points at."""
    found = set()
    for table in ("signature", "stance", "parent_list"):
        found |= set(conn.execute(
            sa.text(f"SELECT school_id FROM {table} WHERE campaign_id = :c"), {"c": campaign_id}
        ).scalars())  # fmt: skip
    found |= set(conn.execute(
        sa.text("SELECT school_id FROM evidence_answer WHERE question_id = :q"), {"q": question}
    ).scalars())  # fmt: skip
    return found


def test_shared_schools_become_one_copy_per_association_and_back(scratch_url):
    app = create_app(_config(scratch_url))
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            given = _populate(conn)
        upgrade(revision=REVISION)

        with db.engine.begin() as conn:
            schools = _schools(conn)
            a, b = given["a"], given["b"]
            assert sorted(schools) == [
                (a, 900001), (a, 900002), (a, 900003), (b, 900001), (b, 900003)
            ]  # fmt: skip
            # The association with the lowest id keeps the original row (Thurrock
            # too: A's roster leads it); the others get copies of every fact.
            assert schools[(a, 900001)]["id"] == given["saxon"]
            assert schools[(a, 900003)]["id"] == given["thurrock"]
            b_saxon, b_thurrock = schools[(b, 900001)], schools[(b, 900003)]
            for copy in (b_saxon, b_thurrock):
                original = schools[(a, copy["urn"])]
                assert {k: v for k, v in copy.items() if k not in ("id", "association_id")} == {
                    k: v for k, v in original.items() if k not in ("id", "association_id")
                }
            # Every row points at its own association's copy.
            heads = set(conn.execute(sa.text(
                "SELECT association_id, school_id FROM headship"
            )).all())  # fmt: skip
            assert {(assoc, school) for assoc, school in heads} == {
                (a, given["saxon"]), (b, b_saxon["id"]), (a, schools[(a, 900002)]["id"]),
                (b, b_thurrock["id"]), (a, given["thurrock"]),
            }  # fmt: skip
            (in_a, _, question_a), (in_b, _, question_b) = given["campaigns"]
            assert _pointing(conn, in_a, question_a) == {given["saxon"]}
            assert _pointing(conn, in_b, question_b) == {b_saxon["id"], b_thurrock["id"]}
            assert "school_membership" not in sa.inspect(conn).get_table_names()
            assert "school_owner" not in sa.inspect(conn).get_table_names()
            details = {c["name"] for c in sa.inspect(conn).get_columns("user")}
            assert "details_saved" in details
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            _school_copy = dict(schools[(a, 900002)])
            _school_copy.pop("id")
            insert_row(conn, "school", **_school_copy)  # (association, URN) is unique

        downgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            urns = dict(conn.execute(sa.text("SELECT urn, id FROM school")).all())
            assert urns == {
                900001: given["saxon"], 900002: schools[(a, 900002)]["id"],
                900003: given["thurrock"],
            }  # fmt: skip
            members = set(conn.execute(sa.text(
                "SELECT school_id, association_id FROM school_membership"
            )).all())  # fmt: skip
            assert members == {
                (given["saxon"], a), (given["saxon"], b), (urns[900002], a),
                (given["thurrock"], b), (given["thurrock"], a),
            }  # fmt: skip
            assert _pointing(conn, in_b, question_b) == {given["saxon"], given["thurrock"]}
            assert set(conn.execute(sa.text("SELECT school_id FROM headship")).scalars()) == {
                given["saxon"], urns[900002], given["thurrock"]
            }  # fmt: skip
        upgrade()  # and forward again, to the head
        db.engine.dispose()
