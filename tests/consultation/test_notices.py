"""Consultation emails: each sent once per key, to the right heads, with a working link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from campaign.consultation import notices, services, tasks
from campaign.consultation.models import Notice, StanceKind
from campaign.directory.models import Role
from campaign.drafting.models import CampaignState
from campaign.drafting.services import save_statement
from campaign.extensions import db
from tests.factories import BASE, links_in, make_association, make_headship, make_school, make_user


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def notices_with(key: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Notice).where(Notice.key == key))


def test_send_once_sends_a_key_only_once(app, consultation, outbox):
    head = consultation.head
    assert notices.send_once("k-1", head, "Hello", "Body one.") is True
    assert notices.send_once("k-1", head, "Hello again", "Body two.") is False
    [message] = outbox()
    assert (message["To"], message["Subject"], body_of(message).strip()) == (
        "head@a.example",
        "Hello",
        "Body one.",
    )
    assert notices_with("k-1") == 1
    assert db.session.scalar(select(Notice.user_id).where(Notice.key == "k-1")) == head.id


def test_send_once_sends_different_keys(app, consultation, outbox):
    head, exec_head = consultation.head, consultation.exec
    assert notices.send_once("k-1", head, "One", "Body.")
    assert notices.send_once("k-2", head, "Two", "Body.")
    assert notices.send_once("k-3", exec_head, "Three", "Body.")
    assert [m["Subject"] for m in outbox()] == ["One", "Two", "Three"]


def test_a_key_recorded_by_another_worker_is_not_sent_again(app, consultation, outbox):
    with db.engine.begin() as other_worker:
        other_worker.execute(Notice.__table__.insert().values(key="k-1"))
    assert notices.send_once("k-1", consultation.head, "Hello", "Body.") is False
    assert outbox() == []


def test_a_sender_racing_on_the_same_key_sends_nothing(app, consultation, outbox):
    """Another worker records the key between our check and our insert."""
    head = consultation.head
    db.session.commit()

    raced = []

    def other_worker_wins(session, flush_context, instances):
        if not raced:
            raced.append(True)
            with db.engine.begin() as other_worker:
                other_worker.execute(Notice.__table__.insert().values(key="k-1"))

    session = db.session()
    event.listen(session, "before_flush", other_worker_wins)
    try:
        assert notices.send_once("k-1", head, "Hello", "Body.") is False
    finally:
        event.remove(session, "before_flush", other_worker_wins)
    assert raced
    assert outbox() == []
    assert notices_with("k-1") == 1


def test_the_notice_is_committed_with_the_send(app, consultation):
    notices.send_once("k-1", consultation.head, "Hello", "Body.")
    with db.engine.connect() as elsewhere:
        assert (
            elsewhere.scalar(select(func.count()).select_from(Notice).where(Notice.key == "k-1"))
            == 1
        )


def test_the_database_refuses_a_second_notice_with_the_same_key(app, consultation):
    db.session.add_all([Notice(key="k-1"), Notice(key="k-1")])
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_failed_send_records_nothing_so_a_retry_sends(app, consultation, outbox, tmp_path):
    outbox_dir = app.config["OUTBOX_DIR"]
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    app.config["OUTBOX_DIR"] = str(blocker / "outbox")
    with pytest.raises(OSError):
        notices.send_once("k-1", consultation.head, "Hello", "Body.")
    db.session.rollback()  # as the task's app context does when it ends with an error
    assert notices_with("k-1") == 0
    app.config["OUTBOX_DIR"] = outbox_dir
    assert notices.send_once("k-1", consultation.head, "Hello", "Body.") is True
    assert len(outbox()) == 1


def test_the_invitation_reads_well_and_its_link_opens_the_respond_page(
    app, client, consultation, outbox
):
    campaign, head = consultation.campaign, consultation.head
    campaign.consultation_deadline = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)
    db.session.commit()
    assert notices.invite(campaign, head, services.invitation_key(campaign, head.id))
    [message] = outbox()
    assert (message["To"], message["Subject"]) == ("head@a.example", "Consultation: Fair funding")
    body = body_of(message)
    for phrase in (
        "Dear Hal Head,",
        "Association A is consulting its members on a joint statement.",
        "Fair funding (version 1)",
        "Our statement.",
        "within 30 minutes",
        "http://localhost/sign-in.",
        "The consultation closes on 31 January 2030 at 12pm.",
    ):
        assert phrase in body
    [link, *_] = links_in(message)
    response = client.post(link.replace("http://localhost", ""))
    assert response.status_code == 302
    assert response.location == f"{BASE}/respond"
    page = client.get(f"{BASE}/respond")
    assert page.status_code == 200
    assert "Thurrock School" in page.get_data(as_text=True)


def test_an_invitation_without_a_deadline_says_the_lead_closes_it(app, consultation, outbox):
    campaign, head = consultation.campaign, consultation.head
    head.name = ""
    notices.invite(campaign, head, "k-1")
    body = body_of(outbox()[0])
    assert body.startswith("Hello,")
    assert "The consultation is open until the lead closes it." in body


def test_a_reminder_says_so(app, consultation, outbox):
    campaign, head = consultation.campaign, consultation.head
    assert notices.invite(campaign, head, "reminder-1", reminder=True)
    [message] = outbox()
    assert message["Subject"] == "Reminder: Fair funding"
    assert "This is a reminder: we have not yet heard from your school." in body_of(message)


def test_invitations_go_once_to_each_head_and_to_no_one_else(app, consultation, outbox):
    c = consultation
    a, campaign = c.a, c.campaign
    make_user("viewer@a.example", "Val Viewer", a, Role.VIEWER)
    make_user("member@a.example", "Mo Member", a, Role.HEAD)  # no school on the roster
    other = make_association()
    make_headship(other, make_user("head@other.example", "Olly", other), make_school(other))
    campaign.move_to(CampaignState.DRAFT)
    head_ids = services.open_consultation(campaign)
    db.session.commit()
    for _ in range(2):  # a retried batch
        for user_id in head_ids:
            tasks.send_invitation(campaign.id, user_id)
    assert sorted(m["To"] for m in outbox()) == ["exec@a.example", "head@a.example"]


def test_a_new_version_is_a_new_invitation(app, consultation, outbox):
    c = consultation
    campaign, head = c.campaign, c.head
    tasks.send_invitation(campaign.id, head.id)
    save_statement(campaign, "A new text.", c.lead)
    db.session.commit()
    tasks.send_invitation(campaign.id, head.id)
    tasks.send_invitation(campaign.id, head.id)
    assert ["Fair funding (version 1)" in body_of(m) for m in outbox()] == [True, False]
    assert "Fair funding (version 2)" in body_of(outbox()[1])


def test_reminders_go_only_to_heads_of_schools_that_have_not_answered(app, consultation, outbox):
    c = consultation
    campaign = c.campaign
    s1, s2, _ = c.schools
    services.record_stance(campaign, s1, c.exec, StanceKind.AGREE)
    services.record_stance(campaign, s2, c.exec, StanceKind.DISAGREE, "Too vague.")
    db.session.commit()
    batch = services.new_batch()
    for _ in range(2):  # "Send reminders" posted twice
        for user_id in services.reminder_recipients(campaign):
            tasks.send_reminder(campaign.id, user_id, batch)
    assert [(m["To"], m["Subject"]) for m in outbox()] == [
        ("head@a.example", "Reminder: Fair funding")
    ]
    for user_id in services.reminder_recipients(campaign):  # a later press
        tasks.send_reminder(campaign.id, user_id, services.new_batch())
    assert [m["To"] for m in outbox()] == ["head@a.example", "head@a.example"]


def test_a_queued_reminder_is_dropped_once_the_consultation_closes(app, consultation, outbox):
    c = consultation
    services.close_consultation(c.campaign)
    db.session.commit()
    tasks.send_reminder(c.campaign.id, c.head.id, "batch-1")
    assert outbox() == []


def test_tasks_for_a_user_who_has_gone_do_nothing(app, consultation, outbox):
    c = consultation
    gone = make_user("gone@a.example")
    gone_id = gone.id
    db.session.delete(gone)
    db.session.commit()
    tasks.send_invitation(c.campaign.id, gone_id)
    tasks.send_reminder(c.campaign.id, gone_id, "batch-1")
    assert outbox() == []


def test_amendment_news_links_to_the_current_text_once(app, consultation, outbox):
    c = consultation
    news = 'An amendment to paragraph 3 of "Fair funding" was accepted.'
    for _ in range(2):
        tasks.send_amendment_news(c.campaign.id, c.exec.id, 7, news)
    [message] = outbox()
    assert (message["To"], message["Subject"]) == (
        "exec@a.example",
        "Statement updated: Fair funding",
    )
    body = body_of(message)
    assert news in body
    assert f"See the current text: http://localhost{BASE}/respond" in body
