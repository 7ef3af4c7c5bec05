"""Files the browser saves rather than shows."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from flask import Response


def attachment(body: bytes | str | Iterable[bytes], mimetype: str, filename: str) -> Response:
    """A download; `body` may be an iterable of pieces, streamed as they come."""
    safe = filename.replace('"', "").replace("\n", " ")
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{safe}"'}
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell a spreadsheet will show, not run: text that starts like a formula gets
    a leading apostrophe (numbers such as -3 are left alone)."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value.replace(",", ""))
    except ValueError:
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, out):
        self._writer = csv.writer(out)

    def writerow(self, row) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])


def csv_writer(out) -> _SafeWriter:
    """csv.writer for files a lead opens in Excel: heads' free text cannot become a formula."""
    return _SafeWriter(out)
