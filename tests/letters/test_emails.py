"""The letters as email, read as a recipient would: the plain-text part and the
co-signatory lists, where two schools share a name."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from campaign.drafting.services import save_statement
from campaign.extensions import db
from campaign.letters.emails import email_body
from campaign.letters.merge import parent_merges
from campaign.letters.models import Audience
from campaign.letters.runs import render_letters
from campaign.letters.services import dao_letters
from campaign.signoff import services, steps
from campaign.signoff.models import Decision
from tests.factories import make_school

STATEMENT = (
    "# Fair funding\n\n"
    "We, the **heads** of *Essex*, ask the government to read "
    "[the evidence](https://example.org/evidence).\n\n"
    "## What we ask\n\n"
    "- a real-terms rise\n- no cuts to *high needs*"
)


def sign(campaign, school, user, name="Hal Head"):
    steps.sign(campaign, school, user, decision=Decision.SIGNED, name=name,
                  role="Headteacher", shown_sha256=campaign.frozen_version.sha256)  # fmt: skip


@pytest.fixture
def markdown_signed(signoff):
    """The sign-off campaign with a statement in Markdown, signed by Saxon and Thurrock."""
    campaign = signoff.campaign
    services.reopen(campaign, signoff.lead)
    save_statement(campaign, STATEMENT, signoff.lead)
    services.freeze(campaign, signoff.lead)
    db.session.commit()
    schools = {s.urn: s for s in signoff.schools}
    sign(campaign, schools[900001], signoff.exec, "Eve Exec")
    sign(campaign, schools[900003], signoff.head)
    return signoff


@pytest.mark.parametrize("audience", [Audience.PARENTS, Audience.MPS])
def test_the_plain_text_email_shows_the_statement_as_words_not_markdown(markdown_signed, audience):
    render_letters(markdown_signed.campaign, audience, processes=1)
    letters = dao_letters(markdown_signed.campaign.id, audience)
    assert len(letters) == 2
    for letter in letters:
        body = email_body(letter, preface="Please forward this to parents.")
        assert "**" not in body.text and "](" not in body.text and "# " not in body.text
        assert "We, the heads of Essex, ask the government to read " in body.text
        assert "the evidence (https://example.org/evidence)." in body.text
        assert "What we ask\n-----------\n\n- a real-terms rise\n- no cuts to high needs\n" in (
            body.text
        )
        assert body.text.startswith("Please forward this to parents.\n")
        assert "<strong>heads</strong>" in body.html  # the HTML part keeps the formatting


def test_the_plain_text_parent_email_lists_one_school_a_line_under_its_la(markdown_signed):
    render_letters(markdown_signed.campaign, Audience.PARENTS, processes=1)
    letter = next(
        x
        for x in dao_letters(markdown_signed.campaign.id, Audience.PARENTS)
        if x.recipient == "school:900001"
    )
    text = email_body(letter).text
    assert "Yours faithfully,\nEve Exec\nHeadteacher, Saxon High\n" in text
    assert (
        "The schools that signed:\n\nEssex\n- Saxon High\n\nThurrock\n- Thurrock School\n" in text
    )


def test_above_the_limit_the_plain_text_lists_the_own_la_and_points_to_the_full_list(
    markdown_signed,
):
    markdown_signed.a.cosignatory_limit = 1
    db.session.commit()
    render_letters(markdown_signed.campaign, Audience.PARENTS, processes=1)
    letter = next(
        x
        for x in dao_letters(markdown_signed.campaign.id, Audience.PARENTS)
        if x.recipient == "school:900001"
    )
    text = email_body(letter).text
    assert "Co-signing schools in Essex:\n- Saxon High\n\n" in text
    assert "Thurrock School" not in text
    assert "signed by 2 schools in all. The full list:\nhttp://localhost/public/assoc-a/" in text


def _glebes(signoff, *places):
    """Sign with one "Glebe High School" per (name, town, local authority) given."""
    campaign = signoff.campaign
    schools = [
        make_school(signoff.a, urn=910001 + i, name=name, town=town, local_authority=la)
        for i, (name, town, la) in enumerate(places)
    ]
    db.session.commit()
    for school in schools:
        sign(campaign, school, signoff.head)
    return schools


def _listed(merge) -> list[str]:
    return [name for group in merge["cosignatories"] for name in group["schools"]]


def test_namesakes_in_the_co_signatory_list_are_told_apart_by_town(signed):
    _glebes(
        signed,
        ("Glebe High School", "Wickford", "Essex"),
        ("GLEBE  high school", "Rayleigh", "Essex"),
    )
    merges = parent_merges(signed.campaign)
    listed = _listed(merges["school:900001"])
    assert sorted(listed) == [
        "GLEBE  high school, Rayleigh",
        "Glebe High School, Wickford",
        "Saxon High",  # only the repeated names get a place
        "Thurrock School",
    ]
    assert all(_listed(m) == listed for m in merges.values())  # every letter, the same list
    assert merges["school:910001"]["school"]["name"] == "Glebe High School"  # signer's line


def test_namesakes_in_one_town_are_told_apart_by_la_then_by_urn(signed):
    _glebes(
        signed,
        ("Glebe High School", "Wickford", "Essex"),
        ("Glebe High School", "Wickford", "Southend-on-Sea"),
        ("St Mary's", "", "Essex"),
        ("St Mary's", "Basildon", "Essex"),
    )
    listed = _listed(parent_merges(signed.campaign)["school:900001"])
    assert "Glebe High School, Essex" in listed and "Glebe High School, Southend-on-Sea" in listed
    assert "St Mary's, URN 910003" in listed and "St Mary's, URN 910004" in listed


def test_above_the_limit_only_names_repeated_in_the_own_la_list_get_a_place(signed):
    _glebes(
        signed,
        ("Glebe High School", "Wickford", "Essex"),
        ("Glebe High School", "Rayleigh", "Essex"),
        ("Glebe High School", "Grays", "Thurrock"),
    )
    merges = parent_merges(signed.campaign, threshold=1)
    assert sorted(_listed(merges["school:900001"])) == [
        "Glebe High School, Rayleigh",
        "Glebe High School, Wickford",
        "Saxon High",
    ]
    assert sorted(_listed(merges["school:900003"])) == ["Glebe High School", "Thurrock School"]


def test_the_letter_and_both_email_parts_show_the_namesakes_apart(signed):
    _glebes(
        signed,
        ("Glebe High School", "Wickford", "Essex"),
        ("Glebe High School", "Rayleigh", "Essex"),
    )
    render_letters(signed.campaign, Audience.PARENTS, processes=1)
    letter = next(
        x for x in dao_letters(signed.campaign.id, Audience.PARENTS)
        if x.recipient == "school:900003"
    )  # fmt: skip
    body = email_body(letter)
    pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages)
    for name in ("Glebe High School, Wickford", "Glebe High School, Rayleigh"):
        assert f"- {name}\n" in body.text
        assert name in body.html and name in " ".join(pdf.split())
