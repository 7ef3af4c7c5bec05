"""Print packs, built by a worker into the letter store, never in a web request.

The page saves a PrintPack for the letters it names (queued) and queues its id
(steps.build_pack); the worker claims it, refuses it naming the letters that fail
the mail-house check, reads the letters a few hundred at a time and copies their
PDFs from the store into the pack file one by one (outputs.write_pack, joiner.py),
stores the pack and its manifest, and marks it ready
with the digest of the letters it was made from. The page compares that digest
with the letters as they are now: a pack of letters rendered again since is out
of date. Every write of a worker is guarded by the pack's token, so a worker that
was replaced by a newer build changes nothing.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only

from campaign.extensions import db
from campaign.formatting import plural
from campaign.letters import outputs
from campaign.letters.checks import check_pdf
from campaign.letters.models import Audience, Letter, PackKind, PackState, PrintPack
from campaign.letters.services import failing_message, split
from campaign.letters.store import letter_store

BATCH = 200  # letters read, and PDFs open, at a time
# A pack still queued after this long has no worker taking it; one building with
# no word for this long (a batch takes seconds) lost its worker. Either may be
# built again.
QUEUED_TOO_LONG_S = 120
STALLED_S = 600
FAILED = "An error on our side stopped the print pack. Build it again."


def _now() -> datetime:
    return datetime.now(UTC)


def _line(letter: Row | Letter) -> bytes:
    return f"{letter.id}:{letter.sha256}\n".encode()


def digest(letters: Iterable[Row | Letter]) -> str:
    """What a pack is made from: its letters' ids and PDFs' keys, in pack order."""
    sha = hashlib.sha256()
    for letter in letters:
        sha.update(_line(letter))
    return sha.hexdigest()


def dao_pack(campaign_id: int, audience: Audience, kind: PackKind) -> PrintPack | None:
    return db.session.scalar(
        select(PrintPack).where(
            PrintPack.campaign_id == campaign_id,
            PrintPack.audience == audience,
            PrintPack.kind == kind,
        )
    )


def dao_letter_keys(campaign_id: int, audience: Audience) -> list[Row]:
    """(id, sha256) of every letter of the audience, in pack order: what the letters
    page's pack is made of, without the PDFs or the merge data."""
    return list(
        db.session.execute(
            select(Letter.id, Letter.sha256)
            .where(Letter.campaign_id == campaign_id, Letter.audience == audience)
            .order_by(Letter.recipient_name, Letter.id)
        )
    )


@dataclass
class PackStatus:
    """A pack as the pages show it."""

    state: str  # "none", "queued", "building", "ready", "failed"
    done: int = 0
    total: int = 0
    text: str = ""
    error: str = ""
    current: bool = False  # ready, and made from the letters as they are now
    stale: bool = False  # waiting or building so long that its worker is gone
    pack_id: int | None = None
    letters: int = 0
    pages: int = 0

    @property
    def finished(self) -> bool:
        return self.state not in ("queued", "building") or self.stale

    @property
    def can_build(self) -> bool:
        return self.finished and not self.current

    def as_dict(self) -> dict:
        return {**self.__dict__, "finished": self.finished}


def status(pack: PrintPack | None, letters: Callable[[], list[Row]]) -> PackStatus:
    """How the pack stands; `letters` gives those it would be made of now ((id,
    sha256) rows), asked for only when the pack is ready, to tell if it is current."""
    if pack is None:
        return PackStatus("none")
    now = _now()
    done, total = pack.done, pack.total
    common = {"done": done, "total": total, "pack_id": pack.id}
    if pack.state is PackState.QUEUED:
        waited = (now - pack.requested).total_seconds()
        return PackStatus(
            "queued", text="Waiting to start…", stale=waited > QUEUED_TOO_LONG_S, **common
        )
    if pack.state is PackState.BUILDING:
        quiet = (now - (pack.updated or pack.requested)).total_seconds()
        text = (
            f"Packing: {done:,} of {plural(total, 'letter')}."
            if done < total
            else "Putting the pack together…"
        )
        return PackStatus("building", text=text, stale=quiet > STALLED_S, **common)
    if pack.state is PackState.FAILED:
        return PackStatus(
            "failed", text="The print pack was not built.", error=pack.error, **common
        )
    current = pack.sources == digest(letters())
    text = f"{plural(pack.letters, 'letter')}, {plural(pack.pages, 'page')}."
    return PackStatus(
        "ready", text=text, current=current, letters=pack.letters, pages=pack.pages, **common
    )


