"""The mail house's checks, read back from a letter's PDF as printers read it.

The rules are GOV.UK Notify's for precompiled letters, the strictest UK route: a
well-formed PDF (qpdf's own check, through pikepdf), A4 portrait, at most 10
pages and 2 MB, every font embedded, text only inside the printable area (15 mm
from the sides, 5 mm from the top and bottom) and, on page 1, only in the logo
and contact areas, the envelope window and the body from 95 mm down; the address
in the window 3 to 7 lines, a UK postcode last, no line starting with a character
that sorting machines refuse. Text positions come from pdfium, the engine of
Chrome's viewer, so a letter that passes is one that a reader's viewer draws.
"""

from __future__ import annotations

import io
import re
from typing import NamedTuple

import pikepdf
import pypdfium2

MM = 72 / 25.4
A4 = (210, 297)
MAX_PAGES = 10
MAX_BYTES = 2 * 1024 * 1024
TOLERANCE = 0.3  # mm: pdfium's character boxes are rounded
BAD_FIRST = tuple('@()=[]"\\/,<>~')
POSTCODE = re.compile(r"(GIR ?0AA|[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2}|BFPO ?[0-9]{1,4})")


class Zone(NamedTuple):
    """A rectangle in millimetres from the page's top left corner."""

    name: str
    left: float
    top: float
    right: float
    bottom: float

    def holds(self, left: float, top: float, right: float, bottom: float) -> bool:
        t = TOLERANCE
        return (
            left >= self.left - t
            and right <= self.right + t
            and top >= self.top - t
            and bottom <= self.bottom + t
        )


PRINTABLE = Zone("printable area", 15, 5, 195, 292)
LOGO = Zone("logo area", 15, 5, 125, 30)
CONTACT = Zone("contact area", 125, 5, 195, 95)
WINDOW = Zone("address window", 24.6, 39.5, 120, 66.3)
BODY = Zone("body", 15, 95, 195, 292)
FIRST_PAGE = (LOGO, CONTACT, WINDOW, BODY)


def check_pdf(pdf: bytes) -> list[str]:
    """Every rule the letter breaks, in words a lead can act on; [] if it passes."""
    problems = []
    if len(pdf) > MAX_BYTES:
        problems.append(f"It is {len(pdf) / 1024 / 1024:.1f} MB: a letter may be at most 2 MB.")
    try:
        with pikepdf.open(io.BytesIO(pdf)) as document:
            problems += [f"Not a well-formed PDF: {w}" for w in document.check_pdf_syntax()]
            problems += [f"Not a well-formed PDF: {w}" for w in document.get_warnings()]
            problems += _pages_and_fonts(document)
    except pikepdf.PdfError as exc:
        return [*problems, f"Not a well-formed PDF: {exc}"]
    problems += _text(pdf)
    return problems


def _pages_and_fonts(document: pikepdf.Pdf) -> list[str]:
    problems = []
    if len(document.pages) > MAX_PAGES:
        problems.append(f"It has {len(document.pages)} pages: a letter may have at most 10.")
    for number, page in enumerate(document.pages, 1):
        box = [float(v) for v in page.mediabox]
        width, height = (box[2] - box[0]) / MM, (box[3] - box[1]) / MM
        if abs(width - A4[0]) > 1 or abs(height - A4[1]) > 1 or page.rotation % 180:
            problems.append(f"Page {number} is {width:.0f} × {height:.0f} mm, not A4 portrait.")
    problems += [f"The font {name} is not embedded." for name in sorted(_unembedded(document))]
    return problems


def _unembedded(document: pikepdf.Pdf) -> set[str]:
    """Names of the fonts used anywhere (forms included) without their font file."""
    missing: set[str] = set()
    seen: set[tuple[int, int]] = set()

    def resources(res) -> None:
        if res is None or (res.is_indirect and res.objgen in seen):
            return
        if res.is_indirect:
            seen.add(res.objgen)
        for font in (res.get("/Font") or {}).values():
            if font.get("/Subtype") == "/Type3":
                resources(font.get("/Resources"))
                continue
            described = font.DescendantFonts[0] if font.get("/Subtype") == "/Type0" else font
            descriptor = described.get("/FontDescriptor")
            if descriptor is None or not any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
            ):
                missing.add(str(font.get("/BaseFont", "(unnamed)")).lstrip("/"))
        for xobject in (res.get("/XObject") or {}).values():
            if xobject.get("/Subtype") == "/Form":
                resources(xobject.get("/Resources"))

    for page in document.pages:
        resources(page.obj.get("/Resources"))
    return missing


def _text(pdf: bytes) -> list[str]:
    """Where pdfium finds text, against the zones; and the address in the window."""
    problems = []
    document = pypdfium2.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            height = page.get_height()
            text = page.get_textpage()
            zones = FIRST_PAGE if index == 0 else (PRINTABLE,)
            for left, top, right, bottom, words in _outside(text, height, zones):
                where = "the logo, contact, address and body areas" if index == 0 else "the margins"
                problems.append(
                    f"Page {index + 1}: text outside {where} at {left:.0f}–{right:.0f} mm across, "
                    f"{top:.0f}–{bottom:.0f} mm down: '{words}'."
                )
            if index == 0:
                problems += address_problems(_window_lines(text, height))
    finally:
        document.close()
    return problems


def _mm(height: float, left: float, bottom: float, right: float, top: float):
    return left / MM, (height - top) / MM, right / MM, (height - bottom) / MM


def _outside(text, height: float, zones: tuple[Zone, ...]):
    """(box in mm, its text) of each run of text not wholly inside one zone, char by
    char where a run straddles zones (a line may run on from one zone into the next)."""
    for i in range(text.count_rects()):
        rect = text.get_rect(i)
        box = _mm(height, *rect)
        if any(zone.holds(*box) for zone in zones):
            continue
        words = text.get_text_bounded(*rect).strip()
        stray = [
            _mm(height, *text.get_charbox(c, loose=False))
            for c in range(text.count_chars())
            if _inside(_mm(height, *text.get_charbox(c, loose=False)), box)
            and not text.get_text_range(c, 1).isspace()
        ]
        stray = [b for b in stray if not any(zone.holds(*b) for zone in zones)]
        if stray:
            yield (
                min(b[0] for b in stray),
                min(b[1] for b in stray),
                max(b[2] for b in stray),
                max(b[3] for b in stray),
                words[:60],
            )


def _inside(inner, outer) -> bool:
    t = 0.05
    return (
        inner[0] >= outer[0] - t
        and inner[1] >= outer[1] - t
        and inner[2] <= outer[2] + t
        and inner[3] <= outer[3] + t
    )


def _window_lines(text, height: float) -> list[str]:
    left, top, right, bottom = WINDOW[1:]
    found = text.get_text_bounded(left * MM, height - bottom * MM, right * MM, height - top * MM)
    return [line.strip() for line in found.splitlines() if line.strip()]


def address_problems(lines: list[str]) -> list[str]:
    """The window's rules for an address, given as its lines."""
    if not lines:
        return ["There is no address in the envelope window."]
    problems = []
    if not 3 <= len(lines) <= 7:
        problems.append(f"The address has {len(lines)} lines: it must have 3 to 7.")
    if not POSTCODE.fullmatch(" ".join(lines[-1].upper().split())):
        problems.append(f"The address's last line, '{lines[-1]}', is not a UK postcode.")
    for number, line in enumerate(lines, 1):
        if line.startswith(BAD_FIRST):
            problems.append(
                f"Address line {number} starts with '{line[0]}', which the post does not accept."
            )
    return problems
