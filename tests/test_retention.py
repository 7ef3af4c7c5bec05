"""`campaign retention`: old sign-in links and parents' lists deleted, old finished
campaigns anonymised; nothing newer, and no other association, touched."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from campaign.auth.models import LoginToken
from campaign.auth.services import issue_sign_in_link
from campaign.cli import main
from campaign.consultation.models import Comment, EvidenceQuestion
from campaign.delivery.models import DeliveryEvent, Message, MessageState, ParentList, email_hash
from campaign.delivery.outbox import build_outbox
from campaign.delivery.parents import save_parent_list
from campaign.directory.models import Mp, Role
from campaign.drafting.models import Campaign, CampaignState
from campaign.extensions import db
from campaign.letters.models import Audience, Letter, PackKind, RenderRun
from campaign.letters.packs import dao_letter_keys, dao_pack
from campaign.letters.runs import render_letters
from campaign.letters.steps import build_pack
from campaign.letters.store import letter_store
from campaign.signoff.models import AuditEvent, Decision, Signature
from campaign.types import UtcDateTime
from tests.factories import make_campaign, make_headship, make_school, make_user

LONG_AGO = datetime.now(UTC) - timedelta(days=400)
PARENT = "pat@home.example"


def run(runner, *args) -> dict:
    result = runner.invoke(main, ["retention", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _rows_of(campaign_id: int):
    """(table, WHERE) for every table that holds rows of the campaign."""
    messages = select(Message.id).where(Message.campaign_id == campaign_id)
    questions = select(EvidenceQuestion.id).where(EvidenceQuestion.campaign_id == campaign_id)
    runs = select(RenderRun.id).where(RenderRun.campaign_id == campaign_id)
    for table in db.metadata.sorted_tables:
        if table.name == "campaign":
            yield table, table.c.id == campaign_id
        elif "campaign_id" in table.c:
            yield table, table.c.campaign_id == campaign_id
        elif table.name == "delivery_event":
            yield table, table.c.message_id.in_(messages)
        elif table.name == "evidence_answer":
            yield table, table.c.question_id.in_(questions)
        elif table.name == "render_chunk":
            yield table, table.c.run_id.in_(runs)


def age(campaign: Campaign, when: datetime = LONG_AGO) -> None:
    """Move every time recorded in the campaign's rows back to `when`."""
    for table, where in _rows_of(campaign.id):
        for column in table.c:
            if isinstance(column.type, UtcDateTime):
                db.session.execute(
                    update(table).where(where, column.is_not(None)).values({column.name: when})
                )
    db.session.commit()


def dump(campaign: Campaign) -> dict[str, list]:
    """Every row of the campaign, as stored (PDFs aside: see letters/retention.py)."""
    found = {}
    for table, where in _rows_of(campaign.id):
        columns = [c for c in table.c if c.name != "pdf"]
        found[table.name] = [tuple(row) for row in db.session.execute(
            select(*columns).where(where).order_by(*table.primary_key.columns))]  # fmt: skip
    return found


def tokens() -> list[int]:
    return sorted(db.session.scalars(select(LoginToken.id)))


@pytest.fixture
def campaigns(association_world):
    """A's old campaign, closed 400 days ago with everything a send leaves behind; A's
    campaign closed today; B's campaign closed 400 days ago."""
    w = association_world
    saxon, abbey, thurrock = w.schools
    old = make_campaign(w.a, "Old campaign", author=w.lead, state=CampaignState.CLOSED,
                        signed=[saxon, thurrock], declined=[abbey])  # fmt: skip
    db.session.get(Signature, _signature_id(old, saxon)).comment = "Proud to sign, Eve"
    db.session.add(Comment(campaign_id=old.id, version_id=old.frozen_version_id, paragraph=1,
                           user_id=w.head.id, body="Agreed."))  # fmt: skip
    save_parent_list(old, saxon, w.exec, f"Email\n{PARENT}\n".encode())
    db.session.commit()
    for audience in Audience:
        render_letters(old, audience, processes=1)
        build_outbox(old, audience)
        db.session.commit()
    message = db.session.scalars(select(Message).where(Message.campaign_id == old.id)).first()
    message.last_error = f"550 {PARENT} unknown"
    payload = {"event": "bounce", "email": PARENT, "ip": "192.0.2.1", "timestamp": 1,
               "sg_event_id": "e1"}  # fmt: skip
    db.session.add(DeliveryEvent(message_id=message.id, event="bounce", provider_event_id="e1",
                                 occurred=LONG_AGO, payload=payload))  # fmt: skip
    db.session.commit()
    age(old)

    new = make_campaign(w.a, "New campaign", author=w.lead, state=CampaignState.CLOSED,
                        signed=[saxon])  # fmt: skip
    b_school = make_school(w.b, urn=910001, name="Bee School")
    b_head = make_user("bee@b.example", "Bella Bee", w.b, Role.HEAD)
    make_headship(w.b, b_head, b_school)
    old_b = make_campaign(w.b, "B campaign", author=w.lead_b, state=CampaignState.CLOSED,
                          signed=[b_school])  # fmt: skip
    age(old_b)
    return w, old, new, old_b


