"""Waves and the outbox, on SQLite and PostgreSQL:

1. time to create a wave for 100,000 participants (target under 10 s);
2. outbox drain rate with no rate limit on the local channel (target at least 2,000 rows/s), after the
   invitations have been turned into queued messages (that step's rate is printed too);
3. the achieved send rate against a configured limit, and the most sends seen in any 1-second window
   (never above the limit), with two workers sharing the limit through the database; `--busy N` keeps N
   processes spinning on the CPU meanwhile, to see the limiter on a loaded machine.

The worker sends through `--senders` lanes (default: the worker's own default, surveys.outbox.SENDERS).

    python benchmarks/wave.py [--participants 100000] [--drain 20000] [--limit 50] [--senders N] [--busy N]
                              [--backend both]
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text, update  # noqa: E402

from benchmarks.common import PG_URL, encryption, machine, postgres_schema  # noqa: E402
from config.migrate import upgrade  # noqa: E402
from config.settings import load_settings  # noqa: E402
from surveys import admin  # noqa: E402
from surveys import models as m  # noqa: E402
from surveys.loader import load_survey_file  # noqa: E402
from surveys.outbox import SENDERS, Worker, start_due_invitations  # noqa: E402
from surveys.store import Store, make_sql_engine  # noqa: E402
from surveys.waves import create_wave  # noqa: E402

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)  # a Monday morning: no quiet hours


class Counting:
    name = "local"

    def __init__(self):
        self.times: list[float] = []
        self.lock = threading.Lock()

    def send(self, address, message):
        with self.lock:
            self.times.append(time.monotonic())
        return None


def seed(store: Store, n: int) -> None:
    admin.load_survey(store, load_survey_file(ROOT / "surveys" / "examples" / "weekly.yaml"), T0)
    admin.add_organisation(store, "Bench Org", "bench", T0)
    with store.write() as conn:
        org = conn.execute(select(m.Organisation.id)).scalar()
        for start in range(0, n, 10_000):
            rows = [dict(channel="local", address=f"+4477{i:08d}", address_hash=f"h{i:063d}", language="en",
                         created_at=T0) for i in range(start, min(n, start + 10_000))]
            conn.execute(insert(m.Contact.__table__), rows)
        conn.execute(text(
            "INSERT INTO enrolment (contact_id, organisation_id, consent_status, consent_participate, consent_quote,"
            " source, tags, created_at) SELECT id, :org, 'given', true, false, 'staff', '[]', created_at FROM contact"
        ), {"org": org})


def rate_windows(times: list[float]) -> int:
    """The most sends in any 1-second window [t, t+1)."""
    best, j = 0, 0
    for i in range(len(times)):
        while times[i] - times[j] >= 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def spin(stop) -> None:
    while not stop.is_set():
        pass


def run(name: str, store: Store, participants: int, drain: int, limit: float, senders: int, busy: int) -> None:
    seed(store, participants)
    t = time.perf_counter()
    result = create_wave(store, "weekly-checkin", T0, T0)
    created = time.perf_counter() - t
    print(f"{name:9} wave of {result.invited:,} participants created in {created:.2f} s", flush=True)

    # Drain: start `drain` invitations, then time the sending of their queued messages.
    with store.write() as conn:
        keep = select(m.Invitation.id).order_by(m.Invitation.id).limit(drain).scalar_subquery()
        conn.execute(update(m.Invitation.__table__).where(m.Invitation.__table__.c.id.not_in(keep))
                     .values(status="cancelled"))
    t = time.perf_counter()
    while start_due_invitations(store, T0, 1000):
        pass
    started = time.perf_counter() - t
    with store.read() as conn:
        queued = conn.execute(select(text("count(*)")).select_from(m.Message).where(m.Message.status == "pending")).scalar()
    print(f"{name:9} {drain:,} invitations started ({queued:,} messages queued) in {started:.2f} s "
          f"({drain / started:,.0f}/s)", flush=True)
    channel = Counting()
    worker = Worker(store, {"local": channel}, {"local": None}, "bench", batch=500, clock=lambda: T0,
                    senders=senders)
    t = time.perf_counter()
    while worker.run_once():
        pass
    drained = time.perf_counter() - t
    print(f"{name:9} outbox drained: {len(channel.times):,} rows in {drained:.2f} s "
          f"({len(channel.times) / drained:,.0f} rows/s, no rate limit, {senders} lanes)", flush=True)

    # Rate: two workers share the limit through the database.
    count = int(limit * 10)
    with store.write() as conn:
        conn.execute(insert(m.Message.__table__), [
            dict(channel="local", direction="out", contact_id=1, kind="text", text="rate test", status="pending",
                 not_before=T0, created_at=T0, purpose="broadcast") for _ in range(count)])
    limited = Counting()
    workers = [Worker(store, {"local": limited}, {"local": limit}, f"w{i}", batch=20,
                      clock=lambda: T0 + timedelta(days=1), senders=senders) for i in range(2)]
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=spin, args=(stop,), daemon=True) for _ in range(busy)]
    for p in spinners:
        p.start()
    t = time.perf_counter()
    threads = [threading.Thread(target=lambda w=w: [None for _ in iter(w.run_once, 0)]) for w in workers]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    stop.set()
    for p in spinners:
        p.join()
    sent = limited.times
    # n sends span n - 1 intervals.
    achieved = (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 else 0
    loaded = f", {busy} CPU spinners" if busy else ""
    print(f"{name:9} limit {limit:g}/s, 2 workers{loaded}: {len(sent)} sent, achieved {achieved:.1f}/s "
          f"({achieved / limit:.1%} of the limit), most in any 1-s window {rate_windows(sent)}, "
          f"slots re-booked after a late wake {sum(w.rebooked for w in workers)}, "
          f"total {elapsed:.1f} s (ideal {count / limit:.1f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--drain", type=int, default=20_000)
    parser.add_argument("--limit", type=float, default=50)
    parser.add_argument("--senders", type=int, default=SENDERS, help="lanes per worker")
    parser.add_argument("--busy", type=int, default=0, help="CPU-spinning processes during the rate test")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--encrypted", action="store_true", help="with CHORUS_ENCRYPTION_KEY set (a fresh key)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env={"CHORUS_VAR_DIR": tmp, "CHORUS_SECRET_KEY": "bench-secret-key-0123456789",
                                      "DATABASE_URL": f"sqlite:///{tmp}/wave.db"} | encryption(args.encrypted),
                                 dotenv=False)
        if args.backend in ("sqlite", "both"):
            store = Store(settings, sql_engine=make_sql_engine(settings.database_url, background_checkpoints=True))
            upgrade(store.sql_engine)
            run("sqlite", store, args.participants, args.drain, args.limit, args.senders, args.busy)
            store.dispose()
        if args.backend in ("postgres", "both"):
            with postgres_schema(PG_URL) as url:
                store = Store(settings, sql_engine=make_sql_engine(url))
                upgrade(store.sql_engine)
                run("postgres", store, args.participants, args.drain, args.limit, args.senders, args.busy)
                store.dispose()


if __name__ == "__main__":
    main()
