"""A whole survey over SMS: JOIN, consent, every question type, completion; from TwiML and the store."""
from sqlalchemy import select

from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_file
from tests.sms_helpers import ROOT, Clock, Twilio, sms_app, twiml_messages


def test_a_whole_survey_over_sms(db, now):
    clock = Clock(now)
    app, store = sms_app(db, clock)
    admin.load_survey(store, load_survey_file(ROOT / "tests/transcripts/surveys/pantry.yaml"), now)
    admin.add_organisation(store, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    twilio = Twilio(app.test_client())

    def say(text):
        clock.advance(minutes=1)
        response = twilio.inbound(text, sender="07700 900123")
        assert response.status_code == 200
        return twiml_messages(response)

    assert say("Join Pantry")[0].endswith("Do you agree to take part? (Yes / No)")
    assert say("Yes")[0].startswith("Thank you! May we quote your words")
    replies = say("no thanks")
    assert replies == ["Thanks, that's saved. Reply HELP at any time for options, or STOP to stop.",
                       "Hi from Riverside Pantry! 5 quick questions about your pantry visit.",
                       "How was your visit?\n(1 = Very bad, 5 = Very good)"]
    assert say("2/5") == ["Sorry to hear that. What went wrong?"]
    assert say("Waited 2 hours in the rain") == ["How did you get here?\n1. Walking\n2. Bus\n3. Car"]
    assert say("b") == ["Did you get enough food for the week? (Yes / No)"]
    assert say("nope") == ["From 0 to 10, how likely are you to recommend the pantry to a friend? (0-10)"]
    assert say("8") == ["Anything else you'd like to tell us?"]
    assert say("More fruit please \U0001F34E") == ["Thank you! Your answers go straight to the Riverside Pantry team."]

    with store.session() as s:
        answers = {a.question_key: (a.status, a.value_num, a.value_text, a.survey_version_id)
                   for a in s.scalars(select(m.Answer))}
        conv = s.scalars(select(m.Conversation)).one()
        contact = s.scalars(select(m.Contact)).one()
    version = conv.survey_version_id
    assert answers == {
        "visit": ("answered", 2.0, None, version),
        "why_low": ("answered", None, "Waited 2 hours in the rain", version),
        "travel": ("answered", None, "bus", version),
        "enough": ("answered", 0.0, "no", version),
        "recommend": ("answered", 8.0, None, version),
        "anything": ("answered", None, "More fruit please \U0001F34E", version),
    }
    assert conv.status == "completed" and contact.address == "+447700900123" and contact.channel == "sms"
