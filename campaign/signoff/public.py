"""The public signatory page: no sign-in, only when the lead has published it and
sign-off has closed. Anyone can check a letter's reference here."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from campaign.directory.models import Association
from campaign.drafting import text
from campaign.drafting.models import Campaign, CampaignState
from campaign.extensions import db
from campaign.signoff import services

bp = Blueprint("public", __name__, url_prefix="/public")
PUBLISHED = {CampaignState.CLOSED, CampaignState.SENT}


def published_campaign(aslug: str, cslug: str) -> Campaign:
    campaign = db.session.scalar(
        select(Campaign).join(Association).where(Association.slug == aslug, Campaign.slug == cslug)
    )
    if campaign is None or not campaign.public_page or campaign.state not in PUBLISHED:
        abort(404)
    return campaign


@bp.get("/<aslug>/<cslug>")
def signatories(aslug: str, cslug: str):
    campaign = published_campaign(aslug, cslug)
    version = campaign.frozen_version
    standing = services.dao_standing(campaign.id)
    groups = [
        (la, list(sigs)) for la, sigs in groupby(standing, key=lambda s: s.school.local_authority)
    ]
    raw = request.args.get("reference", "").strip()
    checked = services.resolve_reference(campaign, raw) if raw else None
    return render_template(
        "signoff/public.html",
        campaign=campaign,
        version=version,
        html=text.to_html(version.body),
        groups=groups,
        count=len(standing),
        reference=raw,
        checked=checked,
        # As printed on the letter, not as typed: "edwe lpf5 f2s2" is EDWE-LPF5-F2S2.
        printed=services.reference(campaign, checked.version) if checked else raw,
        closed=max((e for e in [campaign.signoff_deadline] if e), default=None),
    )
