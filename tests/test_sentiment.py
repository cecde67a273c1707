"""Sentiment tags: a table of feedback answers as people write them, the context rules, every analyzer, and
accuracy on real labelled data (../shared/data/sentiment, skipped when absent)."""
from __future__ import annotations

from pathlib import Path

import pytest

from analysis.sentiment import (
    NOT_TAGGED_LANGUAGE,
    Analyzer,
    CombinedAnalyzer,
    SentimentTagger,
    Tag,
    TextBlobAnalyzer,
    VaderAnalyzer,
    make_analyzer,
    normalise,
)

DATA = Path(__file__).resolve().parent.parent.parent / "shared/data/sentiment"

HIGH = {"scores": {"recommend": 0.9}}
IMPROVE_AFTER_9 = {"question": "do_better", "survey": "service", "prompt_kind": "improve", "scores": {"recommend": 0.9}}

# (answer, language, context, expected label with the default analyzer)
TABLE = [
    # plain English feedback
    ("Staff were really kind and helpful", "en", {}, "positive"),
    ("Very helpful, thank you so much", "en", {}, "positive"),
    ("best support i've had", "en", {}, "positive"),
    ("Great", "en-GB", {}, "positive"),
    ("it was ok", "en", {}, "positive"),
    ("not bad", "en", {}, "positive"),
    ("Thanks for listening", "en", {}, "positive"),
    ("The wait was terrible", "en", {}, "negative"),
    ("nobody called me back, really disappointing", "en", {}, "negative"),
    ("rude receptionist", "en", {}, "negative"),
    ("The advice was useless", "en", {}, "negative"),
    ("worst experience ever", "en", {}, "negative"),
    ("not good at all", "en", {}, "negative"),
    ("hard to get through on the phone", "en", {}, "negative"),
    ("I came on Tuesday", "en", {}, "neutral"),
    ("dunno", "en", {}, "neutral"),
    # texting forms and emoji
    ("gr8 service thx", "en", {}, "positive"),
    ("luv the new drop-in", "en", {}, "positive"),
    ("ty", "en", {}, "positive"),
    ("👍", "en", {}, "positive"),
    ("❤️", "en", {}, "positive"),
    ("😊😊", "en", {}, "positive"),
    ("🙂", "en", {}, "positive"),
    (":)", "en", {}, "positive"),
    (":(", "en", {}, "negative"),
    ("😡😡", "en", {}, "negative"),
    ("👎", "en", {}, "negative"),
    ("waited 3 hours 😞", "en", {}, "negative"),
    # mixed: a clearly positive and a clearly negative clause
    ("The food was great but the wait was awful", "en", {}, "mixed"),
    ("lovely staff; horrible building", "en", {}, "mixed"),
    ("Great people, though the heating was terrible", "en", {}, "mixed"),
    # context: "nothing to improve" after a high score is no complaint
    ("Nothing.", "en", IMPROVE_AFTER_9, "positive"),
    ("None", "en", IMPROVE_AFTER_9, "positive"),
    ("no", "en", IMPROVE_AFTER_9, "positive"),
    ("nothing really", "en", IMPROVE_AFTER_9, "positive"),
    ("all good", "en", IMPROVE_AFTER_9, "positive"),
    ("Nothing.", "en", {"prompt_kind": "improve"}, "neutral"),
    # context: no text signal, a score in the same conversation decides
    ("the bus", "en", HIGH, "positive"),
    ("the bus", "en", {"scores": {"recommend": 0.2}}, "negative"),
    ("the bus", "en", {"scores": {"recommend": 0.5}}, "neutral"),
    ("the bus", "en", {"scores": {"recommend": 0.9, "week": 0.1}}, "neutral"),   # mean 0.5
    ("rude receptionist", "en", HIGH, "negative"),                              # the text's own signal wins
    # the conversation's language, never guessed
    ("El personal fue muy amable", "es", {}, NOT_TAGGED_LANGUAGE),
    ("Terrible service", "fr", {}, NOT_TAGGED_LANGUAGE),    # English words, French conversation: not tagged
    ("Muito bom 👍", "pt-BR", {}, NOT_TAGGED_LANGUAGE),
]


@pytest.fixture(scope="module")
def taggers() -> dict[str, SentimentTagger]:
    return {name: SentimentTagger(make_analyzer(name)) for name in ("textblob", "vader", "combined")}


@pytest.mark.parametrize("text,language,context,expected", TABLE, ids=[f"{i}:{row[0][:30]}" for i, row in enumerate(TABLE)])
def test_table_default_analyzer(text, language, context, expected):
    tag = DEFAULT.tag(text, language, context)
    assert tag["label"] == expected, tag


DEFAULT = SentimentTagger()


def test_table_is_big_enough():
    assert len(TABLE) >= 30


def test_default_analyzer_is_textblob_with_version():
    tag = DEFAULT.tag("good", "en", {})
    assert tag["analyzer"].startswith("textblob-") and tag["analyzer"] != "textblob-unknown"


@pytest.mark.parametrize("name", ["textblob", "vader", "combined"])
def test_every_analyzer_works(name, taggers):
    analyzer = taggers[name].analyzer
    _: Analyzer = analyzer   # structurally an Analyzer: name, languages, score
    assert callable(analyzer.score)
    assert analyzer.name.startswith(name + "-")
    assert "en" in analyzer.languages
    pos, subj = analyzer.score("The staff were wonderful")
    neg, _ = analyzer.score("The staff were horrible")
    assert -1 <= neg < 0 < pos <= 1 and 0 <= subj <= 1
    tagger = taggers[name]
    assert tagger.tag("gr8 thx 👍", "en", {})["label"] == "positive"
    assert tagger.tag("awful :(", "en", {})["label"] == "negative"
    assert tagger.tag("The food was great but the wait was awful", "en", {})["label"] == "mixed"
    assert tagger.tag("Génial", "fr", {}) == {"polarity": 0.0, "subjectivity": 0.0, "label": NOT_TAGGED_LANGUAGE,
                                             "analyzer": analyzer.name}


