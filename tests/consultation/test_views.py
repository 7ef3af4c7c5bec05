"""The consultation as heads and the lead use it, through the pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaign.consultation.models import Amendment, Comment, EvidenceAnswer, Stance
from campaign.drafting import text
from campaign.extensions import db
from tests.factories import BASE, links_in, sign_in


def answer(consultation, kind: str, deficit: str = "", posts: str = "", reason: str = "") -> dict:
    """The answer form's fields; question fields are named by question id."""
    return {
        "kind": kind,
        "reason": reason,
        f"q{consultation.money.id}": deficit,
        f"q{consultation.posts.id}": posts,
    }


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_head_of_two_schools_answers_for_each(client, consultation):
    sign_in(client, consultation.exec)
    page = client.get(f"{BASE}/respond").get_data(as_text=True)
    assert "Answer for Saxon High" in page and "Answer for Abbey Academy" in page
    assert "Thurrock School" not in page
    for urn, kind in ((900001, "agree"), (900002, "abstain")):
        response = client.post(
            f"{BASE}/respond/{urn}",
            data=answer(consultation, kind, deficit="£1,250,000", posts="3"),
        )
        assert response.status_code == 302
    stances = {s.school.urn: s.kind.value for s in db.session.scalars(select(Stance))}
    assert stances == {900001: "agree", 900002: "abstain"}
    assert sorted(a.number_value for a in db.session.scalars(select(EvidenceAnswer))) == [
        3,
        3,
        1250000,
        1250000,
    ]


def test_a_head_cannot_answer_for_a_school_they_do_not_lead(client, consultation):
    sign_in(client, consultation.exec)
    assert client.get(f"{BASE}/respond/900003").status_code == 404
    assert (
        client.post(
            f"{BASE}/respond/900003", data=answer(consultation, "agree", deficit="1")
        ).status_code
        == 404
    )
    assert count(Stance) == 0


