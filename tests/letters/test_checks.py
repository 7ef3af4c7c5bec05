"""The mail-house check fails a letter built to break each rule, and names the rule;
the CLI, the print pack and sending refuse letters that fail."""

from __future__ import annotations

import csv
import html
import io
import json
import os

import pikepdf
import pytest
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from campaign.cli import main
from campaign.delivery.outbox import DeliveryError, build_outbox
from campaign.drafting.models import CampaignState
from campaign.extensions import db
from campaign.letters import checks, stamp
from campaign.letters.models import Audience, PackKind, PackState
from campaign.letters.packs import dao_pack
from campaign.letters.runs import render_letters
from campaign.letters.services import dao_letters
from tests.factories import BASE, sign_in
from tests.letters.test_render import merge

MM = 72 / 25.4
A4 = (210 * MM, 297 * MM)
ADDRESS = ["Grace Vaughan, Principal", "Saxon High School", "141 Station Way", "SS14 1AA"]


def built(
    address=ADDRESS, texts=(), pages=1, font="stamp-sans", size=A4, noise=0, leading=4.4
) -> bytes:
    """A letter drawn with reportlab: the address in the window, a body line at
    100 mm, and `texts` as (x mm, y mm down, text) on page 1."""
    stamp._fonts()  # noqa: SLF001  (DejaVu, embedded)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=size, initialFontName=font)
    for page in range(pages):
        c.setFont(font, 10)
        if page == 0:
            for n, line in enumerate(address):
                c.setFont(font, 10 if leading > 4 else 7)
                c.drawString(25 * MM, size[1] - (43 + leading * n) * MM, line)
            c.setFont(font, 10)
            for x, y, text in texts:
                c.drawString(x * MM, size[1] - y * MM, text)
        c.drawString(25 * MM, size[1] - 100 * MM, f"Dear Parents and Carers, page {page + 1}.")
        if noise and page == 0:
            from PIL import Image

            image = Image.frombytes("L", (noise, noise), os.urandom(noise * noise))
            c.drawImage(ImageReader(image), 25 * MM, 30 * MM, 50 * MM, 50 * MM)
        c.showPage()
    c.save()
    return out.getvalue()


def direct_contents(pdf: bytes) -> bytes:
    """The old stamping bug: a content stream written into /Contents directly."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    page = writer.pages[0]
    stream = DecodedStreamObject()
    stream.set_data(page.get_contents().get_data())
    page[NameObject("/Contents")] = ArrayObject([stream])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_well_made_letter_passes():
    assert checks.check_pdf(built()) == []


@pytest.mark.parametrize(
    ("pdf", "rule"),
    [
        (lambda: built(texts=[(25, 85, "Dear Parents and Carers")]),
         "Page 1: text outside the logo, contact, address and body areas at 25–"),
        (lambda: built(texts=[(60, 35, "A note")]), "at 60–"),
        (lambda: built(texts=[(5, 150, "In the margin")]), "text outside the logo, contact"),
        (lambda: built(address=[*ADDRESS[:3], "Line", "Line", "Line", "Line", "SS14 1AA"],
                       leading=3.2),
         "The address has 8 lines: it must have 3 to 7."),
        (lambda: built(address=ADDRESS[:3]), "'141 Station Way', is not a UK postcode"),
        (lambda: built(address=ADDRESS[:2]), "The address has 2 lines"),
        (lambda: built(address=["@Grace", *ADDRESS[1:]]), "Address line 1 starts with '@'"),
        (lambda: built(address=[]), "There is no address in the envelope window."),
        (lambda: built(pages=11), "It has 11 pages: a letter may have at most 10."),
        (lambda: built(font="Helvetica"), "The font Helvetica is not embedded."),
        (lambda: built(size=(A4[1], A4[0])), "Page 1 is 297 × 210 mm, not A4 portrait."),
        (lambda: built(noise=1600), "MB: a letter may be at most 2 MB."),
        (lambda: direct_contents(built()), "Not a well-formed PDF"),
        (lambda: b"%PDF-1.7 this is not a PDF", "Not a well-formed PDF"),
    ],
    ids=[
        "text-at-85mm", "text-between-logo-and-window", "text-in-margin", "8-line-address",
        "no-postcode", "2-line-address", "bad-first-character", "no-address", "11-pages",
        "unembedded-font", "landscape", "over-2MB", "direct-content-stream", "not-a-pdf",
    ],
)  # fmt: skip
def test_each_broken_rule_is_named(pdf, rule):
    problems = checks.check_pdf(pdf())
    assert any(rule in p for p in problems), problems


def test_text_on_later_pages_must_keep_to_the_margins():
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, initialFontName="Helvetica")
    stamp._fonts()  # noqa: SLF001
    good = pikepdf.open(io.BytesIO(built(pages=2)))
    c.setFont("stamp-sans", 10)
    c.drawString(25 * MM, A4[1] - 2 * MM, "Too high")
    c.showPage()
    c.save()
    with pikepdf.open(io.BytesIO(out.getvalue())) as stray:
        good.pages[1].add_overlay(stray.pages[0])
        saved = io.BytesIO()
        good.save(saved)
    problems = checks.check_pdf(saved.getvalue())
    assert any(p.startswith("Page 2: text outside the margins") for p in problems), problems


def test_stamped_addresses_too_long_for_the_window_are_set_smaller_not_cut():
    long = "The Governors of the Very Long Named Community Secondary School and Sixth Form"
    [letter] = stamp.render_stamped("parents.html", [merge(address_lines=[long, *ADDRESS[1:]])])
    assert checks.check_pdf(letter.pdf) == []


@pytest.fixture
def broken(signed):
    """The two parent letters rendered, then Saxon High's replaced by one with text at 85 mm."""
    render_letters(signed.campaign, Audience.PARENTS, processes=1)
    saxon = next(
        letter
        for letter in dao_letters(signed.campaign.id, Audience.PARENTS)
        if letter.recipient == "school:900001"
    )
    saxon.pdf, saxon.problems = built(texts=[(25, 85, "Dear Parents")]), None
    db.session.commit()
    return signed


