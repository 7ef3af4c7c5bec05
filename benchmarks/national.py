"""A national campaign run as production runs it, stage by stage.

    .venv/bin/python benchmarks/national.py [--schools 20000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_national]
        [--redis-url redis://127.0.0.1:6379/7] [--embedded] [--heads-at-once 32]
        [--lead-fetches 5] [--until imports|signing] [--py-spy DIR]
        [--kill-workers [render,send|send]]

Makes a fictional GIAS register and roster of N schools (with make_register.py's
rows, over ~136 local authorities), then
with the real commands, gunicorn (gunicorn.conf.py) and two `campaign worker`
processes: imports them; opens consultation and sign-off (every head emailed
through a local fake of SendGrid's v3 API); has every head sign over HTTP, 32 at
a time, with the link from their invitation; renders both audiences' letters and
sends them; fetches every lead page; and reports peak memory of every process and
the sizes of the database and the letter store. With --kill-workers it SIGKILLs
workers at random points while they send (and render), starting new ones, and
reports what the run survived (benchmarks/drill.py). One JSON object a line per stage,
then a summary. PostgreSQL in a scratch schema (dropped afterwards) and Redis
(the queue's keys removed afterwards; the database flushed if it was empty), or
with --embedded SQLite and Huey's SQLite queue in a temporary instance folder.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import os
import queue
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for benchmarks.* and tests.fakes
BIN = Path(sys.executable).parent

from benchmarks import make_register  # noqa: E402
from benchmarks.drill import ENVIRONMENT, LATENCY, KillDrill, stages_to_drill  # noqa: E402
from benchmarks.scratch import scratch_schema  # noqa: E402
from tests import fakes  # noqa: E402

SLUG = "national"
ASSOCIATION = "National Heads"
LEAD = "lead@national.example"
APPLICATION_NAME = "national-benchmark"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LINK = re.compile(r"/sign-in/([A-Za-z0-9_-]{20,})")


def emit(stage: str, **figures) -> dict:
    line = {"stage": stage, **figures}
    print(json.dumps(line), flush=True)
    return line


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)


# --- the processes ---------------------------------------------------------------


class Processes:
    """The subprocesses this run started (each in its own process group), and the
    peak memory of every process in their trees, sampled twice a second."""

    def __init__(self, logs: Path, database_url: str):
        self.logs = logs
        self.started: dict[str, subprocess.Popen] = {}
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (role, VmHWM kB)
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (role, CPU seconds so far)
        # PostgreSQL's backends for this run's connections, found by application_name.
        self.database = None
        if database_url.startswith("postgresql"):
            self.database = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        self.stopping = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()

    def start(self, role: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.logs / f"{role}.log", "wb")  # noqa: SIM115  (closed with the process)
        process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started[role] = process
        return process

    def start_worker(self, env: dict) -> subprocess.Popen:
        """Another `campaign worker`, named by how many were started before it."""
        n = sum(role.startswith("worker ") for role in self.started) + 1
        return self.start(f"worker {n}", [str(BIN / "campaign"), "worker"], env)

    def workers(self) -> list[str]:
        """The workers still running."""
        return [r for r, p in self.started.items() if r.startswith("worker ") and p.poll() is None]

    def descendants(self, pid: int) -> list[int]:
        return self._below(self._children(), pid)

    @staticmethod
    def _below(children: dict[int, list[int]], pid: int) -> list[int]:
        found, stack = [], [pid]
        while stack:
            below = children.get(stack.pop(), [])
            found += below
            stack += below
        return found

    def _children(self) -> dict[int, list[int]]:
        children = defaultdict(list)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    stat = (entry / "stat").read_text()
                    ppid = int(stat.rsplit(")", 1)[1].split()[1])
                    children[ppid].append(int(entry.name))
        return children

    def _children_of(self, pid: int) -> list[int]:
        return self._children().get(pid, [])

    def _sample(self) -> None:
        me = os.getpid()
        while not self.stopping.wait(0.5):
            children = self._children()
            roots = [(role, p.pid) for role, p in list(self.started.items())]
            roots.append(("benchmark (client, fake SendGrid)", me))
            for pid in self._backends():
                self._record_cpu("postgres", pid)
            for role, pid in roots:
                self._record(role, pid)
                if pid == me:
                    continue
                for child in self._below(children, pid):
                    self._record(f"{role}: child", child)

    def _backends(self) -> list[int]:
        if self.database is None:
            return []
        with contextlib.suppress(sa.exc.SQLAlchemyError), self.database.connect() as conn:
            return conn.scalars(
                sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": APPLICATION_NAME},
            ).all()
        return []

    def _record_cpu(self, role: str, pid: int) -> None:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            self.cpu[pid] = (role, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far, by kind of process (a role and its children together)."""
        by_role: dict[str, float] = defaultdict(float)
        for role, seconds in list(self.cpu.values()):
            by_role[role.split(":")[0]] += seconds
        return dict(by_role)

    def _record(self, role: str, pid: int) -> None:
        self._record_cpu(role, pid)
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    kb = int(line.split()[1])
                    if kb > self.peaks.get(pid, ("", 0))[1]:
                        self.peaks[pid] = (role, kb)

    def memory(self) -> dict:
        """Peak resident memory (MB) by role: each process, and the largest of its children."""
        by_role: dict[str, list[float]] = defaultdict(list)
        for role, kb in self.peaks.values():
            by_role[role].append(round(kb / 1024, 1))
        return {
            role: (
                values[0] if len(values) == 1 else {"processes": len(values), "max": max(values)}
            )
            for role, values in sorted(by_role.items())
        }

    def stop(self) -> None:
        self.stopping.set()
        self.sampler.join()
        if self.database is not None:
            self.database.dispose()
        for process in self.started.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class StandInAutovacuum:
    """ANALYZE the run's schema every minute when the server's autovacuum is off, as
    autovacuum would (autovacuum_naptime is a minute by default). Without fresh
    statistics PostgreSQL plans for the empty tables it last saw: the sign page's query
    of signing schools nearby took 175 ms instead of 1 ms at 2,000 schools."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with self.engine.connect() as conn:
            self.off = conn.scalar(sa.text("SHOW autovacuum")) == "off"
        self.stopping = threading.Event()
        self.runs = 0
        self.thread = threading.Thread(target=self._loop, daemon=True)
        if self.off:
            self.thread.start()

    def analyze(self) -> None:
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            tables = conn.scalars(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).all()
            for table in tables:
                conn.execute(sa.text(f'ANALYZE "{table}"'))
        self.runs += 1

    def _loop(self) -> None:
        while not self.stopping.wait(60):
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self.analyze()

    def stop(self) -> dict:
        self.stopping.set()
        if self.off:
            self.thread.join()
        self.engine.dispose()
        return {"autovacuum": "off" if self.off else "on", "stand_in_analyze_runs": self.runs}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(env: dict, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "campaign"), *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"campaign {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def wait_for_http(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                return
        time.sleep(0.2)  # waiting for gunicorn to listen
    raise RuntimeError("gunicorn did not answer /healthz")


# --- the fake SendGrid ----------------------------------------------------------


class Mailbox:
    """What the fake SendGrid accepted: emails counted by subject, sign-off links by
    address. It keeps no bodies (at 20,000 PDFs they would not fit). As SendGrid does,
    it tells the app's event webhook that each accepted letter was `processed`."""

    def __init__(self, port: int):
        self.signer = fakes.WebhookSigner()
        self.events = fakes.EventWebhookPoster(
            f"http://127.0.0.1:{port}/webhooks/sendgrid", self.signer
        )
        self.lock = threading.Lock()
        self.subjects: Counter = Counter()
        self.links: dict[str, list[str]] = defaultdict(list)

    def handle(self, recorder: fakes.Recorder, request: dict):
        status, headers, body = fakes.sendgrid(recorder, request)
        message = request["json"]
        if status == 202 and (ids := fakes.message_ids(message)):
            self.events.processed(ids)
        elif status == 202:  # a notice, not a letter
            subject = message.get("subject", "")
            text = message["content"][0]["value"]
            with self.lock:
                for person in message["personalizations"]:
                    self.subjects[subject.split(":")[0]] += 1
                    if subject.startswith("Please sign") and (found := LINK.search(text)):
                        self.links[person["to"][0]["email"]].append(found.group(1))
        return status, headers, body

    def count(self, kind: str) -> int:
        with self.lock:
            return self.subjects[kind]


