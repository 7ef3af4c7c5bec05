"""The letterhead's logo and accent colour: what an upload must be, and the Letterhead page."""

from __future__ import annotations

import html
import io

import pytest
from PIL import Image

from campaign.directory.letterhead import (
    DEFAULT_ACCENT,
    MAX_LOGO_BYTES,
    PNG,
    SVG,
    LetterheadError,
    checked_accent,
    checked_logo,
    contrast_ratio,
    logo_data_uri,
)
from campaign.directory.models import Role
from campaign.extensions import db
from campaign.letters import render
from tests.factories import make_association, make_user, sign_in

SETTINGS = "/a/assoc-a/settings"
LOGO = "/a/assoc-a/settings/logo"
SVG_LOGO = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    b'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
    b'inkscape:export-filename="C:\\Users\\lead\\logo.png" width="300" height="80">'
    b'<defs><linearGradient id="g"><stop offset="0" stop-color="#1d3557"/></linearGradient>'
    b"<style>.t { fill: url(#g); }</style></defs>"
    b'<rect class="t" width="300" height="80" style="stroke: url( \'#g\' )"/>'
    b'<use xlink:href="#g"/></svg>'
)


def png(width: int = 300, height: int = 80, colour: str = "#1d3557", kind: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, kind)
    return out.getvalue()


def svg(inside: bytes = b"", attributes: bytes = b"", before: bytes = b"") -> bytes:
    return (
        before + b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/'
        b'xlink" ' + attributes + b">" + inside + b"</svg>"
    )


def test_a_png_that_pillow_reads_is_a_logo():
    logo = checked_logo(png(), "Logo.PNG")
    assert (logo.media_type, logo.data[:4]) == (PNG, b"\x89PNG")


