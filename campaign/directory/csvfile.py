"""Reading the CSV files people bring: the register, the roster, the MPs list.

Shared rules: decode UTF-8 or Windows-1252, find columns by header name, count
physical lines so a bad row can be named, and report in one summary shape.
The checks every importer makes on a row live here too: the number of fields,
control characters, numbers written in ASCII digits within a bound, and values
no longer than their database column.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

from sqlalchemy import Table

# C1 control characters never belong in a name; when they appear, a
# Windows-1252 byte was decoded as Latin-1 upstream (0x92 is a curly apostrophe).
_C1 = re.compile("[\x80-\x9f]")
# What no field may hold: NUL (PostgreSQL refuses it) and the other C0 controls
# and DEL. Tabs and line breaks are ordinary CSV content.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Long imports report how many rows they have read this often.
PROGRESS_EVERY = 500


class ImportRefused(Exception):
    """The file as a whole cannot be imported; nothing was written."""


@dataclass
class ImportSummary:
    """What an import did, in the shape `--json` prints and the upload page shows."""

    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: list[dict] = field(default_factory=list)
    # Rows imported with something the lead should know (a name left as it was).
    notes: list[dict] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append({"line": line, "reason": reason})

    def note(self, line: int, text: str) -> None:
        self.notes.append({"line": line, "note": text})

    def as_dict(self) -> dict:
        summary = asdict(self)
        if not self.notes:  # most imports have none: keep the shape callers know
            del summary["notes"]
        return summary


def decode(data: bytes) -> str:
    """Text of a CSV file that may be UTF-8 (with or without BOM) or Windows-1252."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # A BOM on Windows-1252 text (a file mended in two editors) is still no header.
        text = data.removeprefix(codecs.BOM_UTF8).decode("cp1252", errors="replace")
    return _C1.sub(lambda m: m.group().encode("latin-1").decode("cp1252", "replace"), text)


def read_rows(
    data: bytes, required: list[str], what: str, summary: ImportSummary | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (physical line of the row's start, row) with headers and values stripped.

    Refuses the file, naming the missing columns, before yielding anything. A
    row with fewer fields than the header, more (other than empty ones), or a
    control character is rejected into `summary` with its line and not
    yielded; without a summary it refuses the file, naming the line.
    """
    text = decode(data)
    if not text.strip():  # nothing, or only a byte-order mark and blank lines
        raise ImportRefused(f"The file is empty: expected {what}.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise ImportRefused(f"The file could not be read as CSV: {exc}.") from None
    by_lower = {h.lower(): h for h in header}
    missing = [name for name in required if name.lower() not in by_lower]
    if missing:
        raise ImportRefused(
            f"This is not {what}: it has no {_join(missing)} column"
            f"{'s' if len(missing) > 1 else ''}."
        )
    canonical = {name.lower(): name for name in required}
    names = [canonical.get(h.lower(), h) for h in header]
    line = reader.line_num
    try:
        for values in reader:
            start, line = line + 1, reader.line_num
            if not any(v.strip() for v in values):
                continue
            problem = _row_problem(names, values)
            if problem is None:
                yield start, {n: v.strip() for n, v in zip(names, values, strict=False)}
            elif summary is None:
                raise ImportRefused(f"Line {start}: {problem}")
            else:
                summary.read += 1
                summary.reject(start, problem)
    except csv.Error as exc:
        raise ImportRefused(f"Line {line + 1} could not be read as CSV: {exc}.") from None


def _row_problem(names: list[str], values: list[str]) -> str | None:
    """Why a row cannot be read field by field, or None."""
    if len(values) < len(names) or any(v.strip() for v in values[len(names) :]):
        return (
            f"the row has {len(values)} fields but the header has {len(names)}: "
            "look for a missing or extra comma, or an unclosed quote."
        )
    if _CONTROL.search("".join(values)):
        for name, value in zip(names, values, strict=False):
            if found := _CONTROL.search(value):
                return f"{name or 'A field'} contains a control character (U+{ord(found[0]):04X})."
    return None


def whole_number(text: str, maximum: int) -> int | None:
    """The number `text` writes in the digits 0-9, if it is at most `maximum`; else None.

    Only ASCII digits: str.isdigit also accepts "²" and "①", which int() refuses.
    """
    digits = text.lstrip("0") or ("0" if text else "")
    if not digits.isascii() or not digits.isdigit() or len(digits) > len(str(maximum)):
        return None
    number = int(digits)
    return number if number <= maximum else None


def column_limits(table: Table, attrs: Iterable[str]) -> dict[str, int]:
    """The longest text each of these columns holds (its String(n) length), by attribute."""
    limits = {}
    for attr in attrs:
        length = getattr(table.c[attr].type, "length", None)
        if length:
            limits[attr] = length
    return limits


def too_long(
    values: dict[str, object], limits: dict[str, int], labels: dict[str, str]
) -> str | None:
    """Why the first value longer than its column allows is refused, named by its
    header in `labels`; None when every value fits."""
    for attr, limit in limits.items():
        value = values.get(attr)
        if isinstance(value, str) and len(value) > limit:
            return f"{labels.get(attr, attr)} is longer than {limit:,} characters."
    return None


def column(row: dict[str, str], name: str) -> str:
    """A field by header name, case-insensitively; empty when the layout lacks it."""
    if name in row:
        return row[name]
    lowered = name.lower()
    return next((v for k, v in row.items() if k.lower() == lowered), "")


def _join(names: list[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
