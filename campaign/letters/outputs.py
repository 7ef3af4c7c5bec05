"""What the lead downloads: one letter's first page as an image, ZIPs of PDFs, and
the print pack (one PDF, each letter starting on a new sheet, and a manifest),
which a worker writes to files (packs.py builds it)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdfium2
from sqlalchemy import Row

from campaign.downloads import csv_writer
from campaign.letters.checks import check_pdf
from campaign.letters.joiner import PdfJoiner
from campaign.letters.models import Letter, parse_recipient
from campaign.letters.services import LettersError, failing_message
from campaign.letters.store import LetterStore


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


def file_name(letter: Letter | Row) -> str:
    """ "900026 Abbey Community College.pdf", "E14001077 Richard Holden MP.pdf"."""
    key = parse_recipient(letter.recipient)[1]
    name = re.sub(r"[^\w .,'()-]+", "", letter.recipient_name).strip()
    return f"{key} {name}.pdf"


class _Pieces(io.RawIOBase):
    """Where a ZIP being streamed is written: the bytes so far, taken as they come."""

    def __init__(self):
        self._pieces: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._pieces.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        pieces, self._pieces = self._pieces, []
        return b"".join(pieces)


def letters_zip(letters: Iterable[Letter | Row], store: LetterStore) -> Iterator[bytes]:
    """A ZIP of the letters' PDFs, made as it is sent: one PDF in memory at a time,
    read from the store in pieces, whatever the number of letters. Needs no app
    context, so a response can stream it after the request's context is gone."""
    out = _Pieces()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for letter in letters:
            with archive.open(file_name(letter), "w") as entry:
                for piece in store.stream(letter.sha256):
                    entry.write(piece)
            yield out.take()
    yield out.take()


def require_checked(letters: list[Letter]) -> None:
    """Refuse, naming them, letters that fail the mail-house check (checking any
    not checked yet: letters rendered before the check existed)."""
    for letter in letters:
        if letter.problems is None:
            letter.problems = check_pdf(letter.pdf)
    if failing := [letter for letter in letters if letter.problems]:
        raise LettersError(failing_message(failing))


MANIFEST_HEADER = [
    "Sequence", "Reference", "Recipient", "Address lines", "Pages", "First page in pack"
]  # fmt: skip


@dataclass
class WrittenPack:
    pdf: Path
    manifest: Path
    letters: int
    pages: int


def write_pack(batches: Iterable[list[Letter]], store: LetterStore, folder: Path) -> WrittenPack:
    """The print pack and its manifest CSV, written into `folder`: one PDF for the
    printer, each letter starting on a new sheet when printed double-sided (a blank
    page pads odd page counts). Letters are copied from the store and into the pack
    one at a time (joiner.py), so the memory it takes does not grow with the pack."""
    pdf_path, manifest_path, sequence = folder / "print-pack.pdf", folder / "manifest.csv", 0
    source = folder / "letter.pdf"
    with (
        pdf_path.open("wb") as pdf_out,
        manifest_path.open("w", encoding="utf-8", newline="") as out,
    ):
        pack, rows = PdfJoiner(pdf_out), csv_writer(out)
        rows.writerow(MANIFEST_HEADER)
        for letters in batches:
            for letter in letters:
                sequence += 1
                rows.writerow([
                    sequence,
                    f"{letter.merge['reference']}/{letter.recipient_code}",
                    letter.recipient_name,
                    " | ".join(letter.merge["address_lines"]),
                    letter.pages,
                    pack.pages + 1,
                ])  # fmt: skip
                with source.open("wb") as copy:
                    for piece in store.stream(letter.sha256):
                        copy.write(piece)
                with pikepdf.open(source) as pdf:
                    pack.add(pdf)
                    if len(pdf.pages) % 2:
                        box = pdf.pages[-1].mediabox
                        pack.add_blank(float(box[2]), float(box[3]))
        pack.finish(title="Print pack")
        pages = pack.pages
    source.unlink(missing_ok=True)
    return WrittenPack(pdf_path, manifest_path, sequence, pages)