def test_a_plain_drawing_is_an_svg_logo():
    assert checked_logo(SVG_LOGO, "logo.svg").media_type == SVG
    embedded = b'<image href="data:image/png;base64,iVBORw0KGgo=" width="10" height="10"/>'
    assert checked_logo(svg(embedded), "logo.svg").media_type == SVG


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (png() + b"\0" * MAX_LOGO_BYTES, "logo.png", "it can be at most 512 KB"),
        (png(kind="JPEG"), "logo.png", "logo.png is a JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "logo.svg", "logo.svg is a PDF document"),
        (b"%PDF-1.7\n", "logo.pdf", "The logo must be a PNG or SVG file"),
        (png(kind="GIF"), "logo.gif", "The logo must be a PNG or SVG file"),
        (b"", "logo.png", "is empty"),
        (png()[:60], "logo.png", "not a readable PNG image"),
        (png(2001, 10), "logo.png", "2,001 × 10 pixels"),
        (svg(b"<script>alert(1)</script>"), "logo.svg", "contains a <script> element"),
        (svg(b"<foreignObject><p>Hi</p></foreignObject>"), "logo.svg", "<foreignObject>"),
        (svg(attributes=b'onload="alert(1)"'), "logo.svg", "event attribute (onload)"),
        (svg(b'<a href="javascript:alert(1)"><rect/></a>'), "logo.svg", "links to javascript:"),
        (svg(b'<image href="https://tracker.example/x.png"/>'), "logo.svg",
         "links to https://tracker.example/x.png"),
        (svg(b'<use xlink:href="other.svg#a"/>'), "logo.svg", "links to other.svg#a"),
        (svg(b'<image href="data:image/svg+xml;base64,PHN2Zz4="/>'), "logo.svg",
         "links to data:image/svg+xml"),
        (svg(b'<rect style="fill: url(http://evil.example/a"/>'), "logo.svg",
         "links to http://evil.example/a"),
        (svg(b"<style>@import 'https://evil.example/a.css';</style>"), "logo.svg",
         "imports a stylesheet"),
        (svg(b"<style>.a { fill: \\75rl(http://evil.example/) }</style>"), "logo.svg",
         "backslash in its styles"),
        (svg(b'<set attributeName="xlink:href" to="javascript:alert(1)"/>'), "logo.svg",
         'attributeName="href"'),
        (svg(before=b'<!DOCTYPE svg [<!ENTITY lol "lol">]>'), "logo.svg", "DOCTYPE or ENTITY"),
        (svg(before=b'<?xml-stylesheet href="https://evil.example/a.css"?>'), "logo.svg",
         "processing instruction"),
        (svg(b"<rect>"), "logo.svg", "not a valid SVG file: mismatched tag on line 1"),
        (svg(b"&xxe;"), "logo.svg", "not a valid SVG file: undefined entity"),
        (b"<html><body>Hi</body></html>", "logo.svg", "its outer element is <html>"),
        (b'<svg width="10"></svg>', "logo.svg", "its outer element is <svg>, not <svg xmlns="),
    ],
    ids=[
        "too-big", "jpeg-named-png", "pdf-named-svg", "pdf", "gif", "empty", "truncated-png",
        "too-wide", "script", "foreign-object", "onload", "javascript-href", "external-image",
        "external-use", "nested-svg", "unclosed-css-url", "css-import", "css-escape",
        "animated-href", "doctype-entity", "stylesheet-instruction", "malformed", "entity",
        "html", "no-namespace",
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_safe_logo_is_refused_saying_why(data, filename, message):
    with pytest.raises(LetterheadError) as refused:
        checked_logo(data, filename)
    assert message in str(refused.value)


def test_accent_is_six_hex_digits_readable_on_white():
    assert checked_accent(" #1D3557 ") == "#1d3557"
    assert checked_accent("") == DEFAULT_ACCENT  # blank: the standard colour
    for bad in ("1d3557", "#1d355", "#1d35577", "navy", "#ggg000", "rgb(0,0,0)"):
        with pytest.raises(LetterheadError, match="# and six hexadecimal digits, like #1d3557"):
            checked_accent(bad)


def test_a_pale_accent_is_refused_with_its_contrast():
    with pytest.raises(LetterheadError) as refused:
        checked_accent("#FFDD00")
    assert str(refused.value) == (
        "The accent colour #ffdd00 has a contrast of 1.3:1 against white; letters use it "
        "for headings, so choose a darker colour (at least 4.5:1)"
    )
    # Just under the line is shown rounded down, never as a passing "4.5".
    assert 4.45 < contrast_ratio("#777777", "#ffffff") < 4.5
    with pytest.raises(LetterheadError, match="a contrast of 4.4:1"):
        checked_accent("#777777")
    assert checked_accent("#767676") == "#767676"  # 4.54:1


def test_the_default_accent_is_the_letters_own():
    assert DEFAULT_ACCENT == render.DEFAULT_ACCENT
    assert f"--accent: {DEFAULT_ACCENT}" in (render.LETTERS_DIR / "print.css").read_text()


# The Letterhead page.


@pytest.fixture
def leads(app):
    """Association A with a lead and a head; association B with its own lead."""
    a = make_association(slug="assoc-a", name="Association A")
    b = make_association(slug="assoc-b", name="Association B")
    users = {
        "lead_a": make_user("lead@a.example", "Lead A", a, Role.LEAD),
        "head_a": make_user("head@a.example", "Head A", a, Role.HEAD),
        "lead_b": make_user("lead@b.example", "Lead B", b, Role.LEAD),
    }
    db.session.commit()
    return {"a": a, "b": b, **users}


def letterhead(**fields) -> dict:
    return {
        "name": "Association A",
        "address": "1 High St\nTown\nCM1 1XA",
        "email": "office@a.example",
        "cosignatory_limit": "150",
        "accent": "#7b2d26",
        **fields,
    }


def post(client, path=SETTINGS, **fields):
    return client.post(path, data=letterhead(**fields), content_type="multipart/form-data")


def test_the_lead_uploads_a_png_logo_and_sees_it(client, leads):
    sign_in(client, leads["lead_a"])
    page = client.get(SETTINGS).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert "PNG or SVG, at most 512 KB" in page and "contrast of at least 4.5:1" in page
    assert "Remove the logo" not in page and LOGO not in page  # nothing to remove yet
    assert client.get(LOGO).status_code == 404

    logo = png()
    response = post(client, logo_file=(io.BytesIO(logo), "crest.png"))
    assert response.status_code == 302
    db.session.refresh(leads["a"])
    assert (leads["a"].logo, leads["a"].logo_type, leads["a"].accent) == (logo, PNG, "#7b2d26")
    assert logo_data_uri(leads["a"]).startswith("data:image/png;base64,iVBORw0KGgo")

    page = client.get(SETTINGS).get_data(as_text=True)
    assert f'<img src="{LOGO}" alt="Logo of Association A"' in page
    assert "Remove the logo" in page and 'value="#7b2d26"' in page
    preview = client.get(LOGO)
    assert (preview.status_code, preview.mimetype, preview.data) == (200, PNG, logo)
    assert preview.headers["X-Content-Type-Options"] == "nosniff"


def test_an_svg_preview_may_run_and_load_nothing(client, leads):
    sign_in(client, leads["lead_a"])
    assert post(client, logo_file=(io.BytesIO(SVG_LOGO), "crest.svg")).status_code == 302
    preview = client.get(LOGO)
    assert (preview.mimetype, preview.data) == (SVG, SVG_LOGO)
    assert preview.headers["X-Content-Type-Options"] == "nosniff"
    assert preview.headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize(
    ("upload", "fields", "message"),
    [
        ((svg(b"<script>alert(1)</script>"), "crest.svg"), {}, "contains a <script> element"),
        ((png(kind="JPEG"), "crest.png"), {}, "crest.png is a JPEG image"),
        ((b"%PDF-1.7\n", "crest.pdf"), {}, "The logo must be a PNG or SVG file"),
        ((png(), "crest.png"), {"accent": "#ffdd00"}, "contrast of 1.3:1 against white"),
        ((png(), "crest.png"), {"accent": "red"}, "# and six hexadecimal digits"),
        ((png(), "crest.png"), {"remove_logo": "y"}, "not both"),
    ],
    ids=["svg-script", "jpeg", "pdf", "pale-accent", "bad-accent", "new-and-remove"],
)
def test_a_bad_upload_is_refused_and_changes_nothing(client, leads, upload, fields, message):
    a = leads["a"]
    a.logo, a.logo_type = png(colour="#000000"), PNG
    db.session.commit()
    sign_in(client, leads["lead_a"])
    data, filename = upload
    response = post(client, logo_file=(io.BytesIO(data), filename), name="Renamed", **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and message in html.unescape(page)
    db.session.refresh(a)
    assert (a.name, a.logo, a.logo_type, a.accent) == (
        "Association A", png(colour="#000000"), PNG, DEFAULT_ACCENT
    )  # fmt: skip


def test_saving_without_a_file_keeps_the_logo_and_remove_takes_it_away(client, leads):
    a = leads["a"]
    a.logo, a.logo_type = png(), PNG
    db.session.commit()
    sign_in(client, leads["lead_a"])
    assert post(client, accent="").status_code == 302
    db.session.refresh(a)
    assert (a.logo, a.accent) == (png(), DEFAULT_ACCENT)  # no file chosen: logo kept

    assert post(client, remove_logo="y").status_code == 302
    db.session.refresh(a)
    assert (a.logo, a.logo_type, logo_data_uri(a)) == (None, "", "")
    assert client.get(LOGO).status_code == 404
    assert "There is no logo" in client.get(SETTINGS).get_data(as_text=True)


def test_a_head_cannot_see_or_change_the_letterhead(client, leads):
    sign_in(client, leads["head_a"])
    assert client.get(SETTINGS).status_code == 403
    assert post(client, logo_file=(io.BytesIO(png()), "crest.png")).status_code == 403
    assert client.get(LOGO).status_code == 403
    db.session.refresh(leads["a"])
    assert leads["a"].logo is None


def test_another_association_s_lead_cannot_see_or_change_the_logo(client, leads):
    a = leads["a"]
    a.logo, a.logo_type = png(), PNG
    db.session.commit()
    sign_in(client, leads["lead_b"])
    assert client.get(LOGO).status_code == 404
    assert client.get(SETTINGS).status_code == 404
    assert post(client, remove_logo="y").status_code == 404
    assert client.get("/a/assoc-b/settings/logo").status_code == 404  # B has none of its own
    db.session.refresh(a)
    assert a.logo == png()
