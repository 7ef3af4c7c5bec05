"""The pack's writer: pages of many PDFs in one file, one PDF open at a time."""

from __future__ import annotations

import io
import subprocess

import pikepdf
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from campaign.letters.joiner import PdfJoiner


def _pdf(*texts: str, size=(595.28, 841.89)) -> pikepdf.Pdf:
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=size)
    for text in texts:
        page.drawString(72, 720, text)
        page.showPage()
    page.save()
    return pikepdf.open(io.BytesIO(out.getvalue()))


def test_pages_keep_their_order_text_fonts_and_what_they_inherit(tmp_path):
    inheriting = _pdf("Inherits its box", size=(300, 400))
    page = inheriting.pages[0].obj
    inheriting.Root.Pages.MediaBox, inheriting.Root.Pages.Resources = page.MediaBox, page.Resources
    del page.MediaBox, page.Resources
    path = tmp_path / "joined.pdf"
    with path.open("wb") as out:
        joiner = PdfJoiner(out)
        joiner.add(_pdf("First letter, page 1", "First letter, page 2"))
        joiner.add(inheriting)
        joiner.add_blank(300, 400)
        joiner.add(_pdf("(Brackets) and \\ backslash \u00e9"))
        joiner.finish(title="Print pack")
    assert joiner.pages == 5
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    reader = PdfReader(path)
    texts = [p.extract_text().strip() for p in reader.pages]
    assert texts[:3] == ["First letter, page 1", "First letter, page 2", "Inherits its box"]
    assert texts[3] == "" and "(Brackets) and \\ backslash" in texts[4]
    assert [float(p.mediabox.width) for p in reader.pages] == [595.28, 595.28, 300, 300, 595.28]
    assert reader.metadata.title == "Print pack"
