"""Every HTML page of the app, as the person who uses it, in three stages of the
demo campaign: the route list test_every_page.py sweeps, and the data it needs.

A page is named by its endpoint. The sweep fails when the app has an HTML GET route
that is neither here nor in EXCLUDED, so a new page is checked from its first day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from campaign.auth.services import issue_sign_in_link
from campaign.delivery import steps as delivery_steps
from campaign.delivery.compose import unsubscribe_token
from campaign.demo import load_demo
from campaign.directory.imports import create_import_job, run_import_job
from campaign.directory.models import Association, Headship, Role, School, User
from campaign.directory.roster import ensure_membership
from campaign.drafting.models import Campaign
from campaign.drafting.services import create_campaign, dao_campaign
from campaign.extensions import db
from campaign.letters.models import Audience, Letter
from campaign.letters.runs import render_letters
from campaign.signoff import services as signoff_services
from campaign.signoff import steps as signoff_steps
from campaign.signoff.models import Decision
from tests.conftest import DEMO_DATA
from tests.factories import make_association, make_user

LEAD, HEAD, VIEWER, ANYONE = "lead", "head", "viewer", "anyone"
ASSOCIATION = "essex-heads"
CAMPAIGN = "fair-funding-for-our-schools"
# The head who leads two schools: one has signed, the other has not answered.
HEAD_EMAIL = "thomas.kowalski@abbey-community-college.example"
VIEWER_EMAIL = "viewer@demo.example"
DRAFT = "safer-routes-to-school"

# GET routes that answer with something other than an HTML page, and why.
EXCLUDED = {
    "static": "the stylesheet and scripts",
    "consultation.answers_csv": "CSV download",
    "consultation.summary": "CSV download",
    "signoff.signatures_csv": "CSV download",
    "letters.print_manifest": "CSV download",
    "delivery.post_manifest": "CSV download",
    "delivery.report_csv": "CSV download",
    "letters.print_pack": "PDF download",
    "letters.pdf": "PDF download",
    "delivery.post_pack": "PDF download",
    "letters.zip_all": "ZIP download",
    "letters.preview": "PNG image of a letter's first page",
    "directory.settings_logo": "the association's logo image (PNG or SVG)",
    "letters.status": "JSON for the progress script",
    "letters.print_pack_status": "JSON for the progress script",
    "delivery.post_pack_status": "JSON for the progress script",
    "delivery.status": "JSON for the progress script",
    "directory.import_job_status": "JSON for the progress script",
    "health.healthz": "JSON for load balancers and monitors",
}


@dataclass
class World:
    """What the URLs of the pages are made from, filled in stage by stage."""

    campaign: Campaign | None = None
    draft: Campaign | None = None
    head: User | None = None
    signed_urn: int = 0
    unanswered_urn: int = 0
    import_job_id: int = 0
    letter_id: int = 0
    links: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    id: str  # the test id: the endpoint, or the endpoint and what is different
    endpoint: str | None  # None: a URL no route answers (the 404 page)
    who: str
    args: Callable[[World], dict] = lambda w: {}
    status: int = 200
    site_layout: bool = True  # False: an email's HTML, without the site's header
    path: str = ""  # for endpoint None


A = {"slug": ASSOCIATION}
C = {"slug": ASSOCIATION, "cslug": CAMPAIGN}
D = {"slug": ASSOCIATION, "cslug": DRAFT}

# Stage 1: the consultation is open (the demo's round simulated); a second
# campaign is still a draft; an import has run.
CONSULTATION = [
    Page("auth.sign_in", "auth.sign_in", ANYONE),
    Page("auth.check_email", "auth.check_email", ANYONE),
    Page("auth.confirm", "auth.confirm", ANYONE, lambda w: {"token": w.links["head"]}),
    Page("auth.confirm-used", "auth.confirm", ANYONE, lambda w: {"token": "used"}, status=410),
    Page("not-found", None, ANYONE, status=404, path="/no-such-page"),
    Page("auth.index", "auth.index", VIEWER),  # a member of two associations chooses
    Page("auth.details", "auth.details", LEAD),
    Page("overview.home", "overview.home", LEAD, lambda w: A),
    Page("overview.home-head", "overview.home", HEAD, lambda w: A),
    Page("overview.home-viewer", "overview.home", VIEWER, lambda w: A),
    Page("overview.campaigns", "overview.campaigns", LEAD, lambda w: A),
    Page("overview.campaign", "overview.campaign", LEAD, lambda w: C),
    Page("drafting.new", "drafting.new", LEAD, lambda w: A),
    Page("drafting.statement", "drafting.statement", LEAD, lambda w: D),
    Page("drafting.versions", "drafting.versions", LEAD, lambda w: C),
    Page("drafting.compare", "drafting.compare", LEAD, lambda w: {**C, "a": 1, "b": 2}),
    Page("drafting.version", "drafting.version", LEAD, lambda w: {**C, "number": 2}),
    Page("consultation.questions", "consultation.questions", LEAD, lambda w: D),
    Page("consultation.open_consultation", "consultation.open_consultation", LEAD, lambda w: D),
    Page("consultation.close_consultation", "consultation.close_consultation", LEAD, lambda w: C),
    Page("consultation.back_to_draft", "consultation.back_to_draft", LEAD, lambda w: C),
    Page("consultation.dashboard", "consultation.dashboard", LEAD, lambda w: C),
    Page("consultation.respond", "consultation.respond", HEAD, lambda w: C),
    Page("consultation.answer", "consultation.answer", HEAD,
         lambda w: {**C, "urn": w.unanswered_urn}),
    Page("consultation.paragraph", "consultation.paragraph", HEAD,
         lambda w: {**C, "number": 2, "paragraph": 5}),
    Page("signoff.freeze", "signoff.freeze", LEAD, lambda w: C),
    Page("directory.schools", "directory.schools", LEAD, lambda w: A),
    Page("directory.school", "directory.school", LEAD, lambda w: {**A, "urn": w.signed_urn}),
    Page("directory.mps", "directory.mps", LEAD, lambda w: A),
    Page("directory.needs_attention", "directory.needs_attention", LEAD, lambda w: A),
    Page("directory.imports", "directory.imports", LEAD, lambda w: A),
    Page("directory.import_job", "directory.import_job", LEAD,
         lambda w: {**A, "job_id": w.import_job_id}),
    Page("directory.settings", "directory.settings", LEAD, lambda w: A),
]  # fmt: skip

# Stage 2: sign-off is open, most schools have answered.
SIGNOFF = [
    Page("signoff.schools", "signoff.schools", HEAD, lambda w: C),
    Page("signoff.sign", "signoff.sign", HEAD, lambda w: {**C, "urn": w.unanswered_urn}),
    Page("signoff.done", "signoff.done", HEAD, lambda w: {**C, "urn": w.signed_urn}),
    Page("parents.upload", "parents.upload", HEAD, lambda w: {**C, "urn": w.signed_urn}),
    Page("overview.campaign-signoff", "overview.campaign", LEAD, lambda w: C),
    Page("signoff.dashboard", "signoff.dashboard", LEAD, lambda w: C),
    Page("signoff.close", "signoff.close", LEAD, lambda w: C),
    Page("signoff.reopen", "signoff.reopen", LEAD, lambda w: C),
    Page("signoff.audit_log", "signoff.audit_log", LEAD, lambda w: C),
]

# Stage 3: sign-off closed and published, letters rendered, the MPs' letters sent.
SENT = [
    Page("public.signatories", "public.signatories", ANYONE,
         lambda w: {"aslug": ASSOCIATION, "cslug": CAMPAIGN}),
    Page("unsubscribe.confirm", "unsubscribe.confirm", ANYONE,
         lambda w: {"token": unsubscribe_token("parent@example.org")}),
    Page("letters.index", "letters.index", LEAD, lambda w: C),
    Page("letters.show", "letters.show", LEAD, lambda w: {**C, "letter_id": w.letter_id}),
    Page("letters.email_html", "letters.email_html", LEAD,
         lambda w: {**C, "letter_id": w.letter_id}, site_layout=False),
    Page("delivery.index", "delivery.index", LEAD, lambda w: C),
    Page("delivery.send", "delivery.send", LEAD, lambda w: {**C, "audience": "parents"}),
    Page("delivery.progress", "delivery.progress", LEAD, lambda w: {**C, "audience": "mps"}),
    Page("delivery.report", "delivery.report", LEAD, lambda w: C),
]  # fmt: skip

PAGES = CONSULTATION + SIGNOFF + SENT
ROUTES = {p.endpoint for p in PAGES if p.endpoint}


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def set_up_consultation(world: World) -> None:
    """The demo with its consultation round; a viewer who belongs to two
    associations; a draft campaign; an import that has run."""
    load_demo(with_consultation=True)
    essex = db.session.scalar(select(Association).where(Association.slug == ASSOCIATION))
    lead = user("lead@demo.example")
    viewer = make_user(VIEWER_EMAIL, "Val Viewer")
    ensure_membership(viewer, essex, Role.VIEWER)
    ensure_membership(viewer, make_association("suffolk-heads", "Suffolk Heads"), Role.VIEWER)
    create_campaign(essex, "Safer routes to school", body="# Safer routes\n\nA first line.",
                    author=lead)  # fmt: skip
    roster = (DEMO_DATA / "roster-essex-secondary-heads.csv").read_bytes()
    job = create_import_job(essex, lead, "roster", "roster.csv", roster)
    db.session.commit()
    run_import_job(job.id)
    world.import_job_id = job.id
    world.campaign = dao_campaign(essex.id, CAMPAIGN)
    world.draft = dao_campaign(essex.id, DRAFT)
    world.head = user(HEAD_EMAIL)
    urns = sorted(
        db.session.scalars(
            select(School.urn).join(Headship).where(Headship.user_id == world.head.id)
        )
    )
    world.signed_urn, world.unanswered_urn = urns[0], urns[1]
    world.links["head"] = issue_sign_in_link(world.head).rsplit("/", 1)[1]
    db.session.commit()


def set_up_signoff(world: World) -> None:
    """The demo's simulated sign-off; then the head's first school has signed and
    the second has no standing answer."""
    load_demo(with_signoff=True)
    campaign, head = world.campaign, world.head
    for urn, wanted in ((world.signed_urn, True), (world.unanswered_urn, False)):
        school = db.session.scalar(select(School).where(School.urn == urn))
        signature = signoff_services.dao_signature(campaign.id, school.id)
        standing = signature is not None and signature.withdrawn is None
        if wanted and not standing:
            signoff_steps.sign(campaign, school, head, decision=Decision.SIGNED, name=head.name,
                               role="Executive Headteacher",
                               shown_sha256=campaign.frozen_version.sha256)  # fmt: skip
        elif standing and not wanted:
            signoff_steps.withdraw(campaign, school, head)
    db.session.commit()


def set_up_sent(world: World) -> None:
    """Sign-off closed and published, both audiences' letters rendered, the MPs'
    letters sent (tasks run at once in the tests, so they are sent on return)."""
    campaign, lead = world.campaign, user("lead@demo.example")
    signoff_steps.close(campaign, lead)
    signoff_services.save_settings(
        campaign, lead, reminder_days=campaign.reminder_days, public_page=True
    )
    db.session.commit()
    for audience in (Audience.MPS, Audience.PARENTS):
        render_letters(campaign, audience, processes=1)
    delivery_steps.send(campaign, Audience.MPS)
    world.letter_id = db.session.scalar(
        select(Letter.id)
        .where(Letter.campaign_id == campaign.id, Letter.audience == Audience.MPS)
        .order_by(Letter.id)
    )
    db.session.commit()


STAGES = [
    ("consultation", set_up_consultation, CONSULTATION),
    ("signoff", set_up_signoff, SIGNOFF),
    ("sent", set_up_sent, SENT),
]
