"""The lead's sending pages, and the public unsubscribe and webhook pages, as a
browser uses them: each email read back as its recipient gets it."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections import Counter
from html import unescape

import pytest
from itsdangerous import URLSafeSerializer
from pypdf import PdfReader
from sqlalchemy import func, select

from campaign import paging
from campaign.delivery.compose import unsubscribe_token
from campaign.delivery.models import Channel, Message, MessageState, Suppression, email_hash
from campaign.directory.models import Constituency, Role
from campaign.drafting.models import CampaignState
from campaign.extensions import db
from campaign.letters.models import Audience, Letter
from campaign.letters.runs import render_letters
from campaign.signoff import services as signoff
from tests.delivery.conftest import MP_EMAIL
from tests.factories import make_national_campaign, make_user, sign_in

BASE = "/a/assoc-a/campaigns/fair-funding/sending"
PARENT = "Pat.Parent@Example.org"


@pytest.fixture
def ready(closed):
    """The closed campaign, with Thurrock's MP (no email: the letter goes by post)
    named differently from Basildon's so the pages can be told apart."""
    seat = db.session.scalar(select(Constituency).where(Constituency.ons_code == "E14001535"))
    seat.mp.first_name, seat.mp.last_name = "Jen", "Craft"
    db.session.commit()
    render_letters(closed.campaign, Audience.MPS, processes=1)
    return closed


