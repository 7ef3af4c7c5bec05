"""A campaign in sign-off, and the same campaign with answers, for the letters tests."""

import pytest

from campaign.consultation.evidence import add_question
from campaign.consultation.models import EvidenceAnswer, QuestionKind
from campaign.extensions import db
from campaign.signoff import steps
from campaign.signoff.models import Decision
from tests.signoff.conftest import signoff  # noqa: F401  (the same campaign in sign-off)


@pytest.fixture
def signed(signoff):  # noqa: F811
    """Saxon (1,000 pupils) and Thurrock School (600) sign; Abbey declines."""
    campaign = signoff["campaign"]
    deficit = add_question(campaign, QuestionKind.MONEY, "Projected deficit")
    schools = {s.urn: s for s in signoff["schools"]}
    for urn, amount in ((900001, 250000), (900002, 999999), (900003, 100000)):
        db.session.add(
            EvidenceAnswer(question_id=deficit.id, school_id=schools[urn].id, number_value=amount)
        )
    db.session.commit()
    sha = campaign.frozen_version.sha256
    for urn, who, decision in (
        (900001, "exec", Decision.SIGNED),
        (900002, "exec", Decision.DECLINED),
        (900003, "head", Decision.SIGNED),
    ):
        user = signoff[who]
        steps.sign(campaign, schools[urn], user, decision=decision, name=user.name,
                      role="Headteacher", shown_sha256=sha)  # fmt: skip
    return signoff
