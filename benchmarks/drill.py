"""benchmarks/national.py's kill drill (`--kill-workers`): while the letters render
and while they are sent, SIGKILL a `campaign worker` at random points, KILLS times a
stage, starting a new one each time.

The senders run in the workers (the send step queues SEND_TASKS of them), so a worker
killed while it sends takes its senders with it in the middle of a claim: their
messages stay in `sending`, in doubt. The fake SendGrid posts a `processed` event for
each message it accepted, which settles those as sent; national_app.send sends the
rest again as the lead would (delivery.steps.send_in_doubt_again). A worker's render
processes exit with it (they watch it through a pidfd), which the drill checks.

Rendering survives a kill because it is claimed in chunks with a lease
(letters/runs.py): a chunk whose worker died is taken again once its lease runs
out. `--kill-workers send` leaves rendering alone.
"""

from __future__ import annotations

import os
import random
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

KILLS = 3
STAGES = ("render", "send")
# Small claims, few requests at once, a slow fake SendGrid and more senders than the
# workers run at once: at a few hundred emails a send lasts long enough to be killed
# mid-claim three times, and each kill leaves senders queued to carry on.
ENVIRONMENT = {
    "SEND_CLAIM_SIZE": "10",
    "SEND_WORKERS": "2",
    "SEND_TASKS": "8",
    "SEND_IN_DOUBT_MINUTES": "0",
}
LATENCY = 0.2  # seconds the fake SendGrid takes to answer, while sending


def stages_to_drill(value: str) -> set[str]:
    """`--kill-workers`'s value: the stages to drill, comma-separated."""
    chosen = {s.strip() for s in value.split(",") if s.strip()}
    if not chosen or chosen - set(STAGES):
        raise ValueError(f"choose from {', '.join(STAGES)}")
    return chosen


class KillDrill:
    """Kills workers at random points of each drilled stage's progress and starts new ones
    (`processes` is national.py's Processes)."""

    def __init__(self, processes, env: dict, drilled: set[str], seed: int):
        self.processes = processes
        self.env = env
        self.drilled = drilled
        self.rng = random.Random(seed)
        self.kills: Counter = Counter()
        self.orphans: list[int] = []  # render processes of killed workers

    def at(self, stage: str) -> Callable[[float], None] | None:
        """A progress callback for the stage (the fraction done, 0 to 1) that kills a
        worker as it passes each of KILLS random points; None if the stage is not drilled."""
        if stage not in self.drilled:
            return None
        points = sorted(self.rng.uniform(0.05, 0.8) for _ in range(KILLS))

        def progress(done: float) -> None:
            if points and done >= points[0]:
                points.pop(0)
                self.kill_a_worker(stage)

        return progress

    def kill_a_worker(self, stage: str) -> None:
        workers = self.processes.workers()
        # Not the newest, if another runs: it may still be starting, with nothing to lose.
        role = self.rng.choice(workers[:-1] or workers)
        victim = self.processes.started[role]
        self.orphans += self.processes.descendants(victim.pid)
        os.kill(victim.pid, signal.SIGKILL)  # the worker alone: its render processes follow
        victim.wait()
        self.kills[stage] += 1
        self.processes.start_worker(self.env)

    @staticmethod
    def rendered_once(render: dict) -> bool:
        return all(r["rendered"] == r["expected"] and not r["twice"] for r in render.values())

    def report(self, render: dict, send: dict | None) -> dict:
        """What the drill did, and whether the run came through it: every letter rendered
        once, every email accepted once by the fake SendGrid (None: not sent, the render
        did not finish)."""
        letters_ok = self.rendered_once(render)
        emails_ok = send is not None and not (send["duplicates"] or send["missing"])
        survived = letters_ok and emails_ok
        return {
            "kills": {stage: self.kills[stage] for stage in STAGES},
            "kills_survived": {stage: self.kills[stage] if survived else 0 for stage in STAGES},
            "letters_once": letters_ok,
            "emails_once": emails_ok,
            "in_doubt_sent_again": send and send["in_doubt_sent_again"],
            "settled_by_events": send and send["settled_by_events"],
            "render_processes_left_running": sum(map(running, self.orphans)),
        }


def running(pid: int) -> bool:
    """Whether the process is alive. A zombie is not: it has exited and holds no memory,
    waiting only to be reaped (a render process that exits after its forkserver is
    reparented to the machine's init, which may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
