"""What the fuzz tests share: Hypothesis settings, strategies for the input people
and attackers send (text, numbers, CSV files), and one association whose database
is put back as it was after every example, so no example leaks into the next.

The settings profile is chosen by HYPOTHESIS_PROFILE: `fuzz` (the default, a few
seconds a target), `ci` (the same, derandomized so a run repeats), or `deep`
(ten times the examples, for a run by hand before a release).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from campaign.extensions import db
from tests.conftest import IN_CI

# --- settings -------------------------------------------------------------------

_COMMON = dict(
    deadline=None,  # a request takes what it takes; the budget is max_examples
    database=None,  # nothing written to the tree; a failure prints its reproduce blob
    print_blob=True,
    # Each test builds its association once and puts the database back after every
    # example (World.reset), so a function-scoped fixture is safe to share.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("fuzz", **_COMMON)
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("deep", **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "fuzz")
_SCALE = 10 if PROFILE == "deep" else 1


def examples(n: int) -> settings:
    """The profile's settings with n examples (ten times n in the deep profile)."""
    return settings(settings.get_profile(PROFILE), max_examples=n * _SCALE)


# --- text and numbers -------------------------------------------------------------

BOM = b"\xef\xbb\xbf"
# What breaks parsers, columns, headers and templates: NUL and other controls, line
# breaks of every kind, digits that str.isdigit takes and int() does not (or does),
# numbers past every integer type, and the usual injection shapes.
CONTROLS = [
    "", " ", "\x00", "a\x00b", "\ufeff", "\r", "\n", "\r\n", "a\r\nb", "\u2028", "\x85",
    "\t", "\x0b", "\x1b[31m", "\x7f", "\x9b", "\u202e", "e\u0301", "\U0001f600", "\U0010ffff",
]  # fmt: skip
NUMBERS = [
    "²", "①", "٣", "۳", "०", "𝟗", "½", "Ⅻ", "١٢٣٤٥٦", "9²",
    "-1", "0", "00", "-0", "1e309", "1e-309", "NaN", "Infinity", "-Infinity", "0x1F",
    str(2**31), str(2**31 - 1), str(2**63), str(-(2**63) - 1), str(2**64), "9" * 30, "9" * 400,
    "1" * 17 + ".5", "£1,000,000,000,000", "£-5", "1,000.00", " 12 ", "1_000",
]  # fmt: skip
INJECTIONS = [
    "<script>alert(1)</script>", "{{7*7}}", "%s%n", "' OR '1'='1", "../../etc/passwd",
    "//evil.example", "/\\evil.example", "/%09/evil.example", "javascript:alert(1)",
    "=cmd|' /C calc'!A0", '"', ",", '""', "a,b", '"unclosed', 'a"b',
]  # fmt: skip
SPECIALS = CONTROLS + NUMBERS + INJECTIONS
# Lengths either side of the columns' limits (50, 100, 200, 255, 300, 500, 2000, 5000).
_LENGTHS = [49, 51, 99, 101, 199, 200, 201, 255, 256, 301, 501, 2001, 5001, 10_001]

