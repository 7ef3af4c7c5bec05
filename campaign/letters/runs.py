"""A render as a run of chunks in the database, which any number of workers take.

Pressing Render saves a run; its plan (one task) works out which letters changed
and writes them as chunks of ~200 with their merge data, each then a task of its
own. A worker claims a chunk by giving it its token and a lease (a guarded
UPDATE), renders it in a process, extending the lease while it waits, and saves
its letters in the transaction that marks the chunk done, guarded by the token.
A chunk whose worker died is taken again once its lease runs out (`expired`,
re-queued by a periodic task); if the first worker was only slow, whichever saves
first wins and the other's work is dropped, so each letter is written once (one
row per recipient). Progress is summed from the chunks (`read_progress`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, func, select, update

from campaign.directory.letterhead import logo_data_uri
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters.models import Audience, ChunkState, Letter, RenderChunk, RenderRun
from campaign.letters.services import (
    BATCH,
    TEMPLATES,
    LettersError,
    RenderSummary,
    batches,
    build_merges,
    dao_locked,
    die_with,
    merge_hash,
    render_chunk,
    split,
)
from campaign.letters.store import letter_store

LEASE_S = 45  # a chunk's worker holds it this long without a word
HEARTBEAT_S = 10  # and extends its lease this often while it renders
PLAN_LEASE_S = 600  # a plan started this long ago and not finished lost its worker


def _now() -> datetime:
    return datetime.now(UTC)


def new_run(campaign: Campaign, audience: Audience) -> RenderRun:
    """A queued run for the audience, replacing any earlier one (its chunks go with it:
    a worker still rendering one finds it gone and drops its work). The caller commits."""
    earlier = select(RenderRun.id).where(
        RenderRun.campaign_id == campaign.id, RenderRun.audience == audience
    )
    # Its chunks first: SQLite does not cascade.
    db.session.execute(delete(RenderChunk).where(RenderChunk.run_id.in_(earlier)))
    db.session.execute(delete(RenderRun).where(RenderRun.id.in_(earlier)))
    run = RenderRun(campaign_id=campaign.id, audience=audience, queued=_now())
    db.session.add(run)
    db.session.flush()
    return run


def start_plan(run_id: int) -> RenderRun | None:
    """Claim the run's plan (not begun, or begun by a worker that died); None if
    it is gone, planned, or being planned. Committed at once."""
    now = _now()
    claimed = db.session.execute(
        update(RenderRun)
        .where(
            RenderRun.id == run_id,
            RenderRun.planned.is_(None),
            RenderRun.error == "",
            RenderRun.started.is_(None)
            | (RenderRun.started < now - timedelta(seconds=PLAN_LEASE_S)),
        )
        .values(started=now)
    ).rowcount
    db.session.commit()
    return db.session.get(RenderRun, run_id) if claimed else None


def plan(run: RenderRun, batch: int = BATCH) -> list[int]:
    """Write the run's chunks: every letter of the audience whose merge data changed,
    parent letters grouped by shared body (services.batches). Letters for recipients
    who no longer sign are removed. Commits; returns the chunks' ids."""
    campaign = db.session.get(Campaign, run.campaign_id)
    audience = run.audience
    if dao_locked(campaign.id, audience):
        raise LettersError("These letters are in the outbox: they can no longer change.")
    wanted = build_merges(campaign, audience)
    existing = {
        row.recipient: row
        for row in db.session.execute(
            select(Letter.id, Letter.recipient, Letter.merge_sha256, Letter.problems).where(
                Letter.campaign_id == campaign.id, Letter.audience == audience
            )
        )
    }
    todo, unchanged, failing = [], 0, 0
    for recipient, merge in sorted(wanted.items()):
        digest = merge_hash(merge)
        row = existing.get(recipient)
        if row is not None and row.merge_sha256 == digest:
            unchanged += 1
            failing += bool(row.problems)
        else:
            todo.append((recipient, merge, digest))
    gone = [existing[r].id for r in set(existing) - set(wanted)]
    if gone:
        db.session.execute(delete(Letter).where(Letter.id.in_(gone)))
    db.session.execute(delete(RenderChunk).where(RenderChunk.run_id == run.id))
    groups = batches(todo, batch) if audience is Audience.PARENTS else split(todo, batch)
    chunks = [RenderChunk(run_id=run.id, items=[list(i) for i in g], size=len(g)) for g in groups]
    db.session.add_all(chunks)
    run.total, run.unchanged, run.failing_unchanged = len(wanted), unchanged, failing
    run.planned = _now()
    db.session.commit()
    return [chunk.id for chunk in chunks]


