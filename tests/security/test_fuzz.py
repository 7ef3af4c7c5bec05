"""Fuzz every form through the route that posts it, as the person who posts it: never
a 5xx, and a post that is refused (any answer but a redirect) leaves the database as
it was. A form class without a row in TARGETS fails the test, so a new form is fuzzed
from the day it is written.

Each example starts from tests.security.fuzzing.World and puts it back afterwards.
Each 500 the fuzz found, now fixed, is kept as a case in FOUND.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from hypothesis import event, given
from hypothesis import strategies as st
from PIL import Image
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SubmitField,
    TextAreaField,
)

from campaign.auth.forms import ConfirmSignInForm, DetailsForm, SignInForm
from campaign.consultation.evidence import dao_questions
from campaign.consultation.forms import (
    AmendmentForm,
    AnswerForm,
    CommentForm,
    DecisionForm,
    QuestionForm,
    ReminderForm,
    answer_form,
)
from campaign.delivery.forms import ParentListForm
from campaign.directory.forms import LetterheadForm, RegisterUploadForm, RosterUploadForm
from campaign.drafting.forms import CampaignForm, StatementForm
from campaign.forms import ConfirmForm, Form
from campaign.signoff.forms import SettingsForm, SignForm
from tests.security.forms import form_classes
from tests.security.fuzzing import (
    World,
    anything,
    csv_files,
    examples,
    nasty_text,
    words,
)
from tests.security.test_fuzz_imports import PARENTS, REGISTER, ROSTER

FORM_EXAMPLES = 25
PAGE_EXAMPLES = 15
C = "/a/assoc-a/campaigns"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "navy").save(out, "PNG")
    return out.getvalue()


PNG = _png()
lines = st.lists(words, min_size=1, max_size=4).map("\n".join)
names = ["x.csv", "x.CSV", "x.png", "x.svg", ".csv", "x.csv\x00.exe", 'x".csv', "x\r\n.csv"]
files = st.tuples(st.binary(max_size=300), st.one_of(nasty_text, st.sampled_from(names)))
svg = '<svg xmlns="http://www.w3.org/2000/svg"><title>{}</title></svg>'
logos = st.one_of(
    st.just((PNG, "logo.png")),
    st.tuples(st.binary(max_size=200).map(lambda b: PNG[:16] + b), st.just("logo.png")),
    st.tuples(st.binary(max_size=200).map(lambda b: PNG[:-12] + b), st.just("logo.png")),
    st.tuples(nasty_text.map(lambda t: svg.format(t).encode("utf-8", "replace")), st.just("x.svg")),
    files,
)


@dataclass(frozen=True)
class Target:
    """A form, the route that posts it and who posts it ("lead", "head" or "anonymous").
    `valid` gives strategies for values that pass, by field name (or a function of the
    World giving them); other fields take a valid value of their kind. `build` makes a
    form whose fields vary per campaign."""

    form: type[FlaskForm]
    who: str
    path: str
    prefix: str = ""
    valid: dict | Callable[[World], dict] = field(default_factory=dict)
    build: Callable[[World], FlaskForm] | None = None

    def __str__(self) -> str:
        return f"{self.form.__name__}@{self.path}"

    def valid_values(self, world: World) -> dict[str, st.SearchStrategy]:
        return self.valid(world) if callable(self.valid) else self.valid


def _answers(world: World) -> dict[str, st.SearchStrategy]:
    pounds = st.integers(0, 10**12).map(lambda n: f"£{n:,}")
    return {
        f"q{world.ids['q_money']}": st.one_of(pounds, st.decimals(0, 10**9, places=2).map(str)),
        f"q{world.ids['q_number']}": st.integers(-(10**12), 10**12).map(str),
        f"q{world.ids['q_text']}": words,
        "reason": lines,
    }


def _upload(columns: dict, required: list[str], name: str) -> dict[str, st.SearchStrategy]:
    return {"file": st.tuples(csv_files(columns, required), st.just(name))}


batches = st.from_regex(r"[0-9a-f]{16}", fullmatch=True)
days = st.lists(st.integers(1, 99), min_size=1, max_size=5).map(lambda d: ", ".join(map(str, d)))
emails = st.sampled_from(["lead@a.example", "Exec@A.example", "nobody@a.example"])
SIGN_IN = {"email": emails, "next": st.sampled_from(["", "/a/assoc-a/", "/details?next=/"])}
LETTERHEAD = {
    "accent": st.sampled_from(["", "#1d3557", "#000000"]),
    "address": lines,
    "logo_file": st.one_of(st.none(), st.just((PNG, "logo.png"))),
}
REGISTER_UPLOAD = {
    **_upload(REGISTER, ["URN", "EstablishmentName"], "register.csv"),
    "phase": st.sampled_from(["", "Secondary"]),
    "local_authorities": st.sampled_from(["", "Essex, Thurrock"]),
}
DECISION = {"note": lines, "accept": st.sampled_from(["y", None])}
DECISION["reject"] = DECISION["accept"]
REMINDERS = {"batch": batches, "la": st.sampled_from(["", "Essex"]), "constituency": st.just("")}
CHASER = {**REMINDERS, "constituency": st.sampled_from(["", "E14001077"])}
ROSTER_UPLOAD = _upload(ROSTER, ["URN", "Email"], "roster.csv")
PARENTS_UPLOAD = _upload(PARENTS, ["Email"], "parents.csv")
STATEMENT = {"body": st.lists(lines, min_size=1, max_size=4).map("\n\n".join)}
AMENDMENT = {"text": words, "reason": lines}


def _signature(world: World) -> dict[str, st.SearchStrategy]:
    return {"version_sha256": st.just(world.ids["sha256"]), "comment": lines}


def _answer_form(world: World) -> FlaskForm:
    return answer_form(dao_questions(world.ids["consulting"]))


TARGETS = [
    Target(SignInForm, "anonymous", "/sign-in", valid=SIGN_IN),
    Target(ConfirmSignInForm, "anonymous", "/sign-in/{token}"),
    Target(DetailsForm, "head", "/details", valid={"next": st.just("")}),
    Target(LetterheadForm, "lead", "/a/assoc-a/settings", valid=LETTERHEAD),
    Target(RegisterUploadForm, "lead", "/a/assoc-a/imports", "register", REGISTER_UPLOAD),
    Target(RosterUploadForm, "lead", "/a/assoc-a/imports", "roster", ROSTER_UPLOAD),
    Target(CampaignForm, "lead", f"{C}/new", valid={"summary": lines}),
    Target(StatementForm, "lead", f"{C}/drafting/statement", valid=STATEMENT),
    Target(QuestionForm, "lead", f"{C}/drafting/questions"),
    Target(AnswerForm, "head", f"{C}/consulting/respond/900001", "", _answers, _answer_form),
    Target(CommentForm, "head", f"{C}/consulting/v/1/p/2", "comment", {"body": lines}),
    Target(AmendmentForm, "head", f"{C}/consulting/v/1/p/2", "amend", AMENDMENT),
    Target(DecisionForm, "lead", f"{C}/consulting/amendments/{{amendment}}", valid=DECISION),
    Target(ReminderForm, "lead", f"{C}/consulting/reminders", valid=REMINDERS),
    Target(ReminderForm, "lead", f"{C}/signing/signoff/chase", valid=CHASER),
    Target(SignForm, "head", f"{C}/signing/sign/900002", valid=_signature),
    Target(SettingsForm, "lead", f"{C}/signing/signoff/settings", valid={"reminder_days": days}),
    Target(ParentListForm, "head", f"{C}/signing/parents/900001", valid=PARENTS_UPLOAD),
    Target(ConfirmForm, "lead", f"{C}/drafting/open"),
    Target(ConfirmForm, "lead", f"{C}/consulting/close-consultation"),
    Target(ConfirmForm, "lead", f"{C}/signing/close-signoff"),
    Target(ConfirmForm, "head", f"{C}/signing/sign/900001/withdraw"),
]
# Built by every form and never posted itself.
NOT_POSTED = {Form}


def test_every_form_is_fuzzed():
    fuzzed = {target.form for target in TARGETS} | NOT_POSTED
    missing = [
        f"{c.__module__}.{c.__qualname__}" for c in form_classes(local=False) if c not in fuzzed
    ]
    assert len(form_classes(local=False)) > 15
    assert missing == [], "add a Target for each form, with the route that posts it"


def test_every_fuzzed_route_takes_a_post(world):
    adapter = world.app.url_map.bind("localhost")
    for target in TARGETS:
        adapter.match(target.path.format(**world.ids), method="POST")  # raises if not


# --- posting the forms -----------------------------------------------------------------


def valid_value(form_field, given: st.SearchStrategy | None) -> st.SearchStrategy:
    """A value of the field's kind that its form accepts (None: leave it out)."""
    if given is not None:
        return given
    if isinstance(form_field, SubmitField):
        return st.just("y")
    if isinstance(form_field, BooleanField):
        return st.sampled_from(["y", None])
    if isinstance(form_field, RadioField | SelectField):
        return st.sampled_from([str(choice[0]) for choice in form_field.iter_choices()])
    if isinstance(form_field, IntegerField):
        return st.integers(1, 1000).map(str)
    if isinstance(form_field, DateTimeLocalField):
        moments = st.datetimes(datetime(2031, 1, 1), datetime(2039, 12, 31))
        return moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))
    if isinstance(form_field, EmailField):
        return st.emails()
    if isinstance(form_field, FileField):
        return st.none()
    return lines if isinstance(form_field, TextAreaField) else words


