"""What the lead downloads: one letter's first page as an image, ZIPs of PDFs, and
the print pack (one PDF, each letter starting on a new sheet, and a manifest)."""

from __future__ import annotations

import io
import re
import zipfile

import pypdfium2
from pypdf import PdfReader, PdfWriter

from campaign.downloads import csv_writer
from campaign.letters.models import Letter


def first_page_png(letter: Letter, scale: float = 1.2) -> bytes:
    """The letter's first page as a PNG, for the preview."""
    document = pypdfium2.PdfDocument(letter.pdf)
    try:
        image = document[0].render(scale=scale).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()
    finally:
        document.close()


def file_name(letter: Letter) -> str:
    """ "900026 Abbey Community College.pdf", "E14001077 Richard Holden MP.pdf"."""
    key = letter.recipient.split(":", 1)[1]
    name = re.sub(r"[^\w .,'()-]+", "", letter.recipient_name).strip()
    return f"{key} {name}.pdf"


def letters_zip(letters: list[Letter]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for letter in letters:
            archive.writestr(file_name(letter), letter.pdf)
    return out.getvalue()


def print_pack(letters: list[Letter]) -> tuple[bytes, str]:
    """One PDF for the printer, each letter starting on a new sheet when printed
    double-sided (a blank page pads odd page counts), and its manifest CSV."""
    writer = PdfWriter()
    manifest = io.StringIO()
    rows = csv_writer(manifest)
    rows.writerow(
        ["Sequence", "Reference", "Recipient", "Address lines", "Pages", "First page in pack"]
    )
    for sequence, letter in enumerate(letters, 1):
        first = len(writer.pages) + 1
        reader = PdfReader(io.BytesIO(letter.pdf))
        for page in reader.pages:
            writer.add_page(page)
        if len(reader.pages) % 2:
            box = reader.pages[-1].mediabox
            writer.add_blank_page(width=box.width, height=box.height)
        rows.writerow(
            [
                sequence,
                f"{letter.merge['reference']}/{letter.recipient.split(':', 1)[1]}",
                letter.recipient_name,
                " | ".join(letter.merge["address_lines"]),
                len(reader.pages),
                first,
            ]
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), manifest.getvalue()
