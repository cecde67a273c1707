"""The newcomer path in the README ("Your first hour"), run as a newcomer runs it.

The commands are read from the README's `newcomer` block, so the README and this test cannot drift apart.
`make run` is played from the Makefile's own `run` recipe (every line, in order), its last line (`chorus
run`) kept running in the background as "terminal 1", without its chat and on a free port. Every other line
runs in a shell as written, with `.venv/bin/` meaning this interpreter's folder. Each must exit 0 with no
traceback, and what each says must be what happened (the checks below).
"""
from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _readme_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- newcomer:start -->\s*```sh\n(.*?)```\s*<!-- newcomer:end -->", text, re.S)
    assert block, "README.md has no newcomer block"
    lines = []
    for raw in block.group(1).splitlines():
        line = raw.split("  #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            lines.append(line)
    return lines


def _make_run_recipe() -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^run:.*?\n((?:\t.*\n)+)", text, re.M)
    assert recipe, "Makefile has no run recipe"
    return [line.strip().replace("$(BIN)/", ".venv/bin/") for line in recipe.group(1).splitlines()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "TELEGRAM_", "SMTP_", "DIGEST_", "DATABASE_URL", "CHORUS_"))}
    # The newcomer's defaults, in a folder of the test's own; no quiet hours, so the wave goes whatever the
    # hour the test runs at (quiet hours have tests of their own).
    env.update(CHORUS_VAR_DIR=str(tmp_path / "var"), QUIET_HOURS="00:00-00:00", PYTHONUNBUFFERED="1")
    return env


def _run(line: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    command = line.replace(".venv/bin/", f"{BIN}/")
    proc = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    everything = proc.stdout + proc.stderr
    assert "Traceback" not in everything, f"{line}\n{everything}"
    assert proc.returncode == 0, f"{line} exited {proc.returncode}\n{everything}"
    return proc


def test_the_readme_newcomer_path_runs_without_a_traceback_and_says_what_happened(env, tmp_path):
    steps = _readme_block()
    assert steps[0] == "make run", "the newcomer path starts with make run"
    work = tmp_path / "work"           # where the newcomer's own files (digest/) land
    work.mkdir()
    for name in ("docs", "surveys"):
        os.symlink(ROOT / name, work / name)

    *setup, service = _make_run_recipe()
    for line in setup:
        _run(line, env, work)
    assert service.split()[1] == "run", service
    port = _free_port()
    terminal_1 = subprocess.Popen(shlex.split(service.replace(".venv/bin/", f"{BIN}/")) + ["--no-chat", "--port", str(port)], cwd=work, env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
    try:
        out = {}
        for line in steps[1:]:
            out[line] = _run(line, env, work)

        def said(command: str) -> str:
            (output,) = [p.stdout + p.stderr for line, p in out.items() if f"chorus {command}" in line]
            return output

        assert "Do you agree to take part?" in said("chat")
        assert "ok (first-survey v1, 2 questions, en)" in said("surveys validate")
        assert "first-survey: new version 1" in said("surveys load")
        assert "5 created, 0 updated, 0 unchanged, 0 rejected" in said("participants import")
        wave = re.search(r"wave #(\d+): 6 invited \(left out: nobody\)", said("waves send-now"))
        assert wave, said("waves send-now")
        assert "no sms channel is configured" in said("waves send-now")
        assert f"#{wave.group(1)}" in said("waves list")

        wave_id = wave.group(1)
        deadline, shown = time.monotonic() + 60, ""
        while time.monotonic() < deadline:          # terminal 1's worker sends the wave
            shown = _run(f".venv/bin/chorus waves show {wave_id}", env, work).stdout
            if re.search(r"waiting\s+0\b", shown) and re.search(r"sent\s+5\b", shown):
                break
            time.sleep(0.5)
        assert re.search(r"invited\s+6\b", shown) and re.search(r"sent\s+5\b", shown), shown
        assert re.search(r"failed\s+1\b", shown) and "no sms channel is configured" in shown, shown
        again = _run(".venv/bin/chorus participants import docs/examples/participants.csv", env, work)
        assert "0 created, 0 updated, 5 unchanged, 0 rejected" in again.stdout + again.stderr

        assert re.search(r"digest 20\d\d-W\d\d \(partnership\)", said("digest build")), said("digest build")
        for name in ("email.html", "email.txt", "print.html", "digest.md", "digest.json"):
            assert (work / "digest" / name).is_file(), name
        assert "people invited this week answered" in said("digest build")
    finally:
        terminal_1.terminate()
        try:
            log, _ = terminal_1.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            terminal_1.kill()
            log, _ = terminal_1.communicate()
    assert "Traceback" not in log, log
    assert "chorus is running" in log and "[to +447700900201]" in log, log
