"""Downloads and the email version of the letters."""

from __future__ import annotations

import csv
import io
import re
import zipfile

from pypdf import PdfReader

from campaign.letters import outputs
from campaign.letters.emails import email_body
from campaign.letters.models import Audience
from campaign.letters.services import dao_letters
from campaign.letters.store import letter_store
from tests.factories import BASE, sign_in

LETTERS = f"{BASE}/letters"


def test_print_pack_pages_are_the_letters_padded_for_duplex_and_match_the_manifest(
    rendered, tmp_path
):
    letters = dao_letters(rendered.campaign.id, Audience.MPS)
    # Two batches of one letter each, as the task reads them.
    written = outputs.write_pack([[letter] for letter in letters], letter_store(), tmp_path)
    expected = sum(letter.pages + letter.pages % 2 for letter in letters)
    assert len(PdfReader(written.pdf).pages) == expected == written.pages
    assert written.letters == 2
    rows = list(csv.DictReader(written.manifest.open(encoding="utf-8")))
    assert [r["Recipient"] for r in rows] == [letter.recipient_name for letter in letters]
    first_pages = [int(r["First page in pack"]) for r in rows]
    # Every letter starts on a new sheet when printed double-sided.
    assert first_pages[0] == 1 and all(p % 2 == 1 for p in first_pages)
    assert rows[0]["Address lines"].endswith("SW1A 0AA")
    assert [int(r["Pages"]) for r in rows] == [letter.pages for letter in letters]
    # The copy of each letter taken from the store is gone.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv", "print-pack.pdf"]


def test_zip_has_one_pdf_per_letter_named_by_urn_and_school(rendered):
    letters = dao_letters(rendered.campaign.id, Audience.PARENTS)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(outputs.letters_zip(letters, letter_store()))))
    assert sorted(archive.namelist()) == ["900001 Saxon High.pdf", "900003 Thurrock School.pdf"]
    saxon = next(x for x in letters if x.recipient == "school:900001")
    assert archive.read("900001 Saxon High.pdf") == saxon.pdf


def test_preview_is_a_png_of_the_first_page(rendered):
    letter = dao_letters(rendered.campaign.id, Audience.PARENTS)[0]
    png = outputs.first_page_png(letter)
    assert png.startswith(b"\x89PNG")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert abs(height / width - 297 / 210) < 0.01  # A4


def test_email_versions_carry_the_same_facts_and_no_remote_images(rendered):
    letter = next(
        x for x in dao_letters(rendered.campaign.id, Audience.MPS) if x.recipient.endswith("077")
    )
    body = email_body(letter)
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter.pdf)).pages)
    for fact in ("Saxon High", "£250,000", "Richard Holden"):
        assert fact in body.text and fact in body.html and fact in pdf_text.replace("\n", " ")
    assert "Abbey Academy" not in body.text
    assert "<img" not in body.html and "url(" not in body.html
    assert 'style="' in body.html  # inline styles, no stylesheet to fetch


def test_letters_pages_for_the_lead_only_and_scoped(client, rendered):
    sign_in(client, rendered.lead)
    page = client.get(f"{LETTERS}/").get_data(as_text=True)
    assert "Saxon High" in page and "Build the print pack" in page
    letter_id = re.search(r"/letters/(\d+)\.pdf", page).group(1)
    assert client.get(f"{LETTERS}/{letter_id}.pdf").mimetype == "application/pdf"
    assert client.get(f"{LETTERS}/{letter_id}/preview.png").mimetype == "image/png"
    assert "As an email" in client.get(f"{LETTERS}/{letter_id}").get_data(as_text=True)
    assert client.get(f"{LETTERS}/parents.zip").mimetype == "application/zip"
    sign_in(client, rendered.head)
    assert client.get(f"{LETTERS}/").status_code == 403
    sign_in(client, rendered.lead_b)
    assert client.get(f"{LETTERS}/{letter_id}.pdf").status_code == 404


def test_render_from_the_page_runs_the_job_and_reports(client, signed):
    sign_in(client, signed.lead)
    response = client.post(f"{LETTERS}/mps/render")
    assert response.status_code == 302
    status = client.get(f"{LETTERS}/mps/status.json").get_json()
    assert (status["state"], status["done"], status["total"]) == ("done", 2, 2)
    assert len(dao_letters(signed.campaign.id, Audience.MPS)) == 2