def text(response) -> str:
    """The page as a reader sees it: tags dropped, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def buttons(response) -> list[str]:
    found = re.findall(r"<button[^>]*>(.*?)</button>", response.get_data(as_text=True), re.S)
    return [" ".join(unescape(label).split()) for label in found]


def messages(campaign, audience: Audience | None = None) -> dict[str, Message]:
    """The outbox by recipient, as the requests (with their own sessions) left it."""
    db.session.expire_all()
    query = select(Message).where(Message.campaign_id == campaign.id)
    if audience is not None:
        query = query.where(Message.audience == audience)
    return {m.recipient: m for m in db.session.scalars(query)}


def letter_for(campaign, recipient: str) -> Letter:
    return db.session.scalar(
        select(Letter).where(Letter.campaign_id == campaign.id, Letter.recipient == recipient)
    )


def attachments(email) -> list:
    return list(email.iter_attachments())


def pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def send(client, audience: str, **kwargs):
    return client.post(f"{BASE}/{audience}/send", **kwargs)


# --- Reviewing before sending -----------------------------------------------------


def test_the_lead_sees_each_audience_with_its_counts(client, ready):
    sign_in(client, ready.lead)
    page = client.get(f"{BASE}/")
    assert page.status_code == 200
    shown = text(page)
    assert "Letters to MPs 1 MP by email, 1 letter by post." in shown
    assert "Letters to parents 2 emails (to the signing heads), 0 letters by post." in shown
    assert "Send a test to me" in buttons(page)
    assert "Review and send letters to MPs" in shown
    assert "Review and send letters to parents" in shown


def test_the_confirm_page_states_what_will_happen_in_numbers(client, ready):
    sign_in(client, ready.lead)
    mps = client.get(f"{BASE}/mps/send")
    shown = text(mps)
    assert "Send letters to MPs" in shown
    assert "1 email goes through SendGrid" in shown
    assert "replies to office@assoc-a.example" in shown
    assert "1 letter goes by post" in shown
    assert (
        "By post, and why Jen Craft MP No email address on record for this MP: "
        "in the print pack for the post." in shown
    )
    assert "Send 1 email and prepare 1 letter for the post" in buttons(mps)

    parents = client.get(f"{BASE}/parents/send")
    shown = text(parents)
    assert "2 emails go through SendGrid: one to each signing school's head" in shown
    assert "By post, and why" not in shown and "0 letters" not in shown
    assert "Send 2 emails" in buttons(parents)
    assert messages(ready.campaign) == {}  # looking creates nothing


# --- Sending ------------------------------------------------------------------------


def test_sending_to_mps_emails_the_mp_their_letter_and_keeps_the_other_for_the_post(
    client, ready, outbox
):
    campaign = ready.campaign
    sign_in(client, ready.lead)
    response = send(client, "mps")
    assert response.status_code == 302 and response.location == f"{BASE}/mps"

    made = messages(campaign)
    assert set(made) == {"constituency:E14001077", "constituency:E14001535"}
    emailed, posted = made["constituency:E14001077"], made["constituency:E14001535"]
    assert (emailed.channel, emailed.state, emailed.attempts) == (
        Channel.EMAIL,
        MessageState.SENT,
        1,
    )
    assert (posted.channel, posted.state) == (Channel.POST, MessageState.CREATED)

    [email] = outbox()
    assert email["To"] == MP_EMAIL
    assert email["Subject"] == "Fair funding"
    assert email["Reply-To"] == "office@assoc-a.example"
    assert re.fullmatch(rf"<[0-9a-f]+\.{emailed.id}@[\w.-]+>", email["Message-ID"])
    assert email["X-Custom-message_id"] == str(emailed.id)
    assert "We ask." in email.get_body(preferencelist=("plain",)).get_content()
    [pdf] = attachments(email)
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == "E14001077 Richard Holden MP.pdf"
    letter = letter_for(campaign, "constituency:E14001077")
    assert len(PdfReader(io.BytesIO(pdf.get_content())).pages) == letter.pages
    assert "Richard Holden" in pdf_text(pdf.get_content())

    db.session.refresh(campaign)
    assert campaign.state is CampaignState.SENT


def test_sending_again_creates_nothing_new_and_says_so(client, ready, outbox):
    campaign = ready.campaign
    sign_in(client, ready.lead)
    first = send(client, "mps", follow_redirects=True)
    assert "Sending 1 email; 1 letter to post." in text(first)
    before = {recipient: m.id for recipient, m in messages(campaign).items()}

    again = send(client, "mps", follow_redirects=True)
    assert again.request.path == f"{BASE}/mps"
    assert "Nothing new to send: all 2 messages were already in the outbox." in text(again)
    assert {recipient: m.id for recipient, m in messages(campaign).items()} == before
    assert [email["To"] for email in outbox()] == [MP_EMAIL]  # not mailed twice


def test_progress_page_and_status_json_show_the_counts(client, ready):
    sign_in(client, ready.lead)
    progress = client.get(f"{BASE}/mps")
    assert "No emails in the outbox yet." in text(progress)
    send(client, "mps")

    progress = client.get(f"{BASE}/mps")
    shown = text(progress)
    assert "1 of 1 email finished." in shown
    assert "Sent (accepted by SendGrid) 1" in shown and "Failed 0" in shown
    assert "By post (1)" in shown and "Jen Craft MP to post" in shown
    assert "Record 1 letter as posted" in buttons(progress)
    status = client.get(f"{BASE}/mps/status.json")
    assert status.is_json
    assert status.get_json() == {
        "total": 1,
        "queued": 0,
        "sent": 1,
        "delivered": 0,
        "bounced": 0,
        "dropped": 0,
        "failed": 0,
        "done": 1,
        "post": 1,
        "post_waiting": 1,
        "in_doubt": 0,
        "retryable": 0,
        "finished": True,
    }
    index = text(client.get(f"{BASE}/"))
    assert "Sending has started: 1 of 1 email finished." in index


def test_each_signing_head_gets_their_schools_letter_to_forward(client, ready, outbox):
    campaign = ready.campaign
    sign_in(client, ready.lead)
    send(client, "parents")

    made = messages(campaign, Audience.PARENTS)
    assert {m.state for m in made.values()} == {MessageState.SENT}
    emails = {email["To"]: email for email in outbox()}
    assert set(emails) == {"exec@a.example", "head@a.example"}  # not Abbey, which declined
    for address, urn, school in (
        ("exec@a.example", 900001, "Saxon High"),
        ("head@a.example", 900003, "Thurrock School"),
    ):
        email = emails[address]
        assert email["Subject"] == "For your parents: Fair funding"
        assert email["Reply-To"] == "office@assoc-a.example"
        assert email["X-Custom-message_id"] == str(made[f"school:{urn}"].id)
        assert email["List-Unsubscribe"] is None  # heads are not a mailing list
        body = " ".join(email.get_body(preferencelist=("plain",)).get_content().split())
        assert f"{school} signed the joint statement of Association A." in body
        assert "Please forward it to your parents and carers" in body
        [pdf] = attachments(email)
        assert pdf.get_filename() == f"{urn} {school}.pdf"
        assert pdf.get_content() == letter_for(campaign, f"school:{urn}").pdf


def test_sendgrid_accepts_each_message_exactly_once(client, ready, sendgrid, outbox):
    campaign = ready.campaign
    sign_in(client, ready.lead)
    send(client, "mps")
    send(client, "parents")
    send(client, "parents")  # a second click

    emailed = [m for m in messages(campaign).values() if m.channel is Channel.EMAIL]
    assert len(emailed) == 3
    assert sendgrid.accepted == Counter({str(m.id): 1 for m in emailed})
    assert all(m.state is MessageState.SENT and m.provider_id for m in emailed)
    assert outbox() == []  # nothing went to the file backend


def test_a_message_sendgrid_refuses_shows_its_words_and_can_be_tried_again(client, ready, sendgrid):
    campaign = ready.campaign
    sign_in(client, ready.lead)
    sendgrid.status = 400  # the association's sender is not verified yet
    sendgrid.body = {"errors": [{"message": "The from address does not match a verified Sender."}]}
    send(client, "parents")
    made = messages(campaign, Audience.PARENTS)
    assert {m.state for m in made.values()} == {MessageState.FAILED}
    progress = client.get(f"{BASE}/parents")
    assert "Not delivered (2)" in text(progress)
    assert "SendGrid answered 400: The from address does not match" in text(progress)
    assert "Try 2 failed emails again" in buttons(progress)

    saxon, thurrock = made["school:900001"], made["school:900003"]
    sendgrid.status = 202
    sendgrid.reject_ids = {str(saxon.id)}
    client.post(f"{BASE}/parents/retry")
    made = messages(campaign, Audience.PARENTS)
    assert made["school:900001"].state is MessageState.FAILED
    assert made["school:900003"].state is MessageState.SENT
    progress = text(client.get(f"{BASE}/parents"))
    assert "Not delivered (1)" in progress
    assert (
        "Eve Exec, Saxon High Failed SendGrid answered 400: Does not contain a valid address."
        in progress
    )

    sendgrid.reject_ids = set()
    retried = client.post(f"{BASE}/parents/retry", follow_redirects=True)
    assert "Trying 1 failed email again." in text(retried)
    assert messages(campaign, Audience.PARENTS)["school:900001"].state is MessageState.SENT
    assert "Not delivered" not in text(retried)
    assert sendgrid.accepted == Counter({str(saxon.id): 1, str(thurrock.id): 1})


# --- Who may do what ----------------------------------------------------------------

PAGES = [
    ("get", "/"),
    ("get", "/mps/send"),
    ("post", "/mps/send"),
    ("post", "/mps/test"),
    ("get", "/mps"),
    ("get", "/mps/status.json"),
    ("post", "/mps/retry"),
    ("post", "/mps/in-doubt"),
    ("post", "/mps/posted"),
    ("get", "/mps/post-pack.pdf"),
    ("post", "/mps/post-pack"),
    ("get", "/mps/post-pack.json"),
    ("get", "/mps/post-manifest.csv"),
    ("get", "/report"),
    ("get", "/report.csv"),
]


@pytest.mark.parametrize(("who", "status"), [("head", 403), ("lead_b", 404)])
def test_heads_and_other_associations_cannot_reach_the_sending_pages(client, ready, who, status):
    sign_in(client, getattr(ready, who))
    for method, path in PAGES:
        response = getattr(client, method)(f"{BASE}{path}")
        assert response.status_code == status, (method, path)
    assert messages(ready.campaign) == {}


def test_a_viewer_can_watch_but_not_send(client, ready, outbox):
    viewer = make_user("viewer@a.example", "Val Viewer", ready.a, Role.VIEWER)
    db.session.commit()
    sign_in(client, viewer)
    index = client.get(f"{BASE}/")
    assert index.status_code == 200
    assert "1 MP by email" in text(index)
    assert "Send a test to me" not in buttons(index)
    assert "Review and send" not in text(index)
    for path in ("/mps", "/mps/status.json", "/report", "/report.csv"):
        assert client.get(f"{BASE}{path}").status_code == 200, path
    for method, path in (
        ("get", "/mps/send"),
        ("post", "/mps/send"),
        ("post", "/mps/test"),
        ("post", "/mps/posted"),
        ("post", "/mps/retry"),
        ("post", "/mps/post-pack"),
    ):
        assert getattr(client, method)(f"{BASE}{path}").status_code == 403, (method, path)
    assert messages(ready.campaign) == {}
    assert outbox() == []


# --- Refused until the campaign is ready ----------------------------------------------


def test_sending_is_refused_before_sign_off_closes(client, signed, outbox):
    campaign = signed.campaign
    for audience in Audience:
        render_letters(campaign, audience, processes=1)
    sign_in(client, signed.lead)
    assert "Letters are sent once sign-off is closed." in text(client.get(f"{BASE}/"))
    page = client.get(f"{BASE}/mps/send")
    assert "Letters are sent once sign-off is closed." in text(page)
    assert not [b for b in buttons(page) if b.startswith("Send")]

    refused = send(client, "mps")
    assert refused.status_code == 200
    assert "Letters are sent once sign-off is closed." in text(refused)
    assert messages(campaign) == {}
    assert outbox() == []
    db.session.refresh(campaign)
    assert campaign.state is CampaignState.SIGNOFF


def test_sending_is_refused_before_the_letters_are_rendered(client, signed, outbox):
    campaign = signed.campaign
    signoff.close(campaign, signed.lead)
    db.session.commit()
    sign_in(client, signed.lead)
    assert "No letters yet. Render the letters first." in text(client.get(f"{BASE}/"))
    refused = send(client, "parents")
    assert "Render the letters first: there are none to send." in text(refused)
    assert not [b for b in buttons(refused) if b.startswith("Send")]
    assert messages(campaign) == {}
    assert outbox() == []
    db.session.refresh(campaign)
    assert campaign.state is CampaignState.CLOSED


# --- A test to the lead; the post; the report ------------------------------------------


@pytest.mark.parametrize(
    ("audience", "subject", "first"),
    [
        ("mps", "[Test] Fair funding", "constituency:E14001535"),  # Jen Craft comes first
        ("parents", "[Test] For your parents: Fair funding", "school:900001"),
    ],
)
def test_a_test_goes_to_the_lead_only(client, ready, outbox, audience, subject, first):
    sign_in(client, ready.lead)
    response = client.post(f"{BASE}/{audience}/test", follow_redirects=True)
    assert response.request.path == f"{BASE}/"
    assert "went to lead@a.example." in text(response)
    [email] = outbox()
    assert email["To"] == "lead@a.example"
    assert email["Subject"] == subject
    assert email["X-Custom-test"] == "1"
    [pdf] = attachments(email)
    assert pdf.get_content() == letter_for(ready.campaign, first).pdf
    assert messages(ready.campaign) == {}
    db.session.refresh(ready.campaign)
    assert ready.campaign.state is CampaignState.CLOSED


def test_the_post_pack_and_marking_letters_posted(client, ready):
    campaign = ready.campaign
    sign_in(client, ready.lead)
    assert client.get(f"{BASE}/mps/post-pack.pdf").status_code == 404  # nothing to post yet
    assert client.post(f"{BASE}/mps/post-pack").status_code == 302  # no letters to pack yet
    send(client, "mps")
    progress = text(client.get(f"{BASE}/mps"))
    # The button, as a screen reader names it.
    assert "Build the print pack of the letters to MPs by post" in progress
    assert "Download the print pack" not in progress
    assert client.get(f"{BASE}/mps/post-pack.pdf").status_code == 302  # not built yet

    built = client.post(f"{BASE}/mps/post-pack", follow_redirects=True)
    assert "Building the print pack of 1 letter." in text(built)
    assert "Post pack ready: 1 letter" in text(built)
    pack = client.get(f"{BASE}/mps/post-pack.pdf")
    assert pack.status_code == 200 and pack.mimetype == "application/pdf"
    assert pack.is_streamed
    assert "fair-funding-mps-to-post.pdf" in pack.headers["Content-Disposition"]
    letter = letter_for(campaign, "constituency:E14001535")
    pages = PdfReader(io.BytesIO(pack.data)).pages
    assert len(pages) == letter.pages + letter.pages % 2  # padded to whole sheets
    assert "Jen Craft" in pages[0].extract_text()
    assert "Richard Holden" not in pdf_text(pack.data)  # the emailed MP is not in it
    manifest = client.get(f"{BASE}/mps/post-manifest.csv")
    assert manifest.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(manifest.get_data(as_text=True))))
    assert (row["Recipient"], row["First page in pack"]) == ("Jen Craft MP", "1")
    assert client.get(f"{BASE}/mps/post-pack.json").get_json()["state"] == "ready"
    # The letters page's pack is its own: not built by this.
    assert "Build the print pack" in text(client.get(f"{BASE.replace('/sending', '')}/letters/"))

    done = client.post(f"{BASE}/mps/posted", follow_redirects=True)
    assert "recorded as posted" in text(done)
    posted = messages(campaign)["constituency:E14001535"]
    assert posted.state is MessageState.SENT and posted.sent is not None
    assert "Jen Craft MP posted" in text(done)
    assert not [b for b in buttons(done) if "as posted" in b]
    again = client.post(f"{BASE}/mps/posted", follow_redirects=True)
    assert "Nothing to do: the page was out of date." in text(again)


def test_the_report_lists_every_message_with_its_outcome(client, ready):
    campaign = ready.campaign
    ready.head.name = '=HYPERLINK("http://evil.example")'  # a head's own free text
    db.session.commit()
    sign_in(client, ready.lead)
    send(client, "mps")
    send(client, "parents")

    response = client.get(f"{BASE}/report.csv")
    assert response.mimetype == "text/csv"
    assert "fair-funding-delivery.csv" in response.headers["Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header == [
        "Audience",
        "Channel",
        "Recipient",
        "Address",
        "Outcome",
        "Attempts",
        "Sent",
        "Detail",
    ]
    assert len(rows) == len(messages(campaign)) == 4
    outcomes = {row[2]: (row[0], row[1], row[3], row[4], row[5]) for row in rows}
    assert outcomes == {
        "Richard Holden MP": ("mps", "email", MP_EMAIL, "sent", "1"),
        "Jen Craft MP": ("mps", "post", "", "created", "0"),
        "Eve Exec, Saxon High": ("parents", "email", "exec@a.example", "sent", "1"),
        '\'=HYPERLINK("http://evil.example"), Thurrock School': (
            "parents",
            "email",
            "head@a.example",
            "sent",
            "1",
        ),
    }
    sent = {row[2]: row[6] for row in rows}
    assert sent["Jen Craft MP"] == "" and all(
        value for name, value in sent.items() if name != "Jen Craft MP"
    )
    assert rows[[r[2] for r in rows].index("Jen Craft MP")][7].startswith("No email address")

    page = text(client.get(f"{BASE}/report"))
    assert "Letters to MPs: 1 email: 0 delivered, 1 sent and awaiting delivery" in page
    assert "Jen Craft MP" in page and "Eve Exec, Saxon High exec@a.example" in page


# --- The webhook ----------------------------------------------------------------------


def test_a_signed_delivery_event_shows_on_the_progress_page(client, ready, signer):
    campaign = ready.campaign
    sign_in(client, ready.lead)
    send(client, "mps")
    emailed = messages(campaign)["constituency:E14001077"]
    now = int(time.time())
    event = {"event": "delivered", "message_id": str(emailed.id), "sg_event_id": "ev-1",
             "timestamp": now, "email": MP_EMAIL}  # fmt: skip
    body = json.dumps([event]).encode()

    unsigned = {"Content-Type": "application/json"}
    forged = client.post("/webhooks/sendgrid", data=body, headers=unsigned)
    assert forged.status_code == 403
    assert messages(campaign)["constituency:E14001077"].state is MessageState.SENT

    posted = client.post("/webhooks/sendgrid", data=body, headers=signer.headers(body, now))
    assert posted.status_code == 200
    assert messages(campaign)["constituency:E14001077"].state is MessageState.DELIVERED
    assert client.get(f"{BASE}/mps/status.json").get_json()["delivered"] == 1


# --- Unsubscribing ----------------------------------------------------------------------


def suppressions() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(s.email_sha256, s.reason) for s in db.session.scalars(select(Suppression))]


def test_a_parent_unsubscribes_with_the_button_and_only_a_hash_is_kept(client, app):
    path = f"/unsubscribe/{unsubscribe_token(PARENT)}"
    page = client.get(path)
    assert page.status_code == 200
    assert "Unsubscribe from these letters" in buttons(page)
    assert suppressions() == []  # opening the link (or a mail scanner) changes nothing

    done = client.post(path)
    assert done.status_code == 200
    assert "You are unsubscribed" in text(done)
    assert suppressions() == [(email_hash("pat.parent@example.org"), "unsubscribe")]
    assert PARENT.lower() not in repr(suppressions()).lower()
    client.post(path)  # a second click
    assert len(suppressions()) == 1


def test_a_forged_unsubscribe_link_is_not_found(client, app):
    forged = URLSafeSerializer("not-our-key", salt="unsubscribe").dumps(email_hash(PARENT))
    for token in (forged, "nonsense", unsubscribe_token(PARENT)[:-2] + "xx"):
        assert client.get(f"/unsubscribe/{token}").status_code == 404
        assert client.post(f"/unsubscribe/{token}").status_code == 404
    assert suppressions() == []


def test_one_click_unsubscribe_needs_no_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        token = unsubscribe_token(PARENT)
        response = client.post(
            f"/unsubscribe/{token}",
            data="List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        assert suppressions() == [(email_hash(PARENT), "unsubscribe")]
        # CSRF is on: any other form posted without its token is refused.
        assert client.post("/sign-out").status_code == 400
        assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1


def test_what_was_not_delivered_and_the_report_are_listed_a_page_at_a_time(
    client, association_world, monkeypatch
):
    monkeypatch.setattr(paging, "PER_PAGE", 3)
    campaign = make_national_campaign(association_world, 20)
    sign_in(client, association_world.lead)
    listed = sorted(
        (m.to_name, m.id)
        for m in messages(campaign).values()
        if m.state in (MessageState.BOUNCED, MessageState.FAILED)
    )
    assert len(listed) > 3
    first = client.get(f"{BASE}/parents")
    shown = text(first)
    assert f"Not delivered ({len(listed)})" in shown
    assert f"Page 1 of {-(-len(listed) // 3)}" in shown and "Next page" in shown
    assert listed[2][0] in shown and listed[3][0] not in shown
    second = text(client.get(f"{BASE}/parents?page=2"))
    assert listed[3][0] in second and listed[2][0] not in second and "Previous page" in second
    report = text(client.get(f"{BASE}/report"))
    total = len(messages(campaign))
    assert f"{total} messages, a page at a time; the CSV has them all." in report
    assert f"Page 1 of {-(-total // 3)}" in report
    assert len(client.get(f"{BASE}/report.csv").get_data(as_text=True).splitlines()) == total + 1
