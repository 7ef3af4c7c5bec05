"""Sending before every letter is rendered would lock the rest out for good (the
letters lock with the outbox): so sending refuses, naming the letters missing,
and rendering them stays possible."""

from __future__ import annotations

import re

import pytest
from click.testing import Result
from sqlalchemy import delete, func, select

from campaign.cli import main
from campaign.delivery.glance import missing
from campaign.delivery.models import Message
from campaign.delivery.outbox import DeliveryError, build_outbox
from campaign.extensions import db
from campaign.letters.models import Audience, Letter
from campaign.letters.runs import render_letters
from tests.factories import sign_in

PAGE = "/a/assoc-a/campaigns/fair-funding/sending"


def _unrender(campaign, name: str) -> None:
    """As if the render job died before this school's letter."""
    db.session.execute(
        delete(Letter).where(Letter.campaign_id == campaign.id, Letter.recipient_name == name)
    )
    db.session.commit()


def _messages(campaign) -> int:
    return db.session.scalar(
        select(func.count(Message.id)).where(Message.campaign_id == campaign.id)
    )


def test_sending_refuses_while_a_letter_is_missing_and_names_it(closed):
    campaign = closed.campaign
    _unrender(campaign, "Thurrock School")
    assert missing(campaign, Audience.PARENTS) == (1, ["Thurrock School"])
    with pytest.raises(DeliveryError, match=r"1 letter is not rendered yet \(Thurrock School\)"):
        build_outbox(campaign, Audience.PARENTS)
    db.session.rollback()
    assert _messages(campaign) == 0


def test_the_page_and_the_command_say_so_and_rendering_still_works(client, closed, runner):
    campaign = closed.campaign
    _unrender(campaign, "Thurrock School")
    sign_in(client, closed.lead)
    page = re.sub(r"\s+", " ", client.get(f"{PAGE}/").get_data(as_text=True))
    assert "1 letter is not rendered yet (Thurrock School)." in page
    refused = client.post(f"{PAGE}/parents/send", data={})
    assert "1 letter is not rendered yet (Thurrock School)." in refused.get_data(as_text=True)
    result: Result = runner.invoke(main, ["send", "fair-funding", "--audience", "parents"])
    assert result.exit_code == 1 and "not rendered yet (Thurrock School)" in result.output
    assert _messages(campaign) == 0

    summary = render_letters(campaign, Audience.PARENTS, processes=1)  # not locked
    assert (summary.rendered, missing(campaign, Audience.PARENTS)) == (1, (0, []))
    planned, added = build_outbox(campaign, Audience.PARENTS)
    db.session.commit()
    assert added == len(planned.rows) > 0