def wait_for_mail(mailbox: Mailbox, kind: str, expected: int, timeout: float) -> float:
    started = time.perf_counter()
    while mailbox.count(kind) < expected and time.perf_counter() - started < timeout:
        time.sleep(0.2)  # polling what the fake received
    return time.perf_counter() - started


# --- a head in a browser -----------------------------------------------------------


class Browser:
    """One head's cookies over a connection its thread keeps open. Cookies are kept by
    hand: the app marks them Secure (production), and this talks plain HTTP locally."""

    def __init__(self, port: int, timings: dict[str, list[float]], errors: Counter):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.timings = timings
        self.errors = errors

    def request(self, kind: str, method: str, path: str, form: dict | None = None):
        headers = {"User-Agent": "national-benchmark"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read().decode()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.errors[f"{kind}: {type(exc).__name__}"] += 1
            return None, "", ""
        self.timings[kind].append(time.perf_counter() - started)
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in cookie and "Expires=Thu, 01 Jan 1970" not in cookie:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        location = urlsplit(response.headers.get("Location", ""))
        where = location.path + (f"?{location.query}" if location.query else "")
        return response.status, data, where

    def expect(self, kind, status, got) -> bool:
        if got[0] != status:
            if got[0] is not None:
                self.errors[f"{kind}: {got[0]}"] += 1
            return False
        return True


def form_fields(page: str) -> dict[str, str]:
    """The values a browser would post from the page's form (text and hidden inputs)."""
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        attrs = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}
        if attrs.get("name") and attrs.get("type", "text") in ("text", "hidden"):
            fields[attrs["name"]] = attrs.get("value", "")
    return fields


