"""Fixtures for the letters' tests."""

from __future__ import annotations

import pytest

from campaign.letters.models import Audience
from campaign.letters.runs import render_letters


@pytest.fixture
def rendered(signed):
    """The signed campaign with both audiences' letters rendered."""
    for audience in Audience:
        render_letters(signed.campaign, audience, processes=1)
    return signed
