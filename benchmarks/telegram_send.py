"""Outbound Telegram throughput against the limit: N messages through TelegramChannel to a local fake Bot API.

Sends `--messages` messages spread over `--chats` chats (so the per-chat limit is not what binds) from
`--threads` sender threads, as an outbox worker pool would, through the real channel: python-telegram-bot on
the channel's event-loop thread, the sliding-window rate limiter, real HTTP to a local fake server. Prints the
achieved rate, the highest number of messages that reached the server in any 1-second window (never above
the configured limit) and in any 1-second window for one chat, and the total time against the ideal
(count / limit), plus the machine it ran on.

    python benchmarks/telegram_send.py [--messages 2000] [--chats 500] [--threads 8] [--rate 30] [--chat-rate 1]
"""
from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine  # noqa: E402
from bot.channel import TelegramChannel  # noqa: E402
from bot.ratelimit import RateLimiter  # noqa: E402
from config.settings import Settings  # noqa: E402
from surveys.engine import Choice, OutgoingMessage  # noqa: E402
from tests.fake_telegram import TOKEN, FakeTelegram  # noqa: E402

MESSAGE = OutgoingMessage("How was your visit?", tuple(Choice(str(n), "") for n in range(1, 6)), "scale", "visit")


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open window [t, t + window)."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def run(messages: int, chats: int, threads: int, rate: float, chat_rate: float) -> dict:
    fake = FakeTelegram().start()
    channel = TelegramChannel(TOKEN, fake.base_url, limiter=RateLimiter(rate, chat_rate))
    work: queue.Queue = queue.Queue()
    for i in range(messages):
        work.put(str(100_000 + i % chats))
    errors: list[Exception] = []

    def sender() -> None:
        while True:
            try:
                chat = work.get_nowait()
            except queue.Empty:
                return
            try:
                channel.send(chat, MESSAGE)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(exc)

    channel.send("99", OutgoingMessage("warm-up"))  # start the loop thread and a connection outside the timing
    time.sleep(1.1)  # and let the warm-up leave the rate window
    fake.clear()
    started = time.perf_counter()
    workers = [threading.Thread(target=sender) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    sends = [c for c in fake.calls if c.method == "sendMessage"]
    by_chat: dict[str, list[float]] = defaultdict(list)
    for c in sends:
        by_chat[c.params["chat_id"]].append(c.at)
    channel.close()
    fake.stop()
    return {
        "sent": len(sends), "errors": len(errors), "elapsed": elapsed,
        "rate": len(sends) / elapsed, "max_window": max_in_window([c.at for c in sends]),
        "max_chat_window": max(max_in_window(t) for t in by_chat.values()), "ideal": messages / rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rate", type=float, default=Settings.telegram_rate_per_second)
    parser.add_argument("--chat-rate", type=float, default=Settings.telegram_chat_rate_per_second)
    args = parser.parse_args()
    print(f"sending {args.messages} messages to {args.chats} chats from {args.threads} threads; "
          f"limit {args.rate:g}/s per bot, {args.chat_rate:g}/s per chat")
    r = run(args.messages, args.chats, args.threads, args.rate, args.chat_rate)
    print(f"sent:                         {r['sent']} ({r['errors']} errors)")
    print(f"achieved rate:                {r['rate']:.2f} messages/s (limit {args.rate:g})")
    print(f"most in any 1-second window:  {r['max_window']} (limit {int(args.rate)}), "
          f"{'within' if r['max_window'] <= args.rate else 'ABOVE'} the limit")
    print(f"most for one chat in any 1 s: {r['max_chat_window']} (limit {max(1, int(args.chat_rate))})")
    print(f"total time:                   {r['elapsed']:.2f} s against an ideal of {r['ideal']:.2f} s "
          f"({r['elapsed'] / r['ideal']:.3f}x)")
    print(f"machine: {machine()}")
    print(f"run on {date.today().isoformat()}")


if __name__ == "__main__":
    main()