def _signature_id(campaign: Campaign, school) -> int:
    return db.session.scalar(
        select(Signature.id).where(
            Signature.campaign_id == campaign.id, Signature.school_id == school.id
        )  # fmt: skip
    )


def personal_strings(w) -> list[str]:
    mps = [f"{mp.first_name} {mp.last_name}" for mp in db.session.scalars(select(Mp))]
    people = [w.lead, w.exec, w.head]
    return [PARENT, email_hash(PARENT)[:20], "Proud to sign", *mps,
            *(p.name for p in people), *(p.email for p in people)]  # fmt: skip


def test_dry_run_counts_and_changes_nothing(runner, campaigns):
    w, old, new, old_b = campaigns
    before = {c.slug: dump(c) for c in (old, new, old_b)}
    counts = run(runner, "--dry-run")
    assert counts["dry_run"] is True
    assert counts["campaigns"] == ["assoc-a/old-campaign", "assoc-b/b-campaign"]
    assert counts["signatures anonymised"] == 4  # Saxon, Thurrock, Abbey; Bee School
    assert counts["parents' lists deleted"] == 1
    assert counts["letters anonymised"] >= 3 and counts["messages anonymised"] >= 3
    assert counts["delivery events anonymised"] == 1
    db.session.expire_all()
    assert {c.slug: dump(c) for c in (old, new, old_b)} == before


def test_an_old_finished_campaign_keeps_its_counts_and_text_but_no_person(runner, campaigns):
    w, old, new, old_b = campaigns
    letters_before = db.session.scalar(
        select(func.count(Letter.id)).where(Letter.campaign_id == old.id)
    )
    states_before = sorted(
        db.session.scalars(select(Message.state).where(Message.campaign_id == old.id))
    )
    held = json.dumps(dump(old), default=str)
    present = [s for s in personal_strings(w) if s in held]
    # So the check after the run can fail: the parent, a signatory, the MP, the sender.
    assert {PARENT, email_hash(PARENT)[:20], "Eve Exec", "exec@a.example", "Lena Lead"} <= set(
        present
    ) and len(present) > 6

    counts = run(runner, "--association", "assoc-a")
    assert counts["campaigns"] == ["assoc-a/old-campaign"]
    assert "sign-in links deleted" not in counts  # a person's, not the association's

    db.session.expire_all()
    held = json.dumps(dump(old), default=str)
    assert [s for s in present if s in held] == []
    signatures = db.session.scalars(select(Signature).where(Signature.campaign_id == old.id))
    assert sorted((s.school.name, s.decision, s.name, s.user_id) for s in signatures) == [
        ("Abbey Academy", Decision.DECLINED, "(removed)", None),
        ("Saxon High", Decision.SIGNED, "(removed)", None),
        ("Thurrock School", Decision.SIGNED, "(removed)", None),
    ]
    letters = db.session.scalars(select(Letter).where(Letter.campaign_id == old.id)).all()
    assert len(letters) == letters_before
    assert {letter.merge["statement_markdown"] for letter in letters} == {
        "# Fair funding\n\nWe ask."
    }
    assert {letter.merge["signatory_count"] for letter in letters} == {2}
    messages = db.session.scalars(select(Message).where(Message.campaign_id == old.id)).all()
    assert sorted(m.state for m in messages) == states_before
    assert MessageState.CREATED in states_before
    assert {(m.to_address, m.to_name, m.last_error) for m in messages} == {("", "", "")}
    assert db.session.scalar(select(DeliveryEvent.payload)) == {
        "event": "bounce", "timestamp": 1, "sg_event_id": "e1"
    }  # fmt: skip
    assert db.session.scalar(select(Comment.body).where(Comment.campaign_id == old.id)) == "Agreed."
    actors = db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.campaign_id == old.id))
    assert set(actors) == {None}
    assert db.session.scalar(select(func.count(ParentList.id))) == 0


def test_nothing_newer_and_no_other_association_is_touched(runner, campaigns, app):
    w, old, new, old_b = campaigns
    untouched = {c.slug: dump(c) for c in (new, old_b)}
    run(runner, "--association", "assoc-a")
    db.session.expire_all()
    assert {c.slug: dump(c) for c in (new, old_b)} == untouched

    # An old campaign in which one thing happened lately (a head withdrew) is not due.
    db.session.execute(
        update(Signature).where(Signature.campaign_id == old_b.id)
        .values(withdrawn=datetime.now(UTC) - timedelta(days=3))
    )  # fmt: skip
    db.session.commit()
    untouched = {c.slug: dump(c) for c in (new, old_b)}
    assert run(runner)["campaigns"] == ["assoc-a/old-campaign"]
    db.session.expire_all()
    assert {c.slug: dump(c) for c in (new, old_b)} == untouched


