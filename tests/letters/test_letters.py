"""A campaign's letters after sign-off, read back as a parent or an MP would."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from campaign.cli import main
from campaign.consultation.models import QuestionKind
from campaign.directory.models import Role, School
from campaign.extensions import db
from campaign.letters.merge import _figure, mp_merges
from campaign.letters.models import Audience, Letter
from campaign.letters.runs import render_letters
from campaign.letters.services import LettersError, dao_letters
from campaign.signoff import services, steps
from tests.factories import make_user


def text_of(letter: Letter) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages).replace(
        "\n", " "
    )


def test_parent_letters_name_the_school_the_head_and_every_cosignatory(signed):
    summary = render_letters(signed.campaign, Audience.PARENTS, processes=1)
    assert (summary.total, summary.rendered) == (2, 2)
    letters = {
        letter.recipient: letter for letter in dao_letters(signed.campaign.id, Audience.PARENTS)
    }
    assert set(letters) == {"school:900001", "school:900003"}  # not the decliner
    saxon = text_of(letters["school:900001"])
    assert "Our school is one of the 2 schools" in saxon
    assert "Eve Exec" in saxon and "Headteacher, Saxon High" in saxon
    assert "Thurrock School" in saxon and "Abbey Academy" not in saxon
    assert "We ask." in saxon
    letter = letters["school:900003"]
    assert letter.pages == len(PdfReader(io.BytesIO(letter.pdf)).pages)
    assert len(letter.sha256) == 64 and letter.merge["signed_by"]["name"] == "Hal Head"


def test_mp_letters_list_exactly_their_constituency_s_schools_with_sums(signed):
    render_letters(signed.campaign, Audience.MPS, processes=1)
    letters = {letter.recipient: letter for letter in dao_letters(signed.campaign.id, Audience.MPS)}
    assert set(letters) == {"constituency:E14001077", "constituency:E14001535"}
    basildon = text_of(letters["constituency:E14001077"])
    assert "Dear Richard Holden" in basildon and "House of Commons" in basildon
    assert "1 school in Basildon and Billericay, educating 1,000 pupils, has signed" in basildon
    assert "Saxon High" in basildon and "Abbey Academy" not in basildon
    assert (
        "£250,000" in basildon and "£999,999" not in basildon
    )  # the decliner's figure is left out
    thurrock = text_of(letters["constituency:E14001535"])
    assert "Thurrock School" in thurrock and "educating 600 pupils" in thurrock
    assert "£100,000" in thurrock


def test_rerendering_skips_unchanged_letters_and_redoes_changed_ones(signed):
    campaign = signed.campaign
    render_letters(campaign, Audience.PARENTS, processes=1)
    again = render_letters(campaign, Audience.PARENTS, processes=1)
    assert (again.rendered, again.unchanged) == (0, 2)
    school = db.session.scalar(select(School).where(School.urn == 900003))
    signature = services.dao_signature(campaign.id, school.id)
    steps.withdraw(campaign, school, signed.head)
    third = render_letters(campaign, Audience.PARENTS, processes=1)
    assert (third.total, third.rendered, third.unchanged) == (1, 1, 0)  # Saxon's list changed
    assert [letter.recipient for letter in dao_letters(campaign.id, Audience.PARENTS)] == [
        "school:900001"
    ]
    assert signature.withdrawn is not None


def test_no_letters_before_the_text_is_frozen(signoff):
    campaign = signoff.campaign
    services.reopen(campaign, signoff.lead)
    db.session.commit()
    with pytest.raises(LettersError, match="open sign-off first"):
        render_letters(campaign, Audience.PARENTS)


def test_cli_renders_with_json_and_writes_pdfs(runner, signed, tmp_path):
    result = runner.invoke(
        main,
        [
            "letters",
            "render",
            "fair-funding",
            "--audience",
            "mps",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output.splitlines()[-1])
    assert (facts["total"], facts["rendered"], facts["unchanged"]) == (2, 2, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "constituency-E14001077.pdf", "constituency-E14001535.pdf"
    ]  # fmt: skip


def test_above_the_limit_parent_letters_list_their_own_la_and_point_to_the_public_page(signed):
    signed.a.cosignatory_limit = 1
    db.session.commit()
    render_letters(signed.campaign, Audience.PARENTS, processes=1)
    letters = {x.recipient: x for x in dao_letters(signed.campaign.id, Audience.PARENTS)}
    saxon = text_of(letters["school:900001"])
    assert "Co-signing schools in Essex" in saxon
    assert "signed by 2 schools in all" in saxon and "/public/assoc-a/fair-funding" in saxon
    assert "Thurrock School" not in saxon


def test_lead_sets_the_letterhead(client, signoff):
    from tests.factories import sign_in

    sign_in(client, signoff.lead)
    form = {
        "name": "Association A",
        "address": "1 High St\n\nTown\nAB1 2CD",
        "email": "A@B.example",
        "cosignatory_limit": "0",
    }
    response = client.post("/a/assoc-a/settings", data=form)
    assert response.status_code == 400
    assert "Give a number from 1 to 100,000" in response.get_data(as_text=True)
    client.post("/a/assoc-a/settings", data={**form, "cosignatory_limit": "40"})
    db.session.refresh(signoff.a)
    assert (signoff.a.address, signoff.a.email, signoff.a.cosignatory_limit) == (
        "1 High St\nTown\nAB1 2CD",
        "a@b.example",
        40,
    )
    sign_in(client, signoff.exec)
    assert client.get("/a/assoc-a/settings").status_code == 403


def test_batches_render_in_worker_processes_the_same(signed):
    render_letters(signed.campaign, Audience.PARENTS, processes=2, batch=1)
    letters = dao_letters(signed.campaign.id, Audience.PARENTS)
    assert [x.recipient for x in letters] == ["school:900001", "school:900003"]
    assert all("We ask." in text_of(x) for x in letters)


def test_a_school_without_a_local_authority_is_listed_without_an_empty_heading(signed):
    signed.a.cosignatory_limit = 1
    saxon = db.session.scalar(select(School).where(School.urn == 900001))
    saxon.local_authority = ""
    db.session.commit()
    render_letters(signed.campaign, Audience.PARENTS, processes=1)
    letters = {x.recipient: x for x in dao_letters(signed.campaign.id, Audience.PARENTS)}
    text = text_of(letters["school:900001"])
    assert "Co-signing schools The statement" in text
    assert "Co-signing schools in" not in text


@pytest.mark.parametrize(
    ("answered", "signing", "expected"),
    [
        (1, 1, "Deficit: the school in your constituency reports £12,000."),
        (1, 3, "Deficit: 1 of the 3 schools in your constituency reports £12,000."),
        (2, 2, "Deficit: the 2 schools in your constituency report a combined £12,000."),
    ],
)
def test_mp_figures_agree_with_the_number_of_schools(answered, signing, expected):
    question = SimpleNamespace(kind=QuestionKind.MONEY, prompt="Deficit")
    assert _figure(question, Decimal(12000), answered, signing) == expected


def test_mp_letters_are_signed_with_the_lead_s_name_and_role(signed):
    signed.lead.job_title = "Chair"
    db.session.commit()
    render_letters(signed.campaign, Audience.MPS, processes=1)
    for letter in dao_letters(signed.campaign.id, Audience.MPS):
        assert letter.merge["sender"] == {"name": "Lena Lead", "role": "Chair"}
        assert "Yours sincerely, Lena Lead Chair, Association A" in text_of(letter)


def test_with_several_leads_mp_letters_are_signed_by_the_first(signed):
    make_user("later@a.example", "Larry Later", signed.a, Role.LEAD).job_title = "Secretary"
    [membership] = signed.lead.memberships
    for role in (Role.VIEWER, Role.LEAD):  # rewrites Lena's row: PostgreSQL now lists it last
        membership.role = role
        db.session.commit()
    db.session.expire_all()
    senders = {m["sender"]["name"] for m in mp_merges(signed.campaign).values()}
    assert senders == {"Lena Lead"}


def test_mp_letters_without_the_lead_s_name_or_role_never_show_the_email(signed):
    merges = mp_merges(signed.campaign)
    assert {m["sender"]["role"] for m in merges.values()} == {"Lead"}  # "Lead, Association A"

    signed.lead.name = ""
    db.session.commit()
    merges = mp_merges(signed.campaign)
    assert {m["sender"]["name"] for m in merges.values()} == {"Association A"}
    assert "lead@a.example" not in json.dumps(merges)
