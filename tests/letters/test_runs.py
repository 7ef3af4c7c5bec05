"""A render spread over the workers: chunks in the database, each claimed with a
lease; a chunk whose worker died is taken again, and each letter is written once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from campaign.extensions import db, huey
from campaign.letters import runs, steps, tasks
from campaign.letters.models import Audience, ChunkState, Letter, RenderChunk, RenderRun
from campaign.letters.services import render_chunk
from campaign.letters.store import letter_store


@pytest.fixture
def queue(app, monkeypatch):
    """A real queue: jobs wait until the test runs them. Plans write a chunk a letter."""
    huey.immediate = False
    huey.flush()
    real_plan = runs.plan
    monkeypatch.setattr(runs, "plan", lambda run: real_plan(run, batch=1))
    yield
    huey.flush()
    huey.immediate = True


def run_the_queue() -> int:
    ran = 0
    while task := huey.dequeue():
        huey.execute(task)
        ran += 1
    return ran


def letters_of(campaign_id: int, audience: Audience) -> dict[str, int]:
    """How many rows each recipient has (1 each, or a letter was written twice)."""
    return dict(
        db.session.execute(
            select(Letter.recipient, func.count())
            .where(Letter.campaign_id == campaign_id, Letter.audience == audience)
            .group_by(Letter.recipient)
        ).all()
    )


def chunks_of(campaign_id: int, audience: Audience) -> list[RenderChunk]:
    return list(
        db.session.scalars(
            select(RenderChunk)
            .join(RenderRun)
            .where(RenderRun.campaign_id == campaign_id, RenderRun.audience == audience)
            .order_by(RenderChunk.id)
        )
    )


def expire(chunk: RenderChunk) -> None:
    """What time does to the lease of a worker that stopped extending it."""
    db.session.execute(
        update(RenderChunk)
        .where(RenderChunk.id == chunk.id)
        .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()


def test_a_chunk_whose_worker_died_is_taken_again_and_its_letters_written_once(signed, queue):
    campaign = signed.campaign
    steps.render(campaign, Audience.PARENTS)
    huey.execute(huey.dequeue())  # the plan: a chunk for each of the two letters
    first, second = chunks_of(campaign.id, Audience.PARENTS)
    # A worker takes the first chunk and is killed before it saves.
    assert runs._claim([first.id], "killed") == [first.id]

    assert run_the_queue() == 2  # the first chunk's task finds it held, and leaves it
    progress = tasks.read_progress(campaign.id, "parents")
    assert (progress["state"], progress["done"], progress["total"]) == ("running", 1, 2)

    # The periodic task re-queues nothing while the lease runs, then the chunk.
    tasks.resume_rendering.call_local()
    assert huey.pending_count() == 0
    expire(first)
    tasks.resume_rendering.call_local()
    assert run_the_queue() == 1

    progress = tasks.read_progress(campaign.id, "parents")
    assert (progress["state"], progress["done"], progress["rendered"]) == ("done", 2, 2)
    assert progress["seconds"] >= 0
    db.session.refresh(first)
    assert (first.state, first.attempts, first.items) == (ChunkState.DONE, 2, [])
    assert sorted(letters_of(campaign.id, Audience.PARENTS).values()) == [1, 1]


def claimed_mp_chunk(campaign, token: str) -> tuple[RenderChunk, RenderRun, list]:
    """The first chunk of a render of the MPs' letters, claimed by `token`, and its
    letters as a worker renders them."""
    steps.render(campaign, Audience.MPS)
    huey.execute(huey.dequeue())  # the plan
    chunk = chunks_of(campaign.id, Audience.MPS)[0]
    assert runs._claim([chunk.id], token) == [chunk.id]
    rendered = render_chunk("mp.html", [m for _, m, _ in chunk.items], letter_store())
    return chunk, db.session.get(RenderRun, chunk.run_id), rendered


def test_a_slow_worker_whose_chunk_was_taken_over_drops_its_work(signed, queue):
    campaign = signed.campaign
    chunk, run, rendered = claimed_mp_chunk(campaign, "slow")
    assert runs._claim([chunk.id], "other") == []  # held: its lease runs
    expire(chunk)
    assert runs._claim([chunk.id], "other") == [chunk.id]

    assert runs._save(chunk, run, "slow", rendered) is False  # no longer its chunk
    assert letters_of(campaign.id, Audience.MPS) == {}
    assert runs._extend([chunk.id], "slow") == set()  # told it has lost the chunk
    assert runs._save(chunk, run, "other", rendered) is True
    assert list(letters_of(campaign.id, Audience.MPS).values()) == [1]


def test_a_new_render_replaces_the_old_one_and_its_chunks_save_nothing(signed, queue):
    campaign = signed.campaign
    old, old_run, rendered = claimed_mp_chunk(campaign, "old")

    steps.render(campaign, Audience.MPS)  # the lead presses Render again
    assert tasks.read_progress(campaign.id, "mps")["state"] == "queued"
    assert runs._save(old, old_run, "old", rendered) is False
    run_the_queue()
    progress = tasks.read_progress(campaign.id, "mps")
    assert (progress["state"], progress["done"], progress["total"]) == ("done", 2, 2)
    assert sorted(letters_of(campaign.id, Audience.MPS).values()) == [1, 1]


def test_workers_at_once_share_the_chunks_and_write_each_letter_once(app, signed, queue):
    campaign_id = signed.campaign.id
    steps.render(signed.campaign, Audience.PARENTS)
    huey.execute(huey.dequeue())
    ids = [chunk.id for chunk in chunks_of(campaign_id, Audience.PARENTS)]
    saved: list[int] = []
    start = threading.Barrier(3)

    def worker() -> None:
        with app.app_context():
            start.wait(timeout=30)
            with ThreadPoolExecutor(max_workers=1) as executor:
                saved.append(runs.work(ids, executor))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(saved, reverse=True)[0] >= 1 and sum(saved) == 2  # each chunk saved once
    db.session.rollback()
    assert sorted(letters_of(campaign_id, Audience.PARENTS).values()) == [1, 1]
    assert tasks.read_progress(campaign_id, "parents")["state"] == "done"


def test_a_plan_whose_worker_died_is_planned_again(signed, queue):
    campaign = signed.campaign
    steps.render(campaign, Audience.MPS)
    huey.flush()  # the plan's task, taken by a worker that died
    run = db.session.scalars(select(RenderRun)).one()
    run.started = datetime.now(UTC) - timedelta(seconds=runs.PLAN_LEASE_S + 1)
    db.session.commit()
    assert tasks.read_progress(campaign.id, "mps")["state"] == "running"

    tasks.resume_rendering.call_local()
    run_the_queue()
    assert tasks.read_progress(campaign.id, "mps")["state"] == "done"
    assert sorted(letters_of(campaign.id, Audience.MPS).values()) == [1, 1]


def test_a_chunk_claimed_just_before_a_new_render_replaced_its_run_is_left_quietly(
    signed, queue, monkeypatch
):
    campaign = signed.campaign
    steps.render(campaign, Audience.MPS)
    huey.execute(huey.dequeue())
    chunk_id = chunks_of(campaign.id, Audience.MPS)[0].id
    real_claim = runs._claim

    def claim_then_replaced(ids, token):
        mine = real_claim(ids, token)
        steps.render(campaign, Audience.MPS)  # the lead presses Render again at that moment
        return mine

    monkeypatch.setattr(runs, "_claim", claim_then_replaced)
    with ThreadPoolExecutor(max_workers=1) as executor:
        assert runs.work([chunk_id], executor) == 0
    assert letters_of(campaign.id, Audience.MPS) == {}
    assert tasks.read_progress(campaign.id, "mps")["state"] == "queued"