def journey(browser: Browser, token: str) -> int:
    """The sign-in link, the sign page, the signature, the confirmation. Returns how
    many schools this head signed for."""
    got = browser.request("sign_in_page", "GET", f"/sign-in/{token}")
    if not browser.expect("sign_in_page", 200, got):
        return 0
    got = browser.request("sign_in_post", "POST", f"/sign-in/{token}", form_fields(got[1]))
    if not browser.expect("sign_in_post", 302, got):
        return 0
    # A head of one school lands on its sign page; a head of several chooses at /sign.
    one_school = re.search(r"/sign/\d+$", got[2])
    if one_school or (got := browser.request("schools", "GET", got[2]))[0] == 302:
        paths = [got[2]]
    elif browser.expect("schools", 200, got):
        paths = sorted(set(re.findall(r'href="([^"]*/sign/\d+)"', got[1])))
    else:
        return 0
    signed = 0
    for path in paths:
        got = browser.request("sign_page", "GET", path)
        if not browser.expect("sign_page", 200, got):
            continue
        fields = form_fields(got[1]) | {"decision": "signed", "comment": ""}
        got = browser.request("sign_post", "POST", path, fields)
        if not browser.expect("sign_post", 302, got):
            continue
        got = browser.request("confirmation", "GET", got[2])
        if browser.expect("confirmation", 200, got) and "signed" in got[1]:
            signed += 1
    return signed


def surge(port: int, links: dict[str, list[str]], at_once: int) -> dict:
    """Every head through their journey, `at_once` heads at a time."""
    todo: queue.Queue = queue.Queue()
    for tokens in links.values():
        todo.put(tokens[-1])
    timings: dict[str, list[float]] = defaultdict(list)
    errors: Counter = Counter()
    done = Counter()
    lock = threading.Lock()

    def head_after_head() -> None:
        local_timings: dict[str, list[float]] = defaultdict(list)
        local_errors: Counter = Counter()
        conn_port = port
        browser = Browser(conn_port, local_timings, local_errors)
        finished = signed = 0
        while True:
            try:
                token = todo.get_nowait()
            except queue.Empty:
                break
            browser.cookies = {}  # a new head on this connection
            schools = journey(browser, token)
            finished += schools > 0
            signed += schools
        with lock:
            for kind, values in local_timings.items():
                timings[kind] += values
            errors.update(local_errors)
            done.update(heads=finished, schools=signed)

    started = time.perf_counter()
    threads = [threading.Thread(target=head_after_head) for _ in range(at_once)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "heads": len(links),
        "heads_done": done["heads"],
        "schools_signed": done["schools"],
        "at_once": at_once,
        "seconds": round(seconds, 2),
        "heads_per_s": round(done["heads"] / seconds, 1),
        "requests": sum(len(v) for v in timings.values()),
        "requests_per_s": round(sum(len(v) for v in timings.values()) / seconds, 1),
        "ms": {
            kind: {
                "n": len(v),
                "p50": percentile(v, 0.5),
                "p95": percentile(v, 0.95),
                "mean": round(statistics.fmean(v) * 1000, 1),
            }
            for kind, v in timings.items()
        },  # fmt: skip
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
    }


