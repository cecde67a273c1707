"""Telegram's webhook and the polling loop under hostile input, on both databases.

Telegram delivers an update again until it gets a 2xx, and holds back the ones behind it: one update that
makes the webhook answer 500 stalls the bot. So every body with the right secret gets 200 and, when it is
ignored, a log line without what was in it; nothing raises; and the service stays consistent (stored text
without control characters, ids of the shape the adapter makes, the bot still answering afterwards).
First a table of wrong types at every field the adapter reads, then raw bodies, then the polling path, then
a bounded, deterministic fuzz run around Telegram's real payloads.
"""
from __future__ import annotations

import copy
import json
import logging
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_file
from surveys.store import Store, make_sql_engine
from tests.fake_telegram import FakeTelegram
from tests.telegram_helpers import PANTRY, SECRET, TELEGRAM_DATA, Clock, PollingBot, button, webhook_app
from tests.test_telegram_inbound import PATH, Webhook

CHAT = 31337
NAME = "Samwise"  # a first name that must never reach a log line
DEEP = "__DEEP__"  # replaced in the JSON text by nesting too deep to build as a Python object


@pytest.fixture
def fake():
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def hook(db, now, fake):
    webhook = Webhook(db, now, fake)
    admin.load_survey(webhook.store, load_survey_file(PANTRY), now)
    admin.add_organisation(webhook.store, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    webhook.say(CHAT, "/start PANTRY")
    webhook.press(CHAT, "Yes")
    webhook.press(CHAT, "No")  # now taking part, with a question asked: what they send is stored
    yield webhook
    webhook.app.extensions["chorus"]["telegram"].close()


# ---- the service stays consistent ----------------------------------------------------------------------
EXTERNAL_ID = re.compile(r"-?\d{1,19}:\d{1,19}(:e(-?\d{1,12}|u-?\d{1,19}|uNone))?|cb:[\x21-\x7e]{1,64}")


def stray(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n\r"]


def assert_consistent(store) -> None:
    with store.read() as conn:
        ids = conn.execute(select(m.Message.external_id).where(m.Message.channel == "telegram",
                                                               m.Message.direction == "in")).scalars().all()
        texts = conn.execute(select(m.Message.text).where(m.Message.text.is_not(None))).scalars().all()
        raws = conn.execute(select(m.Answer.raw_text).where(m.Answer.raw_text.is_not(None))).scalars().all()
        addresses = conn.execute(select(m.Contact.address).where(m.Contact.channel == "telegram",
                                                                 m.Contact.address.is_not(None))).scalars().all()
        orphans = conn.execute(select(func.count()).select_from(m.Answer).where(m.Answer.message_id.is_(None))).scalar()
    assert all(EXTERNAL_ID.fullmatch(i) for i in ids), [i[:80] for i in ids if not EXTERNAL_ID.fullmatch(i)]
    assert len(ids) == len(set(ids))
    assert not [c for t in [*texts, *raws] for c in stray(t)], "a control character was stored"
    assert all(re.fullmatch(r"-?\d{1,19}", a) for a in addresses), addresses
    assert orphans == 0


def _messages(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(m.Message)).scalar()


def assert_still_answering(hook) -> None:
    assert hook.say(CHAT, "HELP")[0].startswith("Short feedback surveys for Riverside Pantry"), "the bot stalled"


def post_raw(hook, raw: bytes, secret: str = SECRET):
    hook.clock.advance(minutes=1)
    return hook.client.post(PATH, data=raw, headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                            content_type="application/json")


def dumps(update: dict, deep: int = 100_000) -> bytes:
    text = json.dumps(update)  # lone surrogates become \ud800 escapes, as a client could write them
    return text.replace(json.dumps(DEEP), "[" * deep + "]" * deep).encode()


def assert_clean_logs(records) -> None:
    for record in records:
        line = record.getMessage()
        assert NAME not in line and str(CHAT) not in line and "xxxxxxxx" not in line and "\x00" not in line, line


# ---- wrong types at every field the adapter reads --------------------------------------------------------
def _base(hook, kind: str) -> dict:
    u = hook.updates
    user = {**u.user(CHAT), "first_name": NAME}
    if kind == "message":
        update = u.text(CHAT, "4", entities=[{"type": "bold", "offset": 0, "length": 1}])
        update["message"]["from"] = user
    elif kind == "edited_message":
        update = u.edit(CHAT, 1, "5")  # an edit of their first message
        update["edited_message"]["from"] = user
    elif kind == "callback_query":
        message = [msg for msg in hook.fake.messages_to(CHAT) if msg.get("reply_markup")][-1]
        row = message["reply_markup"]["inline_keyboard"][0]
        update = u.press(CHAT, message, button(message, row[0]["text"]))
        update["callback_query"]["from"] = user
    else:
        update = u.member(CHAT, "kicked")
    return update


FIELDS = {
    "message": [(), ("text",), ("caption",), ("chat",), ("chat", "id"), ("chat", "type"), ("from",), ("from", "id"),
                ("from", "language_code"), ("message_id",), ("date",), ("entities",), ("entities", 0),
                ("entities", 0, "offset")],
    "edited_message": [(), ("edit_date",), ("text",), ("chat", "id"), ("message_id",), ("from",)],
    "callback_query": [(), ("data",), ("id",), ("from",), ("from", "id"), ("from", "language_code"), ("message",),
                       ("message", "chat", "id"), ("message", "reply_markup"), ("message", "text")],
    "my_chat_member": [(), ("chat",), ("chat", "id"), ("new_chat_member",), ("new_chat_member", "status"),
                       ("from",)],
    "update": [("update_id",)],
}
MISSING = object()
VALUES = {
    "missing": MISSING, "null": None, "true": True, "false": False, "0": 0, "-1": -1, "float": 7.5,
    "2**64": 2**64, "-2**63": -(2**63), "empty": "", "digits": "7", "huge string": "x" * 100_000,
    "NUL": "\x00", "NUL inside": "4\x004", "lone surrogate": "\ud800", "reversed pair": "\udfff\ud800",
    "controls": "\x01\x1b[31m\x7f", "emoji": "😀", "empty list": [], "list": [1, "a", None, {}],
    "empty object": {}, "object": {"id": 1, "type": "private", "a": {"b": [1]}}, "nesting 100k": DEEP,
}


def _mutate(update: dict, kind: str, path: tuple, value) -> dict:
    update = copy.deepcopy(update)
    target = update if kind == "update" else update[kind]
    if not path:
        update[kind] = value
        return update
    for key in path[:-1]:
        target = target[key]
    if value is MISSING:
        target.pop(path[-1]) if isinstance(target, dict) else target.__delitem__(path[-1])
    else:
        target[path[-1]] = value
    return update


def test_wrong_types_at_every_field_get_200_and_leave_the_service_consistent(hook, caplog):
    caplog.set_level(logging.INFO)
    outcomes = {}
    for kind, paths in FIELDS.items():
        for path in paths:
            for name, value in VALUES.items():
                if value is MISSING and not path:
                    continue  # an update without the object is another kind of update: covered elsewhere
                base = _base(hook, "message" if kind == "update" else kind)
                if path == ("caption",):  # read when there is no text: a photo's caption
                    base[kind].pop("text")
                    base[kind].pop("entities")
                    if value is MISSING:
                        continue
                if kind == "update":
                    update = _mutate({"update_id": hook.update_id + 1, **base}, "update", path, value)
                else:
                    update = _mutate({"update_id": hook.update_id + 1, **base}, kind, path, value)
                hook.update_id += 1
                caplog.clear()
                before = (_messages(hook.store), len(hook.fake.sent), len(hook.fake.of("editMessageText")))
                response = post_raw(hook, dumps(update))
                case = f"{kind}.{'.'.join(map(str, path))} = {name}"
                assert response.status_code == 200, case
                assert_clean_logs(caplog.records)
                if (_messages(hook.store), len(hook.fake.sent), len(hook.fake.of("editMessageText"))) == before:
                    outcomes[case] = "ignored"  # nothing stored, nothing said: one log line says why
                    assert [r for r in caplog.records if r.name.startswith("bot.")], case
                else:
                    outcomes[case] = "handled"
        assert_consistent(hook.store)
    assert_still_answering(hook)
    # The checks are not vacuous: well-typed oddities are answered, wrong types are skipped.
    assert outcomes["message.text = emoji"] == outcomes["message.text = NUL inside"] == "handled"
    assert outcomes["message.text = 0"] == outcomes["message.chat = null"] == "ignored"


def test_a_skipped_update_says_so_in_one_line_without_what_was_in_it(hook, caplog):
    for field, value in (("text", 7), ("text", ["a"]), ("chat", None), ("from", 7)):
        update = _mutate({"update_id": hook.update_id + 1, **_base(hook, "message")}, "message", (field,), value)
        hook.update_id += 1
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="bot"):
            assert post_raw(hook, dumps(update)).status_code == 200
        lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
        assert len(lines) == 1 and (" skipped: " in lines[0] or "python-telegram-bot can read" in lines[0]), lines
        assert_clean_logs(caplog.records)


# ---- bodies that are not updates -------------------------------------------------------------------------
RAW_BODIES = {
    "empty": b"",
    "not JSON": b"update_id=1&message=hi",
    "not UTF-8": b"\xff\xfe\x00{\x80\x81",
    "JSON null": b"null", "a number": b"42", "a string": b'"hello"', "a list": b"[1, 2]",
    "nested 100k arrays": b"[" * 100_000 + b"]" * 100_000,
    "nested 100k objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "a number of 5000 digits": b'{"update_id": ' + b"9" * 5000 + b"}",
    "truncated": b'{"update_id": 1, "message": {"text": "hi',
    "NUL bytes": b'{"update_id": 1\x00}',
    "a body of 2 MiB": b'{"update_id": 1, "message": {"text": "' + b"x" * (2 * 1024 * 1024) + b'"}}',
}


