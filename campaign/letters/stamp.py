"""Parent letters at national scale: lay out each distinct body once, stamp each
school's own fields on it.

Parent letters differ only in the address block and the signer (name, role,
school); the rest (statement, co-signatories, footer) is shared by every school,
or by every school of a local authority above the co-signatory limit. Layout is
most of WeasyPrint's cost, so each distinct body is laid out once, as a tagged
PDF whose address and signer boxes are left empty. The fields of all its letters
are drawn with reportlab in one overlay document (fonts embedded and subset
once), and pikepdf (qpdf) places each letter's two overlay pages on its body as
Form XObjects: marked content that the body's empty address and signer elements
of the tag tree then hold, so screen readers read them where they stand.
"""

from __future__ import annotations

import io
import json
from functools import cache

import pikepdf
from pikepdf import Array, Dictionary, Name

from campaign.letters.render import RenderedLetter, _layout, render_html

MM = 72 / 25.4
PX = 0.75  # CSS px in PDF points
# The envelope window (GOV.UK Notify's precompiled letters), from the top left.
WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH = 24.6 * MM, 39.5 * MM, 95.4 * MM
PER_LETTER = ("address_lines", "school", "signed_by", "recipient_name")
FONTS = {
    "stamp-sans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "stamp-serif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "stamp-serif-bold": "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
}


@cache
def _fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, path in FONTS.items():
        pdfmetrics.registerFont(TTFont(name, path))


def body_key(merge: dict) -> str:
    """Letters whose merge data differ only in their own fields share a body."""
    shared = {k: v for k, v in merge.items() if k not in PER_LETTER}
    return json.dumps(shared, sort_keys=True, default=str)


def address_style(lines: int) -> tuple[float, float]:
    """(font size, leading) in points that fit this many lines in the window,
    the same as print.css gives the address when it is not stamped."""
    return (9, 10.5) if lines >= 7 else (10, 12.5)


def _signer_box(document) -> tuple[int, float, float]:
    """(page index, x, y from the top, in points) of the empty .signer box."""
    for index, page in enumerate(document.pages):
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is not None and "signer" in (element.get("class") or "").split():
                return index, box.content_box_x() * PX, box.content_box_y() * PX
    raise ValueError("The template has no .signer box to stamp the signature into.")


def _overlays(merges: list[dict], signer: tuple[int, float, float], size) -> pikepdf.Pdf:
    """One reportlab document with two pages a letter: its address, its signer."""
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    _fonts()
    width, height = size
    out = io.BytesIO()
    # The initial font is ours: reportlab would otherwise name Helvetica, unembedded.
    c = canvas.Canvas(out, pagesize=(width, height), initialFontName="stamp-sans")
    _, x, top = signer
    for merge in merges:
        lines = merge["address_lines"][:7]
        size_pt, leading = address_style(len(lines))
        y = height - WINDOW_TOP - size_pt
        for line in lines:
            # A line too long for the window is set smaller rather than cut.
            fit = min(size_pt, (WINDOW_WIDTH - 2) / max(stringWidth(line, "stamp-sans", 1), 1))
            c.setFont("stamp-sans", fit)
            c.drawString(WINDOW_LEFT, y, line)
            y -= leading
        c.showPage()
        c.setFont("stamp-serif-bold", 10.5)
        c.drawString(x, height - top - 10.5, merge["signed_by"]["name"])
        c.setFont("stamp-serif", 10.5)
        role = f"{merge['signed_by']['role']}, {merge['school']['name']}"
        c.drawString(x, height - top - 25.7, role)
        c.showPage()
    c.save()
    return pikepdf.open(io.BytesIO(out.getvalue()))


def _slots(pdf: pikepdf.Pdf) -> tuple[Dictionary, Dictionary]:
    """The body's empty address and signer elements of the tag tree, in reading order.

    The stamped body leaves exactly these two boxes empty (base.html and
    parents.html); WeasyPrint tags them as a Div and a P with no content."""
    empty: list[Dictionary] = []

    def walk(element) -> None:
        if isinstance(element, Array):
            for child in element:
                walk(child)
        elif isinstance(element, Dictionary) and element.get("/Type") == "/StructElem":
            kids = element.get("/K")
            if element.S in ("/Div", "/P") and isinstance(kids, Array) and len(kids) == 0:
                empty.append(element)
            elif kids is not None:
                walk(kids)

    walk(pdf.Root.StructTreeRoot.K)
    if len(empty) != 2:
        raise ValueError(
            f"A stamped body must leave 2 boxes empty (address, signer), not {len(empty)}."
        )
    return empty[0], empty[1]


def _place(pdf: pikepdf.Pdf, page: pikepdf.Page, form, slot: Dictionary) -> None:
    """Draw `form` over the page as marked content that `slot` (a tag) holds."""
    parents = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
    marked = parents[int(page.obj.StructParents)]
    mcid = len(marked)
    marked.append(slot)
    slot.K = Array([mcid])
    slot.Pg = page.obj
    name = page.add_resource(form, Name.XObject, prefix="Stamp")
    # The body's content leaves its own transform in place: isolate it first.
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    tag = str(slot.S)
    stamp = f"\nQ {tag} <</MCID {mcid}>> BDC q {name} Do Q EMC\n".encode()
    page.contents_add(pikepdf.Stream(pdf, stamp))


def slot_ids(body: bytes) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where the body's two empty tags are (their object ids), found once a body: the
    walk through its tag tree grows with the body (a long list of co-signatories)."""
    with pikepdf.open(io.BytesIO(body)) as pdf:
        address_slot, signer_slot = _slots(pdf)
        return address_slot.objgen, signer_slot.objgen


def stamp_letter(body: bytes, address, signer, signer_page: int, slots) -> bytes:
    """The body with one letter's address (page 1) and signer overlay pages on it;
    `slots` are the body's slot_ids."""
    with pikepdf.open(io.BytesIO(body)) as pdf:
        address_slot, signer_slot = (pdf.get_object(objgen) for objgen in slots)
        _place(pdf, pdf.pages[0], pdf.copy_foreign(address), address_slot)
        _place(pdf, pdf.pages[signer_page], pdf.copy_foreign(signer), signer_slot)
        out = io.BytesIO()
        # Copy the body's compressed streams as they are: decoding and compressing
        # them again was most of the cost. The version stays the body's own.
        pdf.save(
            out, stream_decode_level=pikepdf.StreamDecodeLevel.none, fix_metadata_version=False
        )
        return out.getvalue()


def render_stamped(template: str, merges: list[dict]) -> list[RenderedLetter]:
    """Parent letters in the order given, each a shared tagged body with its own fields."""
    groups: dict[str, list[int]] = {}
    for index, merge in enumerate(merges):
        groups.setdefault(body_key(merge), []).append(index)
    letters: list[RenderedLetter | None] = [None] * len(merges)
    for indexes in groups.values():
        sample = merges[indexes[0]]
        document = _layout(render_html(template, {**sample, "stamped": True}))
        body = document.write_pdf(pdf_variant="pdf/ua-1")
        pages = len(document.pages)
        size = document.pages[0].width * PX, document.pages[0].height * PX
        signer = _signer_box(document)
        slots = slot_ids(body)
        with _overlays([merges[i] for i in indexes], signer, size) as overlay:
            forms = [page.as_form_xobject() for page in overlay.pages]
            for n, index in enumerate(indexes):
                pdf = stamp_letter(body, forms[2 * n], forms[2 * n + 1], signer[0], slots)
                letters[index] = RenderedLetter(pdf, pages)
    return letters  # type: ignore[return-value]
