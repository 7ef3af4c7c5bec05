"""`campaign send`: what the sending page does, from the command line."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from campaign.cli import main
from campaign.delivery.models import Message
from campaign.drafting.models import CampaignState
from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.letters.runs import render_letters
from tests.delivery.conftest import MP_EMAIL


def run(runner, *args):
    return runner.invoke(main, ["send", *args], catch_exceptions=False)


def message_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Message))


def test_a_dry_run_says_what_would_be_sent_and_changes_nothing(runner, closed, outbox):
    result = run(runner, "fair-funding", "--audience", "mps", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "audience": "mps",
        "dry_run": True,
        "email": 1,
        "post": 1,
        "parents": 0,
        "suppressed": 0,
    }
    assert message_count() == 0
    assert outbox() == []
    db.session.refresh(closed.campaign)
    assert closed.campaign.state is CampaignState.CLOSED


def test_send_mails_each_mp_once_and_a_second_run_sends_nothing(runner, closed, outbox):
    result = run(runner, "fair-funding", "--audience", "mps", "--json")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    assert (first["dry_run"], first["email"], first["post"], first["new"]) == (False, 1, 1, 2)
    assert {k: first["run"][k] for k in ("sent", "failed", "retrying", "suppressed")} == {
        "sent": 1,
        "failed": 0,
        "retrying": 0,
        "suppressed": 0,
    }
    assert first["run"]["api_calls"] == 1
    assert first["outbox"] == {"email": {"sent": 1}, "post": {"created": 1}}
    [email] = outbox()
    assert email["To"] == MP_EMAIL
    assert [a.get_content_type() for a in email.iter_attachments()] == ["application/pdf"]
    assert message_count() == 2
    db.session.refresh(closed.campaign)
    assert closed.campaign.state is CampaignState.SENT

    again = run(runner, "fair-funding", "--audience", "mps", "--json")
    assert again.exit_code == 0, again.output
    second = json.loads(again.stdout)
    assert second["new"] == 0
    assert (second["run"]["sent"], second["run"]["api_calls"]) == (0, 0)
    assert second["outbox"] == first["outbox"]
    assert message_count() == 2
    assert len(outbox()) == 1


def test_send_without_json_reports_in_words(runner, closed, outbox):
    result = run(runner, "fair-funding", "--audience", "parents")
    assert result.exit_code == 0, result.output
    assert "Outbox: 2 emails, 0 letters by post (2 new)." in result.stdout
    assert "This run: 2 sent, 0 failed, 0 suppressed, 2 API calls" in result.stdout
    assert sorted(email["To"] for email in outbox()) == ["exec@a.example", "head@a.example"]


def test_an_unknown_campaign_is_refused(runner, closed):
    result = run(runner, "no-such-campaign", "--audience", "mps")
    assert result.exit_code != 0
    assert 'No campaign has the slug "no-such-campaign".' in result.output
    assert message_count() == 0


def test_sending_before_sign_off_closes_is_refused(runner, signed, outbox):
    render_letters(signed.campaign, Audience.MPS, processes=1)
    result = run(runner, "fair-funding", "--audience", "mps")
    assert result.exit_code != 0
    assert "Letters are sent once sign-off is closed." in result.output
    assert message_count() == 0
    assert outbox() == []