def fail(run_id: int, error: str) -> None:
    db.session.rollback()
    db.session.execute(update(RenderRun).where(RenderRun.id == run_id).values(error=error))
    db.session.commit()


def _claim(chunk_ids: list[int], token: str) -> list[int]:
    """Take the chunks not done and not held by a live lease; committed at once."""
    now = _now()
    db.session.execute(
        update(RenderChunk)
        .where(
            RenderChunk.id.in_(chunk_ids),
            (RenderChunk.state == ChunkState.QUEUED)
            | ((RenderChunk.state == ChunkState.RUNNING) & (RenderChunk.lease_until < now)),
        )
        .values(
            state=ChunkState.RUNNING,
            token=token,
            lease_until=now + timedelta(seconds=LEASE_S),
            touched=now,
            attempts=RenderChunk.attempts + 1,
        )
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(RenderChunk.id)
            .where(RenderChunk.id.in_(chunk_ids), RenderChunk.token == token)
            .order_by(RenderChunk.id)
        )
    )


def _extend(chunk_ids: Iterable[int], token: str) -> set[int]:
    """Extend the lease of the chunks still ours; returns which those are."""
    now = _now()
    held = RenderChunk.id.in_(list(chunk_ids)), RenderChunk.token == token
    db.session.execute(
        update(RenderChunk)
        .where(*held, RenderChunk.state == ChunkState.RUNNING)
        .values(lease_until=now + timedelta(seconds=LEASE_S), touched=now)
    )
    db.session.commit()
    return set(db.session.scalars(select(RenderChunk.id).where(*held)))


def _save(chunk: RenderChunk, run: RenderRun, token: str, rendered: list) -> bool:
    """Save the chunk's letters and mark it done, if it is still ours; one transaction."""
    items = chunk.items
    done = db.session.execute(
        update(RenderChunk)
        .where(
            RenderChunk.id == chunk.id,
            RenderChunk.token == token,
            RenderChunk.state == ChunkState.RUNNING,
        )
        .values(
            state=ChunkState.DONE,
            touched=_now(),
            failing=sum(1 for _, _, problems in rendered if problems),
            items=[],  # its merge data is the letters' now: not kept twice
        )
    ).rowcount
    if not done:  # taken over (our lease ran out) or replaced by a new run
        db.session.rollback()
        return False
    recipients = [recipient for recipient, _, _ in items]
    existing = {
        letter.recipient: letter
        for letter in db.session.scalars(
            select(Letter).where(
                Letter.campaign_id == run.campaign_id,
                Letter.audience == run.audience,
                Letter.recipient.in_(recipients),
            )
        )
    }
    now = _now()
    for (recipient, merge, digest), (key, pages, problems) in zip(items, rendered, strict=True):
        letter = existing.get(recipient) or Letter(
            campaign_id=run.campaign_id, audience=run.audience, recipient=recipient
        )
        letter.recipient_name = merge["recipient_name"]
        letter.merge, letter.merge_sha256 = merge, digest
        letter.sha256, letter.pages, letter.problems = key, pages, problems
        letter.rendered = now
        db.session.add(letter)
    db.session.commit()
    return True


def work(
    chunk_ids: list[int], executor: Executor, *, saved: Callable[[int], None] | None = None
) -> int:
    """Claim what is free of the chunks, render them on `executor` and save each as it
    is ready, extending the leases meanwhile. Returns how many letters it saved;
    `saved(n)` is told after each chunk."""
    token = uuid.uuid4().hex
    mine = _claim(chunk_ids, token)
    if not mine:
        return 0
    chunks = list(
        db.session.scalars(
            select(RenderChunk).where(RenderChunk.id.in_(mine)).order_by(RenderChunk.id)
        )
    )
    run = db.session.get(RenderRun, chunks[0].run_id) if chunks else None
    if run is None:  # replaced by a new run since the claim: its chunks went with it
        return 0
    campaign = db.session.get(Campaign, run.campaign_id)
    template, store = TEMPLATES[run.audience], letter_store()
    logo = logo_data_uri(campaign.association)
    futures: list[tuple[RenderChunk, Future]] = [
        (c, executor.submit(render_chunk, template, [m for _, m, _ in c.items], store, logo))
        for c in chunks
    ]
    held, letters = set(mine), 0
    for chunk, future in futures:
        while chunk.id in held:
            try:
                rendered = future.result(timeout=HEARTBEAT_S)
            except FutureTimeout:
                held = _extend(held, token)
                continue
            except BrokenProcessPool:
                forget_pool()
                raise
            if _save(chunk, run, token, rendered):
                letters += chunk.size
                if saved:
                    saved(chunk.size)
            held.discard(chunk.id)
        future.cancel()  # lost: if not yet begun, it need not be
    return letters


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


