"""Rendering a campaign's letters: build merge data, tell which letters changed,
render a chunk of them (in a process with no database), and the letters' queries.
runs.py spreads a render over the workers."""

from __future__ import annotations

import hashlib
import json
import os
import select as io_select
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Row, func, select
from sqlalchemy.dialects import postgresql, sqlite

from campaign.drafting.models import Campaign
from campaign.drafting.text import to_html
from campaign.extensions import db
from campaign.formatting import plural
from campaign.letters import merge as merges
from campaign.letters.checks import check_pdf
from campaign.letters.models import Audience, Letter, LockedLetters
from campaign.letters.render import LETTERS_DIR, render_batch, render_html
from campaign.letters.stamp import body_key, render_stamped
from campaign.letters.store import LetterStore

BATCH = 250
TEMPLATES = {Audience.PARENTS: "parents.html", Audience.MPS: "mp.html"}


class LettersError(Exception):
    """Letters cannot be rendered yet; the message says why."""


@dataclass
class RenderSummary:
    total: int = 0
    rendered: int = 0
    unchanged: int = 0
    failing: int = 0  # letters of the audience that fail the mail-house check
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "rendered": self.rendered,
            "unchanged": self.unchanged,
            "failing": self.failing,
            "seconds": round(self.seconds, 2),
            "letters_per_s": round(self.rendered / self.seconds, 1) if self.seconds else None,
        }


def letter_html(template: str, merge: dict) -> str:
    """The letter's HTML from its stored merge data (also the email body's source)."""
    return render_html(template, {**merge, "statement_html": to_html(merge["statement_markdown"])})


def render_chunk(
    template: str, merge_list: list[dict], store: LetterStore, logo: str = ""
) -> list[tuple[str, int, list[str]]]:
    """Runs in a worker process, with no database: renders the letters, checks each
    for the mail house, writes each PDF to the store and returns (its key, pages,
    problems). Parent letters share bodies and are stamped (see stamp.py); MP letters
    differ throughout and are laid out each. `logo` is the association's logo as a
    data: URI, kept out of the stored merge data."""
    merge_list = [{**m, "association": {**m["association"], "logo": logo}} for m in merge_list]
    if template == TEMPLATES[Audience.PARENTS]:
        with_html = [{**m, "statement_html": to_html(m["statement_markdown"])} for m in merge_list]
        letters = render_stamped(template, with_html)
    else:
        letters = render_batch([letter_html(template, m) for m in merge_list])
    return [(store.put(letter.pdf), letter.pages, check_pdf(letter.pdf)) for letter in letters]


def split(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def batches(todo: list[tuple[str, dict, str]], size: int) -> list[list[tuple[str, dict, str]]]:
    """Parent letters in batches of letters that share bodies (stamp.body_key).

    Each batch lays out each of its distinct bodies once, and above the
    co-signatory limit every local authority's letters have a body of their own:
    batched by recipient, a batch of 250 held letters of ~150 authorities, so
    nearly every letter was laid out afresh (11.6 letters/s rendering 1,612, where
    one shared body does 154/s). Grouped by body, a body is laid out once, or once
    per batch when it has more letters than a batch holds."""
    return split(sorted(todo, key=lambda item: (body_key(item[1]), item[0])), size)


def die_with(pid: int) -> None:
    """A render process's initializer: it exits as soon as process `pid` (the worker
    that started the pool) is gone, even killed with SIGKILL, instead of rendering
    on, unwatched, holding its memory."""
    handle = os.pidfd_open(pid)

    def watch() -> None:
        io_select.select([handle], [], [])
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="die-with-parent").start()


def merge_hash(merge: dict) -> str:
    """Changes when the letter's facts, or the templates and stylesheet, change."""
    digest = hashlib.sha256(json.dumps(merge, sort_keys=True).encode())
    digest.update(templates_digest().encode())
    return digest.hexdigest()


def templates_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(LETTERS_DIR.glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_merges(campaign: Campaign, audience: Audience) -> dict[str, dict]:
    if campaign.frozen_version is None:
        raise LettersError("Letters are made from the frozen text: open sign-off first.")
    if audience is Audience.PARENTS:
        return merges.parent_merges(campaign, campaign.association.cosignatory_limit)
    return merges.mp_merges(campaign)


def lock_letters(campaign_id: int, audience: Audience) -> None:
    """From now on the audience's letters cannot change: delivery calls this in the
    transaction that builds the audience's outbox."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(LockedLetters)
        .values(campaign_id=campaign_id, audience=audience, locked=datetime.now(UTC))
        .on_conflict_do_nothing()
    )


def dao_locked(campaign_id: int, audience: Audience) -> bool:
    """Whether the audience's letters are in the outbox, so can no longer change."""
    return db.session.get(LockedLetters, (campaign_id, audience)) is not None


def check_letters(campaign: Campaign, audience: Audience, *, recheck: bool = True) -> list[Letter]:
    """Run the mail-house check on the audience's stored letters (only those not yet
    checked unless `recheck`), note each result (the caller commits to keep them),
    and return the letters in order."""
    letters = dao_letters(campaign.id, audience)
    for letter in letters:
        if recheck or letter.problems is None:
            letter.problems = check_pdf(letter.pdf)
    return letters


def dao_failing(campaign_id: int, audience: Audience) -> list[Letter]:
    """Letters that failed their check, by recipient name."""
    return [letter for letter in dao_letters(campaign_id, audience) if letter.problems]


def failing_message(failing: list[Letter]) -> str:
    """ "2 letters fail the mail-house check: A (reason); B (reason)." """
    named = "; ".join(f"{letter.recipient_name} ({letter.problems[0]})" for letter in failing[:5])
    more = f"; and {len(failing) - 5} more" if len(failing) > 5 else ""
    verb = "fails" if len(failing) == 1 else "fail"
    return (
        f"{plural(len(failing), 'letter')} {verb} the mail-house check: {named}{more}. "
        "Nothing was sent or packed: fix the cause and render the letters again."
    )


def dao_letter_counts(campaign_id: int) -> dict[Audience, int]:
    """How many letters each audience has rendered (every audience, 0 if none)."""
    rows = db.session.execute(
        select(Letter.audience, func.count(Letter.id))
        .where(Letter.campaign_id == campaign_id)
        .group_by(Letter.audience)
    )
    return {audience: 0 for audience in Audience} | {audience: n for audience, n in rows}


def dao_letters(campaign_id: int, audience: Audience) -> list[Letter]:
    """The audience's letters by recipient name (their PDFs are in the letter store)."""
    return list(
        db.session.scalars(
            select(Letter)
            .where(Letter.campaign_id == campaign_id, Letter.audience == audience)
            .order_by(Letter.recipient_name)
        )
    )


def dao_letter_files(campaign_id: int, audience: Audience) -> list[Row]:
    """(recipient, recipient_name, sha256) of the audience's letters by recipient name:
    what names and finds their files, and no more (for a ZIP of 20,000)."""
    return list(
        db.session.execute(
            select(Letter.recipient, Letter.recipient_name, Letter.sha256)
            .where(Letter.campaign_id == campaign_id, Letter.audience == audience)
            .order_by(Letter.recipient_name)
        )
    )
