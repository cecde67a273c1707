"""The terminal chat's screen: other threads' output (log lines from `chorus run`'s worker, clock and web
server, messages the local channel prints) goes above the prompt, never into what someone is typing.

While a prompt waits (`prompting`), a complete line written to a wrapped stream clears the prompt line,
prints the line, and draws the prompt and the text typed so far again (as readline knows it).
"""
from __future__ import annotations

import logging
import sys
import threading
from contextlib import contextmanager
from typing import Iterator, TextIO

_LOCK = threading.RLock()
_prompt: str | None = None
CLEAR_LINE = "\r\x1b[K"  # carriage return, then erase to the end of the line (every terminal since the VT100)


def _typed() -> str:
    readline = sys.modules.get("readline")  # only when the chat imported it (it then edits the input line)
    try:
        return readline.get_line_buffer() if readline else ""
    except Exception:  # noqa: BLE001 - a readline without the call: redraw the prompt alone
        return ""


class AbovePrompt:
    """A text stream that writes whole lines above the active prompt (see the module docstring)."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self._partial = ""

    def write(self, text: str) -> int:
        with _LOCK:
            self._partial += text
            while "\n" in self._partial:
                line, self._partial = self._partial.split("\n", 1)
                if _prompt is None:
                    self.stream.write(line + "\n")
                else:
                    self.stream.write(CLEAR_LINE + line + "\n" + _prompt + _typed())
            self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name):  # fileno, isatty, encoding...: input() needs the real terminal's
        return getattr(self.stream, name)


@contextmanager
def prompting(prompt: str) -> Iterator[None]:
    """Mark `prompt` as on screen and waiting for input."""
    global _prompt
    with _LOCK:
        _prompt = prompt
    try:
        yield
    finally:
        with _LOCK:
            _prompt = None


@contextmanager
def output_above_prompt() -> Iterator[None]:
    """Route sys.stdout, sys.stderr and the logging handlers writing to them through AbovePrompt."""
    out, err = sys.stdout, sys.stderr
    wrapped = {id(out): AbovePrompt(out), id(err): AbovePrompt(err)}
    moved = []
    for handler in logging.getLogger().handlers:
        stream = getattr(handler, "stream", None)
        if isinstance(handler, logging.StreamHandler) and id(stream) in wrapped:
            moved.append((handler, stream))
            handler.setStream(wrapped[id(stream)])
    sys.stdout, sys.stderr = wrapped[id(out)], wrapped[id(err)]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
        for handler, stream in moved:
            handler.setStream(stream)