@pytest.mark.parametrize("name", RAW_BODIES)
def test_bodies_that_are_not_updates_get_200_and_a_log_line(hook, caplog, name):
    with caplog.at_level(logging.INFO):
        response = post_raw(hook, RAW_BODIES[name])
    assert response.status_code == 200
    assert [r for r in caplog.records if r.name == "bot.webhook"], "no log line"
    assert_clean_logs(caplog.records)
    assert_consistent(hook.store)


def test_nesting_inside_an_update_and_lone_surrogates_in_text(hook):
    for deep in (100_000, 500):
        update = {"update_id": hook.update_id + 1, **_base(hook, "message")}
        update["message"]["reply_to_message"] = DEEP
        hook.update_id += 1
        assert post_raw(hook, dumps(update, deep)).status_code == 200
    hook.say(CHAT, "1")  # a low score: the next text is a free-text answer, stored
    update = {"update_id": hook.update_id + 1, **hook.updates.text(CHAT, "cold \ud800food\udfff 🥶\x00")}
    hook.update_id += 1
    assert post_raw(hook, dumps(update)).status_code == 200
    with hook.store.read() as conn:
        raw = conn.execute(select(m.Answer.raw_text).where(m.Answer.question_key == "why_low")).scalar_one()
    assert raw == "cold food 🥶"
    assert_consistent(hook.store)


