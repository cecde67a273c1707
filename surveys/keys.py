"""Staff operations on the encryption keys (see surveys/crypto.py): the start-up check, and rotation.

Rotation (`chorus keys rotate`) brings every encrypted column under the current key (CHORUS_ENCRYPTION_KEY):
plain values left from before encryption was turned on are encrypted, values under an older key (from
CHORUS_ENCRYPTION_OLD_KEYS) re-encrypted. It walks each column by id in batches, each batch its own short
transaction, and skips what is already under the current key, so stopping it anywhere loses nothing and
running it again carries on. A row the service changes meanwhile is left to the service (the update only
applies while the value is still the one read), which writes under the current key anyway.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import column, func, select, table, update

from surveys.crypto import Cipher, KeyMismatch, is_sealed
from surveys.store import Store

# Every column that holds a contact detail: typed `Sealed` in surveys.models. Declared here untyped, so that
# reading and writing them hands over the stored text as it is.
SEALED_COLUMNS = (("contact", "address"), ("message", "to_address"), ("safeguarding_contact", "address"),
                  ("staff_user", "email"))
BATCH = 500
# The start-up check reads this many rows from each end of each table (oldest: most likely under an old key).
SAMPLE = 50


def _raw(table_name: str, column_name: str):
    t = table(table_name, column("id"), column(column_name))
    return t, t.c[column_name]


def check_keys(db: Store) -> None:
    """Raise KeyMismatch (one line naming CHORUS_ENCRYPTION_KEY) when stored contact details cannot be read with
    the configured keys: a wrong key, a missing old key, or encrypted values and no key at all. Reads a few
    rows at each end of each table (by primary key, so it costs the same whatever the size)."""
    with db.read() as conn:
        for table_name, column_name in SEALED_COLUMNS:
            t, col = _raw(table_name, column_name)
            for order in (t.c.id.asc(), t.c.id.desc()):
                values = conn.execute(select(col).order_by(order).limit(SAMPLE)).scalars().all()
                for value in values:
                    if is_sealed(value):
                        db.cipher.open(value)  # raises KeyMismatch (without a key: for any encrypted value)


@dataclass
class Rotation:
    """What a rotation did: values re-encrypted per column, values already current, and whether it stopped
    early (`max_batches`) with work left."""

    rotated: dict[str, int] = field(default_factory=dict)
    current: int = 0
    finished: bool = True


class RotationError(Exception):
    """Rotation cannot run (no key set). One line for people."""


def count_values(db: Store) -> int:
    """How many stored contact details there are (the length of the progress bar)."""
    total = 0
    with db.read() as conn:
        for table_name, column_name in SEALED_COLUMNS:
            t, col = _raw(table_name, column_name)
            total += conn.execute(select(func.count()).select_from(t).where(col.is_not(None))).scalar_one()
    return total


def require_key(db: Store) -> Cipher:
    """The current cipher; RotationError (one line) when no key is set."""
    if not isinstance(db.cipher, Cipher):
        raise RotationError("CHORUS_ENCRYPTION_KEY is not set: there is no key to rotate to (make one with "
                            "chorus keys generate)")
    return db.cipher


def rotate(db: Store, *, batch: int = BATCH, max_batches: int | None = None,
           progress: Callable[[int], None] | None = None) -> Rotation:
    """Bring every contact detail under the current key, `batch` values per transaction. `progress(n)` is
    told after each batch how many values it looked at. `max_batches` stops after that many batches (for
    tests, and to spread the work); run again to carry on."""
    cipher = require_key(db)
    done = Rotation()
    batches = 0
    for table_name, column_name in SEALED_COLUMNS:
        t, col = _raw(table_name, column_name)
        done.rotated[f"{table_name}.{column_name}"] = 0
        after = 0
        while True:
            if max_batches is not None and batches >= max_batches:
                done.finished = False
                return done
            with db.write() as conn:
                rows = conn.execute(select(t.c.id, col).where(t.c.id > after, col.is_not(None))
                                    .order_by(t.c.id).limit(batch)).all()
                if not rows:
                    break
                for row_id, value in rows:
                    if cipher.is_current(value):
                        done.current += 1
                        continue
                    try:
                        new = cipher.rotate(value)
                    except KeyMismatch:
                        raise KeyMismatch(f"{table_name} row {row_id} cannot be decrypted with CHORUS_ENCRYPTION_KEY or "
                                          f"CHORUS_ENCRYPTION_OLD_KEYS (add the key it was encrypted with)") from None
                    changed = conn.execute(update(t).where(t.c.id == row_id, col == value).values({col: new}))
                    done.rotated[f"{table_name}.{column_name}"] += changed.rowcount
                after = rows[-1][0]
            batches += 1
            if progress is not None:
                progress(len(rows))
    return done