@pytest.mark.parametrize("name", ["textblob", "vader", "combined"])
@pytest.mark.parametrize("answer", ["Nothing.", "None", "no", "nothing really", "all good", "Nope!"])
def test_nothing_to_improve_after_high_score_is_never_negative(name, answer, taggers):
    # VADER on its own scores "no" as negative; the question makes it no complaint.
    label = taggers[name].tag(answer, "en", IMPROVE_AFTER_9)["label"]
    assert label in ("neutral", "positive")


def test_improve_question_recognised_by_key_when_kind_not_given(taggers):
    # The service passes only the question key today; a key naming an improvement stands in for prompt_kind.
    ctx = {"question": "make_it_ten", "survey": "service", "scores": {"recommend": 0.9}}
    assert taggers["vader"].tag("no", "en", ctx)["label"] == "positive"
    assert taggers["vader"].tag("no", "en", {"question": "did_well", "survey": "service"})["label"] == "negative"


def test_tag_dict_shape():
    tag = DEFAULT.tag("Lovely staff", "en", {"question": "did_well", "survey": "s"})
    assert set(tag) == {"polarity", "subjectivity", "label", "analyzer"}
    assert tag == Tag(**tag).to_dict()
    assert -1 <= tag["polarity"] <= 1 and 0 <= tag["subjectivity"] <= 1


def test_empty_context_and_text_are_fine():
    assert DEFAULT.tag("", "en", {})["label"] == "neutral"
    assert DEFAULT.tag("ok", "en", None)["label"] == "positive"   # type: ignore[arg-type]


def test_missing_language_is_not_guessed():
    assert DEFAULT.tag("Great service", "", {})["label"] == NOT_TAGGED_LANGUAGE


def test_normalise_is_small_and_word_bounded():
    assert normalise("gr8 thx, TY!") == "great thanks, thanks!"
    assert normalise("luv it") == "love it"
    assert "typical" in normalise("typical")        # "ty" only as a word
    assert "good" in normalise("👍") and "❤" not in normalise("❤️")
    assert normalise("see http://a.b/x:(y") == "see http://a.b/x:(y"   # emoticons stand alone


def test_make_analyzer_rejects_unknown_names():
    assert isinstance(make_analyzer("textblob"), TextBlobAnalyzer)
    assert isinstance(make_analyzer("VADER"), VaderAnalyzer)
    assert isinstance(make_analyzer("combined"), CombinedAnalyzer)
    with pytest.raises(ValueError, match="unknown sentiment analyzer"):
        make_analyzer("bert")


def test_combined_supports_only_shared_languages():
    class Fr:
        name, languages = "fr-1", frozenset({"fr"})

        def score(self, text):
            return 0.5, 0.5

    combined = CombinedAnalyzer(TextBlobAnalyzer(), Fr())
    assert combined.languages == frozenset()
    assert SentimentTagger(combined).tag("great", "en", {})["label"] == NOT_TAGGED_LANGUAGE


def _uci(name: str) -> list[tuple[str, int]]:
    found = sorted((DATA / "uci").glob(f"{name}*_labelled.txt"))   # amazon_cells_labelled.txt
    if not found:
        pytest.skip(f"labelled data not present: {DATA / 'uci'}/{name}*_labelled.txt")
    path = found[0]
    rows = []
    for line in path.read_text(encoding="utf-8").split("\n"):   # "\n" only: some texts hold other breaks
        if "\t" in line:
            text, label = line.rsplit("\t", 1)
            rows.append((text, int(label.strip())))
    return rows


def test_textblob_accuracy_on_amazon():
    rows = _uci("amazon")
    assert len(rows) == 1000
    tagger = SentimentTagger(make_analyzer("textblob"))
    # Forced choice on two-class data: the sign of the polarity (0 counts as negative).
    correct = sum((tagger.tag(text, "en", {})["polarity"] > 0) == (label == 1) for text, label in rows)
    assert correct / len(rows) >= 0.75


def test_free_text_answers_are_tagged_when_stored(db, now):
    """The composition root hands the tagger to the store; the service tags free text at store time."""
    from sqlalchemy import select

    from analysis.sentiment import SentimentTagger
    from surveys import admin
    from surveys import models as m
    from surveys.loader import load_survey_file
    from surveys.service import InboundMessage, handle_inbound
    from surveys.store import Store

    store = Store(db.settings, engine=db.engine, tagger=SentimentTagger())
    root = Path(__file__).resolve().parent.parent
    admin.load_survey(store, load_survey_file(root / "tests/transcripts/surveys/pantry.yaml"), now)
    admin.add_organisation(store, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    for i, text in enumerate(["JOIN pantry", "yes", "no", "1", "The staff were rude and the food was awful"]):
        handle_inbound(store, InboundMessage("local", "+447700900123", f"s{i}", text), now)
    with store.read() as conn:
        tags = dict(conn.execute(select(m.Answer.question_key, m.Answer.tags)).all())
    assert tags["visit"] is None  # a number is not free text
    assert tags["why_low"]["label"] == "negative" and tags["why_low"]["analyzer"].startswith("textblob")
