"""The local channel: what would be sent, printed to the terminal (the default when no provider is set)."""
from __future__ import annotations

import sys
import threading
import uuid

from surveys.engine import OutgoingMessage
from surveys.render import render_plain


class LocalChannel:
    name = "local"
    buttons = False  # the terminal numbers the choices

    def __init__(self, out=None, quiet: bool = False):
        self.out = out  # None: sys.stdout as it is at each send (the terminal chat routes it above its prompt)
        self.quiet = quiet
        self.sent = 0
        self._lock = threading.Lock()

    def units(self, message: OutgoingMessage) -> int:
        return 1

    def send(self, address: str, message: OutgoingMessage) -> str:
        with self._lock:
            self.sent += 1
            if not self.quiet:
                text = render_plain(message).replace("\n", "\n  | ")
                print(f"[to {address}] {text}", file=self.out or sys.stdout, flush=True)
        return f"local-{uuid.uuid4().hex}"