def bad_value(form_field) -> st.SearchStrategy:
    """Anything at all: no value, nasty text, several values, or a file where text goes."""
    if isinstance(form_field, FileField):
        return st.one_of(st.none(), files, logos, anything)
    return st.one_of(st.none(), anything, st.lists(anything, min_size=2, max_size=3), files)


def _fields(world: World, target: Target) -> list:
    with world.app.test_request_context():
        form = target.build(world) if target.build else target.form(prefix=target.prefix)
        return [(f.name, f.short_name, f) for f in form]


@pytest.mark.parametrize("target", TARGETS, ids=str)
@examples(FORM_EXAMPLES)
@given(data=st.data())
def test_no_post_of_a_form_gives_a_server_error(world, target, data):
    fields = _fields(world, target)
    valid = target.valid_values(world)
    fuzzed = data.draw(st.sets(st.sampled_from([name for name, _, _ in fields])), label="fuzzed")
    posted = {}
    for name, short_name, form_field in fields:
        if name in fuzzed:
            value = data.draw(bad_value(form_field), label=name)
        else:
            value = data.draw(valid_value(form_field, valid.get(short_name)), label=name)
        if value is not None:
            posted[name] = value
    posted.update(data.draw(st.dictionaries(nasty_text, anything, max_size=2), label="extra"))
    try:
        response = post(world, target, posted)
        for answer in [*response.history, response]:
            assert answer.status_code < 500, (answer.status_code, answer.request.path)
        event(f"answered {response.history[0].status_code if response.history else 'directly'}")
        if not response.history:  # refused (or a page with the error): nothing written
            assert world.dump() == world.snapshot, f"{response.status_code} but the data changed"
    finally:
        world.reset()


