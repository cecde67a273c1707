"""An asyncio event loop in a daemon thread, so synchronous code (outbox worker threads, Flask request
threads) can run python-telegram-bot's coroutines.

PTB's Bot holds an httpx client bound to the loop it first ran on, so every call must go through the same
loop: Flask `async def` views make a new loop per request and break it after the first one. The loop
starts on first use and again after a fork (gunicorn forks workers; threads do not survive a fork).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self, name: str = "telegram-loop"):
        self.name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self.name, daemon=True)
                thread.start()
                self._loop, self._thread, self._pid = loop, thread, os.getpid()
            return self._loop

    def run(self, make: Callable[[], Awaitable[T]], timeout: float) -> T:
        """Run the coroutine `make()` on the loop and wait for its result; concurrent.futures.TimeoutError
        after `timeout` seconds (the coroutine is cancelled)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("LoopThread.run called from its own loop: it would wait for itself")
        loop = self.loop()

        async def call() -> T:
            return await make()

        future = asyncio.run_coroutine_threadsafe(call(), loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    @property
    def started(self) -> bool:
        return self._loop is not None and self._pid == os.getpid()

    def stop(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is not None and self._pid == os.getpid():
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(timeout=5)
            loop.close()
