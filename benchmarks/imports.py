"""How fast the register and the roster import at national scale.

    .venv/bin/python benchmarks/imports.py [N]        # N schools, default 20000

Makes a fictional national register of N schools and its roster with
benchmarks/make_register.py, then imports each twice (first import, then the
idempotent re-import) on SQLite and, when TEST_DATABASE_URL is set, on
PostgreSQL in a scratch schema. Prints rows per second and the ratios.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for benchmarks.scratch
MAKE_REGISTER = ROOT / "benchmarks" / "make_register.py"
os.environ.setdefault("CAMPAIGN_INSTANCE", tempfile.mkdtemp(prefix="campaign-bench-"))

from flask_migrate import upgrade  # noqa: E402

from benchmarks.scratch import scratch_schema  # noqa: E402
from campaign import create_app  # noqa: E402
from campaign.directory.mps import import_mps, packaged_results  # noqa: E402
from campaign.directory.register import import_register  # noqa: E402
from campaign.directory.roster import import_roster  # noqa: E402
from campaign.directory.services import create_association  # noqa: E402
from campaign.extensions import db  # noqa: E402


def timed(run) -> tuple[float, object]:
    start = time.perf_counter()
    result = run()
    db.session.commit()
    return time.perf_counter() - start, result


def bench(url: str, register: bytes, roster: bytes) -> dict[str, float]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    figures = {}
    with app.app_context():
        upgrade()
        import_mps(packaged_results())
        association = create_association("national", "National Heads", "lead@national.example")
        db.session.commit()
        for label, run in [
            ("register, first import", lambda: import_register(association, register)),
            ("register, re-import", lambda: import_register(association, register)),
            ("roster, first import", lambda: import_roster(association, roster)),
            ("roster, re-import", lambda: import_roster(association, roster)),
        ]:
            seconds, summary = timed(run)
            assert not summary.rejected, summary.rejected[:3]
            figures[label] = summary.read / seconds
        db.engine.dispose()
    return figures


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    out = Path(tempfile.mkdtemp(prefix="campaign-bench-data-"))
    subprocess.run([sys.executable, MAKE_REGISTER, "national", out, str(n)], check=True)
    register = next(out.glob("gias-*.csv")).read_bytes()
    roster = next(out.glob("roster-*.csv")).read_bytes()
    roster_rows = roster.count(b"\n") - 1
    print(f"{n:,} schools: register {len(register) / 1e6:.1f} MB, roster {roster_rows:,} rows")

    results = {"SQLite": bench(f"sqlite:///{out / 'bench.sqlite3'}", register, roster)}
    if pg := os.environ.get("TEST_DATABASE_URL"):
        with scratch_schema(pg) as url:
            results["PostgreSQL"] = bench(url, register, roster)

    backends = list(results)
    print(f"\n{'rows per second':<26}" + "".join(f"{b:>12}" for b in backends))
    for label in results["SQLite"]:
        print(f"{label:<26}" + "".join(f"{results[b][label]:>12,.0f}" for b in backends))
    for b in backends:
        r = results[b]
        print(
            f"{b}: re-import is {r['register, re-import'] / r['register, first import']:.1f}x "
            f"(register) and {r['roster, re-import'] / r['roster, first import']:.1f}x (roster) "
            "the speed of a first import"
        )


if __name__ == "__main__":
    main()
