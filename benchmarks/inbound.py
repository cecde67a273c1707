"""Inbound throughput: N simulated participants take a survey in-process through `handle_inbound`.

Prints inbound messages per second and p50/p99 latency per message on SQLite (a file in a temporary
folder, WAL) and on PostgreSQL (a temporary schema; skipped with a note when no server answers), plus the
machine it ran on. Every message is a real one: JOIN, consent, answers, a re-prompt, a HELP.

    python benchmarks/inbound.py [--participants 300] [--backend sqlite|postgres|both]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.exc import OperationalError  # noqa: E402

from benchmarks.common import PG_URL, encryption, machine, postgres_schema  # noqa: E402

from config.migrate import upgrade  # noqa: E402
from config.settings import load_settings  # noqa: E402
from surveys import admin  # noqa: E402
from surveys.loader import load_survey_file  # noqa: E402
from surveys.service import InboundMessage, handle_inbound  # noqa: E402
from surveys.store import Store, make_sql_engine  # noqa: E402

# One participant's side of the conversation with the service-experience example (NPS branch <= 6).
SCRIPT = ["JOIN bench", "yes", "yes", "HELP", "5", "The queue was far too long and nobody explained why",
          "banana", "2", "yes", "Thanks for listening"]


def run(store: Store, participants: int) -> list[float]:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    survey = load_survey_file(ROOT / "surveys" / "examples" / "service.yaml")
    admin.load_survey(store, survey, now)
    admin.add_organisation(store, "Bench Org", "bench", now, welcome_survey=survey.id)
    latencies: list[float] = []
    seq = 0
    # Interleave participants, as real traffic does: round r sends everyone's r-th message.
    for step_text in SCRIPT:
        for p in range(participants):
            seq += 1
            now += timedelta(milliseconds=10)
            msg = InboundMessage("local", f"+4477009{p:05d}", f"bench-{seq}", step_text)
            t0 = time.perf_counter()
            handle_inbound(store, msg, now)
            latencies.append(time.perf_counter() - t0)
    return latencies


def report(name: str, latencies: list[float]) -> None:
    latencies.sort()
    total = sum(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"{name:10} {len(latencies):6d} messages  {len(latencies) / total:8.0f} msg/s  "
          f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--encrypted", action="store_true", help="with CHORUS_ENCRYPTION_KEY set (a fresh key)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"workload: {args.participants} participants x {len(SCRIPT)} messages through the service-experience survey")
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env={"CHORUS_VAR_DIR": tmp, "CHORUS_SECRET_KEY": "bench-secret-key-0123456789",
                                      "DATABASE_URL": f"sqlite:///{tmp}/bench.db"} | encryption(args.encrypted),
                                 dotenv=False)
        if args.backend in ("sqlite", "both"):
            # As a long-running Chorus process runs it: WAL checkpoints in a background thread.
            store = Store(settings, sql_engine=make_sql_engine(settings.database_url, background_checkpoints=True))
            upgrade(store.sql_engine)
            report("sqlite", run(store, args.participants))
            store.dispose()
        if args.backend in ("postgres", "both"):
            try:
                with postgres_schema(PG_URL) as url:
                    sql_engine = make_sql_engine(url)
                    upgrade(sql_engine)
                    report("postgres", run(Store(settings, sql_engine=sql_engine), args.participants))
                    sql_engine.dispose()
            except OperationalError as exc:
                print(f"postgres   skipped: {PG_URL} does not answer ({exc.__class__.__name__})")


if __name__ == "__main__":
    main()