def post(world: World, target: Target, posted: dict):
    """Post the values as a browser would: multipart when a file is among them."""

    def encoded(value):
        if isinstance(value, tuple):
            return (io.BytesIO(value[0]), value[1])
        if isinstance(value, list):
            return [encoded(v) for v in value]
        return value

    has_file = any(
        isinstance(v, tuple) or (isinstance(v, list) and any(isinstance(i, tuple) for i in v))
        for v in posted.values()
    )
    return world.client(target.who).post(
        target.path.format(**world.ids),
        data={name: encoded(value) for name, value in posted.items()},
        content_type="multipart/form-data" if has_file else None,
        follow_redirects=True,
    )


# --- what the fuzz found ---------------------------------------------------------------

# The 500s the fuzz found, each fixed: its smallest reproduction, kept as a case.


def _nameless_part(world: World):
    body = b"--B\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--B--\r\n"
    return world.client("anonymous").post(
        "/sign-in", data=body, content_type="multipart/form-data; boundary=B"
    )


def _file_for_text(world: World):
    data = {"email": (io.BytesIO(b"eve@a.example"), "email.txt")}
    return world.client("anonymous").post("/sign-in", data=data, content_type="multipart/form-data")


def _reminder_days_as_text(world: World):
    data = {"reminder_days": "7, three"}
    return world.client("lead").post(
        f"{C}/signing/signoff/settings", data=data, follow_redirects=True
    )


def _integer_past_a_float(world: World):
    data = {"name": "Association A", "cosignatory_limit": "9" * 309, "accent": ""}
    return world.client("lead").post("/a/assoc-a/settings", data=data)


# Each case, and what the page then says.
FOUND = {
    "nameless part": (_nameless_part, "Enter your email address"),
    "file for text": (_file_for_text, "Enter your email address"),
    "reminder days as text": (_reminder_days_as_text, "Write days as numbers"),
    "integer past a float": (_integer_past_a_float, "Give a smaller number"),
}


@pytest.mark.parametrize("found", FOUND)
def test_what_the_fuzz_found_is_refused_with_a_message_and_changes_nothing(world, found):
    try:
        case, says = FOUND[found]
        response = case(world)
        assert response.status_code in (200, 400)
        assert says in response.get_data(as_text=True)
        assert world.dump() == world.snapshot
    finally:
        world.reset()