def test_the_lead_cannot_answer_for_a_school(client, consultation):
    sign_in(client, consultation.lead)
    assert (
        client.post(
            f"{BASE}/respond/900001", data=answer(consultation, "agree", deficit="1")
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "path",
    ["/", "/statement", "/versions", "/compare?a=1&b=1", "/v/1", "/open", "/questions",
     "/respond", "/v/1/p/2", "/consultation", "/consultation/answers.csv",
     "/consultation/summary.csv"],
)  # fmt: skip
def test_other_associations_get_404_on_every_campaign_page(client, consultation, path):
    sign_in(client, consultation.lead_b)
    assert client.get(f"{BASE}{path}").status_code == 404


def test_other_association_cannot_post_answers_or_decisions(client, consultation):
    sign_in(client, consultation.lead_b)
    assert (
        client.post(f"{BASE}/respond/900001", data=answer(consultation, "agree")).status_code == 404
    )
    assert client.post(f"{BASE}/reminders", data={"batch": "x"}).status_code == 404
    assert client.post(f"{BASE}/open").status_code == 404


def test_invalid_evidence_saves_nothing_and_shows_every_error(client, consultation):
    sign_in(client, consultation.head)
    response = client.post(
        f"{BASE}/respond/900003",
        data=answer(consultation, "block", deficit="1.25m", posts="x", reason=""),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page
    assert "Say why your school disagrees or blocks" in page
    assert "Write the amount in full" in page and "Enter a number" in page
    assert count(Stance) == 0 and count(EvidenceAnswer) == 0


def test_the_same_answer_posted_twice_is_one_record_and_changes_are_history(client, consultation):
    sign_in(client, consultation.head)
    form = answer(consultation, "disagree", deficit="100", reason="Too long.")
    client.post(f"{BASE}/respond/900003", data=form)
    client.post(f"{BASE}/respond/900003", data=form)
    assert count(Stance) == 1
    client.post(f"{BASE}/respond/900003", data={**form, "kind": "agree", "reason": ""})
    assert count(Stance) == 2
    page = client.get(f"{BASE}/respond/900003").get_data(as_text=True)
    assert "Earlier answers" in page and "Too long." in page


def test_nothing_changes_after_the_deadline(client, consultation):
    campaign = consultation.campaign
    campaign.consultation_deadline = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    sign_in(client, consultation.head)
    page = client.get(f"{BASE}/respond/900003").get_data(as_text=True)
    assert "The consultation is closed" in page
    response = client.post(
        f"{BASE}/respond/900003", data=answer(consultation, "agree", deficit="5")
    )
    assert response.status_code == 400
    assert "The consultation closed on" in response.get_data(as_text=True)
    response = client.post(f"{BASE}/v/1/p/2", data={"comment-body": "Late", "comment-submit": "1"})
    assert "The consultation closed on" in response.get_data(as_text=True)
    assert count(Stance) == 0 and count(Comment) == 0


def test_opening_emails_every_head_a_link_to_the_respond_page(client, consultation, outbox):
    campaign = consultation.campaign
    from campaign.drafting.models import CampaignState

    campaign.state = CampaignState.DRAFT
    db.session.commit()
    sign_in(client, consultation.lead)
    page = client.get(f"{BASE}/open").get_data(as_text=True)
    assert "Open the consultation and email 2 heads" in page
    assert client.post(f"{BASE}/open").status_code == 302
    messages = outbox()
    assert sorted(m["To"] for m in messages) == ["exec@a.example", "head@a.example"]
    [link] = links_in(next(m for m in messages if m["To"] == "head@a.example"))[:1]
    head_client = client.application.test_client()
    response = head_client.post(link.replace("http://localhost", ""))
    assert response.location == f"{BASE}/respond"
    # Opening again is an illegal move: a clear message, no more email.
    again = client.post(f"{BASE}/open")
    assert again.status_code == 409
    assert "cannot move to consultation" in again.get_data(as_text=True)
    assert len(outbox()) == 2


def test_reminder_goes_only_to_heads_of_schools_without_an_answer_and_once(
    client, consultation, outbox
):
    sign_in(client, consultation.head)
    client.post(f"{BASE}/respond/900003", data=answer(consultation, "agree", deficit="0"))
    sign_in(client, consultation.lead)
    page = client.get(f"{BASE}/consultation").get_data(as_text=True)
    assert "Send a reminder to 1 head of these schools" in page
    form = {"batch": "batch-1", "la": "", "constituency": ""}
    client.post(f"{BASE}/reminders", data=form)
    client.post(f"{BASE}/reminders", data=form)  # the same form posted twice
    assert [m["To"] for m in outbox()] == ["exec@a.example"]
    assert outbox()[0]["Subject"] == "Reminder: Fair funding"
    # Filtered to Thurrock, where everyone answered: nobody is reminded.
    client.post(
        f"{BASE}/reminders", data={"batch": "batch-2", "la": "Thurrock", "constituency": ""}
    )
    assert len(outbox()) == 1


def test_comment_amend_accept_makes_a_new_version_and_tells_people(client, consultation, outbox):
    sign_in(client, consultation.head)
    client.post(
        f"{BASE}/v/1/p/3", data={"comment-body": "Name the deficit.", "comment-submit": "1"}
    )
    sign_in(client, consultation.exec)
    client.post(
        f"{BASE}/v/1/p/3",
        data={"amend-text": "Second paragraph about SEND, and its £6,000.", "amend-submit": "1"},
    )
    amendment = db.session.scalar(select(Amendment))
    sign_in(client, consultation.lead)
    page = client.get(f"{BASE}/consultation").get_data(as_text=True)
    assert "Name the deficit." in page and "its £6,000" in page
    response = client.post(f"{BASE}/amendments/{amendment.id}", data={"accept": "1", "note": "Yes"})
    assert response.status_code == 302
    campaign = consultation.campaign
    db.session.refresh(campaign)
    old, new = campaign.versions[0], campaign.versions[-1]
    assert new.number == 2
    changed = [
        i
        for i, (a, b) in enumerate(
            zip(text.paragraphs(old.body), text.paragraphs(new.body), strict=True)
        )
        if a != b
    ]
    assert changed == [2]
    assert sorted(m["To"] for m in outbox()) == ["exec@a.example", "head@a.example"]
    # Deciding again is refused with a message.
    client.post(f"{BASE}/amendments/{amendment.id}", data={"reject": "1"})
    assert len(campaign.versions) == 2
    # The paragraph page of version 1 says a newer version exists.
    assert "A newer version of the statement exists" in client.get(f"{BASE}/v/1/p/3").get_data(
        as_text=True
    )


def test_hostile_markdown_is_sanitised_on_every_page(client, consultation):
    sign_in(client, consultation.lead)
    hostile = "Hi <script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n[ok](https://example.org)"
    client.post(f"{BASE}/statement", data={"body": hostile})
    for path in ("/", "/respond", "/v/2"):
        page = client.get(f"{BASE}{path}").get_data(as_text=True)
        assert "<script>alert" not in page and 'href="javascript:' not in page
        assert "onerror=alert" not in page.replace("&lt;img src=x onerror=alert(1)&gt;", "")
        assert 'href="https://example.org"' in page


def test_an_oversized_statement_is_refused(client, consultation):
    sign_in(client, consultation.lead)
    response = client.post(f"{BASE}/statement", data={"body": "x" * 1_000_001})
    assert response.status_code == 400
    assert "at most 100,000 characters" in response.get_data(as_text=True)
    assert len(consultation.campaign.versions) == 1


def test_saving_unchanged_text_makes_no_version(client, consultation):
    sign_in(client, consultation.lead)
    body = consultation.campaign.current_version.body
    client.post(f"{BASE}/statement", data={"body": body.replace("\n", "\r\n") + "\n\n"})
    db.session.refresh(consultation.campaign)
    assert len(consultation.campaign.versions) == 1


def test_csv_exports(client, consultation):
    sign_in(client, consultation.head)
    client.post(
        f"{BASE}/respond/900003", data=answer(consultation, "agree", deficit="£2,000", posts="1")
    )
    sign_in(client, consultation.lead)
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"{BASE}/consultation/answers.csv").get_data(as_text=True))
        )
    )
    assert rows[0][-2:] == ["Projected deficit", "Posts cut"]
    assert ["900003", "Thurrock School", "Thurrock", "E14001535", "Thurrock", "2000", "1"] in rows
    assert len(rows) == 4
    summary = list(
        csv.DictReader(
            io.StringIO(client.get(f"{BASE}/consultation/summary.csv").get_data(as_text=True))
        )
    )
    assert {r["School"]: r["Stance"] for r in summary} == {
        "Abbey Academy": "no answer", "Saxon High": "no answer", "Thurrock School": "agree"
    }  # fmt: skip


def test_dashboard_totals_per_constituency(client, consultation):
    sign_in(client, consultation.exec)
    client.post(
        f"{BASE}/respond/900001", data=answer(consultation, "agree", deficit="1000", posts="2")
    )
    client.post(
        f"{BASE}/respond/900002", data=answer(consultation, "agree", deficit="3000", posts="4")
    )
    sign_in(client, consultation.lead)
    page = client.get(f"{BASE}/consultation").get_data(as_text=True)
    assert "£4,000" in page and "£2,000" in page  # total and mean for Basildon and Billericay
    assert "2 schools of 3 answered" in page


def test_exports_cannot_smuggle_spreadsheet_formulas(client, consultation):
    sign_in(client, consultation.head)
    client.post(
        f"{BASE}/respond/900003",
        data=answer(consultation, "disagree", deficit="5", reason='=HYPERLINK("http://x")'),
    )
    sign_in(client, consultation.lead)
    summary = client.get(f"{BASE}/consultation/summary.csv").get_data(as_text=True)
    assert "'=HYPERLINK(" in summary
    assert ",=HYPERLINK(" not in summary and '"=HYPERLINK(' not in summary
