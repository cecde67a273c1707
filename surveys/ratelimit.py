"""A send rate shared by every worker, kept in the database (one `rate_slot` row per channel).

Each send reserves the next free instant for its channel and then waits for it: sends start at least
units / rate seconds apart, whichever worker makes them. The rate used is a little under the configured
one (SAFETY), so any limit + 1 consecutive slots span 1 / SAFETY seconds, about 31 ms more than one
second. A send may start late by up to LATE (the worker books a new slot when it wakes later than that)
and still leave about 11 ms for a slow thread between that check and the provider call before limit + 1
sends could fall inside one second (it takes one send that late followed by `limit` on time). Measured
on a machine loaded far beyond its cores: at most 29.8 ms from slot to provider call.

What the achieved rate loses is time nobody booked: a worker that books its next slot only once that
instant has passed lets the schedule slip, and a slot given up after a late wake is lost. The worker's
several lanes each book ahead while the others wait for their slots, so the schedule runs at SAFETY of the
limit (97%) unless the machine is so loaded that wake-ups come more than LATE after their slots.
"""
from __future__ import annotations

import time
from typing import Callable

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from surveys import models as m
from surveys.store import Store

R = m.RateSlot.__table__
SAFETY = 0.97
LATE = 0.020  # seconds a send may start after its slot; later, the worker books another ...
# ... at most this many times for one message. A send that is late by the same amount as every other
# crowds none of them; only a sudden delay does, and a fresh slot is then almost always on time. The bound
# keeps a machine that is always slow to wake sending (more slowly) instead of booking forever.
REBOOKS = 3


def reserve(db: Store, channel: str, units: int, rate: float, clock: Callable[[], float] = time.time) -> float:
    """Reserve `units` (messages, or SMS segments) at `rate` per second; returns the epoch second at which
    this send may start (now, or later when others have reserved ahead). The clock is read once the
    channel's row is locked, so time spent waiting for another worker's reservation is not booked in the
    past."""
    step = units / (rate * SAFETY)
    for _ in range(3):
        try:
            with db.write() as conn:
                row = conn.execute(select(R.c.next_at).where(R.c.channel == channel).with_for_update()).first()
                now = clock()
                if row is None:
                    conn.execute(insert(R).values(channel=channel, next_at=now + step))
                    return now
                start = max(now, row.next_at)
                conn.execute(update(R).where(R.c.channel == channel).values(next_at=start + step))
                return start
        except IntegrityError:
            continue  # another worker created the row first: read it again
    raise RuntimeError(f"could not reserve a send slot for {channel}")
