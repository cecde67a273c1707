"""Answers that say there is nothing to add ("no ta", "nah im good", "n/a", "👍", "nada más"): a table of how
people text them and of answers that begin the same way but say something; the question cases; no themes;
and through the real service on both databases."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from analysis.nothing_to_add import CLOSE, CONTENT, DECLINE, MAX_CHARS, nothing_said, says_nothing
from analysis.safeguarding import Safeguarding
from analysis.sentiment import NOTHING_TO_ADD, SentimentTagger
from analysis.tagger import AnswerAnalysis
from analysis.themes import ThemeCounter, terms, top_themes

ROOT = Path(__file__).resolve().parent.parent

NOTHING = [
    # English, as people text it
    "no", "No.", "NO", "nope", "Nope!", "nah", "Nahh", "naw", "n", "no ta", "No ta x", "no thanks", "No thank you",
    "no thanks :)", "no thats all", "No that's all thanks", "no that\u2019s all", "nothing", "Nothing.",
    "nothing else", "Nothing else to add", "nothing more to say", "n/a", "N/A", "na", "NA", "none", "None thanks",
    "all good", "All good 👍", "that's it", "Thats it thanks", "That\u2019s it thanks x", "not really",
    "not really no", "nah im good", "Nah I'm good thanks", "no cheers", "no cheers mate", "no rly", "nowt",
    "nope that's everything", "no more comments", "no comment", "can't think of anything else", "im fine thanks",
    "nothing really", "not at the moment", "not for now thanks", "no thank u x", "skip", "i'm all good ta",
    "no not really thanks", "nothing thank you xx", "no, all good", "no, that is all", "No!!", "nothing at all",
    # "you're alright": British for "no need, thanks"
    "nah ur alright", "Nah you're alright", "no youre alright thanks", "no ur ok ta", "you’re alright thanks",
    # punctuation and emoji alone
    "-", ".", "...", "- -", "👍", "👍🏽", "👌", "🙏",
    # Spanish
    "nada", "Nada más", "nada mas gracias", "no gracias", "No, gracias", "eso es todo", "Eso es todo, gracias",
    "no tengo nada más que añadir", "ninguna", "todo bien", "nop", "nada, gracias", "sin comentarios",
    "no, muchas gracias",
]

SAYS_SOMETHING = [
    # they begin with "no" or "nothing" but say something
    "no one called me back", "no heating for a week", "nothing works", "not really happy with the wait",
    "no help at all", "nothing good about it", "none of the staff listened", "no thanks to you lot",
    "nah it was rubbish", "No, the staff were rude", "nothing it was fine", "no food left when I got there",
    "nope, still waiting", "nothing changed since last time", "no answer when I phoned", "noone helped",
    "nothing was done about my complaint", "no hot water", "not enough food", "no-one listens",
    "not good", "not ok", "nothing to eat for the kids", "no, I'm still waiting for a call back",
    "not really, the wait was too long", "nobody", "no idea what they're doing", "none available on Tuesday",
    "no :(", "no?",
    # other short answers
    "thanks", "great thanks", "ok", "😊", "👎", ":(", ":)", "?", "x", "the staff", "more food please",
    # Spanish
    "nada funciona", "no me llamaron", "no hay calefacción desde hace una semana", "nada bien", "todo mal",
    "no gracias a ustedes",
    # too long to be a "no", whatever its words
    "no thanks " * 7,
]


def test_the_demo_datas_own_nothing_to_add_answers_are_recognised():
    """The demo answers "Anything else?" with these; any one not recognised became a theme ("nah", "alright")
    and a positive comment in the demo digest."""
    from demo.seed import NOTHING as DEMO_NOTHING

    assert [a for a in DEMO_NOTHING if not says_nothing(a)] == []


def test_tables_are_big_enough():
    assert len(NOTHING) >= 60 and len(SAYS_SOMETHING) >= 40
    assert not set(NOTHING) & set(SAYS_SOMETHING)
    assert len(SAYS_SOMETHING[-1]) > MAX_CHARS


@pytest.mark.parametrize("answer", NOTHING)
def test_nothing_to_add(answer):
    assert nothing_said(answer) in (CLOSE, CONTENT, DECLINE), answer


@pytest.mark.parametrize("answer", SAYS_SOMETHING)
def test_says_something(answer):
    assert nothing_said(answer) is None, answer


def test_kinds():
    assert nothing_said("n/a") == nothing_said("-") == nothing_said("eso es todo") == CLOSE
    assert nothing_said("all good") == nothing_said("👍") == nothing_said("todo bien") == CONTENT
    # a "no" in it makes the answer a DECLINE, whose meaning depends on the question
    assert nothing_said("no thats all") == nothing_said("nah im good 👍") == nothing_said("nada") == DECLINE


TAGGER = SentimentTagger()
ELSE = {"question": "anything_else", "question_text": "Anything else you'd like us to know? Reply SKIP if not."}
IMPROVE = {"question": "do_better", "question_text": "Thanks for being honest. What could we do better?",
           "scores": {"recommend": 0.9}}
PRAISE = {"question": "did_well", "question_text": "That's lovely to hear! What did we do well?"}
CLOSED = {"question": "called_back", "question_text": "Thanks. Did anyone call you back?"}
OPEN_CLOSED = {"question": "more", "question_text": "Is there anything else we should know?"}


@pytest.mark.parametrize("answer", ["no ta", "no thats all", "nah", "nothing", "n/a", "👍", "all good", "-"])
@pytest.mark.parametrize("context", [ELSE, IMPROVE, OPEN_CLOSED, {}], ids=["else", "improve", "is-there", "comment"])
def test_nothing_to_add_carries_no_sentiment(answer, context):
    assert TAGGER.tag(answer, "en", context) == {"polarity": 0.0, "subjectivity": 0.0, "label": NOTHING_TO_ADD,
                                                 "analyzer": TAGGER.analyzer.name}


def test_the_question_decides_in_two_cases():
    # "nothing" answering "what did we do well?" is a complaint; "all good" there is praise; "n/a" is nothing
    assert TAGGER.tag("nothing", "en", PRAISE)["label"] == "negative"
    assert TAGGER.tag("nah", "en", PRAISE)["label"] == "negative"
    assert TAGGER.tag("all good", "en", PRAISE)["label"] == "positive"
    assert TAGGER.tag("n/a", "en", PRAISE)["label"] == NOTHING_TO_ADD
    # "no" answering a yes/no question is an answer, not "nothing to add"
    assert TAGGER.tag("no", "en", CLOSED)["label"] != NOTHING_TO_ADD
    assert TAGGER.tag("no", "en", OPEN_CLOSED)["label"] == NOTHING_TO_ADD
    assert TAGGER.tag("n/a", "en", CLOSED)["label"] == NOTHING_TO_ADD


def test_spanish_nothing_to_add_is_recognised_though_sentiment_is_not_read():
    assert TAGGER.tag("nada más, gracias", "es", {})["label"] == NOTHING_TO_ADD
    assert TAGGER.tag("la espera fue horrible", "es", {})["label"] == "not tagged: language"


def test_nothing_to_add_is_never_a_theme():
    counter = ThemeCounter("en")
    for text in ["no ta", "No ta", "rly no", "no rly", "nah", "nah", "no thats all", "No thats all thanks",
                 "waiting times too long", "the waiting times again"]:
        counter.add(text)
    assert [t.label for t in top_themes(counter, min_count=2)] == ["waiting times"]
    assert terms("no ta") == set() and not says_nothing("waiting times too long")


def test_through_the_service_on_both_databases(db, now):
    from surveys import admin
    from surveys import models as m
    from surveys.loader import load_survey_file
    from surveys.service import InboundMessage, handle_inbound
    from surveys.store import Store

    store = Store(db.settings, sql_engine=db.sql_engine, tagger=AnswerAnalysis(SentimentTagger(), Safeguarding()))
    admin.load_survey(store, load_survey_file(ROOT / "tests/transcripts/surveys/pantry.yaml"), now)
    admin.add_organisation(store, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    # JOIN, consent, quoting, visit 5, travel, enough food, recommend 9, then "Anything else you'd like to tell us?"
    for i, text in enumerate(["JOIN pantry", "yes", "no", "5", "2", "yes", "9", "no ta"]):
        handle_inbound(store, InboundMessage("local", "+447700900123", f"n{i}", text), now)
    with store.read() as conn:
        tags = dict(conn.execute(select(m.Answer.question_key, m.Answer.tags)).all())
    assert tags["anything"]["label"] == NOTHING_TO_ADD and "flag" not in tags["anything"]
