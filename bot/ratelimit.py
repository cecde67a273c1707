"""Telegram's send limits, per bot and per chat, as sliding windows: never more than N sends in any window,
counted as Telegram counts them, on arrival.

A token bucket would be the usual choice, but a full bucket lets a burst through at the start of a window
and the steady rate after it, so some 1-second window sees nearly twice the limit. Counting when requests
*leave* is not enough either: a request that waits for a thread or a connection arrives late and lands in
the next window with the ones sent after it. So each send holds its slot until its response is back, and
the slot counts from then: a request arrives after it leaves and before its response returns, so N + 1
sends whose slots are at least a window apart also arrive at least a window apart. The price is the round
trip: a slot is busy for a window plus one request's latency.

Thread-safe. Waiting happens in the calling thread, outside the lock.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable, Hashable

IN_FLIGHT = math.inf
POLL = 0.005  # seconds between looks while every slot of a window is held by a request still in flight


class RateLimited(Exception):
    """Waiting for a slot would take longer than the caller allowed."""

    def __init__(self, wait: float):
        super().__init__(f"rate limited for another {wait:.1f}s")
        self.wait = wait


class _Entry:
    __slots__ = ("end",)

    def __init__(self):
        self.end = IN_FLIGHT  # when the response came back


class _Window:
    """At most `count` sends in any `length` seconds (a fractional rate such as 0.5/s becomes 1 per 2 s;
    2.5/s becomes 2 per second: never above the rate)."""

    __slots__ = ("count", "length", "entries")

    def __init__(self, per_second: float, margin: float):
        if per_second <= 0:
            raise ValueError("a rate must be more than 0 per second")
        self.count = max(1, math.floor(per_second))
        self.length = max(1.0, self.count / per_second) + margin
        self.entries: list[_Entry] = []

    def wait(self, now: float) -> float:
        """0 when a send may start now, else how long until one may (math.inf: not known yet)."""
        self.entries = [e for e in self.entries if e.end > now - self.length]
        if len(self.entries) < self.count:
            return 0.0
        ends = sorted(e.end for e in self.entries)
        return ends[len(ends) - self.count] + self.length - now


class Slot:
    """A granted send. Release it when the response is back (or the request failed): `with limiter.slot(...)`."""

    __slots__ = ("_limiter", "_entries")

    def __init__(self, limiter: "RateLimiter", entries: tuple[_Entry, ...]):
        self._limiter, self._entries = limiter, entries

    def release(self) -> None:
        self._limiter._release(self._entries)

    def __enter__(self) -> "Slot":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class RateLimiter:
    """`per_second` sends per bot and `per_key_per_second` per chat. `margin` widens every window, for a
    far end whose clock is coarser than ours."""

    def __init__(self, per_second: float = 30.0, per_key_per_second: float = 1.0, margin: float = 0.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._bot = _Window(per_second, margin)
        self._per_key, self._margin = per_key_per_second, margin
        self._keys: dict[Hashable, _Window] = {}
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep
        self._since_prune = 0

    def try_acquire(self, key: Hashable | None = None) -> tuple[float, Slot | None]:
        """(0, a slot) when a send may start now; else (seconds to wait, None) and nothing is taken.
        `key=None` counts against the bot only (edits are not messages to a chat)."""
        with self._lock:
            now = self._clock()
            window = self._window(key, now) if key is not None else None
            wait = max(self._paused_until - now, self._bot.wait(now), window.wait(now) if window else 0.0)
            if wait > 0:
                return wait, None
            entry = _Entry()
            self._bot.entries.append(entry)
            if window is not None:
                window.entries.append(entry)
            return 0.0, Slot(self, (entry,))

    def slot(self, key: Hashable | None = None, max_wait: float | None = None) -> Slot:
        """Block until a send may start and return its slot. Raises RateLimited, without taking a slot,
        when the wait would exceed `max_wait` (a long flood-control pause is better rescheduled)."""
        waited = 0.0
        while True:
            wait, granted = self.try_acquire(key)
            if granted is not None:
                return granted
            if wait == IN_FLIGHT:
                wait = POLL
            elif max_wait is not None and waited + wait > max_wait:
                raise RateLimited(wait)
            self._sleep(wait)
            waited += wait

    def acquire(self, key: Hashable | None = None, max_wait: float | None = None) -> None:
        """A slot for an instantaneous send (released at once): for callers with no response to wait for."""
        self.slot(key, max_wait).release()

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after N seconds": hold every send until then (its flood control is per
        bot as often as per chat, and we cannot tell which)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _release(self, entries: tuple[_Entry, ...]) -> None:
        with self._lock:
            now = self._clock()
            for entry in entries:
                entry.end = now

    def _window(self, key: Hashable, now: float) -> _Window:
        window = self._keys.get(key)
        if window is None:
            self._since_prune += 1
            if self._since_prune >= 1000:  # forget chats that have been quiet for a whole window
                self._since_prune = 0
                self._keys = {k: w for k, w in self._keys.items() if w.wait(now) >= 0 and w.entries}
            window = self._keys[key] = _Window(self._per_key, self._margin)
        return window
