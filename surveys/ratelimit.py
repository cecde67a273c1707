"""A send rate shared by every worker, kept in the database (one `rate_slot` row per channel).

Each send reserves the next free instant for its channel and then waits for it: sends start at least
units / rate seconds apart, whichever worker makes them, so no 1-second window ever holds more than the
limit. The rate used is a little under the configured one (SAFETY): any limit + 1 consecutive slots then
span 1 / SAFETY seconds, so a send may start up to about 40 ms late (a busy machine, a slow wake-up) and
still never put limit + 1 sends in one second. Measured: 96% of the limit achieved, never above it.
"""
from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from surveys import models as m
from surveys.store import Store

R = m.RateSlot.__table__
SAFETY = 0.96


def reserve(db: Store, channel: str, units: int, rate: float, now: float) -> float:
    """Reserve `units` (messages, or SMS segments) at `rate` per second; returns the epoch second at which
    this send may start (now, or later when others have reserved ahead)."""
    step = units / (rate * SAFETY)
    for _ in range(3):
        try:
            with db.write() as conn:
                row = conn.execute(select(R.c.next_at).where(R.c.channel == channel).with_for_update()).first()
                if row is None:
                    conn.execute(insert(R).values(channel=channel, next_at=now + step))
                    return now
                start = max(now, row.next_at)
                conn.execute(update(R).where(R.c.channel == channel).values(next_at=start + step))
                return start
        except IntegrityError:
            continue  # another worker created the row first: read it again
    raise RuntimeError(f"could not reserve a send slot for {channel}")
