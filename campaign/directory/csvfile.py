"""Reading the CSV files people bring: the register, the roster, the MPs list.

Shared rules: decode UTF-8 or Windows-1252, find columns by header name, count
physical lines so a bad row can be named, and report in one summary shape.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

# C1 control characters never belong in a name; when they appear, a
# Windows-1252 byte was decoded as Latin-1 upstream (0x92 is a curly apostrophe).
_C1 = re.compile("[\x80-\x9f]")


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

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append({"line": line, "reason": reason})

    def as_dict(self) -> dict:
        return asdict(self)


def decode(data: bytes) -> str:
    """Text of a CSV file that may be UTF-8 (with or without BOM) or Windows-1252."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return _C1.sub(lambda m: m.group().encode("latin-1").decode("cp1252", "replace"), text)


def read_rows(data: bytes, required: list[str], what: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (physical line of the row's start, row) with headers and values stripped.

    Refuses the file, naming the missing columns, before yielding anything.
    """
    if not data.strip():
        raise ImportRefused(f"The file is empty: expected {what}.")
    reader = csv.reader(io.StringIO(decode(data), newline=""))
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
            yield start, {n: v.strip() for n, v in zip(names, values, strict=False)}
    except csv.Error as exc:
        raise ImportRefused(f"Line {line + 1} could not be read as CSV: {exc}.") from None


def column(row: dict[str, str], name: str) -> str:
    """A field by header name, case-insensitively; empty when the layout lacks it."""
    if name in row:
        return row[name]
    lowered = name.lower()
    return next((v for k, v in row.items() if k.lower() == lowered), "")


def _join(names: list[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