def request_pack(
    campaign_id: int, audience: Audience, kind: PackKind, letters: list[Row]
) -> PrintPack | None:
    """Ask for a pack of `letters` ((id, sha256) rows, in pack order), replacing the
    one there is; None when there is nothing to do: the pack is queued or being
    built (a form posted twice), or ready and made from these letters. The caller
    commits, then queues the pack's id."""
    pack = dao_pack(campaign_id, audience, kind)
    if pack is not None and not status(pack, lambda: letters).can_build:
        return None
    values = {
        "state": PackState.QUEUED,
        "token": uuid.uuid4().hex,
        "letter_ids": [letter.id for letter in letters],
        "total": len(letters),
        "done": 0,
        "requested": _now(),
        "updated": None,
        "error": "",
    }
    if pack is None:
        pack = PrintPack(campaign_id=campaign_id, audience=audience, kind=kind, **values)
        try:
            with db.session.begin_nested():
                db.session.add(pack)
        except IntegrityError:  # another request made it a moment ago
            return None
        return pack
    # Only from the state it was read in: of two requests at once, one replaces it.
    replaced = db.session.execute(
        update(PrintPack)
        .where(PrintPack.id == pack.id, PrintPack.token == pack.token)
        .values(**values)
    ).rowcount
    db.session.refresh(pack)
    return pack if replaced else None


def _write(pack_id: int, token: str, **values) -> bool:
    """Update the pack if this build is still the one asked for; committed at once."""
    moved = db.session.execute(
        update(PrintPack)
        .where(PrintPack.id == pack_id, PrintPack.token == token)
        .values(updated=_now(), **values)
    ).rowcount
    db.session.commit()
    return bool(moved)


def claim(pack_id: int) -> str | None:
    """Take a queued pack for building: the token this build carries, or None if
    the pack is gone, taken or replaced."""
    pack = db.session.get(PrintPack, pack_id)
    if pack is None or pack.state is not PackState.QUEUED:
        db.session.rollback()
        return None
    token = pack.token
    taken = db.session.execute(
        update(PrintPack)
        .where(
            PrintPack.id == pack_id, PrintPack.token == token, PrintPack.state == PackState.QUEUED
        )
        .values(state=PackState.BUILDING, updated=_now())
    ).rowcount
    db.session.commit()
    return token if taken else None


def fail(pack_id: int, token: str, error: str) -> None:
    db.session.rollback()
    _write(pack_id, token, state=PackState.FAILED, error=error)


def _batches(letter_ids: list[int], *columns) -> Iterator[list[Letter]]:
    """The letters, BATCH at a time, in the order asked (those deleted since left out)."""
    for ids in split(letter_ids, BATCH):
        # Loaded afresh: the check's pass left some of them with only a few columns.
        query = select(Letter).where(Letter.id.in_(ids)).execution_options(populate_existing=True)
        if columns:
            query = query.options(load_only(*columns))
        found = {letter.id: letter for letter in db.session.scalars(query)}
        yield [found[i] for i in ids if i in found]


def _failing(letter_ids: list[int]) -> list[Letter]:
    """The letters that fail the mail-house check, checking those never checked."""
    failing = []
    for letters in _batches(letter_ids, Letter.recipient_name, Letter.problems, Letter.sha256):
        for letter in letters:
            if letter.problems is None:  # rendered before the check existed
                letter.problems = check_pdf(letter.pdf)
        failing += [letter for letter in letters if letter.problems]
        db.session.commit()  # keep the check's results
    return failing


def build_queued(pack_id: int) -> None:
    """Claim the pack and build it, if it is still queued (asked twice, built once)."""
    token = claim(pack_id)
    if token is None:
        return
    try:
        build(pack_id, token)
    except Exception:
        # Never leave the page waiting on a build that has died; Huey logs the traceback.
        fail(pack_id, token, FAILED)
        raise


def build(pack_id: int, token: str) -> None:
    """Build a claimed pack: refuse it naming the failing letters, else pack the
    letters from the store into a temporary folder, store the pack and its manifest
    and mark it ready. Commits as it goes, so the page shows n of m; stops, changing
    nothing, once the pack is asked for again (a new token)."""
    letter_ids = list(db.session.get(PrintPack, pack_id).letter_ids)
    if failing := _failing(letter_ids):
        fail(pack_id, token, failing_message(failing))
        return
    store, sources, packed = letter_store(), hashlib.sha256(), 0

    def batches() -> Iterator[list[Letter]]:
        nonlocal packed
        for letters in _batches(letter_ids):
            yield letters
            packed += len(letters)
            sources.update(b"".join(map(_line, letters)))
            if not _write(pack_id, token, done=packed):
                raise Replaced

    with tempfile.TemporaryDirectory(prefix="print-pack-") as folder:
        try:
            written = outputs.write_pack(batches(), store, Path(folder))
        except Replaced:
            return
        key, manifest_key = store.put_file(written.pdf), store.put_file(written.manifest)
    _write(
        pack_id,
        token,
        state=PackState.READY,
        key=key,
        manifest_key=manifest_key,
        sources=sources.hexdigest(),
        letters=written.letters,
        pages=written.pages,
    )


class Replaced(Exception):
    """The pack was asked for again while this build ran: the newer build wins."""


def dao_pack_keys() -> set[str]:
    """Every key a print pack holds in the letter store (kept by retention)."""
    rows = db.session.execute(select(PrintPack.key, PrintPack.manifest_key))
    return {key for row in rows for key in row if key}