def test_hostile_bodies_with_a_wrong_secret_are_still_refused(hook):
    for raw in (RAW_BODIES["nested 100k arrays"], RAW_BODIES["not UTF-8"], dumps({"update_id": 1, "message": 5})):
        assert post_raw(hook, raw, secret="wrong").status_code == 403


def test_a_database_that_cannot_be_used_gets_503_so_telegram_delivers_the_update_again(settings, now, fake, tmp_path):
    """The one 5xx: not a bad update but a store that cannot be used (here: never migrated). Telegram's retry
    brings the update in once it can be."""
    never_migrated = Store(settings, sql_engine=make_sql_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    app, _ = webhook_app(never_migrated, fake, Clock(now))
    try:
        response = app.test_client().post(PATH, data=json.dumps({"update_id": 1, "message": {
            "message_id": 1, "date": 1700000000, "text": "hi", "chat": {"id": CHAT, "type": "private"}}}),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, content_type="application/json")
        assert response.status_code == 503
    finally:
        app.extensions["chorus"]["telegram"].close()


# ---- the polling path ------------------------------------------------------------------------------------
def test_polling_skips_updates_it_cannot_read_and_carries_on(db, now, fake, caplog):
    admin.load_survey(db, load_survey_file(PANTRY), now)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    bot = PollingBot(fake, db, Clock(now)).start()
    try:
        good = bot.updates.text(CHAT, "hi")["message"]
        hostile = [
            {"message": 5},  # PTB cannot read it at all: before, the whole batch failed, again and again
            {"message": {**good, "from": 7}},
            {"message": {**good, "entities": [5]}},
            {"message": {**good, "text": 7}},  # PTB reads it; the fields are of the wrong type
            {"message": {**good, "text": ["a"]}},
            {"message": {k: v for k, v in good.items() if k != "chat"}},
            {"callback_query": {"id": "1", "chat_instance": "x", "data": 5, "from": bot.updates.user(CHAT)}},
            {"my_chat_member": {"chat": bot.updates.chat(CHAT), "new_chat_member": {"status": 5}}},
            {"edited_message": {**good, "edit_date": "yesterday"}},
            {"message": {**good, "text": "\ud800\x00"}},
        ]
        with caplog.at_level(logging.INFO):
            for update in hostile:
                bot.deliver(update)
        assert bot.errors == []
        assert bot.say(CHAT, "/start PANTRY")[0].startswith("Riverside Pantry would like to send you")
        assert_clean_logs([r for r in caplog.records if r.name.startswith(("bot", "telegram"))])
        assert_consistent(db)
    finally:
        bot.stop()


# ---- a bounded fuzz run around Telegram's real payloads ----------------------------------------------------
def _samples() -> list[dict]:
    if not TELEGRAM_DATA.is_dir():
        return []
    return [json.loads(p.read_text()) for p in sorted(TELEGRAM_DATA.glob("*.json"))]


SAMPLES = _samples()
WRONG_TYPE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),  # any code point, lone surrogates included: JSON can escape them
    st.text(st.characters(max_codepoint=0x9F), max_size=20),
    st.sampled_from(["", "\x00", "4\x00", "\ud800", "private", "group", "kicked", "member", "4", "STOP",
                     "consent|yes", "consent|no", "q|1", "/start PANTRY", "/start \x01", "JOIN \x1b", "😀" * 300,
                     "x" * 5000]),
)


