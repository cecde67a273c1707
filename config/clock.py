"""The clock (the Procfile's `clock:` process): APScheduler 3 and nothing else.

Every `TICK` seconds, whichever clock holds the database lease creates due waves, queues reminders and
expires stale conversations; every RETENTION_CHECK seconds it also runs the day's retention purge when one is
due (surveys/retention.py: once a day, after 03:00 in CHORUS_TIMEZONE). A second clock process waits, renewing nothing, and takes over within the
lease's lifetime if the leader stops. Jobs are plain importable functions, as APScheduler requires.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from surveys import retention
from surveys.housekeeping import expire_stale, hold_lease, send_reminders
from surveys.store import Store
from surveys.waves import due_waves

log = logging.getLogger("chorus.clock")
TICK = 30  # seconds
RETENTION_CHECK = 15 * 60  # seconds between checks whether the day's retention purge is due
LEASE = timedelta(seconds=90)  # three ticks: a leader that misses two in a row loses it
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def tick(db: Store, now: datetime | None = None, holder: str = HOLDER) -> dict:
    """One round of the clock's work, if this process leads. Returns what it did (for logs and tests)."""
    now = now or datetime.now(timezone.utc)
    if not hold_lease(db, "clock", holder, now, LEASE):
        return {"leader": False}
    waves = due_waves(db, now)
    done = {"leader": True, "waves": sum(1 for w in waves if w.created), "reminders": send_reminders(db, now),
            "expired": expire_stale(db, now)}
    try:
        from analysis.digest.deliver import weekly_digest

        digest = weekly_digest(db, now)
        if digest.get("sent") or digest.get("refreshed") or digest.get("week"):
            log.info("clock: digest %s", digest)
        done["digest"] = digest
    except Exception:  # the digest must never stop waves, reminders and expiry
        log.exception("clock: the weekly digest failed; it is tried again next tick")
    if done["waves"] or done["reminders"] or done["expired"]:
        log.info("clock: %s", done)
    return done


def retention_job(db: Store, now: datetime | None = None, holder: str = HOLDER) -> dict | None:
    """The daily retention purge, if this process leads and no run has started since the day's RUN_AT. A job
    of its own, not part of `tick`: a long purge must not hold up waves, reminders and expiry. Returns the
    counts when it ran (None otherwise)."""
    now = now or datetime.now(timezone.utc)
    if not hold_lease(db, "clock", holder, now, LEASE) or not retention.due(db, now):
        return None
    try:
        return retention.run(db, now, source=retention.CLOCK).counts
    except Exception:  # recorded as a run without counts; the next day's run finishes what this one left
        log.exception("clock: the retention purge failed")
        return None


def scheduler(db: Store, blocking: bool = True):
    sched = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=timezone.utc)
    start = datetime.now(timezone.utc)
    sched.add_job(tick, "interval", seconds=TICK, args=[db], next_run_time=start,
                  max_instances=1, coalesce=True, id="chorus-tick")
    # After the first tick has taken the lease; then every RETENTION_CHECK seconds (it runs once a day).
    sched.add_job(retention_job, "interval", seconds=RETENTION_CHECK, args=[db],
                  next_run_time=start + timedelta(seconds=TICK), max_instances=1, coalesce=True,
                  id="chorus-retention")
    return sched


def build(settings=None, blocking: bool = True):
    """What `chorus clock` runs: the scheduler, on the store from the composition root (`config.wiring`),
    checked at start (see config/startup.py)."""
    from config.startup import check_ready
    from config.wiring import announce, make_store

    store = make_store(settings)
    check_ready(store)
    announce(store)
    return scheduler(store, blocking)


def main() -> None:
    from config.logs import configure_logging

    configure_logging()
    log.info("clock %s starting; ticks every %ss", HOLDER, TICK)
    build().start()


if __name__ == "__main__":
    main()