@contextmanager
def worker_executor() -> Iterator[Executor]:
    """Where a worker's chunk renders: one process pool per worker, started once and
    shared by its threads (LETTER_PROCESSES processes, default one per core), or a
    thread of its own when that is 1."""
    global _pool
    processes = current_app.config.get("LETTER_PROCESSES") or os.cpu_count() or 1
    if processes <= 1:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="render") as executor:
            yield executor
        return
    with _pool_lock:
        if _pool is None:
            _pool = _process_pool(processes)
        pool = _pool
    yield pool


def _process_pool(processes: int) -> ProcessPoolExecutor:
    # forkserver: forking a threaded worker (Huey's consumer) could copy held locks.
    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=die_with,
        initargs=(os.getpid(),),
    )


def forget_pool() -> None:
    """A render process died (out of memory, say): the next chunk starts a new pool."""
    global _pool
    with _pool_lock:
        _pool = None


def dao_expired_chunks(now: datetime) -> list[int]:
    """Chunks whose worker stopped extending its lease: it died or hung."""
    return list(
        db.session.scalars(
            select(RenderChunk.id).where(
                RenderChunk.state == ChunkState.RUNNING, RenderChunk.lease_until < now
            )
        )
    )


def dao_lost_plans(now: datetime) -> list[int]:
    """Runs whose plan was begun by a worker that died before finishing it."""
    return list(
        db.session.scalars(
            select(RenderRun.id).where(
                RenderRun.planned.is_(None),
                RenderRun.error == "",
                RenderRun.started < now - timedelta(seconds=PLAN_LEASE_S),
            )
        )
    )


def _epoch(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def read_progress(campaign_id: int, audience: Audience) -> dict | None:
    """The audience's latest render as the page shows it: its state (queued, running,
    done, failed), letters done of total, and when it last moved. Two queries."""
    run = db.session.scalars(
        select(RenderRun)
        .where(RenderRun.campaign_id == campaign_id, RenderRun.audience == audience)
        .order_by(RenderRun.id.desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    done = RenderChunk.state == ChunkState.DONE
    chunks, finished, letters, failing, touched, last_done = db.session.execute(
        select(
            func.count(),
            func.count(case((done, 1))),
            func.coalesce(func.sum(case((done, RenderChunk.size), else_=0)), 0),
            func.coalesce(func.sum(case((done, RenderChunk.failing), else_=0)), 0),
            func.max(RenderChunk.touched),
            func.max(case((done, RenderChunk.touched))),
        ).where(RenderChunk.run_id == run.id)
    ).one()
    if run.error:
        state = "failed"
    elif run.started is None:
        state = "queued"
    elif run.planned is None or finished < chunks:
        state = "running"
    else:
        state = "done"
    moments = [m for m in (run.started, run.planned, touched) if m]
    ended = max(m for m in (run.planned, last_done) if m) if state == "done" else None
    return {
        "state": state,
        "queued": _epoch(run.queued),
        "started": _epoch(run.started),
        "updated": _epoch(max(moments)) if moments else _epoch(run.queued),
        "total": run.total,
        "done": run.unchanged + int(letters),
        "rendered": int(letters),
        "unchanged": run.unchanged,
        "failing": run.failing_unchanged + int(failing),
        "seconds": (ended - run.started).total_seconds() if ended else None,
        "error": run.error,
    }


def render_letters(
    campaign: Campaign,
    audience: Audience,
    *,
    progress: Callable[[int, int], None] | None = None,
    processes: int | None = None,
    batch: int = BATCH,
) -> RenderSummary:
    """Render every letter of an audience whose merge data changed, here and now (the
    command line, tests): the workers' run, planned and worked by the caller."""
    run = new_run(campaign, audience)
    db.session.commit()
    run = start_plan(run.id)
    chunk_ids = plan(run, batch)
    workers = processes or current_app.config.get("LETTER_PROCESSES") or os.cpu_count() or 1
    state = read_progress(campaign.id, audience)
    done = state["done"]

    def saved(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, run.total)

    if workers > 1 and len(chunk_ids) > 1:
        executor: Executor = _process_pool(min(workers, len(chunk_ids)))
    else:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
    with executor:
        work(chunk_ids, executor, saved=saved)
    state = read_progress(campaign.id, audience)
    return RenderSummary(
        total=state["total"],
        rendered=state["rendered"],
        unchanged=state["unchanged"],
        failing=state["failing"],
        seconds=state["seconds"] or 0.0,
    )
