"""Input bounds: an id out of range is a 404, text a column cannot hold is refused
with a message, money stays within its documented bound, and none of it reaches
the database as a 500 (PostgreSQL's integer stops at 2^31-1 and its text holds no NUL)."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import func, select
from werkzeug.routing.converters import NumberConverter
from wtforms import HiddenField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

from campaign.bounds import MAX_ID
from campaign.consultation import evidence
from campaign.consultation.evidence import MAX_ANSWER
from campaign.consultation.models import Comment, EvidenceAnswer, EvidenceQuestion, QuestionKind
from campaign.directory.models import Association, User
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.forms import Form
from campaign.mail import Email, FileMailClient, SendGridClient
from campaign.signoff.models import Signature
from tests.factories import BASE, sign_form, sign_in
from tests.security.forms import form_classes

OUT_OF_RANGE = [2**31, 2**63, 2**64, 10**30]
NUL_MESSAGE = "contained a NUL character"


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- ids -------------------------------------------------------------------


def _id_routes(app) -> list[tuple[str, str, dict]]:
    """(endpoint, method, integer arguments) for every route with an integer in its path."""
    routes = []
    for rule in app.url_map.iter_rules():
        numbers = [n for n, c in rule._converters.items() if isinstance(c, NumberConverter)]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}) if numbers else ():
            routes.append((rule.endpoint, method, numbers))
    return routes


def test_every_integer_in_a_route_is_an_id_in_range(app):
    assert _id_routes(app), "no route has an integer in its path"
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, NumberConverter):
                assert (converter.min, converter.max) == (1, MAX_ID), (rule.rule, name)


@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize("who", ["lead", "exec"])
def test_an_id_out_of_range_in_any_route_is_not_found(app, client, consultation, who, value):
    sign_in(client, getattr(consultation, who))
    wrong = []
    for endpoint, method, numbers in _id_routes(app):
        with app.test_request_context():
            url = url_for(
                endpoint, slug="assoc-a", cslug="fair-funding", **dict.fromkeys(numbers, value)
            )
        response = client.open(url, method=method)
        if response.status_code != 404:
            wrong.append((method, url, response.status_code))
    assert wrong == []


@pytest.mark.parametrize("value", [0, MAX_ID])
def test_an_id_at_the_edge_of_the_range_is_looked_up(client, consultation, value):
    sign_in(client, consultation.lead)
    assert client.get(f"/a/assoc-a/schools/{value}").status_code == 404
    assert client.get(f"{BASE}/v/{value}").status_code == 404


@pytest.mark.parametrize("query", [f"a={2**63}&b=1", f"a=1&b={2**31}", "a=-1&b=1", "a=1e3&b=1"])
def test_a_version_id_out_of_range_in_the_query_is_not_found(client, consultation, query):
    sign_in(client, consultation.lead)
    assert client.get(f"{BASE}/compare?{query}").status_code == 404


@pytest.mark.parametrize("page", [str(2**63), str(-(2**63)), "9" * 5000])
def test_a_page_number_out_of_range_shows_the_first_page(client, consultation, page):
    sign_in(client, consultation.lead)
    response = client.get(f"/a/assoc-a/schools?page={page}")
    assert response.status_code == 200 and "Saxon High" in response.text


# --- NUL in addresses and queries ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/a/assoc-a/schools?q=%00",
        "/a/assoc-a/schools?q=Saxon%00",
        "/a/assoc-a/schools?la=Essex%00",
        "/a/assoc-a/schools?constituency=%00E14",
        f"{BASE}/consultation?la=%00",
        f"{BASE}/consultation?constituency=E%00",
        f"{BASE}/signoff?la=%00",
        "/a/assoc%00-a/",
        "/a/assoc-a/campaigns/fair%00funding/",
        "/public/assoc-a/fair%00funding",
        "/sign-in?next=/a/%00",
    ],
)
def test_a_nul_in_the_address_or_query_is_refused_with_a_message(client, consultation, url):
    sign_in(client, consultation.lead)
    response = client.get(url)
    assert response.status_code == 400
    assert NUL_MESSAGE in text_of(response)


def test_a_nul_in_any_posted_form_is_refused_and_nothing_is_written(client, consultation):
    sign_in(client, consultation.exec)
    response = client.post(
        f"{BASE}/v/1/p/2", data={"comment-body": "Agreed\x00", "comment-submit": "y"}
    )
    assert response.status_code == 400 and NUL_MESSAGE in text_of(response)
    assert count(Comment) == 0


# --- text fields -----------------------------------------------------------------


def test_every_form_checks_its_text_and_bounds_every_text_field():
    forms = form_classes()
    assert len(forms) > 15
    unbounded = []
    for cls in forms:
        assert issubclass(cls, Form), (
            f"{cls.__module__}.{cls.__name__} is not a campaign.forms.Form"
        )
        for name in dir(cls):
            field = getattr(cls, name)
            if not isinstance(field, UnboundField) or not issubclass(
                field.field_class, StringField
            ):
                continue
            validators = field.kwargs.get("validators") or []
            bounded = any(isinstance(v, Length) and v.max > 0 for v in validators)
            if not bounded and not issubclass(field.field_class, HiddenField):
                unbounded.append(f"{cls.__name__}.{name}")
    assert unbounded == []


def test_saved_text_fields_take_their_length_from_the_column(app):
    from campaign.auth.forms import DetailsForm
    from campaign.consultation.forms import QuestionForm
    from campaign.drafting.forms import CampaignForm
    from campaign.signoff.forms import SignForm

    def maximum(form, name):
        return next(v.max for v in form[name].validators if isinstance(v, Length))

    with app.test_request_context():
        assert maximum(CampaignForm(), "title") == Campaign.title.type.length
        assert maximum(SignForm(), "role") == Signature.role.type.length
        assert maximum(DetailsForm(), "name") == User.name.type.length
        assert maximum(QuestionForm(), "prompt") == EvidenceQuestion.prompt.type.length


TITLES = [
    ("Fair\nfunding", "Keep this on one line"),
    ("Fair\r\nfunding", "Keep this on one line"),
    ("Fair\u2028funding", "Keep this on one line"),
    ("Fair\tfunding", "Remove the invisible control character U+0009"),
    ("Fair\x1bfunding", "Remove the invisible control character U+001B"),
    ("Fair\x85funding", "Keep this on one line"),
    ("Fair\x9bfunding", "Remove the invisible control character U+009B"),
    ("Fair\x00funding", NUL_MESSAGE),
    ("F" * 201, "Keep this to 200 characters or fewer (it has 201)"),
]


@pytest.mark.parametrize("title, message", TITLES)
def test_a_campaign_title_that_cannot_be_saved_is_refused(client, consultation, title, message):
    sign_in(client, consultation.lead)
    before = count(Campaign)
    response = client.post("/a/assoc-a/campaigns/new", data={"title": title, "to_parents": "y"})
    assert response.status_code == 400
    assert message in text_of(response)
    assert count(Campaign) == before


def test_a_multi_line_field_keeps_line_breaks_and_tabs(client, consultation):
    sign_in(client, consultation.exec)
    body = "First line\r\n\tindented\nlast"
    response = client.post(f"{BASE}/v/1/p/2", data={"comment-body": body, "comment-submit": "y"})
    assert response.status_code == 302
    assert db.session.scalar(select(Comment.body)) == body


def test_a_multi_line_field_refuses_other_control_characters(client, consultation):
    sign_in(client, consultation.exec)
    data = {"comment-body": "Agreed\x08", "comment-submit": "y"}
    response = client.post(f"{BASE}/v/1/p/2", data=data)
    assert response.status_code == 400
    assert "Remove the invisible control character U+0008" in text_of(response)
    assert count(Comment) == 0


@pytest.mark.parametrize(
    "name, role, message",
    [
        ("E" * 201, "Head", "Keep this to 200 characters or fewer (it has 201)"),
        ("Eve", "R" * 101, "Keep this to 100 characters or fewer (it has 101)"),
        ("Eve\nExec", "Head", "Keep this on one line"),
        ("Eve", "Head\x07", "Remove the invisible control character U+0007"),
    ],
)
def test_a_signature_that_cannot_be_saved_is_refused(client, signoff, name, role, message):
    sign_in(client, signoff.exec)
    data = sign_form(signoff.campaign, name=name, role=role)
    response = client.post(f"{BASE}/sign/900001", data=data)
    assert response.status_code == 400 and message in text_of(response)
    assert count(Signature) == 0


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "A" * 201, "Keep this to 200 characters or fewer (it has 201)"),
        ("name", "Association\nA", "Keep this on one line"),
        ("address", "1 High St\nBasildon\x0b", "Remove the invisible control character U+000B"),
        ("address", "A" * 501, "Keep this to 500 characters or fewer (it has 501)"),
        ("accent", "#1d\n3557", "Keep this on one line"),
        ("accent", "#1d35570", "Enter the accent colour as # and six hexadecimal digits"),
    ],
)
def test_a_letterhead_that_cannot_be_saved_is_refused(client, consultation, field, value, message):
    sign_in(client, consultation.lead)
    data = {"name": "Association A", "address": "", "email": "", "cosignatory_limit": "150",
            "accent": "", field: value}  # fmt: skip
    response = client.post("/a/assoc-a/settings", data=data)
    assert response.status_code == 400 and message in text_of(response)
    assert db.session.scalar(select(Association.name).where(Association.slug == "assoc-a")) == (
        "Association A"
    )


def test_a_name_in_your_details_that_cannot_be_saved_is_refused(client, consultation):
    sign_in(client, consultation.lead)
    response = client.post("/details", data={"name": "Lena\x07Lead", "job_title": "Lead"})
    assert response.status_code == 400
    assert "Remove the invisible control character U+0007" in text_of(response)
    assert db.session.scalar(select(User.name).where(User.email == "lead@a.example")) == "Lena Lead"


def test_a_question_that_cannot_be_saved_is_refused(client, consultation):
    sign_in(client, consultation.lead)
    before = count(EvidenceQuestion)
    response = client.post(f"{BASE}/questions", data={"prompt": "Q" * 301, "kind": "money"})
    assert response.status_code == 400
    assert "Keep this to 300 characters or fewer (it has 301)" in text_of(response)
    assert count(EvidenceQuestion) == before


def test_too_many_reminder_days_are_refused_with_a_message(client, signoff):
    sign_in(client, signoff.lead)
    days = ",".join(str(d) for d in range(1, 31))
    data = {"reminder_days": days}
    response = client.post(f"{BASE}/signoff/settings", data=data, follow_redirects=True)
    assert "Give fewer reminder days: the list can be at most 50 characters" in text_of(response)
    assert db.session.scalar(select(Campaign.reminder_days)) == "7,3,1"


# --- money and numbers ---------------------------------------------------------------


def test_the_answer_bound_fits_the_column():
    column = EvidenceAnswer.number_value.type
    digits = len(str(int(MAX_ANSWER)))
    assert digits <= column.precision - column.scale
    assert Decimal("999999999999") == MAX_ANSWER


@pytest.mark.parametrize(
    "deficit",
    ["1000000000000", "£1,000,000,000,000", "99999999999999999", "9" * 30, "9" * 5000,
     "999999999999.5", "£999,999,999,999.50"],
)  # fmt: skip
def test_money_beyond_the_bound_is_refused_with_a_message(client, consultation, deficit):
    sign_in(client, consultation.exec)
    data = {"kind": "agree", f"q{consultation.money.id}": deficit}
    response = client.post(f"{BASE}/respond/900001", data=data)
    assert response.status_code == 400
    assert "Enter an amount up to £999,999,999,999" in text_of(response)
    assert count(EvidenceAnswer) == 0


@pytest.mark.parametrize("posts", ["1000000000000", "-1000000000000", "9" * 30, "1" * 17 + ".5"])
def test_a_number_beyond_the_bound_is_refused_with_a_message(client, consultation, posts):
    sign_in(client, consultation.exec)
    data = {
        "kind": "agree",
        f"q{consultation.money.id}": "1",
        f"q{consultation.posts.id}": posts,
    }
    response = client.post(f"{BASE}/respond/900001", data=data)
    assert response.status_code == 400
    assert "Enter a number from -999,999,999,999 to 999,999,999,999" in text_of(response)
    assert count(EvidenceAnswer) == 0


def test_the_largest_amount_is_kept_exactly(client, consultation):
    sign_in(client, consultation.exec)
    data = {"kind": "agree", f"q{consultation.money.id}": "£999,999,999,999.40"}
    assert client.post(f"{BASE}/respond/900001", data=data).status_code == 302
    assert db.session.scalar(select(EvidenceAnswer.number_value)) == MAX_ANSWER


def test_a_text_answer_is_bounded_by_its_column(consultation):
    question = evidence.add_question(consultation.campaign, QuestionKind.TEXT, "Notes")
    limit = EvidenceAnswer.text_value.type.length
    assert evidence.parse_answer(question, "x" * limit) == (None, "x" * limit)
    with pytest.raises(evidence.AnswerInvalid, match=f"at most {limit} characters"):
        evidence.parse_answer(question, "x" * (limit + 1))


# --- mail headers --------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["Fair\nfunding", "Fair\r\n funding ", "Fair\u2028\tfunding"])
def test_a_subject_is_one_line_whatever_it_was_given(tmp_path, subject):
    email = Email(to="head@a.example", subject=subject, text="Hello")
    assert email.subject == "Fair funding"
    FileMailClient(tmp_path, "campaigns@demo.example").send(email)
    (written,) = tmp_path.glob("*.eml")
    assert "Subject: Fair funding\n" in written.read_text()
    body = SendGridClient("key", "campaigns@demo.example").request_body(email, [email.recipient()])
    assert body["subject"] == "Fair funding"
