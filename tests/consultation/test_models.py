"""An amendment's state changes only through its methods, once."""

from __future__ import annotations

import pytest

from campaign.consultation.models import Amendment, AmendmentState, ConsultationError
from campaign.consultation.services import ConsultationError as RaisedByServices
from campaign.directory.models import User


def test_a_proposed_amendment_is_decided_once():
    lead = User(id=7, email="lead@a.example")
    amendment = Amendment(state=AmendmentState.PROPOSED)
    amendment.reject(note="  Not now.  ", by=lead)
    assert (amendment.state, amendment.decision_note, amendment.decided_by_id) == (
        AmendmentState.REJECTED,
        "Not now.",
        7,
    )
    with pytest.raises(ConsultationError, match="already rejected"):
        amendment.accept(None, note="", by=lead)
    assert amendment.state is AmendmentState.REJECTED


def test_the_services_raise_the_same_error():
    assert RaisedByServices is ConsultationError
