"""Outbound Telegram: keyboards, the rate limiter, and the real PTB Bot against the fake Bot API, with
provider errors turned into typed errors (recorded on both databases)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bot.channel import TelegramChannel
from bot.ratelimit import RateLimited, RateLimiter
from bot.render import MERGE_LIMIT, button_ref, callback_data, coalesce, parse_callback_data, render
from surveys import admin
from surveys import models as m
from surveys.channels import ChannelError
from surveys.delivery import send_one
from surveys import engine
from surveys.engine import Choice, OutgoingMessage
from tests.fake_telegram import BLOCKED, CHAT_NOT_FOUND, TOKEN, Failure, FakeTelegram
from tests.telegram_helpers import fast_channel

CHAT = 555001


@pytest.fixture
def fake():
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def channel(fake):
    ch = fast_channel(fake)
    yield ch
    ch.close()


def layout(message: OutgoingMessage) -> list[list[str]]:
    markup = render(message)[1]
    return [[b.text for b in row] for row in markup.inline_keyboard]


def scale(lo: int, hi: int, ref: str = "q") -> OutgoingMessage:
    return OutgoingMessage("Rate it", tuple(Choice(str(n), "") for n in range(lo, hi + 1)), "scale", ref)


# ---- keyboards -----------------------------------------------------------------------------------
def test_keyboards_by_style():
    yes_no = OutgoingMessage("Agree?", (Choice("yes", "Yes"), Choice("no", "No")), "yesno", "consent")
    assert layout(yes_no) == [["Yes", "No"]]
    assert layout(scale(1, 5)) == [["1", "2", "3", "4", "5"]]
    assert layout(scale(0, 10)) == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
    three = OutgoingMessage("How?", (Choice("walk", "Walking"), Choice("bus", "Bus"), Choice("car", "Car")), "list", "travel")
    assert layout(three) == [["Walking"], ["Bus"], ["Car"]]
    four_short = OutgoingMessage("Day?", tuple(Choice(d.lower(), d) for d in ("Mon", "Tue", "Wed", "Thu", "Fri")), "list", "day")
    assert layout(four_short) == [["Mon", "Tue"], ["Wed", "Thu"], ["Fri"]]
    long = OutgoingMessage("Why?", tuple(Choice(f"c{i}", f"A rather long reason number {i}") for i in range(4)), "list", "why")
    assert layout(long) == [[f"A rather long reason number {i}"] for i in range(4)]


def test_buttons_carry_ref_and_value_and_a_scale_keeps_its_legend():
    ends = (Choice("1", "Very bad"), Choice("2", ""), Choice("3", "Very good"))
    labelled = OutgoingMessage("How was it?", ends, "scale", "visit")
    text, markup = render(labelled)
    assert text == "How was it?\n(1 = Very bad, 3 = Very good)"
    assert [b.callback_data for b in markup.inline_keyboard[0]] == ["visit|1", "visit|2", "visit|3"]
    assert parse_callback_data("visit|3") == ("visit", "3")
    assert parse_callback_data("no separator") is None and parse_callback_data("|x") is None


def test_a_long_ref_is_shortened_and_callback_data_never_exceeds_64_bytes():
    key = "k" * 64
    message = OutgoingMessage("Pick", (Choice("a" * 20, "A"), Choice("b", "B")), "list", key)
    data = [b.callback_data for row in render(message)[1].inline_keyboard for b in row]
    assert data[0] == f"{button_ref(key)}|{'a' * 20}" and all(len(d.encode()) <= 64 for d in data)
    assert button_ref(key) == engine.ref_token(key) and button_ref("visit") == "visit"  # short refs go as they are
    # A value too long even then: no buttons, the numbered list people can answer by typing.
    too_long = OutgoingMessage("Pick", (Choice("v" * 64, "Long"), Choice("b", "B")), "list", key)
    text, markup = render(too_long)
    assert markup is None and text == "Pick\n1. Long\n2. B"
    assert len(callback_data(key, "v" * 64).encode()) > 64


def test_a_message_without_choices_has_no_keyboard():
    assert render(OutgoingMessage("Thanks!")) == ("Thanks!", None)
    assert render(OutgoingMessage("Anything else?", ref="anything")) == ("Anything else?", None)


def test_consecutive_replies_become_one_message_ending_with_the_question():
    thanks, intro = OutgoingMessage("Thanks."), OutgoingMessage("Hi from the pantry!")
    question = OutgoingMessage("How?", (Choice("bus", "Bus"),), "list", "travel")
    assert coalesce([thanks, intro, question]) == [OutgoingMessage("Thanks.\n\nHi from the pantry!\n\nHow?",
                                                                   question.choices, "list", "travel")]
    assert coalesce([question, thanks]) == [question, thanks]  # nothing is added after a question
    assert coalesce([thanks, intro]) == [OutgoingMessage("Thanks.\n\nHi from the pantry!")]
    long = OutgoingMessage("x" * (MERGE_LIMIT - 2))
    assert coalesce([long, question]) == [long, question]  # too long together: two messages
    assert coalesce([]) == []


# ---- the rate limiter ------------------------------------------------------------------------------
class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.lock = threading.Lock()

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        with self.lock:
            self.now += seconds


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_the_limiter_never_lets_more_than_the_limit_into_any_window():
    clock = FakeTime()
    limiter = RateLimiter(30, 1, clock=clock, sleep=clock.sleep)
    stamps: list[float] = []
    for i in range(200):
        limiter.acquire(i % 50)  # 50 chats: the bot limit binds
        stamps.append(clock())
    assert max_in_window(stamps) == 30
    per_chat = [t for i, t in enumerate(stamps) if i % 50 == 7]
    assert max_in_window(per_chat) == 1
    assert 200 / 30 - 1 <= stamps[-1] - stamps[0] <= 200 / 30 * 1.05  # close to the ideal


def test_one_chat_is_held_to_its_own_limit():
    clock = FakeTime()
    limiter = RateLimiter(30, 1, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(5):
        limiter.acquire("chat")
        stamps.append(clock())
    assert max_in_window(stamps) == 1 and stamps[-1] - stamps[0] >= 4
    assert limiter.try_acquire("other chat")[0] == 0.0  # others are not held up


def test_the_limiter_is_thread_safe():
    clock = FakeTime()
    limiter = RateLimiter(10, 5, clock=clock, sleep=clock.sleep)
    stamps, lock = [], threading.Lock()

    def worker(n):
        for i in range(25):
            limiter.acquire(f"chat{(n + i) % 4}")
            with lock:
                stamps.append(clock())

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 200 and max_in_window(stamps) <= 10


def test_a_pause_holds_every_send_and_a_long_one_is_refused():
    clock = FakeTime()
    limiter = RateLimiter(30, 1, clock=clock, sleep=clock.sleep)
    limiter.pause(5)
    assert limiter.try_acquire("a") == (pytest.approx(5), None)
    with pytest.raises(RateLimited):
        limiter.acquire("a", max_wait=2)
    started = clock()
    limiter.acquire("a", max_wait=10)
    assert clock() - started == pytest.approx(5)


def test_a_slot_counts_from_when_its_response_came_back():
    """A request arrives somewhere between leaving and its response returning: counting from the response
    keeps sends a window apart on arrival, however late a request set off."""
    clock = FakeTime()
    limiter = RateLimiter(2, 1000, clock=clock, sleep=clock.sleep)
    first, second = limiter.slot("a"), limiter.slot("b")
    assert limiter.try_acquire("c")[0] == float("inf")  # both still in flight: no telling when one frees
    clock.sleep(0.3)
    first.release()
    assert limiter.try_acquire("c")[0] == pytest.approx(1.0)  # a whole window after that response
    clock.sleep(1.0)
    with limiter.slot("c"):
        pass
    second.release()


def test_fractional_rates_never_exceed_the_rate():
    clock = FakeTime()
    limiter = RateLimiter(2.5, 0.5, clock=clock, sleep=clock.sleep, margin=0)
    stamps = []
    for _ in range(3):
        limiter.acquire("chat")
        stamps.append(clock())
    assert stamps[1] - stamps[0] >= 2 and stamps[2] - stamps[1] >= 2  # 0.5/s: one every two seconds


# ---- sending through the real Bot ------------------------------------------------------------------
def test_send_returns_chat_and_message_id_and_renders_buttons(fake, channel):
    message = OutgoingMessage("Agree?", (Choice("yes", "Yes"), Choice("no", "No")), "yesno", "consent")
    provider_id = channel.send(str(CHAT), message)
    sent = fake.sent[-1]
    assert provider_id == f"{CHAT}:{fake.messages_to(CHAT)[-1]['message_id']}"
    assert sent["chat_id"] == str(CHAT) and sent["text"] == "Agree?"
    assert sent["reply_markup"] == {"inline_keyboard": [[{"text": "Yes", "callback_data": "consent|yes"},
                                                         {"text": "No", "callback_data": "consent|no"}]]}


@pytest.mark.parametrize("failure, permanent, effect, code", [
    (Failure(*BLOCKED), True, "unreachable", "403"),
    (Failure(*CHAT_NOT_FOUND), True, "unreachable", "400"),
    (Failure(400, "Bad Request: message is too long"), True, None, "400"),
    (Failure(401, "Unauthorized"), False, None, "401"),
    (Failure(502, "Bad Gateway"), False, None, "network"),
])
def test_provider_errors_become_typed_errors(fake, channel, failure, permanent, effect, code):
    fake.failures[CHAT] = failure
    with pytest.raises(ChannelError) as caught:
        channel.send(str(CHAT), OutgoingMessage("Hello"))
    assert (caught.value.permanent, caught.value.effect, caught.value.code) == (permanent, effect, code)


def test_flood_control_is_retried_then_given_up_as_temporary(fake):
    clock, sleeps = FakeTime(), []
    limiter = RateLimiter(1000, 1000, clock=clock, sleep=lambda s: (sleeps.append(s), clock.sleep(s)))
    channel = TelegramChannel(TOKEN, fake.base_url, limiter=limiter, max_tries=3)
    fake.failures[CHAT] = Failure(429, "Too Many Requests: retry after 7", retry_after=7)
    try:
        with pytest.raises(ChannelError) as caught:
            channel.send(str(CHAT), OutgoingMessage("Hello"))
    finally:
        channel.close()
    assert caught.value.permanent is False and caught.value.retry_after == 7 and caught.value.code == "429"
    assert len(fake.sent) == 3 and sleeps == [pytest.approx(7), pytest.approx(7)]  # waited between tries


def test_a_flood_wait_longer_than_allowed_is_not_slept_through(fake):
    clock, sleeps = FakeTime(), []
    limiter = RateLimiter(1000, 1000, clock=clock, sleep=lambda s: (sleeps.append(s), clock.sleep(s)))
    channel = TelegramChannel(TOKEN, fake.base_url, limiter=limiter, max_retry_wait=30)
    fake.failures[CHAT] = Failure(429, "Too Many Requests: retry after 300", retry_after=300)
    try:
        with pytest.raises(ChannelError) as caught:
            channel.send(str(CHAT), OutgoingMessage("Hello"))
    finally:
        channel.close()
    assert caught.value.retry_after == 300 and len(fake.sent) == 1 and sleeps == []


def test_network_failure_and_a_bad_address_are_typed():
    channel = TelegramChannel(TOKEN, "http://127.0.0.1:9/bot", limiter=RateLimiter(1000, 1000), timeout=2)
    try:
        with pytest.raises(ChannelError) as caught:
            channel.send("42", OutgoingMessage("Hello"))
        assert caught.value.permanent is False
        with pytest.raises(ChannelError) as bad:
            channel.send("not-a-chat", OutgoingMessage("Hello"))
        assert bad.value.permanent is True and bad.value.effect == "unreachable"
    finally:
        channel.close()


def test_send_is_safe_from_many_threads(fake, channel):
    errors, ids = [], []

    def worker(n):
        try:
            for i in range(10):
                ids.append(channel.send(str(1000 + n), OutgoingMessage(f"message {i}")))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(ids)) == 60
    for n in range(6):  # each chat got its messages, in order
        assert [m["text"] for m in fake.messages_to(1000 + n)] == [f"message {i}" for i in range(10)]


# ---- recorded sends, on both databases --------------------------------------------------------------
def test_a_send_is_recorded_with_its_provider_id(db, now, fake, channel):
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now)
    contact = admin.add_participant(db, "telegram", str(CHAT), "PANTRY", now)
    message_id = send_one(db, channel, contact, OutgoingMessage("Hello"), now)
    with db.session() as s:
        row = s.get(m.Message, message_id)
    assert row.status == "queued" and row.external_id == f"{CHAT}:{fake.messages_to(CHAT)[-1]['message_id']}"


def test_chat_not_found_marks_the_participant_unreachable(db, now, fake, channel):
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now)
    contact = admin.add_participant(db, "telegram", str(CHAT), "PANTRY", now)
    fake.failures[CHAT] = Failure(*CHAT_NOT_FOUND)
    with pytest.raises(ChannelError):
        send_one(db, channel, contact, OutgoingMessage("Hello"), now)
    with db.session() as s:
        row = s.scalars(select(m.Message).where(m.Message.direction == "out")).one()
        person = s.get(m.Contact, contact)
    assert row.status == "failed" and row.error_code == "400" and person.unreachable_at is not None


def test_channels_for_one_bot_share_a_limiter_in_a_process(settings):
    one = settings.with_overrides(telegram_bot_token=TOKEN)
    a, b = TelegramChannel.from_settings(one), TelegramChannel.from_settings(one)
    other = TelegramChannel.from_settings(one.with_overrides(telegram_bot_token="999:other"))
    assert a.limiter is b.limiter and other.limiter is not a.limiter