def test_cli_check_names_the_failing_letter_and_its_rule(runner, broken):
    result = runner.invoke(main, ["letters", "check", "fair-funding", "--audience", "parents"])
    assert result.exit_code == 1, result.output
    assert "Saxon High (school:900001):" in result.output
    assert "85 mm down: 'Dear Parents'" in result.output
    assert "1 letter of 2 fail the check." in result.output
    result = runner.invoke(
        main, ["letters", "check", "fair-funding", "--audience", "parents", "--json"]
    )
    facts = json.loads(result.output)
    assert (facts["letters"], facts["ready"]) == (2, 1)
    assert [f["recipient"] for f in facts["failing"]] == ["school:900001"]


def test_cli_check_passes_good_letters(runner, signed):
    render_letters(signed.campaign, Audience.MPS, processes=1)
    result = runner.invoke(main, ["letters", "check", "fair-funding", "--audience", "mps"])
    assert result.exit_code == 0, result.output
    assert "2 letters ready for the post." in result.output


def test_print_pack_and_sending_refuse_a_failing_letter_naming_it(runner, broken, tmp_path):
    out = tmp_path / "pack.pdf"
    result = runner.invoke(
        main, ["letters", "pack", "fair-funding", "--audience", "parents", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "1 letter fails the mail-house check: Saxon High (Page 1: text outside" in result.output
    assert not out.exists()
    pack = dao_pack(broken.campaign.id, Audience.PARENTS, PackKind.LETTERS)
    assert pack.state is PackState.FAILED and pack.key == ""
    assert pack.error.startswith("1 letter fails the mail-house check: Saxon High")
    campaign = broken.campaign
    campaign.move_to(CampaignState.CLOSED)
    db.session.commit()
    with pytest.raises(DeliveryError, match="Saxon High"):
        build_outbox(campaign, Audience.PARENTS)


def test_cli_pack_writes_the_print_pack_and_its_manifest(runner, signed, tmp_path):
    render_letters(signed.campaign, Audience.MPS, processes=1)
    out = tmp_path / "mps.pdf"
    result = runner.invoke(
        main, ["letters", "pack", "fair-funding", "--audience", "mps", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    letters = dao_letters(signed.campaign.id, Audience.MPS)
    pages = sum(letter.pages + letter.pages % 2 for letter in letters)
    assert len(pikepdf.open(out).pages) == pages
    rows = list(csv.DictReader(out.with_suffix(".csv").open(encoding="utf-8")))
    assert [r["Recipient"] for r in rows] == [letter.recipient_name for letter in letters]
    assert f"2 letters, {pages} pages" in result.output


def test_the_print_pack_page_refuses_a_failing_letter_with_a_message(client, broken):
    sign_in(client, broken.lead)
    response = client.post(f"{BASE}/letters/parents/print-pack")
    assert response.status_code == 302 and response.location.endswith("/letters/#parents")
    page = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "The print pack was not built" in page
    assert "1 letter fails the mail-house check: Saxon High" in page
    assert "Download the print pack" not in page
    # What the check found is kept: the letters page names the letter too.
    saxon = next(x for x in dao_letters(broken.campaign.id, Audience.PARENTS) if x.problems)
    assert saxon.recipient_name == "Saxon High"
    refused = client.get(f"{BASE}/letters/parents/print-pack.pdf")
    assert refused.status_code == 302
