"""`chorus bot` in each mode, and `chorus orgs link`, against the fake Bot API."""
from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from config.bot_main import main as bot_main
from bot.links import join_link
from bot.polling import ALLOWED_UPDATES, CONFLICT_MESSAGE
from cli import main as chorus
from tests.fake_telegram import TOKEN, FakeTelegram

COMMANDS = ["start", "help", "skip", "language", "stop", "mydata", "delete"]


@pytest.fixture
def fake():
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def env(tmp_path, monkeypatch):
    values = {"CHORUS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
              "CHORUS_SECRET_KEY": "bot-test-secret-0123456789", "TELEGRAM_BOT_TOKEN": "",
              "TELEGRAM_WEBHOOK_URL": "", "TELEGRAM_API_BASE_URL": ""}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return monkeypatch


def test_without_a_token_the_bot_says_so_and_exits_0(env, capsys):
    assert bot_main() == 0
    assert "TELEGRAM_BOT_TOKEN is not set" in capsys.readouterr().out


def test_webhook_mode_registers_the_webhook_with_its_secret_and_exits(env, fake):
    env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    env.setenv("TELEGRAM_API_BASE_URL", fake.base_url)
    env.setenv("TELEGRAM_WEBHOOK_URL", "https://chorus.example.org/")
    env.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret_value-1")
    assert bot_main() == 0
    assert fake.of("setWebhook") == [{"url": "https://chorus.example.org/telegram/s3cret_value-1",
                                      "secret_token": "s3cret_value-1", "allowed_updates": ALLOWED_UPDATES}]
    assert [c["command"] for c in fake.of("setMyCommands")[0]["commands"]] == COMMANDS
    assert fake.of("getUpdates") == []  # the web app serves updates; nothing polls


def test_a_second_poller_gets_409_and_exits_with_a_plain_message(env, fake, caplog):
    assert run("db", "upgrade").exit_code == 0  # a poller checks its database before it starts
    env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    env.setenv("TELEGRAM_API_BASE_URL", fake.base_url)
    fake.conflict = True
    with caplog.at_level(logging.ERROR):
        assert bot_main() == 1
    assert CONFLICT_MESSAGE in caplog.text and "only one may run" in caplog.text
    assert [c["command"] for c in fake.of("setMyCommands")[0]["commands"]] == COMMANDS  # polling mode set the menu
    assert fake.of("deleteWebhook")  # and, like any poller, made sure no webhook was set
    # No last getUpdates on the way out: it would cut off the other poller's and make it exit too.
    assert len(fake.of("getUpdates")) == 1


def test_a_refused_token_exits_1(env, fake, caplog):
    assert run("db", "upgrade").exit_code == 0  # a poller checks its database before it starts
    env.setenv("TELEGRAM_BOT_TOKEN", "999:not-the-token")
    env.setenv("TELEGRAM_API_BASE_URL", fake.base_url)
    with caplog.at_level(logging.ERROR):
        assert bot_main() == 1
    assert "refused TELEGRAM_BOT_TOKEN" in caplog.text


# ---- chorus orgs link ------------------------------------------------------------------------------
def run(*args):
    return CliRunner().invoke(chorus, list(args))


def test_orgs_link_prints_the_deep_link_and_writes_a_qr_code(env, fake, tmp_path):
    assert run("db", "upgrade").exit_code == 0
    assert run("orgs", "add", "Riverside Pantry", "--code", "Pantry-1").exit_code == 0
    result = run("orgs", "link", "pantry-1", "--bot-username", "@ChorusBot", "--qr", str(tmp_path / "join.png"))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "https://t.me/ChorusBot?start=Pantry-1"
    assert (tmp_path / "join.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)  # without --bot-username, Telegram is asked (getMe)
    env.setenv("TELEGRAM_API_BASE_URL", fake.base_url)
    result = run("orgs", "link", "PANTRY-1")
    assert result.exit_code == 0 and result.stdout.strip() == "https://t.me/chorus_test_bot?start=Pantry-1"

    unknown = run("orgs", "link", "nope", "--bot-username", "ChorusBot")
    assert unknown.exit_code == 1 and "no organisation with join code 'nope'" in unknown.output


def test_orgs_link_without_token_or_username_explains(env):
    assert run("db", "upgrade").exit_code == 0
    assert run("orgs", "add", "Riverside Pantry", "--code", "PANTRY").exit_code == 0
    result = run("orgs", "link", "PANTRY")
    assert result.exit_code == 1 and "pass --bot-username NAME" in result.output


def test_join_link_rules():
    assert join_link("chorus_bot", "PANTRY") == "https://t.me/chorus_bot?start=PANTRY"
    for username, code in (("no spaces allowed", "PANTRY"), ("chorus_bot", "bad code"), ("chorus_bot", "x" * 65)):
        with pytest.raises(ValueError):
            join_link(username, code)


def test_polling_in_a_thread_stops_when_told(sqlite_db, fake):
    """`chorus run` keeps web, clock, worker and the bot in one process: the bot polls in a thread."""
    import threading

    from bot.polling import run_polling_in_thread
    from surveys.store import Store

    store = Store(sqlite_db.settings.with_overrides(telegram_bot_token=TOKEN, telegram_api_base_url=fake.base_url),
                  sql_engine=sqlite_db.sql_engine)
    stop, result = threading.Event(), []
    thread = threading.Thread(target=lambda: result.append(run_polling_in_thread(store, stop)), daemon=True)
    thread.start()
    fake.wait_for(lambda: fake.of("getUpdates"))
    fake.push({"message": {"message_id": 1, "date": 1795000000, "text": "/start", "from": {"id": 7, "is_bot": False,
               "first_name": "Sam"}, "chat": {"id": 7, "type": "private", "first_name": "Sam"}}})
    fake.wait_for(lambda: fake.sent)
    assert fake.sent[0]["text"].startswith("Hi! This number sends short feedback surveys")
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and result == [0]


def test_the_join_link_operation_names_the_organisation_and_says_what_is_missing(db, now):
    from bot.links import LinkError, organisation_join_link
    from surveys.admin import AdminError, add_organisation

    add_organisation(db, "Riverside Pantry", "Pantry-1", now)
    got = organisation_join_link(db, "pantry-1", "@ChorusBot")
    assert (got.organisation, got.link) == ("Pantry-1", "https://t.me/ChorusBot?start=Pantry-1")
    with pytest.raises(LinkError, match="TELEGRAM_BOT_TOKEN is not set"):  # the test settings have no token
        organisation_join_link(db, "Pantry-1")
    with pytest.raises(LinkError, match="not a Telegram bot username"):
        organisation_join_link(db, "Pantry-1", "no spaces")
    with pytest.raises(AdminError, match="did you mean: Pantry-1"):
        organisation_join_link(db, "Pantry-2", "ChorusBot")
