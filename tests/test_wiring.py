"""Every process builds its store in one place (config.wiring.make_store) and so tags and flags the same way.

Each entry point is started as it starts in production, from the environment (web app factory, `chorus bot`,
`chorus worker`, `chorus clock`, `chorus run`, `chorus chat`); an answer that reaches the store it built is
sentiment-tagged, and a risky one raises a safeguarding flag. On both databases."""
from __future__ import annotations

import ast
import threading
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cli import main as chorus
from surveys import admin
from surveys import models as m
from surveys.service import InboundMessage, handle_inbound
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.process_env import close, use_database
from tests.sms_helpers import ACCOUNT, OUR_NUMBER, TOKEN as TWILIO_TOKEN, Twilio
from tests.telegram_helpers import Updates

ROOT = Path(__file__).resolve().parent.parent
KIND = "The advice line was really helpful"
RISKY = "I want to kill myself"
SCRIPT = ["JOIN demo", "yes", "no", KIND, RISKY]     # join, take part, no quotes, then two comments


@pytest.fixture
def process(db, now, tmp_path, monkeypatch):
    """The environment a process reads, pointing at this test's database with one organisation in it."""
    admin.add_organisation(db, "Demo Partnership", "demo", now)
    use_database(monkeypatch, db, tmp_path)
    return monkeypatch


def assert_tagged_and_flagged(db) -> None:
    with db.read() as conn:
        rows = {r.raw_text: r for r in conn.execute(select(m.Answer.id, m.Answer.raw_text, m.Answer.tags)
                                                    .where(m.Answer.raw_text.in_([KIND, RISKY])))}
        flagged = set(conn.execute(select(m.Flag.answer_id)).scalars())
    assert set(rows) == {KIND, RISKY}, "both comments stored"
    assert rows[KIND].tags and rows[KIND].tags["label"] == "positive" and "flag" not in rows[KIND].tags
    assert rows[RISKY].tags and rows[RISKY].tags.get("label") and "suicide" in rows[RISKY].tags["flag"]["categories"]
    assert flagged == {rows[RISKY].id}


def converse(store, now) -> None:
    for text in SCRIPT:
        handle_inbound(store, InboundMessage("local", "+447700900123", f"wiring-{uuid.uuid4().hex}", text), now)


def test_web(db, process):
    process.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    process.setenv("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
    process.setenv("TWILIO_FROM_NUMBER", OUR_NUMBER)
    from config.app import create_app

    app = create_app()                              # as gunicorn calls it: 'config.app:create_app()'
    try:
        twilio = Twilio(app.test_client())
        for text in SCRIPT:
            assert twilio.inbound(text).status_code == 200
        assert_tagged_and_flagged(db)
    finally:
        close(app.extensions["chorus"]["store"])


def test_bot_polling(db, process, now):
    from config.bot_main import main

    fake = FakeTelegram().start()
    process.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    process.setenv("TELEGRAM_API_BASE_URL", fake.base_url)
    stop, result = threading.Event(), []
    thread = threading.Thread(target=lambda: result.append(main(stop_when=stop)), daemon=True)
    thread.start()
    try:
        fake.wait_for(lambda: fake.of("getUpdates"), timeout=20)
        updates = Updates(lambda: now)
        for n, text in enumerate(SCRIPT, 1):
            fake.push(updates.text(4242, text))
            _wait(lambda: _received(db) >= n)
        assert_tagged_and_flagged(db)
    finally:
        stop.set()
        thread.join(10)
        fake.stop()
    assert result == [0]


def test_worker(db, process, now):
    from config.worker import build

    worker = build()                                # what `chorus worker` runs
    try:
        converse(worker.db, now)
        assert_tagged_and_flagged(db)
    finally:
        close(worker.db)


def test_clock(db, process, now):
    from config.clock import build

    scheduler = build(blocking=False)               # what `chorus clock` starts (not started here)
    store = scheduler.get_job("chorus-tick").args[0]
    try:
        converse(store, now)
        assert_tagged_and_flagged(db)
    finally:
        close(store)


def test_chorus_chat(db, process):
    result = CliRunner().invoke(chorus, ["chat", "--as", "+447700900123"], input="\n".join(SCRIPT) + "\n")
    assert result.exit_code == 0, result.output
    assert_tagged_and_flagged(db)


def test_chorus_run(db, process):
    """Web, worker, clock and the terminal chat in one process, on one store."""
    result = CliRunner().invoke(chorus, ["run", "--port", "0", "--chat", "--as", "+447700900123"],
                                input="\n".join(SCRIPT) + "\n")
    assert result.exit_code == 0, result.output
    assert "chorus is running: web on http://127.0.0.1:" in result.output
    assert_tagged_and_flagged(db)


def _received(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(m.Message).where(m.Message.direction == "in")).scalar()


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_no_process_builds_a_store_of_its_own():
    """The cause, not only the symptom: outside the composition root nothing constructs `Store(...)`, so no
    future entry point can forget the tagger. (Tests and benchmarks build bare stores on purpose.)"""
    offenders = []
    for package in ("config", "bot", "sms", "surveys", "analysis"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Store":
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == ["config/wiring.py"]


def test_chorus_bot_and_python_m_bot_run_the_same_entry_point(tmp_path):
    """`python -m bot` (old Procfiles and release steps) hands over to `chorus bot`, wired in config."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CHORUS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
           "CHORUS_SECRET_KEY": "bot-test-secret-0123456789", "TELEGRAM_BOT_TOKEN": ""}
    for command in ([sys.executable, "-m", "bot"], [str(Path(sys.executable).parent / "chorus"), "bot"]):
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert proc.returncode == 0 and "TELEGRAM_BOT_TOKEN is not set" in proc.stdout, (command, proc.stderr)
