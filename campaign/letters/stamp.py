"""Parent letters at national scale: lay out each distinct body once, stamp each
school's own fields on it.

Parent letters differ only in the address block and the signer (name, role,
school); the rest (statement, co-signatories, footer) is shared by every school,
or by every school of a local authority above the co-signatory limit. Layout is
most of WeasyPrint's cost, so each distinct body is laid out once, as a tagged
PDF with empty address and signer boxes; the fields of all its letters are drawn
with reportlab in one overlay document (fonts embedded and subset once); each
letter is then the body with its overlay page added as a Form XObject, the body's
tag tree kept and the stamp added to it. About 10 ms a letter instead of about 100.
"""

from __future__ import annotations

import io
import json
from functools import cache

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
)

from campaign.letters.render import RenderedLetter, _layout, render_html

MM = 72 / 25.4
PX = 0.75  # CSS px in PDF points
WINDOW_LEFT, WINDOW_TOP = 24.6 * MM, 39.5 * MM  # the envelope window, from the top left
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


def _signer_box(document) -> tuple[int, float, float]:
    """(page index, x, y from the top, in points) of the empty .signer box."""
    for index, page in enumerate(document.pages):
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is not None and "signer" in (element.get("class") or "").split():
                return index, box.content_box_x() * PX, box.content_box_y() * PX
    raise ValueError("The template has no .signer box to stamp the signature into.")


def _overlays(merges: list[dict], signer: tuple[int, float, float], pages: int, size):
    """One reportlab document: for each letter, one page per body page."""
    from reportlab.pdfgen import canvas

    _fonts()
    width, height = size
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(width, height))
    signer_page, x, top = signer
    for merge in merges:
        for index in range(pages):
            if index == 0:
                c.setFont("stamp-sans", 10)
                y = height - WINDOW_TOP - 10
                for line in merge["address_lines"][:7]:
                    c.drawString(WINDOW_LEFT, y, line)
                    y -= 12.5
            if index == signer_page:
                c.setFont("stamp-serif-bold", 10.5)
                c.drawString(x, height - top - 10.5, merge["signed_by"]["name"])
                c.setFont("stamp-serif", 10.5)
                role = f"{merge['signed_by']['role']}, {merge['school']['name']}"
                c.drawString(x, height - top - 25.7, role)
            c.showPage()
    c.save()
    return PdfReader(io.BytesIO(out.getvalue()))


def _stamp(writer: PdfWriter, page, overlay_page, name: str) -> None:
    """Draw the overlay page over the page, without parsing either's content.
    `name` is unique per page: pages may share one resource dictionary."""
    form = DecodedStreamObject()
    form.set_data(overlay_page.get_contents().get_data())
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): overlay_page.mediabox,
            NameObject("/Resources"): overlay_page["/Resources"].clone(writer),
        }
    )
    resources = page["/Resources"].get_object()
    if "/XObject" not in resources:
        resources[NameObject("/XObject")] = DictionaryObject()
    resources["/XObject"].get_object()[NameObject(f"/{name}")] = writer._add_object(form)
    # The body's content leaves its own transform in place: isolate it, then stamp,
    # as marked content that the tag tree points to (so screen readers read it too).
    mcid = _tag(writer, page)
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q")
    after.set_data(f"Q /P <</MCID {mcid}>> BDC q /{name} Do Q EMC".encode())
    contents = page["/Contents"]
    streams = ArrayObject(contents if isinstance(contents, ArrayObject) else [contents])
    streams.insert(0, writer._add_object(before))
    streams.append(writer._add_object(after))
    page[NameObject("/Contents")] = streams


def _tag(writer: PdfWriter, page) -> int:
    """Add a paragraph to the document's tag tree for this page's stamp; return its MCID."""
    tree = writer._root_object["/StructTreeRoot"].get_object()
    document = tree["/K"][0] if isinstance(tree["/K"], ArrayObject) else tree["/K"]
    numbers = tree["/ParentTree"].get_object()["/Nums"]
    key = page["/StructParents"]
    position = next(i for i in range(0, len(numbers), 2) if numbers[i] == key)
    marked = numbers[position + 1].get_object()
    element = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/StructElem"),
            NameObject("/S"): NameObject("/P"),
            NameObject("/P"): document,
            NameObject("/Pg"): page.indirect_reference,
            NameObject("/K"): NumberObject(len(marked)),
        }
    )
    reference = writer._add_object(element)
    marked.append(reference)
    children = document.get_object()["/K"]
    if not isinstance(children, ArrayObject):
        children = ArrayObject([children])
        document.get_object()[NameObject("/K")] = children
    children.append(reference)
    return len(marked) - 1


def render_stamped(template: str, merges: list[dict]) -> list[RenderedLetter]:
    """Parent letters in the order given, each a shared tagged body with its own fields."""
    groups: dict[str, list[int]] = {}
    for index, merge in enumerate(merges):
        groups.setdefault(body_key(merge), []).append(index)
    letters: list[RenderedLetter | None] = [None] * len(merges)
    for indexes in groups.values():
        sample = merges[indexes[0]]
        document = _layout(render_html(template, {**sample, "stamped": True}))
        body = PdfReader(io.BytesIO(document.write_pdf(pdf_variant="pdf/ua-1")))
        pages = len(document.pages)
        size = (float(body.pages[0].mediabox.width), float(body.pages[0].mediabox.height))
        overlays = _overlays([merges[i] for i in indexes], _signer_box(document), pages, size)
        for n, index in enumerate(indexes):
            writer = PdfWriter(clone_from=body)
            for page_index, page in enumerate(writer.pages):
                overlay = overlays.pages[n * pages + page_index]
                _stamp(writer, page, overlay, f"LetterStamp{page_index}")
            out = io.BytesIO()
            writer.write(out)
            letters[index] = RenderedLetter(out.getvalue(), pages)
    return letters  # type: ignore[return-value]