def test_sign_in_links_used_or_expired_and_old_go_and_it_runs_twice_the_same(runner, campaigns):
    w, old, new, old_b = campaigns
    for _ in range(3):
        issue_sign_in_link(w.head)
    db.session.commit()
    old_used, old_unused, fresh = tokens()
    db.session.execute(update(LoginToken).where(LoginToken.id.in_([old_used, old_unused]))
                       .values(created=LONG_AGO, expires=LONG_AGO))  # fmt: skip
    db.session.execute(update(LoginToken).where(LoginToken.id.in_([old_used, fresh]))
                       .values(used=datetime.now(UTC)))  # fmt: skip
    db.session.commit()

    first = run(runner)
    assert first["sign-in links deleted"] == 2 and tokens() == [fresh]
    assert first["campaigns"] == ["assoc-a/old-campaign", "assoc-b/b-campaign"]
    db.session.expire_all()
    after = {c.slug: dump(c) for c in (old, new, old_b)}

    second = run(runner, "--days", "365")
    assert second["campaigns"] == first["campaigns"]
    assert {k: v for k, v in second.items() if isinstance(v, int)} == dict.fromkeys(
        [k for k, v in first.items() if isinstance(v, int)], 0
    )
    db.session.expire_all()
    assert {c.slug: dump(c) for c in (old, new, old_b)} == after


def test_the_text_output_and_an_unknown_association(runner, campaigns):
    result = runner.invoke(main, ["retention", "--days", "1", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would remove what is older than 1 days" in result.output
    past = "finished campaigns past it: 2 (assoc-a/old-campaign, assoc-b/b-campaign)"
    assert past in result.output
    assert "Dry run: nothing was changed." in result.output
    unknown = runner.invoke(main, ["retention", "--association", "nope"])
    assert unknown.exit_code == 1 and 'No association has the slug "nope"' in unknown.output


def _keys(campaign: Campaign) -> set[str]:
    return set(db.session.scalars(select(Letter.sha256).where(Letter.campaign_id == campaign.id)))


def test_an_old_campaigns_letter_pdfs_leave_the_store_and_newer_ones_stay(runner, campaigns):
    w, old, new, old_b = campaigns
    render_letters(new, Audience.PARENTS, processes=1)
    db.session.commit()
    store = letter_store()
    old_keys, new_keys = _keys(old), _keys(new)
    assert old_keys and new_keys and not old_keys & new_keys

    assert run(runner, "--dry-run")["letter PDFs deleted"] == len(old_keys)
    assert all(store.get(key).startswith(b"%PDF-") for key in old_keys)

    assert run(runner)["letter PDFs deleted"] == len(old_keys)
    for key in old_keys:
        with pytest.raises(KeyError):
            store.get(key)
    assert all(store.get(key).startswith(b"%PDF-") for key in new_keys)
    db.session.expire_all()
    assert _keys(old) == {""}
    assert run(runner)["letter PDFs deleted"] == 0


def test_an_old_campaigns_print_packs_go_with_their_files_and_others_stay(runner, campaigns):
    w, old, new, old_b = campaigns
    render_letters(new, Audience.PARENTS, processes=1)
    db.session.commit()
    for campaign in (old, new):
        keys = dao_letter_keys(campaign.id, Audience.PARENTS)
        build_pack(campaign, Audience.PARENTS, PackKind.LETTERS, keys, in_background=False)
    old_pack = dao_pack(old.id, Audience.PARENTS, PackKind.LETTERS)
    new_pack = dao_pack(new.id, Audience.PARENTS, PackKind.LETTERS)
    old_files, new_files = (
        {old_pack.key, old_pack.manifest_key},
        {new_pack.key, new_pack.manifest_key},
    )
    store = letter_store()
    two_days_ago = time.time() - 2 * 24 * 3600
    for key in new_files:  # held by a pack, however old: the unused sweep leaves it
        os.utime(store._path(key), (two_days_ago, two_days_ago))

    run(runner)
    for key in old_files:
        with pytest.raises(KeyError):
            store.get(key)
    db.session.expire_all()
    assert dao_pack(old.id, Audience.PARENTS, PackKind.LETTERS) is None
    assert dao_pack(new.id, Audience.PARENTS, PackKind.LETTERS) is not None
    assert all(b"".join(store.stream(key)) for key in new_files)
