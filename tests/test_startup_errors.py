"""Every process start and every `chorus` command meets a bad setting or an unusable database with one line on
stderr and a non-zero exit: no traceback, and never the password from DATABASE_URL."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CHORUS = str(BIN / "chorus")
PASSWORD = "s3cret-pw-never-shown"

ENTRY_POINTS = {
    "a command": [CHORUS, "surveys", "list"],
    "an export": [CHORUS, "export", "answers"],
    "chorus worker": [CHORUS, "worker"],
    "chorus clock": [CHORUS, "clock"],
    "chorus run": [CHORUS, "run", "--no-chat", "--port", "0"],
    "web app factory": [sys.executable, "-c", "from config.app import create_app; create_app()"],
    "python -m bot": [sys.executable, "-m", "bot"],
}


def _scenario(name: str, tmp_path: Path) -> tuple[dict, str]:
    """(environment, what the one line must say) for each way the start can go wrong."""
    if name == "never migrated":
        return {"DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db"}, "the database is not set up: run chorus db upgrade"
    if name == "PostgreSQL unreachable":
        # Port 1: nothing listens there, so the connection is refused at once.
        return ({"DATABASE_URL": f"postgresql://chorus:{PASSWORD}@127.0.0.1:1/chorus"},
                "cannot connect to the database at 127.0.0.1:1/chorus (connection refused")
    if name == "LOG_LEVEL=verbose":
        return ({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "LOG_LEVEL": "verbose"},
                "LOG_LEVEL: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got 'verbose'")
    if name == "SQLite folder missing":
        return ({"DATABASE_URL": f"sqlite:///{tmp_path}/no/such/folder/chorus.db"},
                f"DATABASE_URL: the folder '{tmp_path}/no/such/folder' for the SQLite database does not exist")
    raise AssertionError(name)


def _run(args, env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "LOG_LEVEL", "TELEGRAM_WEBHOOK_URL")}
    env = {**base, "CHORUS_VAR_DIR": str(tmp_path / "var"), "CHORUS_SECRET_KEY": "startup-test-secret-0123456789",
           "TELEGRAM_BOT_TOKEN": "123456:test-token", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:1/bot",
           "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90)


def _assert_one_line(proc: subprocess.CompletedProcess, expected: str) -> None:
    everything = proc.stdout + proc.stderr
    assert "Traceback" not in everything, everything
    assert PASSWORD not in everything
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0], lines[0]


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("scenario", ["never migrated", "PostgreSQL unreachable", "LOG_LEVEL=verbose",
                                      "SQLite folder missing"])
def test_a_bad_start_is_one_line_and_a_non_zero_exit(tmp_path, scenario, entry):
    env, expected = _scenario(scenario, tmp_path)
    proc = _run(ENTRY_POINTS[entry], env, tmp_path)
    _assert_one_line(proc, expected)
    assert proc.stdout == "", proc.stdout      # nothing half-written (an export's header) before the error
    if scenario == "SQLite folder missing":
        assert not (tmp_path / "no").exists()  # no folders, no empty database file left behind


def test_a_database_from_an_older_version_is_told_to_upgrade(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/old.db"}
    migrate = ("from config.migrate import upgrade; from config.wiring import make_store; "
               "upgrade(make_store().sql_engine, '0001')")
    assert _run([sys.executable, "-c", migrate], env, tmp_path).returncode == 0
    _assert_one_line(_run([CHORUS, "worker"], env, tmp_path),
                     "the database was set up by an older version of Chorus: run chorus db upgrade")


def test_the_default_var_folder_is_made_on_a_fresh_clone(tmp_path):
    var = tmp_path / "clone" / "var"
    settings = load_settings(env={"CHORUS_VAR_DIR": str(var), "CHORUS_SECRET_KEY": "x" * 20}, dotenv=False)
    assert var.is_dir() and settings.database_url == f"sqlite:///{var / 'chorus.db'}"
    with pytest.raises(SettingsError, match="DATABASE_URL: the folder"):
        load_settings(env={"CHORUS_VAR_DIR": str(var), "DATABASE_URL": f"sqlite:///{tmp_path}/nope/x.db"}, dotenv=False)


@pytest.mark.parametrize("raw", ["0.0079", "USD 0.0079", "-1 USD", "0.01 US DOLLARS", "abc USD", "NaN USD"])
def test_a_bad_sms_price_is_one_clear_line_naming_the_setting(tmp_path, raw):
    with pytest.raises(SettingsError, match=r"SMS_PRICE_PER_SEGMENT: expected an amount and a currency code"):
        load_settings(env={"CHORUS_VAR_DIR": str(tmp_path), "SMS_PRICE_PER_SEGMENT": raw}, dotenv=False)
    good = load_settings(env={"CHORUS_VAR_DIR": str(tmp_path), "SMS_PRICE_PER_SEGMENT": "0.0079 usd"}, dotenv=False)
    assert good.sms_price_per_segment is not None and good.sms_price_per_segment[1] == "USD"