words = st.from_regex(r"[A-Za-z][A-Za-z '\-]{0,29}", fullmatch=True)
long_text = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["x", "é", "9", "语", " ", "\U0001f600"]),
    st.one_of(st.sampled_from(_LENGTHS), st.integers(1, 12_000)),
)
nasty_text = st.one_of(
    st.sampled_from(SPECIALS),
    st.text(max_size=40),  # any code point but surrogates, which no encoding carries
    st.lists(st.one_of(st.sampled_from(SPECIALS), st.text(max_size=6)), max_size=6).map("".join),
    long_text,
)
numberish = st.one_of(
    st.integers().map(str),
    st.integers(-(10**40), 10**40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
    st.sampled_from(NUMBERS),
)
anything = st.one_of(nasty_text, numberish)


def sometimes(valid: st.SearchStrategy, bad: st.SearchStrategy = anything, one_in: int = 5):
    """Mostly a valid value, one time in `one_in` a bad one; shrinks towards valid."""
    return st.integers(1, one_in).flatmap(lambda n: bad if n == one_in else valid)


# --- CSV files ----------------------------------------------------------------------

_HUGE_CELL = "x" * 140_000  # past the csv module's field limit (131,072 characters)


@st.composite
def csv_files(draw, columns: dict[str, st.SearchStrategy], required: Sequence[str]) -> bytes:
    """A CSV file as people make them and break them: columns in any order and case,
    a required one missing now and then, rows shorter or longer than the header,
    quoted line breaks, any line ending, UTF-8 with or without BOM, Windows-1252,
    UTF-16; or bytes that are no CSV at all."""
    kind = draw(st.sampled_from(["table"] * 8 + ["bytes", "empty"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "empty":
        return draw(st.sampled_from([b"", BOM, BOM + b"\r\n", BOM * 2, b"\n\n", b"\x00", b","]))
    names = [c for c in required if draw(st.integers(0, 9)) < 9]
    names += draw(st.lists(st.sampled_from([c for c in columns if c not in required]),
                           unique=True))  # fmt: skip
    names += draw(st.lists(nasty_text, max_size=1))
    names = draw(st.permutations(names))
    header = [draw(st.sampled_from([n, n.lower(), n.upper(), f" {n} "])) for n in names]
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [draw(sometimes(columns.get(n, nasty_text))) for n in names]
        shape = draw(st.sampled_from(["same"] * 6 + ["short", "long", "blank", "one"]))
        if shape == "short":
            row = row[: draw(st.integers(0, max(len(row) - 1, 0)))]
        elif shape == "long":
            row += draw(st.lists(anything, min_size=1, max_size=3))
        elif shape == "blank":
            row = [""] * len(row)
        elif shape == "one":
            row = [draw(anything)]
        rows.append(row)
    if rows and draw(st.integers(0, 29)) == 29:
        rows[draw(st.integers(0, len(rows) - 1))][0:1] = [_HUGE_CELL]
    newline = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    if draw(st.booleans()):  # written by a spreadsheet: quoted where needed
        out = io.StringIO()
        csv.writer(out, lineterminator=newline).writerows([header, *rows])
        text = out.getvalue()
    else:  # typed by hand: commas and quotes as they come
        text = newline.join(",".join(r) for r in [header, *rows])
        text += draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    return BOM + data if draw(st.integers(0, 9)) == 9 else data


# --- the association -----------------------------------------------------------------

STATEMENT = "# Fair funding\n\nFirst paragraph.\n\nSecond paragraph about SEND.\n\nThird."
URNS = (900001, 900002, 900003)


class World:
    """Association A with three schools and a campaign in each state (drafting,
    consulting, signing), a lead and a head signed in, and the database as it was
    when built, to go back to after each example. Built by the `world` fixture
    (tests/security/conftest.py) on the suite's association world."""

    def __init__(self, app: Flask, clients: dict[str, FlaskClient], ids: dict):
        self.app, self.clients, self.ids = app, clients, ids
        self.snapshot = dump(db.engine)

    def __repr__(self) -> str:  # Hypothesis prints it with a failing example
        return "World(association A)"

    def client(self, who: str) -> FlaskClient:
        """The lead's or head's signed-in client; a fresh one for "anonymous"."""
        return self.clients[who] if who != "anonymous" else self.app.test_client()

    def dump(self) -> dict[str, list[tuple]]:
        return dump(db.engine)

    def reset(self) -> None:
        """Put every table back as it was built, if anything changed."""
        db.session.rollback()
        if dump(db.engine) != self.snapshot:
            restore(db.engine, self.snapshot)
        db.session.expire_all()


def dump(bind) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""

    def read(conn):
        tables = db.metadata.sorted_tables
        ordered = {t.name: sa.select(t).order_by(*t.primary_key.columns) for t in tables}
        return {name: [tuple(r) for r in conn.execute(query)] for name, query in ordered.items()}

    if isinstance(bind, sa.Engine):
        with bind.connect() as conn:
            return read(conn)
    return read(bind)


def restore(engine: sa.Engine, snapshot: dict[str, list[tuple]]) -> None:
    """Empty every table and insert the snapshot's rows. A column whose foreign key
    closes a cycle (a campaign's frozen version) is set after its targets exist."""
    tables = db.metadata.sorted_tables
    with engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        later = []
        for table in tables:
            cyclic = [c for c in table.columns if any(fk.use_alter for fk in c.foreign_keys)]
            rows = [dict(zip(table.columns.keys(), r, strict=True)) for r in snapshot[table.name]]
            for row in rows:
                if values := {c.name: row[c.name] for c in cyclic if row[c.name] is not None}:
                    key = [c == row[c.name] for c in table.primary_key.columns]
                    later.append(table.update().where(*key).values(**values))
            if rows:
                blank = {c.name: None for c in cyclic}
                conn.execute(table.insert(), [{**row, **blank} for row in rows])
        for statement in later:
            conn.execute(statement)
