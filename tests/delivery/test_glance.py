"""The sending page counts in SQL what the outbox's plan would make: the two must
agree, whatever the letters, the signatures and the parents' lists."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from campaign.delivery.glance import glance
from campaign.delivery.outbox import plan
from campaign.delivery.parents import save_parent_list
from campaign.extensions import db
from campaign.letters.models import Audience, Letter
from tests.factories import make_national_campaign, make_world


def _agrees(campaign, audience: Audience) -> None:
    counts = plan(campaign, audience).counts()
    seen = glance(campaign, audience)
    assert (seen.email, seen.post) == (counts["email"] - counts["parents"], counts["post"])
    assert seen.letters == seen.email + seen.post and not seen.problem()


@pytest.mark.parametrize("audience", list(Audience))
def test_the_glance_counts_what_the_plan_makes(closed, audience):
    _agrees(closed.campaign, audience)


def test_parents_lists_are_counted_as_lists(closed):
    saxon = closed.schools[0]
    save_parent_list(closed.campaign, saxon, closed.exec, b"email\npat@example.org\n")
    db.session.commit()
    _agrees(closed.campaign, Audience.PARENTS)
    assert glance(closed.campaign, Audience.PARENTS).parent_lists == 1


def test_a_letter_not_rendered_is_named_as_sending_would_name_it(closed):
    db.session.execute(delete(Letter).where(Letter.recipient == "school:900003"))
    db.session.commit()
    assert glance(closed.campaign, Audience.PARENTS).problem() == (
        "1 letter is not rendered yet (Thurrock School). "
        "Render the letters again, so that every one is ready before any is sent."
    )
    db.session.execute(delete(Letter).where(Letter.recipient.like("constituency:%")))
    db.session.commit()
    assert glance(closed.campaign, Audience.MPS).letters == 0


def test_failing_letters_are_counted(app):
    campaign = make_national_campaign(make_world(), 40)
    failing = [
        problems
        for problems in db.session.scalars(select(Letter.problems))
        if problems  # neither passed ([]) nor unchecked (None)
    ]
    seen = glance(campaign, Audience.PARENTS)
    assert seen.failing == len(failing) > 0
    assert seen.problem().startswith(f"{len(failing)} letters fail the mail-house check")
