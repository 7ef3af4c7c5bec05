"""The app with its letters in an S3 bucket (moto's S3 server on loopback): rendering
writes each PDF there and not to the database, downloads and the ZIP stream them
back, /healthz checks the bucket, and sending attaches them."""

from __future__ import annotations

import base64
import io
import secrets
import zipfile

import pytest
import sqlalchemy as sa

from campaign.delivery.outbox import build_outbox
from campaign.delivery.sending import send_ready
from campaign.directory.models import Constituency
from campaign.drafting.models import CampaignState
from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.letters.runs import render_letters
from campaign.letters.services import dao_letters
from tests import fakes
from tests.factories import BASE, make_signed_campaign, sign_in
from tests.letters.s3 import make_bucket, s3_server

LETTERS = f"{BASE}/letters"


@pytest.fixture(scope="module")
def s3_endpoint():
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint):
    name = f"letters-{secrets.token_hex(4)}"
    make_bucket(s3_endpoint, name)
    return name


@pytest.fixture
def app(make_app, s3_endpoint, bucket):
    app = make_app(LETTER_STORE=f"s3://{bucket}/pdfs", LETTER_STORE_ENDPOINT=s3_endpoint)
    with app.app_context():
        yield app
        db.session.remove()


def _objects(app, bucket):
    client = app.extensions["letter_store"].client
    return {o["Key"]: o["Size"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_rendered_letters_are_objects_in_the_bucket_keyed_by_their_hash(app, bucket, signed):
    summary = render_letters(signed.campaign, Audience.PARENTS, processes=1)
    assert summary.rendered == 2
    letters = dao_letters(signed.campaign.id, Audience.PARENTS)
    assert set(_objects(app, bucket)) == {f"pdfs/{letter.sha256}.pdf" for letter in letters}
    assert all(letter.pdf.startswith(b"%PDF-") for letter in letters)
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("letter")}
    assert "pdf" not in columns


def test_a_letter_and_the_zip_download_from_the_bucket(app, bucket, client, signed):
    render_letters(signed.campaign, Audience.PARENTS, processes=1)
    letters = dao_letters(signed.campaign.id, Audience.PARENTS)
    sign_in(client, signed.lead)
    one = client.get(f"{LETTERS}/{letters[0].id}.pdf")
    assert one.status_code == 200 and one.is_streamed
    assert one.get_data() == letters[0].pdf
    archive = client.get(f"{LETTERS}/parents.zip")
    assert archive.is_streamed
    with zipfile.ZipFile(io.BytesIO(archive.get_data())) as read:
        assert archive.headers["Content-Disposition"].endswith('-parents-letters.zip"')
        assert sorted(read.namelist()) == ["900001 Saxon High.pdf", "900003 Thurrock School.pdf"]
        assert {read.read(n) for n in read.namelist()} == {letter.pdf for letter in letters}
        assert read.testzip() is None


def test_healthz_names_the_letter_store_when_its_bucket_is_gone(app, bucket, client):
    assert client.get("/healthz").get_json()["checks"]["letters"] == "ok"
    app.extensions["letter_store"].client.delete_bucket(Bucket=bucket)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["letters"]


def test_emails_attach_the_letter_from_the_bucket(app, association_world):
    for seat in db.session.scalars(sa.select(Constituency)):
        seat.mp.email = f"{seat.ons_code}@parliament.example"
    signed = make_signed_campaign(association_world, state=CampaignState.CLOSED)
    render_letters(signed, Audience.MPS, processes=1)
    build_outbox(signed, Audience.MPS)
    db.session.commit()
    with fakes.serve(fakes.sendgrid) as (url, recorder):
        app.config.update(SENDGRID_API_KEY=fakes.SENDGRID_KEY, SENDGRID_API_HOST=url)
        summary = send_ready(signed.id, Audience.MPS)
    assert summary.sent == 2 and summary.failed == 0
    pdfs = {letter.pdf for letter in dao_letters(signed.id, Audience.MPS)}
    sent = {
        base64.b64decode(attachment["content"])
        for request in recorder.requests
        for attachment in request["json"]["attachments"]
    }
    assert sent == pdfs
