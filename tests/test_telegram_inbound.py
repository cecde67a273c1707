"""Telegram's webhook through the real Flask app, on both databases: forged requests first, then the real
provider payloads, the external-id mapping, idempotency, edits and media."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select
from telegram import Update

from bot.inbound import Skip, command_to_text, read_update
from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_file
from tests.fake_telegram import FakeTelegram
from tests.telegram_helpers import PANTRY, SECRET, TELEGRAM_DATA, Clock, Updates, button, webhook_app

CHAT = 31337
PATH = f"/telegram/{SECRET}"


@pytest.fixture
def fake():
    server = FakeTelegram().start()
    yield server
    server.stop()


class Webhook:
    """Posts updates the way Telegram does: JSON, with the secret token header."""

    def __init__(self, db, now, fake):
        self.clock = Clock(now)
        self.app, self.store = webhook_app(db, fake, self.clock)
        self.client = self.app.test_client()
        self.fake = fake
        self.updates = Updates(self.clock)
        self.update_id = 5000

    def post(self, update, secret: str | None = SECRET, path: str = PATH, raw: bytes | None = None):
        self.clock.advance(minutes=1)
        if raw is None and "update_id" not in update:
            self.update_id += 1
            update = {"update_id": self.update_id, **update}
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        data = raw if raw is not None else json.dumps(update)
        return self.client.post(path, data=data, headers=headers, content_type="application/json")

    def say(self, chat: int, text: str) -> list[str]:
        before = len(self.fake.messages_to(chat))
        assert self.post(self.updates.text(chat, text)).status_code == 200
        return [msg["text"] for msg in self.fake.messages_to(chat)[before:]]

    def press(self, chat: int, label: str) -> list[str]:
        message = [msg for msg in self.fake.messages_to(chat) if msg.get("reply_markup")][-1]
        before = len(self.fake.messages_to(chat))
        assert self.post(self.updates.press(chat, message, button(message, label))).status_code == 200
        return [msg["text"] for msg in self.fake.messages_to(chat)[before:]]


@pytest.fixture
def hook(db, now, fake):
    webhook = Webhook(db, now, fake)
    admin.load_survey(webhook.store, load_survey_file(PANTRY), now)
    admin.add_organisation(webhook.store, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    yield webhook
    webhook.app.extensions["chorus"]["telegram"].close()


def rows(store, *where) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(m.Message).where(*where)).scalar()


def contact(store, chat=CHAT):
    contact_id = admin.find_contact(store, "telegram", str(chat))
    if contact_id is None:
        return None
    with store.session() as s:
        return s.get(m.Contact, contact_id)


def enrol(hook, chat=CHAT):
    hook.say(chat, "/start PANTRY")
    hook.press(chat, "Yes")
    hook.press(chat, "No")


# ---- who may talk to us ----------------------------------------------------------------------------
FORGED = {"missing header": {"secret": None}, "wrong header": {"secret": "not-the-secret"},
          "empty header": {"secret": ""}, "wrong path": {"path": "/telegram/not-the-secret"},
          "secret in the path only": {"secret": None, "path": PATH}, "non-ASCII header": {"secret": "s\u00e9cret"}}


def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(hook, caplog):
    for case, kwargs in FORGED.items():
        with caplog.at_level(logging.INFO):
            response = hook.post(hook.updates.text(CHAT, "/start PANTRY"), **kwargs)
        assert response.status_code == 403, case
    assert rows(hook.store) == 0 and hook.fake.sent == []
    assert "PANTRY" not in caplog.text and str(CHAT) not in caplog.text  # the body is never logged
    assert hook.post(hook.updates.text(CHAT, "/start PANTRY")).status_code == 200  # and the right one works


def test_without_a_webhook_url_there_is_no_route(db, now, fake):
    from config.app import create_app

    settings = db.settings.with_overrides(telegram_bot_token="123:abc", telegram_webhook_url=None)
    client = create_app(settings, db, Clock(now)).test_client()
    response = client.post(PATH, data="{}", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                           content_type="application/json")
    assert response.status_code == 404
    assert client.get("/healthz").get_json()["telegram"] == "polling"


# ---- real provider payloads ------------------------------------------------------------------------
def _sample(name: str) -> dict:
    if not TELEGRAM_DATA.is_dir():
        pytest.skip(f"no Telegram samples at {TELEGRAM_DATA}")
    return json.loads((TELEGRAM_DATA / name).read_text())


PARSEABLE = [("teloxide_message_private_text.json", 218485655, "218485655:6557"),
             ("teloxide_message_private_text_2.json", 408258968, "408258968:154")]
MALFORMED = ["tgdocs_callback_query.json", "tgdocs_edited_message.json", "tgdocs_message_reply.json",
             "tgdocs_message_text.json", "tgdocs_message_voice.json"]


def test_parseable_samples_have_their_effect(hook):
    for name, chat, external_id in PARSEABLE:
        assert hook.post(_sample(name)).status_code == 200, name
        # A stranger: only the id, the time and a hash are kept, and they are told how to join.
        with hook.store.read() as conn:
            row = conn.execute(select(m.Message.external_id, m.Message.text, m.Message.status)
                               .where(m.Message.direction == "in", m.Message.external_id == external_id)).one()
        assert tuple(row) == (external_id, None, "ignored"), name
        assert hook.fake.sent[-1]["chat_id"] == str(chat), name
        assert hook.fake.sent[-1]["text"].startswith("Hi! This number sends short feedback surveys"), name


def test_malformed_legacy_samples_get_200_and_a_log_line(hook, caplog):
    for name in MALFORMED:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bot.webhook"):
            response = hook.post(_sample(name))
        assert response.status_code == 200, name
        lines = [r.getMessage() for r in caplog.records if r.name == "bot.webhook"]
        assert len(lines) == 1 and "is not one python-telegram-bot can read" in lines[0], name
    assert rows(hook.store) == 0 and hook.fake.sent == []


def test_the_my_chat_member_sample_with_ids_of_zero_works(hook):
    sample = _sample("teloxide_my_chat_member_kicked_private.json")
    assert hook.post(sample).status_code == 200  # nobody at chat 0 yet: nothing to change, no crash
    hook.say(0, "/start PANTRY")
    assert contact(hook.store, 0).unreachable_at is None
    assert hook.post(sample).status_code == 200
    assert contact(hook.store, 0).unreachable_reason == "bot blocked by the user"


def test_bodies_that_are_not_updates_get_200(hook):
    for body in (b"not json", b"[1, 2]", b"", b'{"update_id": "x", "message": 7}', b"\xff\xfe", b"null"):
        assert hook.post(None, raw=body).status_code == 200, body
    assert rows(hook.store) == 0


def test_updates_chorus_does_not_use_are_skipped(hook, caplog):
    group = {"message": {"message_id": 3, "date": 1700000000, "text": "/start PANTRY",
                         "chat": {"id": -100123, "type": "group", "title": "Volunteers"},
                         "from": hook.updates.user(CHAT)}}
    post = {"channel_post": {"message_id": 4, "date": 1700000000, "text": "News",
                             "chat": {"id": -100456, "type": "channel", "title": "Pantry news"}}}
    joined = hook.updates.media(CHAT, new_chat_title="x")
    with caplog.at_level(logging.INFO, logger="bot.inbound"):
        for update in (group, post, joined):
            assert hook.post(update).status_code == 200
    assert rows(hook.store) == 0 and hook.fake.sent == []
    assert sum("skipped" in r.getMessage() for r in caplog.records) == 3


# ---- external ids and idempotency ------------------------------------------------------------------
def _update(data: dict) -> Update:
    return Update.de_json({"update_id": 1, **data}, None)


def test_each_kind_of_update_gets_its_own_external_id(now):
    updates = Updates(Clock(now))
    text = read_update(_update(updates.text(CHAT, "hello", message_id=5)), now)
    assert (text.channel, text.address, text.external_id) == ("telegram", str(CHAT), f"{CHAT}:5")
    assert (text.kind, text.text) == ("text", "hello")
    edit = read_update(_update(updates.edit(CHAT, 5, "hello again")), now)
    stamp = int(now.timestamp())
    assert (edit.external_id, edit.kind, edit.ref, edit.text) == (f"{CHAT}:5:e{stamp}", "edit", f"{CHAT}:5", "hello again")
    message = {"message_id": 9, "date": stamp, "chat": updates.chat(CHAT), "text": "Q",
               "reply_markup": {"inline_keyboard": [[{"text": "Bus", "callback_data": "travel|bus"}]]}}
    press = read_update(_update(updates.press(CHAT, message, "travel|bus", query_id="8817")), now)
    assert (press.external_id, press.kind, press.ref, press.text) == ("cb:8817", "button", "travel", "bus")
    assert press.address == str(CHAT)
    voice = read_update(_update(updates.media(CHAT, voice={"file_id": "a", "file_unique_id": "b", "duration": 2})), now)
    assert (voice.kind, voice.text) == ("media", "")
    photo = read_update(_update(updates.media(CHAT, caption="my receipt", photo=[
        {"file_id": "p", "file_unique_id": "q", "width": 10, "height": 10}])), now)
    assert (photo.kind, photo.text) == ("media", "my receipt")
    assert isinstance(read_update(_update(updates.member(CHAT, "left")), now), Skip)


@pytest.mark.parametrize("text, expected", [
    ("/start PANTRY", "JOIN PANTRY"), ("/start", "JOIN"), ("/start@chorus_test_bot PANTRY", "JOIN PANTRY"),
    ("/START pantry", "JOIN pantry"), ("  /start  ", "JOIN"), ("/stop", "/stop"),
    ("/help@chorus_test_bot", "/help"), ("/stop@chorus_test_bot  ", "/stop  "), ("/start@chorus_test_bot pantry-1", "JOIN pantry-1"),
    ("/start@chorus_test_bot", "JOIN"), ("stop@chorus_test_bot", "stop@chorus_test_bot"), ("hi /x@Bot", "hi /x@Bot"),
    ("/language", "/language"), ("/started", "/started"), ("start", "start"),
])
def test_commands(text, expected):
    assert command_to_text(text) == expected


def test_the_same_update_twice_is_stored_once_and_answered_once(hook):
    update = {"update_id": 777, **hook.updates.text(CHAT, "/start PANTRY", message_id=5)}
    assert hook.post(update).status_code == 200
    assert hook.post(update).status_code == 200
    assert rows(hook.store, m.Message.direction == "in") == 1
    assert len(hook.fake.sent) == 1


def test_a_button_pressed_twice_counts_once(hook):
    hook.say(CHAT, "/start PANTRY")
    message = hook.fake.messages_to(CHAT)[-1]
    press = {"update_id": 778, **hook.updates.press(CHAT, message, button(message, "Yes"), query_id="q-1")}
    assert hook.post(press).status_code == 200
    assert hook.post(press).status_code == 200
    assert rows(hook.store, m.Message.external_id == "cb:q-1") == 1
    quote_question = "Thank you! May we quote your words in reports, without your name or number?"
    assert [s["text"] for s in hook.fake.sent].count(quote_question) == 1
    assert len(hook.fake.of("answerCallbackQuery")) == 2  # the repeat's spinner is stopped too


def test_two_chats_message_5_are_two_messages(hook):
    hook.post(hook.updates.text(CHAT, "/start PANTRY", message_id=5))
    hook.post(hook.updates.text(CHAT + 1, "/start PANTRY", message_id=5))
    with hook.store.read() as conn:
        ids = conn.execute(select(m.Message.external_id).where(m.Message.direction == "in")).scalars().all()
    assert sorted(ids) == sorted([f"{CHAT}:5", f"{CHAT + 1}:5"])
    assert contact(hook.store, CHAT) is not None and contact(hook.store, CHAT + 1) is not None


# ---- edits, media, buttons through the webhook -----------------------------------------------------
def test_an_edit_corrects_the_latest_answer_and_later_becomes_a_comment(hook):
    enrol(hook)
    answer = hook.updates.text(CHAT, "4")
    hook.post(answer)
    first = answer["message"]["message_id"]
    assert hook.post(hook.updates.edit(CHAT, first, "5")).status_code == 200
    assert hook.fake.sent[-1]["text"] == "Thanks, I've updated that answer."
    with hook.store.session() as s:
        assert s.scalars(select(m.Answer.value_num).where(m.Answer.question_key == "visit")).one() == 5.0
    hook.press(CHAT, "Bus")
    hook.post(hook.updates.edit(CHAT, first, "3 actually"))  # no longer the latest answer: a comment
    with hook.store.session() as s:
        assert s.scalars(select(m.Answer.value_num).where(m.Answer.question_key == "visit")).one() == 5.0
        assert s.scalars(select(m.Answer.status).where(m.Answer.raw_text == "3 actually")).one() == "comment"


def test_voice_notes_and_stickers_get_please_reply_in_text(hook):
    enrol(hook)
    hook.post(hook.updates.media(CHAT, voice={"file_id": "v", "file_unique_id": "w", "duration": 3}))
    assert hook.fake.sent[-1]["text"] == "Sorry, we can only read text replies. Please type your answer."
    hook.post(hook.updates.media(CHAT, sticker={"file_id": "s", "file_unique_id": "t", "width": 512, "height": 512,
                                                 "is_animated": False, "is_video": False, "type": "regular"}))
    assert hook.fake.sent[-1]["text"] == "Sorry, we can only read text replies. Please type your answer."
    with hook.store.read() as conn:
        kinds = conn.execute(select(m.Message.kind).where(m.Message.direction == "in")).scalars().all()
    assert kinds.count("media") == 2


def test_a_press_through_the_webhook_answers_edits_and_replies(hook):
    hook.say(CHAT, "/start PANTRY")
    assert hook.press(CHAT, "Yes") == ["Thank you! May we quote your words in reports, without your name or number?"]
    assert "text" not in hook.fake.of("answerCallbackQuery")[-1]  # answered, without a notice
    assert hook.fake.of("editMessageText")[-1]["text"].endswith("\n\n✓ Yes")


def test_a_button_that_is_not_ours_is_answered_and_ignored(hook):
    message = {"message_id": 9, "date": 1700000000, "chat": hook.updates.chat(CHAT), "text": "Q"}
    assert hook.post(hook.updates.press(CHAT, message, "something else entirely")).status_code == 200
    assert rows(hook.store) == 0 and hook.fake.sent == []
    assert hook.fake.of("answerCallbackQuery")[-1]["text"] == "That button no longer does anything."


def test_polite_answers_follow_the_person_s_language(hook):
    enrol(hook)
    visit = [msg for msg in hook.fake.messages_to(CHAT) if msg.get("reply_markup")][-1]
    hook.press(CHAT, "4")
    hook.post(hook.updates.press(CHAT, visit, button(visit, "2"), language="es"))
    assert hook.fake.of("answerCallbackQuery")[-1]["text"] == "Esa pregunta ya está cerrada."


def test_received_at_is_the_time_telegram_stamped(hook):
    update = hook.updates.text(CHAT, "/start PANTRY")
    update["message"]["date"] = 1795000000
    hook.post(update)
    with hook.store.session() as s:
        created = s.scalars(select(m.Message.created_at).where(m.Message.direction == "in")).one()
    assert created.replace(tzinfo=timezone.utc) == datetime.fromtimestamp(1795000000, timezone.utc)


@pytest.mark.parametrize("text, keyword", [("/stop@chorus_test_bot", "STOP"), ("/help@chorus_test_bot", "HELP"),
                                           ("/skip@chorus_test_bot", "SKIP")])
def test_a_command_for_a_named_bot_is_the_keyword_the_core_reads(text, keyword):
    """Telegram's '/cmd@BotName' is the adapter's to undo; the core reads plain '/cmd'."""
    from surveys.parsing import match_keyword

    assert match_keyword(command_to_text(text)) == keyword
