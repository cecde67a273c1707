"""Themes: keys of single answers as people write them, the top-themes list (subsumption, aliases, labels),
trends against earlier weeks, unsupported languages, the shipped stop-word list, and no NLTK data."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.themes import (
    FALLING,
    NEW,
    RISING,
    STEADY,
    STOPWORDS_DIR,
    Theme,
    ThemeCounter,
    ThemeTrend,
    compare,
    stopwords,
    terms,
    top_themes,
)

ROOT = Path(__file__).resolve().parent.parent

# The running example: five answers to "what could be better?"
WAITING_AND_STAFF = ["waiting times too long", "the wait was long", "long waiting time", "staff were kind", "kind staff"]


def count(answers, language="en", aliases=None) -> ThemeCounter:
    counter = ThemeCounter(language, aliases=aliases)
    for text in answers:
        counter.add(text)
    return counter


# ---- one answer -------------------------------------------------------------------------------------------
# (answer, expected keys)
TERMS = [
    # the running example: stems, adjacent bigrams, stop words gone
    ("waiting times too long", {"wait", "time", "wait time", "long"}),
    ("the wait was long", {"wait", "long"}),
    ("long waiting time", {"long", "wait", "time", "long wait", "wait time"}),
    ("staff were kind", {"staff", "kind"}),           # a stop word between: no bigram
    ("kind staff", {"kind", "staff", "kind staff"}),
    # word forms merged
    ("We waited ages", {"wait", "age", "wait age"}),
    ("The waits are long", {"wait", "long"}),
    ("Appointments, appointment", {"appoint"}),
    ("Staff were friendly and helpful", {"staff", "friend", "help"}),
    # stop words and feedback filler only
    ("it's really just the thing I got", set()),
    ("Thanks, it was great!", set()),
    ("ok", set()),
    ("", set()),
    # apostrophes (straight and curly), possessives, hyphenated words
    ("Staff’s attitude", {"staff", "attitud", "staff attitud"}),
    ("the receptionist's tone", {"receptionist", "tone", "receptionist tone"}),
    ("Follow-ups were slow", {"follow-up", "slow"}),
    ("the drop-in", {"drop-in"}),
    # negations bind to the next content word instead of counting it
    ("Nobody answered the phone!!", {"not answer", "phone"}),
    ("staff were not very kind", {"staff", "not kind"}),
    ("Staff weren’t kind", {"staff", "not kind"}),
    ("No one ever called me back", {"not call", "back"}),
    ("no-one helped", {"not help"}),
    ("didnt get a call", {"not call"}),
    ("No parking", {"not park"}),
    ("no waiting time", {"not wait", "wait time", "time"}),
    ("no, the parking is fine", {"park"}),           # punctuation ends the negation
    ("no the staff were kind", {"staff", "kind"}),   # SMS without the comma: "no" binds only to the next word
    ("not really", set()),
    ("Nothing, it was great", set()),
    # emoji, URLs, e-mails, mentions, numbers, times, phone numbers: dropped, and they break bigrams
    ("food 👍 parcels", {"food", "parcel"}),
    ("@chorusbot food 👍🏽👍🏽 parcels 😊", {"food", "parcel"}),
    ("see https://example.org/help?x=1 or www.example.org", set()),
    ("Email me at jo.smith@example.org or ring +44 7700 900123", {"email", "ring"}),
    ("read example.co.uk/faq", {"read"}),
    ("waited 3 hours at 10am on the 2nd", {"wait", "hour"}),
    ("covid-19 rules", {"covid", "rule"}),
    ("24/7 helpline", {"helplin"}),
    # a word repeated counts once
    ("wait wait wait, waiting forever", {"wait", "forev", "wait forev"}),
]


@pytest.mark.parametrize("text,expected", TERMS)
def test_terms(text, expected):
    assert terms(text) == expected


def test_terms_language_variants_and_unsupported_languages():
    assert terms("kind staff", "en-GB") == terms("kind staff", "EN_gb") == {"kind", "staff", "kind staff"}
    # no stop-word list shipped: no themes at all, rather than themes made of function words
    assert terms("le personnel était gentil", "fr") == set()
    assert terms("kind staff", "xx") == set()
    assert terms("kind staff", "") == set()
    assert terms("kind staff", "../stopwords/en") == set()   # a language code is never a path


# ---- the list ---------------------------------------------------------------------------------------------
def test_top_themes_of_the_running_example():
    counter = count(WAITING_AND_STAFF)
    assert counter.answers == 5
    assert counter.counts() == {"wait": 3, "time": 2, "wait time": 2, "long": 3, "long wait": 1,
                                "staff": 2, "kind": 2, "kind staff": 1}
    # "time" occurs only inside "wait time", so it is left out; "wait" stands alone in one of its three answers.
    assert top_themes(counter) == [
        Theme("long", "long", 3),
        Theme("wait", "waiting", 3),
        Theme("wait time", "waiting times", 2),
        Theme("kind", "kind", 2),
        Theme("staff", "staff", 2),
    ]


def test_limit_min_count_and_ties():
    counter = count(WAITING_AND_STAFF)
    assert [t.key for t in top_themes(counter, limit=2)] == ["long", "wait"]
    assert [t.key for t in top_themes(counter, min_count=3)] == ["long", "wait"]
    # min_count 1 lists "long wait" and "kind staff"; on equal counts a bigram comes before a unigram
    assert [t.key for t in top_themes(counter, min_count=1)] == [
        "long", "wait", "wait time", "kind", "staff", "kind staff", "long wait"]


def test_an_answer_counts_once_per_theme():
    counter = count(["wait wait wait", "waiting, waited, wait", "the wait"])
    assert counter.counts() == {"wait": 3}


def test_labels_are_the_most_common_surface_form():
    counter = count(["waiting times too long", "long waiting times", "long waiting time", "the wait"])
    assert counter.label("wait time") == "waiting times"
    assert counter.label("wait") == "waiting"
    assert counter.label("Somebody's name") == "Somebody's name"   # not a key: its own label


def test_a_bigram_subsumes_its_unigrams_only_when_they_occur_almost_only_inside_it():
    # "opening hours" in 4 of the 5 answers that mention hours (80%) and in all that mention opening
    answers = ["opening hours", "opening hours please", "longer opening hours", "opening hours on friday", "hours"]
    assert {t.key: t.count for t in top_themes(count(answers))} == {"open hour": 4}
    # 3 of 5 (60%): "hours" stays
    answers = ["opening hours", "opening hours please", "longer opening hours", "the hours", "hours"]
    assert {t.key: t.count for t in top_themes(count(answers))} == {"hour": 5, "open hour": 3}


def test_a_bigram_below_min_count_subsumes_nothing():
    counter = count(["opening hours", "hours are short", "hours"])
    assert {t.key: t.count for t in top_themes(counter)} == {"hour": 3}


# ---- aliases ----------------------------------------------------------------------------------------------
WAITING = {"wait": "Waiting", "wait time": "Waiting", "long wait": "Waiting", "delay": "Waiting"}


def test_aliases_merge_keys_and_count_each_answer_once():
    answers = WAITING_AND_STAFF + ["delays and waiting", "another delay"]
    counter = count(answers, aliases=WAITING)
    # "long waiting time" has wait, wait time and long wait: still one answer for Waiting
    assert counter.counts()["Waiting"] == 5
    themes = top_themes(counter)
    assert themes[0] == Theme("Waiting", "Waiting", 5)
    # merged keys are not listed on their own, and an alias target subsumes its bigrams' unigrams ("time")
    assert [t.key for t in themes] == ["Waiting", "long", "kind", "staff"]


def test_aliases_at_count_time_and_at_list_time_agree():
    answers = WAITING_AND_STAFF + ["delays and waiting", "another delay"]
    assert top_themes(count(answers, aliases=WAITING)) == top_themes(count(answers), aliases=WAITING)


def test_rename_hide_and_compose_aliases():
    counter = count(WAITING_AND_STAFF, aliases={"kind": "Kindness"})
    assert top_themes(counter) == [Theme("long", "long", 3), Theme("wait", "waiting", 3),
                                   Theme("wait time", "waiting times", 2), Theme("Kindness", "Kindness", 2),
                                   Theme("staff", "staff", 2)]
    # list-time aliases apply after the counter's: they may rename its targets, and "" hides a theme
    # (on equal counts a name with a space sorts as a phrase, before single words)
    assert [t.key for t in top_themes(counter, aliases={"Kindness": "Staff attitude", "long": ""})] == [
        "wait", "Staff attitude", "wait time", "staff"]
    # merging into an existing key keeps that key's label
    assert top_themes(count(WAITING_AND_STAFF), aliases={"long wait": "wait time"})[2] == Theme(
        "wait time", "waiting times", 2)


# ---- trends -----------------------------------------------------------------------------------------------
def test_compare_statuses():
    current = [Theme("a", "A", 6), Theme("b", "B", 6), Theme("c", "C", 6), Theme("d", "D", 2), Theme("e", "E", 3)]
    previous = [{"a": 1, "b": 6, "c": 12, "d": 1}, {"a": 2, "b": 5, "c": 12, "d": 0}, {"a": 3, "b": 7, "c": 12}]
    trends = {t.key: t for t in compare(current, previous)}
    assert trends["a"] == ThemeTrend("a", "A", 6, 1, 5, 2.0, RISING)     # +4 on a mean of 2
    assert trends["b"] == ThemeTrend("b", "B", 6, 6, 0, 6.0, STEADY)
    assert trends["c"] == ThemeTrend("c", "C", 6, 12, -6, 12.0, FALLING)  # half the mean
    assert trends["d"].status == STEADY                                    # +1.67 answers: not enough to rise
    assert trends["e"] == ThemeTrend("e", "E", 3, 0, 3, 0.0, NEW)           # absent in every given week
    assert [t.key for t in compare(current, previous)] == ["a", "b", "c", "d", "e"]   # order kept


def test_compare_thresholds_scale_with_the_mean():
    previous = [{"k": 10}, {"k": 10}]
    assert compare([Theme("k", "k", 14)], previous)[0].status == STEADY    # +4 < half of 10
    assert compare([Theme("k", "k", 15)], previous)[0].status == RISING
    assert compare([Theme("k", "k", 5)], previous)[0].status == FALLING
    assert compare([Theme("k", "k", 3)], [{"k": 1}])[0].status == RISING   # +2 answers on a small count


def test_compare_without_history():
    assert compare([Theme("k", "k", 4)], []) == [ThemeTrend("k", "k", 4, 0, 4, 0.0, NEW)]
    assert compare([], [{"k": 1}]) == []


def test_weeks_compare_on_the_same_keys():
    last_week = count(["long waiting time", "waiting times too long"], aliases=WAITING).counts()
    this_week = top_themes(count(WAITING_AND_STAFF + ["delay again", "delays"], aliases=WAITING))
    trends = {t.key: t for t in compare(this_week, [last_week])}
    assert (trends["Waiting"].previous_count, trends["Waiting"].count, trends["Waiting"].status) == (2, 5, RISING)
    assert trends["staff"].status == NEW


# ---- unsupported languages --------------------------------------------------------------------------------
def test_unsupported_language_counts_answers_but_no_themes():
    counter = count(["le personnel était gentil", "attente trop longue"], language="fr")
    assert counter.answers == 2
    assert counter.counts() == {}
    assert top_themes(counter) == []


# ---- the stop-word list -----------------------------------------------------------------------------------
def test_the_english_stop_word_list():
    text = (STOPWORDS_DIR / "en.txt").read_text(encoding="utf-8")
    assert text.startswith("#") and "Where it comes from" in text
    words = stopwords("en")
    assert {"the", "and", "really", "just", "also", "thing", "things", "get", "got", "thanks"} <= words
    # negations carry the meaning of "no answer" / "not kind": they are handled in code, never stopped
    assert not words & {"no", "not", "never", "nobody", "nothing", "don't", "can't", "dont", "cant"}
    # theme words of the running example
    assert not words & {"wait", "waiting", "time", "long", "staff", "kind"}
    entries = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert all(e == e.lower() and " " not in e for e in entries)
    assert len(entries) == len(set(entries))
    assert stopwords("zz") is None


# ---- no downloaded data, and fast enough ------------------------------------------------------------------
NO_DATA_SCRIPT = """
import os, sys
import nltk.data

