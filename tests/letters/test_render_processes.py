"""A render process ends with the worker that started it: a worker killed with
SIGKILL (the kernel's OOM killer, a deploy) leaves no process rendering on alone."""

from __future__ import annotations

import subprocess
import sys

WATCHED = """
import sys, time
from campaign.letters.services import die_with
die_with(int(sys.argv[1]))
print("watching", flush=True)
time.sleep(600)
"""


def test_a_render_process_exits_when_its_worker_is_killed():
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    render = subprocess.Popen(
        [sys.executable, "-c", WATCHED, str(worker.pid)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert render.stdout.readline() == "watching\n"
        assert render.poll() is None  # it renders on while its worker lives
        worker.kill()
        worker.wait()
        assert render.wait(timeout=30) == 1
    finally:
        for process in (worker, render):
            process.kill()
            process.wait()
