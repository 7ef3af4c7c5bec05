"""One PDF made of many, written as it goes: each letter's pages and what they use
are copied into the file with new object numbers, then the letter is closed.

qpdf (and so pikepdf) keeps every object of the document it writes in memory,
about 300 KB a one-page letter here: 6 GB for a pack of 20,000 letters. This
writer holds one letter open at a time and, of those before it, only where each
object starts in the file (for the cross-reference table at the end), so a pack
takes the same memory whatever its length. Pages are written as their letter has
them, with what they inherit from their page tree; the letters' tag trees and
outlines are left behind, as qpdf's page copying leaves them.
"""

from __future__ import annotations

from array import array
from decimal import Decimal
from typing import BinaryIO

import pikepdf

INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
CATALOG, PAGES = 1, 2  # written last, when every page is known


class PdfJoiner:
    """Pages appended one PDF at a time to a file opened for writing in binary."""

    def __init__(self, out: BinaryIO):
        self._out = out
        self._written = 0
        self._offsets = array("Q", [0, 0])  # where object n starts, at n - 1
        self._pages: list[int] = []
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    @property
    def pages(self) -> int:
        return len(self._pages)

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._written += len(data)

    def _new_number(self) -> int:
        self._offsets.append(0)
        return len(self._offsets)

    def _start(self, number: int) -> None:
        self._offsets[number - 1] = self._written
        self._write(b"%d 0 obj\n" % number)

    def add(self, pdf: pikepdf.Pdf) -> None:
        """Every page of `pdf`, with the objects they use; `pdf` can be closed after."""
        copy = _Copy(self._new_number)
        pages = list(pdf.pages)
        for page in pages:  # numbered first: a link to a later page finds its number
            copy.numbers[page.obj.objgen] = self._new_number()
        for page in pages:
            own = dict(page.obj.items())
            for key in INHERITED:
                if key not in own and (value := _inherited(page.obj, key)) is not None:
                    own[key] = value  # the new page tree has none of it to pass on
            own.pop("/StructParents", None)  # its letter's tag tree stays behind
            own.pop("/Parent", None)
            number = copy.numbers[page.obj.objgen]
            self._start(number)
            self._write(copy.dictionary(own.items())[:-2] + b"/Parent %d 0 R>>\nendobj\n" % PAGES)
            self._pages.append(number)
            while copy.todo:
                obj = copy.todo.pop()
                self._start(copy.numbers[obj.objgen])
                if isinstance(obj, pikepdf.Stream):
                    raw = obj.read_raw_bytes()
                    items = [(k, v) for k, v in obj.stream_dict.items() if k != "/Length"]
                    self._write(copy.dictionary([*items, ("/Length", len(raw))]))
                    self._write(b"\nstream\n" + raw + b"\nendstream\nendobj\n")
                else:
                    self._write(copy.direct(obj, top=True) + b"\nendobj\n")

    def add_blank(self, width: float, height: float) -> None:
        """A blank page, to start the next letter on a new sheet."""
        number = self._new_number()
        self._start(number)
        box = b"[0 0 %s %s]" % (_number(width), _number(height))
        self._write(b"<</Type/Page/Parent %d 0 R/MediaBox %s/Resources<<>>>>\nendobj\n"
                    % (PAGES, box))  # fmt: skip
        self._pages.append(number)

    def finish(self, title: str) -> None:
        """The page tree, the catalog, the document's title and the cross-references."""
        kids = b" ".join(b"%d 0 R" % n for n in self._pages)
        self._start(PAGES)
        self._write(b"<</Type/Pages/Kids[%s]/Count %d>>\nendobj\n" % (kids, len(self._pages)))
        self._start(CATALOG)
        self._write(b"<</Type/Catalog/Pages %d 0 R>>\nendobj\n" % PAGES)
        info = self._new_number()
        self._start(info)
        self._write(b"<</Title%s>>\nendobj\n" % pikepdf.String(title).unparse())
        xref, size = self._written, len(self._offsets) + 1
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for offset in self._offsets:
            self._write(b"%010d 00000 n \n" % offset)
        self._write(b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R>>\n" % (size, CATALOG, info))
        self._write(b"startxref\n%d\n%%%%EOF\n" % xref)


class _Copy:
    """One letter's objects as they are written: each indirect object it reaches
    gets a new number the first time, and is queued to be written."""

    def __init__(self, new_number):
        self._new_number = new_number
        self.numbers: dict[tuple[int, int], int] = {}
        self.todo: list[pikepdf.Object] = []

    def number(self, obj: pikepdf.Object) -> int:
        if obj.objgen not in self.numbers:
            self.numbers[obj.objgen] = self._new_number()
            self.todo.append(obj)
        return self.numbers[obj.objgen]

    def direct(self, value, *, top: bool = False) -> bytes:
        """The value as PDF source, its indirect objects as references."""
        if isinstance(value, pikepdf.Object) and value.is_indirect and not top:
            return b"%d 0 R" % self.number(value)
        if isinstance(value, bool):
            return b"true" if value else b"false"
        if isinstance(value, int):
            return b"%d" % value
        if isinstance(value, Decimal | float):
            return _number(value)
        if value is None:
            return b"null"
        if isinstance(value, pikepdf.Array):
            return b"[" + b" ".join(self.direct(item) for item in value) + b"]"
        if isinstance(value, pikepdf.Dictionary):
            return self.dictionary(value.items())
        return value.unparse(resolved=True)  # a name or a string, escaped as PDF needs

    def dictionary(self, items) -> bytes:
        pairs = (pikepdf.Name(key).unparse() + b" " + self.direct(value) for key, value in items)
        return b"<<" + b"".join(pairs) + b">>"


def _inherited(page: pikepdf.Dictionary, key: str):
    node = page
    while (node := node.get("/Parent")) is not None:
        if key in node:
            return node[key]
    return None


def _number(value: Decimal | float) -> bytes:
    return format(Decimal(str(value)), "f").encode()
