"""What `campaign signoff status --json` reports."""

from __future__ import annotations

from campaign.drafting.models import Campaign
from campaign.signoff.progress import progress
from campaign.signoff.services import dao_standing


def status(campaign: Campaign) -> dict:
    """Counts, the frozen text's hash, and every standing signatory."""
    total = progress(campaign).total
    version = campaign.frozen_version
    return {
        "state": campaign.state.value,
        "signed": total.signed,
        "declined": total.declined,
        "no_answer": total.no_answer,
        "version_sha256": version.sha256 if version else None,
        "signatories": [
            {
                "urn": s.school.urn,
                "school": s.school.name,
                "name": s.name,
                "role": s.role,
                "constituency_code": s.school.constituency_code,
            }
            for s in dao_standing(campaign.id)
        ],
    }
