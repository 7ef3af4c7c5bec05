"""The authorization matrix: every route of the app's URL map, asked by each kind
of person, by each of its methods, answered as MATRIX below says.

A route added without a row fails `test_every_route_has_a_row`.

Who asks (the columns, in this order):
  anon    nobody signed in
  viewer  association A's viewer (reads the register and progress, changes nothing)
  head_x  the head of school X in A
  head_y  the head of school Y in A: same association, another school
  lead    A's lead
  lead_b  association B's lead, asking A's URLs

What they get:
  OK     200, or a redirect that is not LOGIN
  LOGIN  a redirect to the sign-in page, to come back (?next=) once signed in
  403    refused: a member whose role may not do this
  404    hidden: not a member, not theirs, or not for them to see yet

A row is "endpoint" or "endpoint @case". For a campaign's pages the case names
which of A's campaigns fills <cslug>: @draft, @consultation, @signoff, or @sent
(closed, letters rendered, the MPs' letters in the outbox). @b asks under B's
slug and B's own campaign with A's ids (URN, letter, amendment, import job):
the ids of one association must mean nothing under another's URL. Other cases
are named where they are used. Any other path value is A's: school X's URN, X's
parent letter, the amendment X's head proposed, A's queued import, version 1,
paragraph 1, audience "mps".

Every cell starts from the same world: it is built once per database (letters
and all), and before each cell every table is put back row for row, so a POST
that succeeds changes nothing another cell sees; a refused cell must leave the
database as it found it. Each identity signs in once through its emailed link
and its cells send that session's cookie.
POSTs carry a valid form for the action; CSRF is off (the suite's config,
WTF_CSRF_ENABLED=False): the point is who may, not the token, which
tests/auth and the form tests check.

Public routes and their own checks: the sign-in pages, the static files, / (which
sends each person to their association, or to sign in) and the published
signatory page and /healthz are for everyone; /sign-in/<token> is open to whoever
holds a live token (its own tests: tests/auth); /unsubscribe/<token> to whoever
holds a token we signed (@forged: one we did not); the SendGrid webhook to a
body signed with the configured key (@unsigned: one that is not).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from campaign import create_app
from campaign.auth.services import issue_sign_in_link
from campaign.consultation import services as consultation
from campaign.delivery.compose import unsubscribe_token
from campaign.delivery.outbox import build_outbox
from campaign.delivery.services import dao_post_letter_keys
from campaign.directory.imports import create_import_job
from campaign.directory.letterhead import PNG
from campaign.directory.models import Role, User
from campaign.drafting.services import create_campaign, save_statement
from campaign.extensions import db
from campaign.letters import steps as letters_steps
from campaign.letters.models import Audience, Letter, PackKind
from campaign.letters.packs import dao_letter_keys
from campaign.letters.runs import render_letters
from campaign.signoff import services as signoff
from campaign.signoff import steps as signoff_steps
from campaign.signoff.models import Decision
from tests.conftest import IsolatedClient
from tests.conftest import _config as suite_config
from tests.factories import (
    make_association,
    make_constituency,
    make_headship,
    make_school,
    make_user,
    sign_in,
)
from tests.fakes import WebhookSigner

IDENTITIES = ("anon", "viewer", "head_x", "head_y", "lead", "lead_b")

# fmt: off
MATRIX: dict[str, dict[str, str]] = {
    # endpoint @case                      methods      anon  viewer head_x head_y lead lead_b
    "auth.index":                         {"GET":      "OK    OK    OK    OK    OK    OK"},
    "auth.sign_in":                       {"GET POST": "OK    OK    OK    OK    OK    OK"},
    "auth.check_email":                   {"GET":      "OK    OK    OK    OK    OK    OK"},
    "auth.confirm":                       {"GET":      "OK    OK    OK    OK    OK    OK"},
    "auth.consume":                       {"POST":     "OK    OK    OK    OK    OK    OK"},
    "auth.sign_out":                      {"POST":     "LOGIN OK    OK    OK    OK    OK"},
    "auth.details":                       {"GET POST": "LOGIN OK    OK    OK    OK    OK"},
    "static":                             {"GET":      "OK    OK    OK    OK    OK    OK"},
    "public.signatories @sent":           {"GET":      "OK    OK    OK    OK    OK    OK"},
    "public.signatories @signoff":        {"GET":      "404   404   404   404   404   404"},
    "unsubscribe.confirm":                {"GET POST": "OK    OK    OK    OK    OK    OK"},
    "unsubscribe.confirm @forged":        {"GET POST": "404   404   404   404   404   404"},
    "unsubscribe.sendgrid_events":        {"POST":     "OK    OK    OK    OK    OK    OK"},
    "unsubscribe.sendgrid_events @unsigned": {"POST":  "403   403   403   403   403   403"},
    "health.healthz":                     {"GET":      "OK    OK    OK    OK    OK    OK"},

    # The register.
    "overview.home":                     {"GET":      "LOGIN OK    OK    OK    OK    404"},
    "directory.schools":                  {"GET":      "LOGIN OK    403   403   OK    404"},
    "directory.school":                   {"GET":      "LOGIN OK    OK    404   OK    404"},
    "directory.school @b":                {"GET":      "LOGIN 404   404   404   404   404"},
    "directory.mps":                      {"GET":      "LOGIN OK    403   403   OK    404"},
    "directory.needs_attention":          {"GET":      "LOGIN OK    403   403   OK    404"},
    "directory.imports":                  {"GET POST": "LOGIN 403   403   403   OK    404"},
    "directory.import_job":               {"GET":      "LOGIN 403   403   403   OK    404"},
    "directory.import_job @b":            {"GET":      "LOGIN 404   404   404   404   404"},
    "directory.import_job_status":        {"GET":      "LOGIN 403   403   403   OK    404"},
    "directory.import_job_status @b":     {"GET":      "LOGIN 404   404   404   404   404"},
    "directory.settings":                 {"GET POST": "LOGIN 403   403   403   OK    404"},
    "directory.settings_logo":            {"GET":      "LOGIN 403   403   403   OK    404"},

    # Drafting: the campaign list, the statement and its versions, the moves between states.
    "overview.campaigns":                    {"GET":      "LOGIN OK    OK    OK    OK    404"},
    "drafting.new":                      {"GET POST": "LOGIN 403   403   403   OK    404"},
    "overview.campaign @consultation":       {"GET":      "LOGIN OK    OK    OK    OK    404"},
    "overview.campaign @draft":              {"GET":      "LOGIN 404   404   404   OK    404"},
    "drafting.statement @draft":         {"GET POST": "LOGIN 404   404   404   OK    404"},
    "drafting.versions @consultation":   {"GET":      "LOGIN OK    403   403   OK    404"},
    "drafting.compare @consultation":    {"GET":      "LOGIN OK    403   403   OK    404"},
    "drafting.version @consultation":    {"GET":      "LOGIN OK    OK    OK    OK    404"},
    "drafting.version @draft":           {"GET":      "LOGIN 404   404   404   OK    404"},
    "consultation.open_consultation @draft": {"GET POST": "LOGIN 404   404   404   OK    404"},
    "consultation.close_consultation @consultation": {"GET POST": "LOGIN 403 403 403 OK  404"},
    "consultation.back_to_draft @consultation": {"GET POST": "LOGIN 403  403   403   OK    404"},
    "consultation.questions @draft":         {"GET POST": "LOGIN 404   404   404   OK    404"},

    # Consultation: heads answer for their own schools and comment; the lead reads and decides.
    "consultation.respond @consultation": {"GET":      "LOGIN OK    OK    OK    OK    404"},
    "consultation.respond @draft":        {"GET":      "LOGIN 404   404   404   OK    404"},
    "consultation.answer @consultation":  {"GET POST": "LOGIN 404   OK    404   404   404"},
    "consultation.answer @draft":         {"GET POST": "LOGIN 404   404   404   404   404"},
    "consultation.answer @b":             {"GET POST": "LOGIN 404   404   404   404   404"},
    "consultation.paragraph @consultation": {"GET":    "LOGIN OK    OK    OK    OK    404",
                                           "POST":     "LOGIN 403   OK    OK    403   404"},
    "consultation.paragraph @draft":      {"GET":      "LOGIN 404   404   404   OK    404",
                                           "POST":     "LOGIN 404   404   404   403   404"},
    "consultation.dashboard @consultation": {"GET":    "LOGIN OK    403   403   OK    404"},
    "consultation.reminders @consultation": {"POST":   "LOGIN 403   403   403   OK    404"},
    "consultation.decide @consultation":  {"POST":     "LOGIN 403   403   403   OK    404"},
    "consultation.decide @b":             {"POST":     "LOGIN 404   404   404   404   404"},
    "consultation.answers_csv @consultation": {"GET":  "LOGIN OK    403   403   OK    404"},
    "consultation.summary @consultation": {"GET":      "LOGIN OK    403   403   OK    404"},

    # Sign-off: only a school's own head signs for it; the lead freezes, chases, closes.
    "signoff.schools @signoff":           {"GET":      "LOGIN OK    OK    OK    OK    404"},
    "signoff.schools @draft":             {"GET":      "LOGIN 404   404   404   OK    404"},
    "signoff.sign @signoff":              {"GET POST": "LOGIN 404   OK    404   404   404"},
    "signoff.sign @consultation":         {"GET":      "LOGIN 404   OK    404   404   404",
                                           "POST":     "LOGIN 404   400   404   404   404"},
    "signoff.sign @draft":                {"GET POST": "LOGIN 404   404   404   404   404"},
    "signoff.sign @b":                    {"GET POST": "LOGIN 404   404   404   404   404"},
    "signoff.done @signoff":              {"GET":      "LOGIN 404   OK    404   404   404"},
    "signoff.done @b":                    {"GET":      "LOGIN 404   404   404   404   404"},
    "signoff.withdraw @signoff":          {"POST":     "LOGIN 404   OK    404   404   404"},
    "signoff.withdraw @b":                {"POST":     "LOGIN 404   404   404   404   404"},
    "signoff.dashboard @signoff":         {"GET":      "LOGIN OK    403   403   OK    404"},
    "signoff.chase @signoff":             {"POST":     "LOGIN 403   403   403   OK    404"},
    "signoff.settings @signoff":          {"POST":     "LOGIN 403   403   403   OK    404"},
    "signoff.signatures_csv @signoff":    {"GET":      "LOGIN OK    403   403   OK    404"},
    "signoff.audit_log @signoff":         {"GET":      "LOGIN 403   403   403   OK    404"},
    "signoff.freeze @consultation":       {"GET POST": "LOGIN 403   403   403   OK    404"},
    "signoff.reopen @signoff":            {"GET POST": "LOGIN 403   403   403   OK    404"},
    "signoff.close @signoff":             {"GET POST": "LOGIN 403   403   403   OK    404"},

    # Letters: the lead and the viewer read them; only the lead renders.
    "letters.index @sent":                {"GET":      "LOGIN OK    403   403   OK    404"},
    "letters.render @sent":               {"POST":     "LOGIN 403   403   403   OK    404"},
    "letters.status @sent":               {"GET":      "LOGIN OK    403   403   OK    404"},
    "letters.show @sent":                 {"GET":      "LOGIN OK    403   403   OK    404"},
    "letters.show @b":                    {"GET":      "LOGIN 404   404   404   404   404"},
    "letters.pdf @sent":                  {"GET":      "LOGIN OK    403   403   OK    404"},
    "letters.pdf @b":                     {"GET":      "LOGIN 404   404   404   404   404"},
    "letters.email_html @sent":           {"GET":      "LOGIN OK    403   403   OK    404"},
    "letters.email_html @b":              {"GET":      "LOGIN 404   404   404   404   404"},
    "letters.preview @sent":              {"GET":      "LOGIN OK    403   403   OK    404"},
    "letters.preview @b":                 {"GET":      "LOGIN 404   404   404   404   404"},
    "letters.zip_all @sent":              {"GET":      "LOGIN OK    403   403   OK    404"},
    "letters.build_pack @sent":           {"POST":     "LOGIN 403   403   403   OK    404"},
    "letters.print_pack_status @sent":    {"GET":      "LOGIN OK    403   403   OK    404"},
    "letters.print_pack @sent":           {"GET":      "LOGIN OK    403   403   OK    404"},
    "letters.print_manifest @sent":       {"GET":      "LOGIN OK    403   403   OK    404"},

    # Sending: the lead and the viewer watch; only the lead sends, retries, records post.
    "delivery.index @sent":               {"GET":      "LOGIN OK    403   403   OK    404"},
    "delivery.progress @sent":            {"GET":      "LOGIN OK    403   403   OK    404"},
    "delivery.status @sent":              {"GET":      "LOGIN OK    403   403   OK    404"},
    "delivery.report @sent":              {"GET":      "LOGIN OK    403   403   OK    404"},
    "delivery.report_csv @sent":          {"GET":      "LOGIN OK    403   403   OK    404"},
    "delivery.post_pack @sent":           {"GET":      "LOGIN OK    403   403   OK    404"},
    "delivery.post_manifest @sent":       {"GET":      "LOGIN OK    403   403   OK    404"},
    "delivery.post_pack_status @sent":    {"GET":      "LOGIN OK    403   403   OK    404"},
    "delivery.build_post_pack @sent":     {"POST":     "LOGIN 403   403   403   OK    404"},
    "delivery.send @sent":                {"GET POST": "LOGIN 403   403   403   OK    404"},
    "delivery.test @sent":                {"POST":     "LOGIN 403   403   403   OK    404"},
    "delivery.retry @sent":               {"POST":     "LOGIN 403   403   403   OK    404"},
    "delivery.in_doubt @sent":            {"POST":     "LOGIN 403   403   403   OK    404"},
    "delivery.posted @sent":              {"POST":     "LOGIN 403   403   403   OK    404"},

    # A school's parents' list: its own head, or the lead.
    "parents.upload @sent":               {"GET POST": "LOGIN 404   OK    404   OK    404"},
    "parents.upload @b":                  {"GET POST": "LOGIN 404   404   404   404   404"},
}
# fmt: on

CAMPAIGN_CASES = ("draft", "consultation", "signoff", "sent", "b")
OTHER_CASES = ("forged", "unsigned")

STATEMENT = "# Fair funding\n\nFirst paragraph.\n\nSecond paragraph."


def _cells() -> list:
    cells = []
    for key, by_methods in MATRIX.items():
        for methods, answers in by_methods.items():
            for method in methods.split():
                for identity, expected in zip(IDENTITIES, answers.split(), strict=True):
                    cells.append(
                        pytest.param(
                            key, method, identity, expected, id=f"{key} {method} {identity}"
                        )
                    )
    return cells


CELLS = _cells()


def _endpoint(key: str) -> tuple[str, str]:
    endpoint, _, case = key.partition(" @")
    return endpoint, case


def _routes(app) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        routes.setdefault(rule.endpoint, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return routes


@pytest.fixture(scope="module")
def url_map_app():
    """The app as deployed (no development tools), only to read its URL map."""
    config = {"TESTING": True, "DEVELOPMENT": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    return create_app({**config, "SECRET_KEY": "x"})


def test_every_route_has_a_row(url_map_app):
    routes = _routes(url_map_app)
    rows: dict[str, list[str]] = {}
    for key in MATRIX:
        endpoint, case = _endpoint(key)
        assert case in ("", *CAMPAIGN_CASES, *OTHER_CASES), f"{key}: unknown case @{case}"
        rows.setdefault(endpoint, []).append(key)
    missing = sorted(set(routes) - set(rows))
    extra = sorted(set(rows) - set(routes))
    assert not missing, f"routes with no row in MATRIX: {missing}"
    assert not extra, f"rows in MATRIX for no route: {extra}"
    for endpoint, keys in rows.items():
        for key in keys:
            stated = {m for methods in MATRIX[key] for m in methods.split()}
            takes = sorted(routes[endpoint])
            assert stated == set(takes), (
                f"{key}: the row states {sorted(stated)}, the route {takes}"
            )


def test_matrix_size(url_map_app, record_property):
    routes = _routes(url_map_app)
    route_methods = sum(len(m) for m in routes.values())
    size = (
        f"{len(routes)} routes ({route_methods} route-methods) x {len(IDENTITIES)} identities"
        f" = {route_methods * len(IDENTITIES)}; with the @cases, {len(CELLS)} cells"
    )
    record_property("matrix", size)
    print(f"\nauthorization matrix: {size}")
    assert len(CELLS) >= route_methods * len(IDENTITIES)


# --- the world ------------------------------------------------------------------------


@dataclass
class World:
    """What the cells need of the world, by id (each cell restores the rows)."""

    users: dict[str, int]
    campaigns: dict[str, str]
    frozen_sha256: str
    urn: int
    letter_id: int
    amendment_id: int
    job_id: int


PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)


def _campaign(association, title: str, lead, *bodies: str):
    campaign = create_campaign(association, title, body=bodies[0], author=lead)
    for body in bodies[1:]:
        save_statement(campaign, body, lead)
    db.session.flush()
    return campaign


def build_world() -> World:
    """Association A: schools X and Y, each with its own head, a lead and a viewer;
    a campaign in each state the pages need; a queued import; a logo.
    Association B: its own lead and its own campaign."""
    a = make_association(slug="assoc-a", name="Association A")
    b = make_association(slug="assoc-b", name="Association B")
    a.address, a.email = "1 High Street\nBasildon\nSS14 1AA", "office@a.example"
    a.logo, a.logo_type = PNG_1PX, PNG
    basildon = make_constituency("E14001077", "Basildon and Billericay")
    thurrock = make_constituency("E14001535", "Thurrock")
    basildon.mp.email = "mp.basildon@parliament.example"  # Thurrock's MP has none: by post
    thurrock.mp.first_name, thurrock.mp.last_name = "Jen", "Craft"
    x = make_school(
        a,
        urn=900001,
        name="Saxon High",
        local_authority="Essex",
        pupils=1000,
        constituency_id=basildon.id,
        constituency_code="E14001077",
    )
    y = make_school(
        a,
        urn=900002,
        name="Thurrock School",
        local_authority="Thurrock",
        pupils=600,
        constituency_id=thurrock.id,
        constituency_code="E14001535",
    )
    lead = make_user("lead@a.example", "Lena Lead", a, Role.LEAD)
    lead.job_title = "Chair"
    viewer = make_user("viewer@a.example", "Vic Viewer", a, Role.VIEWER)
    head_x = make_user("head.x@a.example", "Hal X", a, Role.HEAD)
    head_y = make_user("head.y@a.example", "Hana Y", a, Role.HEAD)
    make_headship(a, head_x, x)
    make_headship(a, head_y, y)
    lead_b = make_user("lead@b.example", "Bea B", b, Role.LEAD)

    draft = _campaign(a, "Draft plan", lead, STATEMENT, STATEMENT + "\n\nMore.")
    talking = _campaign(a, "Fair funding", lead, STATEMENT, STATEMENT + "\n\nAnd.")
    consultation.open_consultation(talking)
    version = talking.current_version
    consultation.add_comment(talking, version, 1, head_y, "A comment.")
    amendment = consultation.propose_amendment(
        talking, version, 1, head_x, "# Fairer funding", "Sharper."
    )
    signing = _campaign(a, "Teacher pay", lead, STATEMENT)
    consultation.open_consultation(signing)
    signoff.freeze(signing, lead)
    signing.public_page = True  # published, but not shown until sign-off closes
    sent = _campaign(a, "School buildings", lead, STATEMENT)
    sent.public_page = True
    consultation.open_consultation(sent)
    signoff.freeze(sent, lead)
    db.session.commit()
    for campaign, school, head in ((sent, x, head_x), (sent, y, head_y), (signing, x, head_x)):
        signoff_steps.sign(
            campaign,
            school,
            head,
            decision=Decision.SIGNED,
            name=head.name,
            role="Headteacher",
            shown_sha256=campaign.frozen_version.sha256,
        )
    signoff.close(sent, lead)
    db.session.commit()
    for audience in Audience:
        render_letters(sent, audience, processes=1)
    build_outbox(sent, Audience.MPS)  # one MP by email, one by post; nothing sent yet
    db.session.commit()
    # The print packs, built: their downloads answer with the files.
    for audience in Audience:
        keys = dao_letter_keys(sent.id, audience)
        letters_steps.build_pack(sent, audience, PackKind.LETTERS, keys, in_background=False)
    post = dao_post_letter_keys(sent.id, Audience.MPS)
    letters_steps.build_pack(sent, Audience.MPS, PackKind.POST, post, in_background=False)
    job = create_import_job(a, lead, "roster", "roster.csv", ROSTER)
    theirs = _campaign(b, "Fair funding", lead_b, STATEMENT)
    db.session.commit()

    letter = db.session.scalar(
        sa.select(Letter).where(Letter.campaign_id == sent.id, Letter.recipient == "school:900001")
    )
    return World(
        users={
            "viewer": viewer.id,
            "head_x": head_x.id,
            "head_y": head_y.id,
            "lead": lead.id,
            "lead_b": lead_b.id,
        },
        campaigns={
            "draft": draft.slug,
            "consultation": talking.slug,
            "signoff": signing.slug,
            "sent": sent.slug,
            "b": theirs.slug,
        },
        frozen_sha256=signing.frozen_version.sha256,
        urn=x.urn,
        letter_id=letter.id,
        amendment_id=amendment.id,
        job_id=job.id,
    )


ROSTER = b"URN,Email\n900001,head.x@a.example\n"
Saved = list[tuple[sa.Table, list[dict]]]


def _empty() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


def _capture() -> Saved:
    with db.engine.connect() as conn:
        return [
            (table, [dict(row._mapping) for row in conn.execute(sa.select(table))])
            for table in db.metadata.sorted_tables
        ]


def _restore(saved: Saved) -> None:
    """Put every row back as it was: the world, fresh for each cell."""
    with db.engine.begin() as conn:
        for table, _ in reversed(saved):
            conn.execute(table.delete())
        later = []  # foreign keys in a cycle (campaign.frozen_version_id): set after
        for table, rows in saved:
            cyclic = [fk.parent.name for fk in table.foreign_keys if fk.use_alter]
            if rows:
                conn.execute(table.insert(), [{**r, **dict.fromkeys(cyclic)} for r in rows])
            later += [(table, r, cyclic) for r in rows if cyclic]
        for table, row, cyclic in later:
            key = table.c.id == row["id"]
            conn.execute(table.update().where(key).values({c: row[c] for c in cyclic}))


def _snapshot() -> dict[str, str]:
    """Every table's rows, hashed, read through a connection of its own."""
    found = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            rows = sorted(repr(tuple(row)) for row in conn.execute(sa.select(table)))
            found[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return found


@pytest.fixture(scope="module")
def matrix(database_url, tmp_path_factory):
    """One app and one world per database, each identity signed in once through its
    emailed link; each cell puts the world back first and sends that session."""
    app = create_app(suite_config(database_url, tmp_path_factory.mktemp("outbox")))
    app.test_client_class = IsolatedClient
    cookie = app.config["SESSION_COOKIE_NAME"]
    with app.app_context():
        _empty()
        world = build_world()
        sessions = {}
        for identity, user_id in world.users.items():
            client = app.test_client()
            sign_in(client, db.session.get(User, user_id))
            sessions[identity] = client.get_cookie(cookie).value
        saved = _capture()
        db.session.remove()
    yield app, world, saved, sessions
    with app.app_context():
        db.session.remove()
        _empty()
        db.engine.dispose()


# --- one request per cell ---------------------------------------------------------------


SIGNER = WebhookSigner()


def _form(world: World, endpoint: str) -> dict:
    """A valid form for each action that takes one; the rest post a confirmation."""
    forms = {
        "auth.sign_in": lambda: {"email": "head.x@a.example"},
        "auth.details": lambda: {"name": "A New Name", "job_title": "Headteacher"},
        "directory.imports": lambda: {
            "roster-file": (io.BytesIO(ROSTER), "roster.csv"),
            "roster-submit": "Import heads",
        },
        "directory.settings": lambda: {
            "name": "Association A",
            "address": "1 High Street\nBasildon\nSS14 1AA",
            "email": "office@a.example",
            "cosignatory_limit": "150",
            "accent": "",
        },
        "drafting.new": lambda: {"title": "Another campaign", "to_parents": "y", "to_mps": "y"},
        "drafting.statement": lambda: {"body": STATEMENT + "\n\nChanged.", "note": "Tidied"},
        "consultation.questions": lambda: {"prompt": "Posts cut", "kind": "number"},
        "consultation.answer": lambda: {"kind": "agree", "reason": ""},
        "consultation.paragraph": lambda: {"comment-body": "Agreed.", "comment-submit": "Post"},
        "consultation.reminders": lambda: {"batch": "matrix", "la": "", "constituency": ""},
        "consultation.decide": lambda: {"accept": "Accept", "note": ""},
        "signoff.sign": lambda: {
            "decision": "signed",
            "name": "Hal X",
            "role": "Headteacher",
            "version_sha256": world.frozen_sha256,
        },
        "signoff.chase": lambda: {"batch": "matrix", "la": "", "constituency": ""},
        "signoff.settings": lambda: {"reminder_days": "7, 3", "public_page": "y"},
        "parents.upload": lambda: {"file": (io.BytesIO(b"Email\npat@home.example\n"), "p.csv")},
    }
    return forms[endpoint]() if endpoint in forms else {"submit": "Confirm"}


def _path_value(world: World, name: str, endpoint: str, case: str) -> str | int:
    if name == "slug":
        return "assoc-b" if case == "b" else "assoc-a"
    if name == "cslug":
        assert case in CAMPAIGN_CASES, f"{endpoint}: a campaign's page needs a campaign @case"
        return world.campaigns[case]
    if name == "token" and endpoint.startswith("auth."):
        user = db.session.get(User, world.users["head_x"])
        return issue_sign_in_link(user).rpartition("/")[2]
    if name == "token":
        ours = unsubscribe_token("pat@home.example")
        return ours if case != "forged" else ours[:-2] + ("xx" if ours[-2:] != "xx" else "yy")
    values = {
        "aslug": "assoc-a",
        "urn": world.urn,
        "audience": "parents" if endpoint == "letters.render" else "mps",
        "letter_id": world.letter_id,
        "amendment_id": world.amendment_id,
        "job_id": world.job_id,
        "number": 1,
        "paragraph": 1,
        "filename": "site.css",
    }
    return values[name]


def _request(app, world: World, key: str, method: str) -> tuple[str, dict]:
    """The cell's path, and what the request carries."""
    endpoint, case = _endpoint(key)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {name: _path_value(world, name, endpoint, case) for name in rule.arguments}
    db.session.commit()  # a sign-in token issued above
    path = app.url_map.bind("localhost").build(endpoint, values, method=method)
    kwargs: dict = {}
    if endpoint == "drafting.compare":
        kwargs["query_string"] = {"a": 1, "b": 2}
    if endpoint == "unsubscribe.sendgrid_events":
        app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = SIGNER.public_key
        body = json.dumps([]).encode()
        headers = SIGNER.headers(body, int(time.time()))
        if case == "unsigned":
            del headers["X-Twilio-Email-Event-Webhook-Signature"]
        kwargs.update(data=body, headers=headers)
    elif method == "POST":
        kwargs["data"] = _form(world, endpoint)
    return path, kwargs


def _outcome(response) -> str:
    if response.status_code in (301, 302, 303, 307, 308):
        location = urlsplit(response.headers["Location"])
        to_sign_in = location.path == "/sign-in" and "next" in parse_qs(location.query)
        return "LOGIN" if to_sign_in else "OK"
    return "OK" if response.status_code == 200 else str(response.status_code)


@pytest.mark.parametrize(("key", "method", "identity", "expected"), CELLS)
def test_cell(matrix, key, method, identity, expected):
    app, world, saved, sessions = matrix
    with app.app_context():
        _restore(saved)
        client = app.test_client()
        if identity != "anon":
            client.set_cookie(app.config["SESSION_COOKIE_NAME"], sessions[identity])
        path, kwargs = _request(app, world, key, method)
        before = _snapshot() if expected != "OK" else None
        response = client.open(path, method=method, **kwargs)
        got = _outcome(response)
        assert got == expected, (
            f"{method} {path} as {identity}: expected {expected}, got "
            f"{response.status_code} {response.headers.get('Location', '')}"
        )
        if before is not None:
            after = _snapshot()
            changed = sorted(name for name in before if before[name] != after[name])
            assert not changed, f"{method} {path} as {identity} was refused yet changed {changed}"
        db.session.remove()
