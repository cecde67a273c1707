"""The pure engine: no database, no clock. What transcripts cannot send (buttons, media) is tested here."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

from surveys import engine
from surveys.engine import ConversationView, Inbound, ConversationState
from surveys.loader import load_survey_file

ROOT = Path(__file__).resolve().parent.parent
PANTRY = load_survey_file(ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml")
NOW = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)


def in_survey(question="visit", **changes) -> ConversationState:
    conv = ConversationView(PANTRY, 1, 7, "Riverside Pantry", id=3, question=question, last_activity=NOW)
    values = {"language": "en", "expiry": timedelta(hours=24), "conversation": conv, "languages": PANTRY.languages}
    return ConversationState(**{**values, **changes})


def test_a_button_on_the_current_question_answers_it():
    st = engine.step(in_survey(), Inbound("4", kind="button", ref="visit"), NOW)
    assert engine.AnswerRecorded("visit", "scale", "4", 4, "answered") in st.events
    assert st.session.conversation.question == "travel"
    assert [c.value for c in st.replies[0].choices] == ["walk", "bus", "car"]


def test_a_button_carrying_the_token_of_the_current_question_answers_it():
    """A channel with little room per button sends `ref_token(key)` for the key; the engine takes it as the key."""
    st = engine.step(in_survey(), Inbound("4", kind="button", ref=engine.ref_token("visit")), NOW)
    assert engine.AnswerRecorded("visit", "scale", "4", 4, "answered") in st.events
    stale = engine.step(in_survey(question="travel"), Inbound("2", kind="button", ref=engine.ref_token("visit")), NOW)
    assert stale.events == [engine.Ignored("stale button")]


def test_an_old_button_changes_nothing_and_says_nothing():
    before = in_survey(question="travel")
    st = engine.step(before, Inbound("2", kind="button", ref="visit"), NOW)
    assert st.events == [engine.Ignored("stale button")] and st.replies == []
    assert st.session == before and not st.keep_text


def test_consent_and_language_by_button():
    pending = ConversationState(language="en", expiry=timedelta(hours=24),
                      pending={"kind": "consent", "enrolment": 7, "org": "Riverside Pantry", "attempts": 0})
    st = engine.step(pending, Inbound("yes", kind="button", ref="consent"), NOW)
    assert engine.ConsentAnswered(7, participate=True) in st.events
    assert st.session.pending["kind"] == "quote" and st.replies[0].ref == "quote"

    st = engine.step(in_survey(), Inbound("LANGUAGE"), NOW)
    st = engine.step(st.session, Inbound("es", kind="button", ref="language"), NOW)
    assert engine.LanguageChanged("es") in st.events
    assert st.replies[-1].text == "¿Qué tal tu visita?"


def test_media_only_is_acknowledged_without_counting_as_a_failed_answer():
    st = engine.step(in_survey(), Inbound("", kind="media"), NOW)
    assert st.replies[0].text.startswith("Sorry, we can only read text replies")
    assert st.session.conversation.attempts == 0


def test_opted_out_hears_nothing_but_start():
    s = in_survey(opted_out=True)
    for text in ("hello", "HELP", "4", "DELETE"):
        st = engine.step(s, Inbound(text), NOW)
        assert st.replies == [] and st.events == [engine.Ignored("opted out")]
    assert engine.step(s, Inbound("start"), NOW).events == [engine.OptedIn()]


def test_expiry_is_measured_from_the_last_activity():
    s = in_survey()
    just_in_time = engine.step(s, Inbound("4"), NOW + timedelta(hours=24))
    assert any(isinstance(e, engine.AnswerRecorded) for e in just_in_time.events)
    too_late = engine.step(s, Inbound("4"), NOW + timedelta(hours=24, seconds=1))
    assert engine.ConversationEnded("expired") in too_late.events
    assert engine.CommentReceived("4", late=True, question="visit") in too_late.events


def test_every_reply_is_in_the_contact_language_when_the_survey_has_it():
    s = in_survey(language="es")
    st = engine.step(s, Inbound("nada"), NOW)
    assert st.replies[0].text == "Responde con un número del 1 (Muy mal) al 5 (Muy bien)."
