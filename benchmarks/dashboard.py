"""The console's dashboard over a year of data, on SQLite and PostgreSQL: p50 and p95 of `dashboard()` (the
week at a glance, built by the digest's own builder) over the data set of benchmarks/digest.py (1,000,000
answers from 52 weeks and 20 organisations by default), as an admin and as one organisation's staff.
Target (issue 14): p95 under 300 ms.

    python benchmarks/dashboard.py [--answers 1000000] [--backend both|sqlite|postgresql] [--rounds 20]
                                   [--sqlite-file FILE] [--pg-schema NAME]

Building the data set takes minutes: `--sqlite-file` and `--pg-schema` keep it (a SQLite file, a PostgreSQL
schema that is not dropped) and reuse it on the next run when it already holds answers; the schema is brought
up to the newest migration either way.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import PG_URL, kept_postgres_schema, machine, postgres_schema  # noqa: E402
from benchmarks.digest import LAST_WEEK, seed  # noqa: E402


def measure(url: str, rounds: int) -> dict:
    from sqlalchemy import select

    from analysis.dashboard import dashboard
    from config.settings import load_settings
    from surveys import models as m
    from surveys.scope import Scope
    from surveys.store import Store, make_sql_engine

    settings = load_settings(env={"DATABASE_URL": url, "CHORUS_SECRET_KEY": "bench-secret-0123456789",
                                  "CHORUS_VAR_DIR": tempfile.mkdtemp()}, dotenv=False)
    db = Store(settings, sql_engine=make_sql_engine(url))
    now = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)     # the digest benchmark's cut-off, end of the week
    with db.read() as conn:
        org = conn.execute(select(m.Organisation.id).order_by(m.Organisation.id)).scalars().first()
    out = {}
    for name, scope in (("admin", Scope.operator()), ("staff", Scope("staff", frozenset({org}), 1, "bench"))):
        dashboard(db, scope, LAST_WEEK, now)          # warm: imports, caches, the database's pages
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            dashboard(db, scope, LAST_WEEK, now)
            times.append(time.perf_counter() - t0)
        times.sort()
        out[name] = (statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)])
    db.dispose()
    return out


def _stored_answers(url: str) -> int:
    """Answers already in the database at `url` (0 when it has no answer table yet)."""
    from sqlalchemy import inspect, text

    from surveys.store import make_sql_engine

    engine = make_sql_engine(url)
    try:
        if not inspect(engine).has_table("answer"):
            return 0
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM answer")).scalar_one())
    finally:
        engine.dispose()


def run(backend: str, url: str, answers: int, rounds: int, reuse: bool = False) -> None:
    stored = _stored_answers(url) if reuse else 0
    if stored:
        from config.migrate import upgrade
        from surveys.store import make_sql_engine

        engine = make_sql_engine(url)
        upgrade(engine)
        engine.dispose()
        print(f"{backend}: reusing the kept data set ({stored:,} answers)", flush=True)
    else:
        t0 = time.perf_counter()
        counts = seed(url, answers)
        print(f"{backend}: seeded {counts['answers']:,} answers, {counts['invitations']:,} invitations in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    for name, (p50, p95) in measure(url, rounds).items():
        print(f"{backend}: dashboard() as {name}: p50 {1000 * p50:.0f} ms, p95 {1000 * p95:.0f} ms over {rounds} "
              "rounds (target p95 under 300 ms)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=1_000_000)
    ap.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--sqlite-file", type=Path, default=None, help="keep the SQLite data set in FILE, reuse it")
    ap.add_argument("--pg-schema", default=None, help="keep the PostgreSQL data set in schema NAME, reuse it")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    if args.backend in ("both", "sqlite"):
        if args.sqlite_file:
            run("SQLite", f"sqlite:///{args.sqlite_file.resolve()}", args.answers, args.rounds, reuse=True)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                run("SQLite", f"sqlite:///{tmp}/dashboard.db", args.answers, args.rounds)
    if args.backend in ("both", "postgresql"):
        try:
            if args.pg_schema:
                with kept_postgres_schema(PG_URL, args.pg_schema) as url:
                    run("PostgreSQL", url, args.answers, args.rounds, reuse=True)
            else:
                with postgres_schema(PG_URL) as url:
                    run("PostgreSQL", url, args.answers, args.rounds)
        except Exception as exc:  # noqa: BLE001 - report and carry on, as the other benchmarks do
            print(f"PostgreSQL: skipped ({exc.__class__.__name__}: {exc})")


if __name__ == "__main__":
    main()
