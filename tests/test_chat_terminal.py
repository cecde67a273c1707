"""The terminal chat in a real pseudo-terminal: how to leave is said, /quit is never sent, `quit` asks before
leaving (to Chorus it is STOP), and other threads' log lines print above the prompt, not into it."""
import io
import logging
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from config.terminal import CLEAR_LINE, AbovePrompt, output_above_prompt, prompting

ROOT = Path(__file__).resolve().parent.parent
CHORUS = str(Path(sys.executable).parent / "chorus")
EXAMPLES = sorted(str(p) for p in (ROOT / "surveys" / "examples").glob("*.yaml"))
ME = "+447700900777"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_line_from_another_thread_prints_above_the_prompt():
    screen = _Terminal()
    log = logging.getLogger("chorus.test.terminal")
    handler = logging.StreamHandler(screen)
    log.addHandler(handler)
    log.propagate = False
    try:
        sys_out = sys.stdout
        with output_above_prompt():
            handler.setStream(AbovePrompt(screen))
            with prompting("> "):
                worker = threading.Thread(target=log.warning, args=("worker sending through local",))
                worker.start()
                worker.join()
            log.warning("after the prompt")
        assert sys.stdout is sys_out
    finally:
        log.removeHandler(handler)
    assert screen.getvalue() == CLEAR_LINE + "worker sending through local\n> " + "after the prompt\n"


@pytest.fixture
def env(tmp_path):
    values = {**os.environ, "CHORUS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/chat.db",
              "CHORUS_SECRET_KEY": "chat-test-secret-0123456789", "LOG_LEVEL": "INFO", "TERM": "xterm"}
    values.pop("TELEGRAM_BOT_TOKEN", None)
    for args in (["db", "upgrade"], ["surveys", "load", *EXAMPLES], ["orgs", "add", "Demo Partnership", "--code", "demo"]):
        subprocess.run([CHORUS, *args], env=values, check=True, capture_output=True, timeout=60)
    return values


class _Pty:
    def __init__(self, args, env):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.seen = ""

    def read_until(self, needle: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while needle not in self.seen:
            left = end - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                raise AssertionError(f"{needle!r} never came; the screen shows:\n{self.seen}")
            if select.select([self.master], [], [], min(left, 0.5))[0]:
                try:
                    self.seen += os.read(self.master, 4096).decode(errors="replace")
                except OSError:
                    pass
        return self.seen

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def exit_code(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running; the screen shows:\n{self.seen}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def _opted_out(env) -> list:
    sql_engine = create_engine(env["DATABASE_URL"])
    with sql_engine.connect() as conn:
        rows = conn.execute(text("SELECT opted_out_at FROM contact")).all()
    sql_engine.dispose()
    return [r[0] for r in rows]


def test_slash_quit_leaves_and_is_never_sent(env):
    chat = _Pty([CHORUS, "chat", "--as", ME, "--org", "demo"], env)
    try:
        chat.read_until("> ")
        assert "To leave: Ctrl-D or /quit, which is never sent" in chat.seen
        chat.type("/quit\r")
        assert chat.exit_code() == 0
        assert "< " not in chat.seen  # Chorus never answered: nothing was sent
    finally:
        chat.close()


def test_quit_asks_first_and_leaving_does_not_opt_the_person_out(env):
    chat = _Pty([CHORUS, "chat", "--as", ME, "--org", "demo"], env)
    try:
        chat.read_until("> ")
        chat.type("quit\r")
        chat.read_until("Leave the chat? [Y/n, n sends it]")
        assert "Chorus reads it as STOP, opting you out of everything" in chat.seen
        chat.type("\r")
        assert chat.exit_code() == 0
    finally:
        chat.close()
    assert _opted_out(env) == [None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_chorus_run_prints_a_web_log_line_above_the_prompt_not_into_it(env):
    port = _free_port()
    run = _Pty([CHORUS, "run", "--chat", "--port", str(port), "--as", ME, "--org", "demo"], env)
    try:
        run.read_until("To leave: Ctrl-D")
        run.read_until("> ")
        time.sleep(1)  # let the worker's and clock's start-up lines land first
        run.type("hel")
        run.read_until("> hel")
        before = len(run.seen)
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30).read()
        after = run.read_until("GET /healthz")[before:]
        # The prompt line is cleared first and the log line written in its place, not after "> hel".
        assert re.search(re.escape(CLEAR_LINE) + r"[^\r\n>]*INFO werkzeug: [^\r\n]*GET /healthz", after), after
        run.read_until("> hel", timeout=10)  # ...and the prompt with what was typed is drawn again below it
        assert run.seen.rstrip().endswith("> hel")
        run.type("\x04")  # Ctrl-D on an empty line leaves; first clear what was typed
    finally:
        run.close()
