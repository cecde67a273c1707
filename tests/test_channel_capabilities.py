"""The core asks a channel what a message costs and whether it shows buttons, through the channel interface
(surveys.channels), never by the channel's name; each channel answers from its own knowledge."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.channel import TelegramChannel
from local.channel import LocalChannel
from mail.channel import EmailChannel
from sms.channel import SmsChannel, sms_cost
from surveys import channels
from surveys.checks import SurveyChecks, survey_warnings
from surveys.engine import Choice, OutgoingMessage
from surveys.loader import load_survey_file

ROOT = Path(__file__).resolve().parent.parent
LONG = OutgoingMessage("what went well and what did not, " * 15)  # 495 GSM-7 characters: 4 segments
CURLY = OutgoingMessage("“quoted”" + "x" * 150)  # curly quotes are swapped, so still one GSM-7 segment
ASK = OutgoingMessage("How was it?", (Choice("1", "Good"), Choice("2", "Bad")), "list", "visit")


@pytest.fixture
def every_channel():
    made = [SmsChannel("AC" + "0" * 32, "token", from_number="+15005550006"), TelegramChannel("1:x"),
            EmailChannel("127.0.0.1"), LocalChannel(quiet=True)]
    before = dict(channels._registry)
    for channel in made:
        channels.register(channel)
    yield {c.name: c for c in made}
    channels._registry.clear()
    channels._registry.update(before)


def test_what_a_message_costs_is_the_channels_answer(every_channel):
    assert channels.cost("sms", LONG) == 4 and channels.cost("sms", CURLY) == 1 and channels.cost("sms", ASK) == 1
    for name in ("telegram", "email", "local"):
        assert channels.cost(name, LONG) == 1
    assert channels.units_of(every_channel["sms"], LONG) == 4  # what the outbox books against the rate


def test_only_telegram_shows_buttons(every_channel):
    assert [n for n in ("sms", "telegram", "email", "local") if channels.shows_buttons(n)] == ["telegram"]
    assert channels.shows_buttons("fax") is False


def test_a_stand_in_channel_that_only_sends_costs_one_unit():
    class Sends:
        name = "stand-in"

        def send(self, address, message):
            return "id"

    assert channels.units_of(Sends(), LONG) == 1


def test_survey_warnings_ask_the_cost_function_they_are_given():
    """The warnings code needs no channel: the SMS cost comes in as a function (config.wiring passes sms's)."""
    survey = load_survey_file(ROOT / "surveys/examples/weekly.yaml")
    asked = []

    def cost(message):
        asked.append(message.text)
        return sms_cost(OutgoingMessage(message.text * 5, message.choices, message.style, message.ref))

    assert not any("SMS segments" in w for w in survey_warnings(survey, SurveyChecks(lambda lang: True, sms_cost)))
    warned = [w for w in survey_warnings(survey, SurveyChecks(lambda lang: True, cost)) if "SMS segments" in w]
    assert asked and warned and all("keep it to 3" in w for w in warned)