def _plausible(current):
    """A value of the same type as `current` (the fields Telegram sends, with values it would not)."""
    if isinstance(current, bool):
        return st.booleans()
    if isinstance(current, int):
        return st.sampled_from([CHAT, 0, -1, 1, 2**31, 2**63, -(2**63) - 1]) | st.integers(-(2**64), 2**64)
    if isinstance(current, str):
        return HOSTILE_TEXT
    return WRONG_TYPE


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _ours() -> list[dict]:
    user = {"id": CHAT, "is_bot": False, "first_name": NAME, "language_code": "en"}
    chat = {"id": CHAT, "type": "private", "first_name": NAME}
    message = {"message_id": 1, "from": user, "chat": chat, "date": 1700000000, "text": "4"}
    return [
        {"message": message},
        {"message": {**message, "text": "/start PANTRY",
                     "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}},
        {"message": {**{k: v for k, v in message.items() if k != "text"}, "caption": "4",
                     "photo": [{"file_id": "a", "file_unique_id": "b", "width": 1, "height": 1}]}},
        {"edited_message": {**message, "edit_date": 1700000100, "text": "5"}},
        {"callback_query": {"id": "77", "from": user, "chat_instance": "1", "data": "consent|yes",
                            "message": {**message, "message_id": 2, "text": "?", "from": {**user, "is_bot": True}}}},
        {"my_chat_member": {"chat": chat, "from": user, "date": 1700000000,
                            "old_chat_member": {"user": {**user, "is_bot": True}, "status": "member"},
                            "new_chat_member": {"user": {**user, "is_bot": True}, "status": "kicked",
                                                "until_date": 0}}},
    ]


@st.composite
def fuzzed_update(draw):
    """A real update (or one shaped like Chorus's own tests build) with a few values replaced (mostly by
    values of the same type, sometimes by anything), dropped, or added."""
    update = copy.deepcopy(draw(st.sampled_from(SAMPLES + _ours())))
    for _ in range(draw(st.integers(0, 3))):
        paths = [p for p in _paths(update) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = update
        for key in path[:-1]:
            parent = parent[key]
        how = draw(st.integers(0, 5))
        if how == 0 and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == 1:
            parent[path[-1]] = draw(WRONG_TYPE)
        elif how == 2 and isinstance(parent, dict):
            parent[draw(st.sampled_from(["text", "caption", "edit_date", "entities", "data", "from", "chat",
                                         "reply_markup", "message", "x"]))] = draw(WRONG_TYPE)
        else:
            parent[path[-1]] = draw(_plausible(parent[path[-1]]))
    return update


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(update=fuzzed_update())
def test_fuzzed_updates_around_real_payloads(hook, update):
    if not SAMPLES:
        pytest.skip(f"no Telegram samples at {TELEGRAM_DATA} (a fresh clone has no ../shared)")
    hook.update_id += 1
    update.setdefault("update_id", hook.update_id)
    for kind in ("message", "edited_message"):  # a fresh message each time, unless the fuzz chose the id
        if isinstance(update.get(kind), dict) and update[kind].get("message_id") == 1:
            update[kind]["message_id"] = hook.update_id
    assert post_raw(hook, dumps(update)).status_code == 200
    assert_consistent(hook.store)
