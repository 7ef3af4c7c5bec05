"""Letters carry the association's logo and accent colour and still pass the mail-house check."""

from __future__ import annotations

import hashlib
import io

import pikepdf
import pypdfium2
import pytest
from PIL import Image

from campaign.extensions import db
from campaign.letters.checks import check_pdf
from campaign.letters.models import Audience
from campaign.letters.runs import render_letters
from campaign.letters.services import dao_letters

MM = 72 / 25.4
ACCENT = "#7b2d26"
LOGO_COLOUR = (0x2A, 0x9D, 0x8F)
SVG_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="80" viewBox="0 0 300 80">'
    b'<rect width="300" height="80" fill="#2a9d8f"/></svg>'
)


def png_logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 80), LOGO_COLOUR).save(out, "PNG")
    return out.getvalue()


def colour_at(pdf: bytes, x_mm: float, y_mm: float) -> tuple[int, int, int]:
    """The colour a viewer (pdfium) draws at a point of page 1, in mm from its top left."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        scale = 4
        image = document[0].render(scale=scale).to_pil().convert("RGB")
        return image.getpixel((round(x_mm * MM * scale), round(y_mm * MM * scale)))
    finally:
        document.close()


def near(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 3 for a, b in zip(colour, expected, strict=True))


@pytest.mark.parametrize("kind", ["image/png", "image/svg+xml"])
def test_parent_letters_show_the_logo_and_accent_and_pass_the_check(signed, kind):
    a = signed.a
    a.logo = png_logo() if kind == "image/png" else SVG_LOGO
    a.logo_type, a.accent = kind, ACCENT
    a.address, a.email = "1 Market Road\nChelmsford\nCM1 1XA", "office@a.example"
    db.session.commit()
    summary = render_letters(signed.campaign, Audience.PARENTS, processes=1)
    assert (summary.total, summary.rendered) == (2, 2)
    for letter in dao_letters(signed.campaign.id, Audience.PARENTS):
        # The stored merge data holds the logo's hash, not its bytes (20,000 copies).
        assert letter.merge["association"]["logo_sha256"] == hashlib.sha256(a.logo).hexdigest()
        assert "logo" not in letter.merge["association"]
        assert letter.merge["association"]["accent"] == ACCENT
        assert check_pdf(letter.pdf) == [] and letter.problems == []
        # The logo at the top left (Notify's logo area), the accent on the letterhead's rule.
        assert near(colour_at(letter.pdf, 40, 18), LOGO_COLOUR)
        assert near(colour_at(letter.pdf, 160, 10.6), (0x7B, 0x2D, 0x26))
        with pikepdf.open(io.BytesIO(letter.pdf)) as pdf:
            images = [
                x for x in pdf.pages[0].Resources.get("/XObject", {}).values()
                if x.get("/Subtype") == "/Image"
            ]  # fmt: skip
            if kind == "image/png":  # embedded as the image itself; an SVG is drawn as vectors
                assert [(int(x.Width), int(x.Height)) for x in images] == [(300, 80)]


def test_without_a_logo_letters_have_no_image_and_the_standard_accent(signed):
    render_letters(signed.campaign, Audience.PARENTS, processes=1)
    [letter, *_] = dao_letters(signed.campaign.id, Audience.PARENTS)
    assert letter.merge["association"]["logo_sha256"] == ""
    assert letter.merge["association"]["accent"] == "#1d3557"
    assert check_pdf(letter.pdf) == []
    assert near(colour_at(letter.pdf, 40, 18), (255, 255, 255))
    assert near(colour_at(letter.pdf, 160, 10.6), (0x1D, 0x35, 0x57))


def test_a_new_logo_renders_the_letters_again(signed):
    render_letters(signed.campaign, Audience.PARENTS, processes=1)
    a = signed.a
    a.logo, a.logo_type = png_logo(), "image/png"
    db.session.commit()
    summary = render_letters(signed.campaign, Audience.PARENTS, processes=1)
    assert (summary.rendered, summary.unchanged) == (2, 0)