def refuse(*args, **kwargs):
    raise AssertionError(f"NLTK data looked up: {args!r}")

nltk.data.find = refuse
nltk.data.load = refuse
from analysis.themes import ThemeCounter, terms, top_themes

assert terms("long waiting times") == {"long", "wait", "time", "long wait", "wait time"}, terms("long waiting times")
counter = ThemeCounter()
for text in ["staff were kind", "kind staff", "Nobody answered"]:
    counter.add(text)
assert [t.key for t in top_themes(counter)] == ["kind", "staff"], top_themes(counter)
assert os.listdir(os.environ["NLTK_DATA"]) == []
print("ok")
"""


def test_no_nltk_data_is_needed(tmp_path):
    data, home = tmp_path / "nltk_data", tmp_path / "home"
    data.mkdir()
    home.mkdir()
    env = {**os.environ, "NLTK_DATA": str(data), "HOME": str(home), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", NO_DATA_SCRIPT], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_counting_is_fast():
    # The full measurement (100,000 answers) is in the final report of the theme work; this is a guard
    # against an accidental slowdown (uncached stemming is several times slower).
    answers = [f"{a} {b}" for a in WAITING_AND_STAFF + ["Nobody answered the phone!!", "more food parcels please"]
               for b in ("", "at the drop-in 👍", "see https://example.org", "on Tuesday 3pm")] * 700
    counter = ThemeCounter()
    started = time.perf_counter()
    for text in answers:
        counter.add(text)
    top_themes(counter)
    assert time.perf_counter() - started < 5.0
    assert counter.answers == len(answers) == 19_600