def lead_pages(port: int, token: str, paths: list[str], fetches: int) -> dict:
    """Each page `fetches` times over HTTP as the signed-in lead."""
    timings: dict[str, list[float]] = defaultdict(list)
    errors: Counter = Counter()
    browser = Browser(port, timings, errors)
    got = browser.request("sign_in_page", "GET", f"/sign-in/{token}")
    browser.request("sign_in_post", "POST", f"/sign-in/{token}", form_fields(got[1]))
    statuses = {}
    for path in paths:
        for _ in range(fetches):
            got = browser.request(path, "GET", path)
            statuses[path] = got[0]
            if got[0] != 200:
                errors[f"{path}: {got[0]}"] += 1
    return {
        path: {"status": statuses[path], "p50": percentile(timings[path], 0.5),
               "p95": percentile(timings[path], 0.95)}
        for path in paths
    } | {"_errors": dict(errors)}  # fmt: skip


def start_py_spy(processes: Processes, folder: str) -> list[subprocess.Popen]:
    """py-spy on each gunicorn worker, sampling until stopped; raw (collapsed) stacks."""
    master = processes.started["gunicorn"].pid
    workers = processes._children_of(master)
    Path(folder).mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                str(BIN / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--nonblocking",
                "--gil",
                "-o",
                str(Path(folder) / f"worker-{pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for pid in workers
    ]


def stop_py_spy(profilers: list[subprocess.Popen]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
    for profiler in profilers:
        profiler.wait(timeout=60)


def make_national_register(out: Path, n: int) -> None:
    """make_register.py's national register and roster, but over ~136 local authorities
    of four seats each rather than its nine regions: a parent letter names the signing
    schools of its own authority, and a region's thousands would make every letter long."""
    rng = random.Random(n)
    england = [s for s in make_register.SEATS if s["Country name"] == "England"]
    rows = []
    for i in range(n):
        seat = i % len(england)
        phase = rng.choice(["Secondary", "Primary"])
        la = f"Authority {seat // 4 + 1}"
        rows.append(make_register.school_row(rng, 900001 + i, england[seat], la, phase))
    make_register.write_register(out / f"gias-england-{n}.csv", rows)
    make_register.write_roster(out / f"roster-england-{n}.csv", rows, rng)


# --- the run -----------------------------------------------------------------------


def environment(
    args, work: Path, url: str, redis_url: str, port: int, api: str, webhook_key: str
) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPAIGN_", "SENDGRID_"))}
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BASE_URL", "LETTER_STORE"):
        env.pop(key, None)
    env.update(
        CAMPAIGN_INSTANCE=str(work / "instance"),
        DATABASE_URL=url,
        SECRET_KEY="national-benchmark",
        BASE_URL=f"http://127.0.0.1:{port}",
        BIND=f"127.0.0.1:{port}",
        SENDGRID_API_KEY=fakes.SENDGRID_KEY,
        SENDGRID_API_HOST=api,
        # Links are minted at the invitations and used in the surge, which at 20,000
        # heads can be more than the default 30 minutes later.
        LOGIN_TOKEN_MINUTES="600",
        SENDGRID_WEBHOOK_PUBLIC_KEY=webhook_key,
        PYTHONUNBUFFERED="1",
    )
    if args.kill_workers:
        env.update(ENVIRONMENT)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def run(args, work: Path, url: str, redis_url: str) -> list[dict]:
    lines = []
    port = free_port()
    mailbox = Mailbox(port)
    if url.startswith("postgresql"):
        url = (
            sa.make_url(url)
            .update_query_dict({"application_name": APPLICATION_NAME})
            .render_as_string(hide_password=False)
        )
    processes = Processes(work, url)
    with fakes.serve(mailbox.handle) as (api, recorder):
        recorder.requests = fakes.Forgetful()
        env = environment(args, work, url, redis_url, port, api, mailbox.signer.public_key)
        os.environ.clear()
        os.environ.update(env)
        stand_in = None
        if url.startswith("postgresql") and not args.no_stand_in_analyze:
            stand_in = StandInAutovacuum(url)
        try:
            lines += stages(args, work, env, port, mailbox, recorder, processes)
        finally:
            mailbox.events.stop()
            processes.stop()
            statistics_ = stand_in.stop() if stand_in else {"stand_in_analyze_runs": 0}
        lines.append(emit("memory", peak_mb=processes.memory()))
        lines.append(emit("statistics", **statistics_))
    return lines


def stages(args, work, env, port, mailbox, recorder, processes) -> list[dict]:
    # Imported now: the environment names the database and queue, which Huey reads at import.
    from benchmarks import national_app as inside

    lines = []
    started = time.perf_counter()
    command(env, "db", "upgrade")
    command(env, "mps", "import")
    inside.give_mps_addresses()
    command(env, "associations", "create", SLUG, "--name", ASSOCIATION, "--lead", LEAD)
    lines.append(emit("setup", seconds=round(time.perf_counter() - started, 2)))

    data = work / "data"
    data.mkdir()
    make_national_register(data, args.schools)
    figures = {}
    for kind, pattern in (("schools", "gias-*.csv"), ("members", "roster-*.csv")):
        file = next(data.glob(pattern))
        started = time.perf_counter()
        out = command(env, kind, "import", str(file), "--association", SLUG, "--json")
        seconds = time.perf_counter() - started
        summary = json.loads(out.strip().splitlines()[-1])
        figures[kind] = {"rows": summary["read"], "seconds": round(seconds, 2),
                         "rows_per_s": round(summary["read"] / seconds, 1),
                         "rejected": len(summary.get("rejected", []))}  # fmt: skip
    lines.append(emit("imports", **figures))
    if args.until == "imports":
        return lines

    gunicorn = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")]
    processes.start("gunicorn", gunicorn, env)
    for _ in range(2):
        processes.start_worker(env)
    wait_for_http(port)

    app = inside.make_app()
    with app.app_context():
        campaign = inside.new_campaign()
        heads = inside.heads()
        figures = {"heads": heads}
        for kind, step, subject in (
            ("consultation", inside.open_consultation, "Consultation"),
            ("signoff", inside.open_signoff, "Please sign"),
        ):
            started = time.perf_counter()
            invited = step(campaign)
            step_seconds = time.perf_counter() - started
            seconds = step_seconds + wait_for_mail(mailbox, subject, invited, args.timeout)
            sent = mailbox.count(subject)
            figures[kind] = {"invited": invited, "emailed": sent,
                             "step_seconds": round(step_seconds, 2), "seconds": round(seconds, 2),
                             "emails_per_s": round(sent / seconds, 1)}  # fmt: skip
        lines.append(emit("invitations", **figures))

        # One head goes through in this process first, to count each request's SQL.
        email, _ = mailbox.links.popitem()
        counted = inside.queries_per_request(journey, email)
        if args.py_spy:
            profiler = start_py_spy(processes, args.py_spy)
        cpu_before = processes.cpu_seconds()
        links = dict(list(mailbox.links.items())[: args.surge_heads])
        signing = surge(port, links, args.heads_at_once)
        cpu = {
            kind: round(seconds - cpu_before.get(kind, 0), 1)
            for kind, seconds in processes.cpu_seconds().items()
        }
        signing["cpu_seconds"] = cpu
        signing["cpu_ms_per_head"] = {
            kind: round(1000 * seconds / max(1, signing["heads_done"]), 1)
            for kind, seconds in cpu.items()
        }
        signing["heads"] += 1
        signing["heads_done"] += counted["signed"] > 0
        signing["schools_signed"] += counted["signed"]
        if args.py_spy:
            stop_py_spy(profiler)
        lines.append(emit("signing", **signing, queries_in_process=counted))
        if len(links) < len(mailbox.links):
            lines.append(emit("signed_in_process", **inside.sign_the_rest(campaign)))
        lines.append(emit("signatures", **inside.signatures()))
        if args.until == "signing":
            return lines
        inside.close_signoff(campaign)

        drill = args.kill_workers and KillDrill(processes, env, args.kill_workers, args.schools)
        render = inside.render(campaign, args.timeout, drill and drill.at("render"))
        lines.append(emit("render", **render))
        if drill and not drill.rendered_once(render):  # nothing to send: the drill failed
            lines.append(emit("kill_drill", **drill.report(render, None)))
            return lines
        recorder.accepted.clear()
        if drill:
            recorder.latency = LATENCY
        sent = inside.send(
            campaign,
            lambda: set(recorder.accepted),
            args.timeout,
            drill and drill.at("send"),
            mailbox.events.settled if drill else None,
        )
        recorder.latency = 0.0
        sent["duplicates"] = sum(count - 1 for count in recorder.accepted.values())
        lines.append(emit("send", **sent))
        if drill:
            lines.append(emit("kill_drill", **drill.report(render, sent)))

        paths = inside.lead_pages(campaign)
        token = inside.lead_link().rsplit("/", 1)[1]
        timed = lead_pages(port, token, paths, args.lead_fetches)
        counted = inside.queries_per_page(paths)
        errors = timed.pop("_errors")
        pages = {p: timed[p] | {"queries": counted[p]["queries"]} for p in paths}
        lines.append(emit("lead_pages", fetches=args.lead_fetches, pages=pages,
                          errors=sum(errors.values()), error_kinds=errors))  # fmt: skip
        lines.append(emit("sizes", **inside.sizes(env["DATABASE_URL"])))
        inside.db.session.remove()
        inside.db.engine.dispose()
    return lines


def summary(args, backend: str, lines: list[dict], seconds: float) -> dict:
    by = {line["stage"]: line for line in lines}
    errors = by.get("signing", {}).get("errors", 0) + by.get("lead_pages", {}).get("errors", 0)
    render = by.get("render", {})
    return emit(
        "summary",
        schools=args.schools,
        backend=backend,
        cores=os.cpu_count(),
        seconds=round(seconds, 1),
        stages=[line["stage"] for line in lines],
        errors=errors,
        lost=by.get("signatures", {}).get("lost"),
        duplicates=by.get("send", {}).get("duplicates"),
        missing=by.get("send", {}).get("missing"),
        kills_survived=by.get("kill_drill", {}).get("kills_survived"),
        letters={
            a: {"rendered": r["rendered"], "expected": r["expected"]}
            for a, r in render.items()
            if isinstance(r, dict)
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=20000)
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_national",
        help="PostgreSQL: the run uses a scratch schema in it, dropped afterwards",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--embedded", action="store_true", help="SQLite and its queue instead")
    parser.add_argument("--heads-at-once", type=int, default=32)
    parser.add_argument(
        "--surge-heads",
        type=int,
        help="only this many heads sign over HTTP; the rest sign in this process, "
        "one after another (a 20,000-school run in a session's time)",
    )
    parser.add_argument("--lead-fetches", type=int, default=5)
    parser.add_argument("--py-spy", help="a folder: profile the gunicorn workers in the surge")
    parser.add_argument(
        "--no-stand-in-analyze",
        action="store_true",
        help="do not ANALYZE every minute when the server's autovacuum is off",
    )
    parser.add_argument("--until", choices=["imports", "signing"], help="stop after this stage")
    parser.add_argument(
        "--kill-workers",
        nargs="?",
        const="render,send",
        type=stages_to_drill,
        metavar="STAGES",
        help="SIGKILL workers at random points of these stages (render,send, or send), "
        "3 times each, starting new ones; see benchmarks/drill.py",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a stage may take")
    args = parser.parse_args()
    # Ctrl-C and SIGTERM both unwind through the finally blocks that clean up.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="campaign-national-"))
    try:
        if args.embedded:
            url = f"sqlite:///{work / 'instance' / 'campaign.sqlite3'}"
            lines = run(args, work, url, "")
            backend = "sqlite"
        else:
            with scratch_schema(args.database_url) as url, redis_db(args.redis_url):
                lines = run(args, work, url, args.redis_url)
            backend = "postgresql"
        summary(args, backend, lines, time.perf_counter() - started)
    finally:
        if os.environ.get("NATIONAL_KEEP"):
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def redis_db(url: str):
    """Clean up after the run: the queue's keys, and the whole database if it was empty."""
    client = redis.Redis.from_url(url)
    was_empty = client.dbsize() == 0
    for key in client.scan_iter("huey.*campaign*"):  # tasks left by a run that was killed
        client.delete(key)
    try:
        yield
    finally:
        if was_empty:
            client.flushdb()
        else:
            for key in client.scan_iter("huey.*campaign*"):
                client.delete(key)
            for key in client.scan_iter("LIMITS*"):
                client.delete(key)
        client.close()


if __name__ == "__main__":
    main()
