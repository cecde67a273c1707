"""A real python-telegram-bot Application polling a local fake Bot API (through base_url), on both databases:
a whole survey through buttons and typed text, deep links, STOP, old buttons, a blocked bot, flood control."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from surveys import admin
from surveys import models as m
from surveys.channels import ChannelError
from surveys.delivery import Undeliverable, send_one
from surveys.engine import OutgoingMessage
from surveys.loader import load_survey_file
from tests.fake_telegram import BLOCKED, Failure, FakeTelegram
from tests.telegram_helpers import PANTRY, Clock, PollingBot

CHAT = 424242


@pytest.fixture
def fake():
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def tg(db, now, fake):
    admin.load_survey(db, load_survey_file(PANTRY), now)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    bot = PollingBot(fake, db, Clock(now)).start()
    yield bot
    bot.stop()


def keyboard(message: dict) -> list[list[str]]:
    return [[b["text"] for b in row] for row in message["reply_markup"]["inline_keyboard"]]


def contact(store, chat=CHAT):
    contact_id = admin.find_contact(store, "telegram", str(chat))
    if contact_id is None:
        return None
    with store.session() as s:
        return s.get(m.Contact, contact_id)


def answers(store) -> dict:
    with store.session() as s:
        return {a.question_key: (a.status, a.value_num, a.value_text) for a in s.scalars(select(m.Answer))}


def enrol(tg, chat=CHAT) -> None:
    tg.say(chat, "/start PANTRY")
    tg.press(chat, "Yes")
    tg.press(chat, "No")


def test_a_whole_survey_through_buttons_and_typed_text(tg, fake):
    consent = tg.say(CHAT, "/start PANTRY")
    assert consent == ["Riverside Pantry would like to send you a few short questions now and then, to hear what you "
                       "think of their services. Answers are kept securely and used only to improve services. "
                       "Do you agree to take part?"]
    assert keyboard(tg.last_keyboard(CHAT)) == [["Yes", "No"]]
    assert tg.press(CHAT, "Yes") == ["Thank you! May we quote your words in reports, without your name or number?"]
    # The core's three replies go out as one message, the question (and its buttons) last.
    assert tg.press(CHAT, "No") == ["Thanks, that's saved. Reply HELP at any time for options, or STOP to stop.\n\n"
                                    "Hi from Riverside Pantry! 5 quick questions about your pantry visit.\n\n"
                                    "How was your visit?\n(1 = Very bad, 5 = Very good)"]
    assert keyboard(tg.last_keyboard(CHAT)) == [["1", "2", "3", "4", "5"]]  # a scale: one row
    assert tg.press(CHAT, "2") == ["Sorry to hear that. What went wrong?"]
    assert tg.say(CHAT, "Waited 2 hours in the rain") == ["How did you get here?"]
    assert keyboard(tg.last_keyboard(CHAT)) == [["Walking"], ["Bus"], ["Car"]]
    assert tg.press(CHAT, "Bus") == ["Did you get enough food for the week?"]
    assert keyboard(tg.last_keyboard(CHAT)) == [["Yes", "No"]]
    assert tg.say(CHAT, "nope") == ["From 0 to 10, how likely are you to recommend the pantry to a friend?"]
    assert keyboard(tg.last_keyboard(CHAT)) == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]  # NPS
    assert tg.press(CHAT, "8") == ["Anything else you'd like to tell us?"]
    assert tg.say(CHAT, "More fruit please \U0001F34E") == ["Thank you! Your answers go straight to the Riverside Pantry team."]

    assert answers(tg.store) == {
        "visit": ("answered", 2.0, None), "why_low": ("answered", None, "Waited 2 hours in the rain"),
        "travel": ("answered", None, "bus"), "enough": ("answered", 0.0, "no"), "recommend": ("answered", 8.0, None),
        "anything": ("answered", None, "More fruit please \U0001F34E"),
    }
    with tg.store.session() as s:
        assert s.scalars(select(m.Conversation)).one().status == "completed"
    person = contact(tg.store)
    assert person.channel == "telegram" and person.address == str(CHAT)
    # Every press was answered (no toast), and the pressed question lost its buttons and shows the choice.
    assert [a.get("text") for a in fake.of("answerCallbackQuery")] == [None] * 5
    edits = fake.of("editMessageText")
    assert [e["text"].rsplit("\n\n", 1)[1] for e in edits] == ["✓ Yes", "✓ No", "✓ 2", "✓ Bus", "✓ 8"]
    assert edits[3]["text"] == "How did you get here?\n\n✓ Bus" and all("reply_markup" not in e for e in edits)
    assert [c["command"] for c in fake.of("setMyCommands")[0]["commands"]] == ["start", "help", "skip", "language",
                                                                               "stop", "mydata", "delete"]


def test_deep_links_with_good_and_bad_codes(tg, fake):
    assert tg.say(1001, "/start")[0].startswith("Hi! This number sends short feedback surveys")  # how to join
    assert tg.say(1002, "/start NOSUCHCODE") == [
        "Sorry, we don't recognise the code NOSUCHCODE. Please check it with the organisation that gave it to you."]
    assert tg.say(1003, "/start pantry")[0].startswith("Riverside Pantry would like to send you")  # any case
    assert contact(tg.store, 1001) is None and contact(tg.store, 1002) is None
    assert contact(tg.store, 1003) is not None
    with tg.store.read() as conn:  # strangers leave only an id, a time and a hash: never their words
        texts = conn.execute(select(m.Message.text).where(m.Message.direction == "in")).scalars().all()
    assert texts == [None, None, None]


def test_stop_and_old_buttons_change_nothing(tg, fake):
    enrol(tg)
    visit = tg.last_keyboard(CHAT)
    assert tg.press(CHAT, "4", visit) == ["How did you get here?"]
    travel = tg.last_keyboard(CHAT)
    fake.clear()
    assert tg.press(CHAT, "1", visit) == []  # the visit question has moved on
    assert fake.of("answerCallbackQuery")[-1]["text"] == "That question has closed."
    assert fake.of("editMessageText") == [] and fake.of("editMessageReplyMarkup") == []
    assert answers(tg.store) == {"visit": ("answered", 4.0, None)}

    assert tg.say(CHAT, "/stop") == ["You're unsubscribed and won't get more messages from us. Reply START to rejoin."]
    assert contact(tg.store).opted_out_at is not None
    assert tg.press(CHAT, "Bus", travel) == []
    assert fake.of("answerCallbackQuery")[-1]["text"] == "You have stopped these messages. Send /start to take part again."
    assert answers(tg.store) == {"visit": ("answered", 4.0, None)}
    assert tg.say(CHAT, "/start") == ["Welcome back! You'll get our feedback surveys again. Reply STOP at any time."]
    assert contact(tg.store).opted_out_at is None


def test_a_blocked_bot_marks_the_participant_unreachable_until_they_start_again(tg, fake):
    enrol(tg)
    fake.failures[CHAT] = Failure(*BLOCKED)
    with pytest.raises(ChannelError) as refused:
        send_one(tg.store, tg.channel, contact(tg.store).id, OutgoingMessage("A question from the team"), tg.clock())
    assert refused.value.permanent and refused.value.effect == "unreachable" and refused.value.code == "403"
    assert contact(tg.store).unreachable_at is not None
    with pytest.raises(Undeliverable):  # no more calls to a chat that blocked us
        send_one(tg.store, tg.channel, contact(tg.store).id, OutgoingMessage("Again"), tg.clock())

    del fake.failures[CHAT]  # they unblock the bot: Telegram's "Restart" button sends /start
    assert tg.say(CHAT, "/start") != []
    assert contact(tg.store).unreachable_at is None

    # Blocking is also announced by a my_chat_member update; unblocking likewise.
    tg.deliver(tg.updates.member(CHAT, "kicked"))
    assert contact(tg.store).unreachable_reason == "bot blocked by the user"
    tg.deliver(tg.updates.member(CHAT, "member", old="kicked"))
    assert contact(tg.store).unreachable_at is None


def test_a_reply_refused_with_blocked_marks_them_unreachable(tg, fake):
    enrol(tg)
    fake.failures[CHAT] = Failure(*BLOCKED)
    assert tg.press(CHAT, "3") == []
    assert contact(tg.store).unreachable_at is not None
    assert answers(tg.store) == {"visit": ("answered", 3.0, None)}  # the answer itself was stored


def test_flood_control_is_waited_out_and_the_message_retried(tg, fake):
    fake.failures[CHAT] = Failure(429, "Too Many Requests: retry after 1", retry_after=1, times=1)
    started = time.monotonic()
    assert tg.say(CHAT, "/start PANTRY")[0].startswith("Riverside Pantry would like")
    attempts = [c for c in fake.calls if c.method == "sendMessage"]
    assert len(attempts) == 2 and attempts[1].at - attempts[0].at >= 1.0
    assert time.monotonic() - started < 5
    with tg.store.read() as conn:
        assert conn.execute(select(func.count()).select_from(m.Contact)).scalar() == 1
