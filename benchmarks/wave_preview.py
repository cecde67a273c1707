"""The send preview over a realistic population, on SQLite and PostgreSQL: p50 and p95 of preview_wave (with
the SMS segment and cost estimates the console uses) and of create_wave for the same survey, which shares
its audience code (surveys.waves.audience), so a slower audience shows in both.

Population: `--participants` contacts (default 20,000) in two organisations, 70% SMS and 30% Telegram,
English and Spanish; 4% opted out, 2% unreachable, 5% consent declined, 3% imported with consent pending.

    python benchmarks/wave_preview.py [--participants 20000] [--runs 9] [--backend both] [--create-only]

`--create-only` times create_wave alone (it runs on a checkout without the preview too, for a before and
after figure).
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

from sqlalchemy import insert, select  # noqa: E402

from benchmarks.common import PG_URL, machine, postgres_schema  # noqa: E402
from config.migrate import upgrade  # noqa: E402
from config.settings import load_settings  # noqa: E402
from surveys import admin  # noqa: E402
from surveys import models as m  # noqa: E402
from surveys.loader import load_survey_file  # noqa: E402
from surveys.store import Store, make_sql_engine  # noqa: E402
from surveys.waves import create_wave  # noqa: E402

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)  # a Monday noon: no quiet hours in Europe


def seed(store: Store, n: int) -> None:
    admin.load_survey(store, load_survey_file(ROOT / "surveys" / "examples" / "weekly.yaml"), T0)
    admin.add_organisation(store, "Bench Pantry", "bench", T0)
    admin.add_organisation(store, "Bench Youth", "youth", T0)
    with store.write() as conn:
        orgs = list(conn.execute(select(m.Organisation.id).order_by(m.Organisation.id)).scalars())
        for start in range(0, n, 10_000):
            part = range(start, min(n, start + 10_000))
            conn.execute(insert(m.Contact.__table__), [dict(
                channel="sms" if i % 10 < 7 else "telegram", address=f"+4477{i:08d}", address_hash=f"h{i:063d}",
                language="es" if i % 5 == 0 else "en", created_at=T0,
                opted_out_at=T0 if i % 25 == 1 else None, unreachable_at=T0 if i % 50 == 2 else None)
                for i in part])
        ids = list(conn.execute(select(m.Contact.id).order_by(m.Contact.id)).scalars())
        for start in range(0, len(ids), 10_000):
            conn.execute(insert(m.Enrolment.__table__), [dict(
                contact_id=c, organisation_id=orgs[i % 2],
                consent_status="declined" if i % 20 == 3 else "pending" if i % 33 == 4 else "given",
                consent_participate=True, consent_quote=False, source="import", tags=[], created_at=T0)
                for i, c in enumerate(ids[start:start + 10_000], start)])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(url: str, label: str, n: int, runs: int, preview: bool) -> None:
    with tempfile.TemporaryDirectory() as var:
        settings = load_settings(env={"DATABASE_URL": url, "CHORUS_VAR_DIR": var,
                                      "CHORUS_SECRET_KEY": "bench-secret-key-0123456789",
                                      "SMS_PRICE_PER_SEGMENT": "0.0079 USD"}, dotenv=False)
        sql_engine = make_sql_engine(url)
        upgrade(sql_engine)
        store = Store(settings, sql_engine=sql_engine)
        seed(store, n)
        if preview:
            from config.wiring import send_estimates
            from surveys.scope import Scope
            from surveys.wave_preview import preview_wave

            estimates = send_estimates(settings)
            times, result = [], None
            for i in range(runs):
                started = time.perf_counter()
                result = preview_wave(store, Scope.operator(), "weekly-checkin", T0, T0, estimates)
                times.append(time.perf_counter() - started)
            print(f"{label}: preview of a {n:,}-contact population ({result.reached:,} reached, left out "
                  f"{dict(result.left_out)}), {runs} runs: p50 {statistics.median(times) * 1000:.0f} ms, "
                  f"p95 {pct(times, 0.95) * 1000:.0f} ms")
        times = []
        for i in range(runs):
            at = T0 + timedelta(minutes=i)
            started = time.perf_counter()
            made = create_wave(store, "weekly-checkin", at, at)
            times.append(time.perf_counter() - started)
        print(f"{label}: create_wave for the same population ({made.invited:,} invited), {runs} runs: "
              f"p50 {statistics.median(times) * 1000:.0f} ms, p95 {pct(times, 0.95) * 1000:.0f} ms")
        sql_engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--create-only", action="store_true", help="time create_wave alone")
    args = parser.parse_args()
    print(machine())
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/bench.db", "SQLite", args.participants, args.runs, not args.create_only)
    if args.backend in ("postgres", "both"):
        try:
            with postgres_schema(PG_URL) as url:
                run(url, "PostgreSQL", args.participants, args.runs, not args.create_only)
        except Exception as exc:  # noqa: BLE001 - no server: say so and stop
            print(f"PostgreSQL: skipped ({exc.__class__.__name__}: {str(exc).splitlines()[0]})")


if __name__ == "__main__":
    main()
