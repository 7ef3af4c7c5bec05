"""Once an audience's letters are in the outbox, they are what was sent: they stay."""

from __future__ import annotations

import pytest

from campaign.delivery.outbox import build_outbox
from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.letters.runs import render_letters
from campaign.letters.services import LettersError, dao_letters


def test_letters_in_the_outbox_cannot_be_rendered_again(closed):
    build_outbox(closed.campaign, Audience.MPS)
    db.session.commit()
    before = {letter.id: letter.sha256 for letter in dao_letters(closed.campaign.id, Audience.MPS)}
    with pytest.raises(LettersError, match="in the outbox"):
        render_letters(closed.campaign, Audience.MPS, processes=1)
    after = {letter.id: letter.sha256 for letter in dao_letters(closed.campaign.id, Audience.MPS)}
    assert after == before
    # The other audience, not yet sent, still renders.
    assert render_letters(closed.campaign, Audience.PARENTS, processes=1).total == 2


def test_the_letters_page_says_so_and_offers_no_render_button(client, closed):
    from tests.factories import sign_in

    build_outbox(closed.campaign, Audience.MPS)
    db.session.commit()
    sign_in(client, closed.lead)
    page = client.get("/a/assoc-a/campaigns/fair-funding/letters/").text
    mps = page[page.index('id="mps"') :]
    parents = page[page.index('id="parents"') : page.index('id="mps"')]
    assert "These letters are in the outbox" in mps and "Render again" not in mps
    assert "Render again" in parents
