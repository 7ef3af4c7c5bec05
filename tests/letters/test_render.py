"""Rendering letters: what a recipient reads, where the address sits, and what a
template or statement cannot reach."""

from __future__ import annotations

import io
import logging
import re
import subprocess

import pytest
from jinja2.exceptions import SecurityError
from markupsafe import Markup
from pypdf import PdfReader

from campaign.letters import render

MM = 72 / 25.4  # PDF points per millimetre
WINDOW = (24.6 * MM, 39.5 * MM, (24.6 + 95.4) * MM, (39.5 + 26.8) * MM)  # left, top, right, bottom


def merge(i: int = 1, **extra) -> dict:
    data = {
        "title": "Fair funding",
        "campaign_title": "Fair funding for our schools",
        "association": {
            "name": "Essex Heads",
            "address_lines": ["1 Market Road", "CM1 1XA"],
            "email": "a@b.example",
        },
        "address_lines": [
            "Grace Vaughan, Principal", f"School {i}", "141 Station Way", "Basildon", "SS14 1AA"
        ],
        "date": "23 November 2026",
        "footer": f"Reference ABCD-EFGH-{i:04d}",
        "school": {"name": f"School {i}", "local_authority": "Essex"},
        "signed_by": {"name": "Grace Vaughan", "role": "Principal"},
        "signatory_count": 3,
        "statement_html": Markup("<p>We ask for fair funding.</p>"),
        "cosignatories": [
            {"local_authority": "Essex", "schools": [f"School {i}", "Abbey Academy"]}
        ],
        "cosignatories_limited": False,
        "public_url": "https://example.org/p",
    }  # fmt: skip
    data.update(extra)
    return data


def pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def word_boxes(pdf: bytes, tmp_path) -> list[tuple[str, float, float, float, float]]:
    """Words of page 1 with their boxes in points from the top-left (pdftotext -bbox)."""
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pattern = (
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    )
    return [
        (w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in re.findall(pattern, html)
    ]


def test_parent_letter_reads_right(tmp_path):
    pdf = render.render_pdf(render.render_html("parents.html", merge()))
    [page] = pdf_text(pdf)
    expected = [
        "Dear Parents and Carers", "Our school is one of the 3 schools", "We ask for fair funding.",
        "Grace Vaughan", "Principal, School 1", "Abbey Academy", "Reference ABCD-EFGH-0001",
        "Page 1 of 1",
    ]  # fmt: skip
    for words in expected:
        assert words in page.replace("\n", " "), words
    assert "<p>" not in page
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Fair funding"
    assert reader.metadata.author == "Essex Heads"
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged for screen readers
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"


def test_the_address_sits_in_the_envelope_window(tmp_path):
    pdf = render.render_pdf(render.render_html("parents.html", merge()))
    words = word_boxes(pdf, tmp_path)
    address = {"Vaughan,", "Principal", "Station", "Basildon", "SS14", "1AA"}
    placed = [w for w in words if w[0] in address]
    assert {w[0] for w in placed} == address
    left, top, right, bottom = WINDOW
    for word, x0, y0, x1, y1 in placed:
        assert left - 0.5 <= x0 and x1 <= right and top <= y0 and y1 <= bottom, (word, x0, y0)
    postcode_line = max(y0 for w, _, y0, _, _ in placed)
    assert [w for w, _, y0, _, _ in placed if y0 == postcode_line] == ["SS14", "1AA"]


def test_long_cosignatory_lists_flow_onto_more_pages():
    many = [{"local_authority": "Essex", "schools": [f"School number {n}" for n in range(400)]}]
    pdf = render.render_pdf(render.render_html("parents.html", merge(cosignatories=many)))
    pages = pdf_text(pdf)
    assert len(pages) >= 3
    assert (
        f"Page 1 of {len(pages)}" in pages[0] and f"Page {len(pages)} of {len(pages)}" in pages[-1]
    )
    assert "School number 399" in "".join(pages)


def test_hostile_urls_are_refused_and_the_letter_still_renders(caplog):
    statement = (
        '<p>Text.</p><img src="http://169.254.169.254/latest/meta-data/">'
        '<img src="file:///etc/passwd"><img src="../campaign/config.py">'
        '<link rel="stylesheet" href="https://evil.example/x.css">'
    )
    # As an edited template might: the statement itself is sanitised before it gets here.
    html = render.render_html("parents.html", merge()).replace("<body>", f"<body>{statement}")
    with caplog.at_level(logging.WARNING):
        pdf = render.render_pdf(html)
    assert "Text." in pdf_text(pdf)[0]
    refused = " ".join(r.getMessage() for r in caplog.records)
    assert "169.254.169.254" in refused and "/etc/passwd" in refused


def test_the_fetcher_serves_letters_files_and_data_uris_only(tmp_path):
    fetcher = render.LettersFetcher()
    css = fetcher.fetch((render.LETTERS_DIR / "print.css").as_uri())
    assert b"@page" in css.read()
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    for url in ("file:///etc/passwd", "http://127.0.0.1/", "https://example.org/a.png",
                (render.LETTERS_DIR / ".." / "pyproject.toml").as_uri()):  # fmt: skip
        with pytest.raises(ValueError, match="Letters may only use"):
            fetcher.fetch(url)


def test_templates_run_in_a_sandbox():
    env = render.templates()
    with pytest.raises(SecurityError):
        env.from_string("{{ x.__class__.__mro__[1].__subclasses__() }}").render(x="")
    with pytest.raises(SecurityError):
        env.from_string("{{ f.__globals__ }}").render(f=render.render_html)
    assert "&lt;b&gt;" in env.from_string("{{ v }}").render(v="<b>")  # autoescaped


def test_batch_split_letters_equal_naive_ones():
    htmls = [render.render_html("parents.html", merge(i)) for i in range(1, 6)]
    htmls.append(
        render.render_html(
            "parents.html",
            merge(
                6,
                cosignatories=[
                    {"local_authority": "Essex", "schools": [f"S{n}" for n in range(300)]}
                ],
            ),
        )
    )
    batch = render.render_batch(htmls)
    for html, letter in zip(htmls, batch, strict=True):
        naive = pdf_text(render.render_pdf(html))
        split = pdf_text(letter.pdf)
        assert letter.pages == len(naive) == len(split)
        assert split == naive
        assert "/StructTreeRoot" in PdfReader(io.BytesIO(letter.pdf)).trailer["/Root"]


def words_per_page(pdf: bytes) -> list[list[str]]:
    return [sorted(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_stamped_letters_read_like_naive_ones_and_keep_their_tags(tmp_path):
    from campaign.letters.stamp import render_stamped

    long_list = [{"local_authority": "Essex", "schools": [f"S{n}" for n in range(300)]}]
    merges = [merge(i) for i in range(1, 4)] + [merge(4, cosignatories=long_list)]
    for m in merges:
        m["footer"] = "Reference ABCD-EFGH-IJKL"  # one reference per campaign, as in real letters
    stamped = render_stamped("parents.html", merges)
    for m, letter in zip(merges, stamped, strict=True):
        naive = render.render_pdf(render.render_html("parents.html", m))
        assert letter.pages == len(PdfReader(io.BytesIO(naive)).pages)
        assert words_per_page(letter.pdf) == words_per_page(naive)
        assert "/StructTreeRoot" in PdfReader(io.BytesIO(letter.pdf)).trailer["/Root"]
    # The stamp is in the tag tree too, so a screen reader reads the address and signer.
    path = tmp_path / "stamped.pdf"
    path.write_bytes(stamped[0].pdf)
    tagged = subprocess.run(
        ["pdfinfo", "-struct-text", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "Grace Vaughan" in tagged and "SS14 1AA" in tagged
    # The stamped address sits in the envelope window too.
    left, top, right, bottom = WINDOW
    placed = [w for w in word_boxes(stamped[0].pdf, tmp_path) if w[0] in {"Station", "SS14"}]
    assert len(placed) == 2
    for word, x0, y0, x1, y1 in placed:
        assert left - 0.5 <= x0 and x1 <= right and top <= y0 and y1 <= bottom, (word, x0, y0)
