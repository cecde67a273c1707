"""The digest value from known data, on both databases: every number, small-number protection (including
by difference), consent for quotes, redaction, the week boundary at the clock change, and the cut-off."""
from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta, timezone

import pytest

from analysis.digest.build import Options, build, t95
from analysis.digest.model import Figure
from analysis.weeks import week_bounds
from tests.digest_data import Data, Person

TZ = "Europe/London"
W47 = week_bounds(2026, 47, TZ)[0] + timedelta(days=1, hours=10)     # Tuesday 17 Nov 2026, 10:00
W46 = W47 - timedelta(days=7)
CUTOFF = week_bounds(2026, 48, TZ)[0] + timedelta(hours=8)           # Monday 23 Nov, 08:00


def P(org, **kw):
    return Person(org, **kw)


@pytest.fixture
def data(db):
    d = Data(db, W46 - timedelta(days=30))
    d.org("food", "Riverside Food Bank")
    d.org("advice", "Northside Advice")
    d.org("youth", "Youth Drop-in")
    visits = [5, 4, 4, 3, 5, 2]
    recommends = [10, 9, 9, 7, 3, 0, 10]
    texts = [("Staff were so kind to me and the kids", "positive", 0.6, True),
             ("lovely volunteers, thank you all so much", "positive", 0.7, False),
             ("the waiting times are far too long now", "negative", -0.4, True),
             ("waiting times too long again, stood outside for ages", "negative", -0.5, True),
             ("long waiting times in the cold", "negative", -0.3, False),
             ("waiting times awful, call me on 07700 900123", "negative", -0.6, True),
             ("waiting times were long but staff kind", "mixed", 0.1, True),
             ("fresh veg was great this week", "positive", 0.8, True),
             ("i came on tuesday", "neutral", 0.0, True),
             ("ok i guess", "neutral", 0.0, True)]
    food = []
    for i in range(20):
        responded = i < 10
        text = texts[i] if responded else None
        food.append(P("food", responded=responded, completed=i < 6,
                      visit=visits[i] if i < len(visits) else None,
                      recommend=recommends[i] if i < len(recommends) else None,
                      text=text[0] if text else None, label=text[1] if text else None,
                      polarity=text[2] if text else 0.0, quote_ok=bool(text and text[3])))
    advice = [P("advice", responded=i < 3, completed=i < 1,
                text="really helpful advice" if i < 2 else None, label="positive" if i < 2 else None, polarity=0.5)
              for i in range(8)]
    youth = [P("youth", responded=True, completed=i < 5) for i in range(6)]
    youth[0] = P("youth", responded=True, completed=True, text="i dont want to be here anymore", label="negative", polarity=-0.2,
                 quote_ok=True, flag=True)
    d.week(W47, food + advice + youth)
    d.week(W46, [P("food", responded=i < 4, completed=i < 2, text="waiting times long" if i < 3 else None,
                   label="negative", polarity=-0.3) for i in range(10)])
    return d


def _figs(row) -> dict:
    return {k: getattr(row, k) for k in row.FIGURES}


def test_every_number_of_a_known_week(db, data):
    d = build(db, Options(2026, 47, TZ, cutoff=CUTOFF, partnership="Riverside Partnership"), CUTOFF)
    assert d.week == "2026-W47" and d.period_start == "2026-11-16T00:00:00+00:00"
    t = d.total
    assert (t.people_invited, t.people_responded, t.people_completed) == (Figure(34), Figure(19), Figure(12))
    assert t.invitations_sent == Figure(34)                  # one invitation each this week
    assert t.response_rate == Figure(round(19 / 34, 4)) and t.completion_rate == Figure(round(12 / 34, 4))
    assert t.response_rate_change == Figure.withheld()       # last week: 4 of 10 answered, a withheld rate
    rows = {r.code: r for r in d.organisations}
    assert list(rows) == ["advice", "food", "youth"]          # by name
    food, advice, youth = rows["food"], rows["advice"], rows["youth"]
    assert (food.people_invited, food.people_responded, food.response_rate) == (Figure(20), Figure(10), Figure(0.5))
    assert food.response_rate_change == Figure.withheld()     # last week's food rate rests on 4 people
    # advice: 3 answered -> withheld, and with it the rate; youth's 6 must then be withheld too (by difference)
    assert advice.people_responded.suppressed and advice.response_rate.suppressed and advice.people_invited == Figure(8)
    assert youth.people_responded.suppressed and youth.response_rate.suppressed
    assert advice.people_completed.suppressed and youth.people_completed.suppressed and food.people_completed == Figure(6)
    # the week's free text: 5 positive (3 food, 2 advice), 5 negative (4 food, 1 youth), 2 neutral, 1 mixed
    s = t.sentiment
    assert s.total == Figure(13) and s.negative == Figure(5) and s.positive == Figure(5) and s.mixed.suppressed
    assert s.positive_share == Figure(round(5 / 13, 4)) == s.negative_share
    assert food.sentiment.positive.suppressed or food.sentiment.positive == Figure(3)


def test_scores_with_intervals(db, data):
    d = build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF)
    (part,) = d.surveys
    scores = {s.question: s for s in part.scores}
    visits = [5, 4, 4, 3, 5, 2]
    mean, sd = statistics.mean(visits), statistics.stdev(visits)
    half = t95(len(visits) - 1) * sd / math.sqrt(len(visits))
    v = scores["visit"]
    assert (v.n, v.value) == (Figure(6), Figure(round(mean, 2)))
    assert (v.ci_low, v.ci_high) == (Figure(round(mean - half, 2)), Figure(round(mean + half, 2)))
    rec = [10, 9, 9, 7, 3, 0, 10]
    p, q = sum(x >= 9 for x in rec) / 7, sum(x <= 6 for x in rec) / 7
    nps, se = 100 * (p - q), 100 * math.sqrt((p + q - (p - q) ** 2) / 7)
    r = scores["recommend"]
    assert r.kind == "nps" and r.value == Figure(round(nps, 1)) and r.n == Figure(7)
    assert (r.ci_low, r.ci_high) == (Figure(round(nps - 1.96 * se, 1)), Figure(round(nps + 1.96 * se, 1)))
    assert v.previous.value is None and part.responses == Figure(19)


def test_themes_quotes_consent_redaction_and_flags(db, data):
    d = build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF)
    (part,) = d.surveys
    waiting = part.themes[0]
    assert "wait" in waiting.label and waiting.count == Figure(5) and waiting.previous == Figure.withheld()
    quotes: dict = {}
    for q in part.quotes:
        quotes.setdefault(q.kind, q)                                               # the first of each kind
    assert quotes["positive"].text == "fresh veg was great this week"              # the highest polarity allowed
    assert quotes["negative"].text == "waiting times awful, call me on [phone]"     # redacted
    assert "lovely volunteers" not in " ".join(q.text for q in part.quotes)        # no consent to quote
    assert all("want to be here" not in q.text for q in part.quotes)               # never a flagged answer
    assert 3 <= len(part.quotes) <= 5 and quotes["theme"].theme == waiting.label
    assert d.open_flags == Figure.withheld()                                       # 1 open flag: fewer than 5
    assert any("safeguarding" in s for s in d.summary)


def test_protection_leaves_nothing_to_work_out_by_difference(db, data):
    d = build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF)
    rows = d.organisations
    for key in ("people_invited", "people_responded", "people_completed", "invitations_sent", "answers"):
        figs = [getattr(r, key) for r in rows] + [getattr(d.total, key)]
        assert sum(f.suppressed for f in figs) != 1, key
        for f in figs:
            assert f.suppressed or f.value == 0 or f.value >= 5
    for r in rows + [d.total]:
        s = r.sentiment
        parts = [s.positive, s.neutral, s.negative, s.mixed, s.not_tagged, s.total]
        assert sum(f.suppressed for f in parts) != 1, r.name
        for f in parts:
            assert f.suppressed or f.value == 0 or f.value >= 5
        if r.response_rate.value is not None:
            assert not r.people_responded.suppressed and not r.people_invited.suppressed
    for key in ("positive", "neutral", "negative", "mixed", "not_tagged", "total"):
        col = [getattr(r.sentiment, key) for r in rows] + [getattr(d.total.sentiment, key)]
        assert sum(f.suppressed for f in col) != 1, key


def test_the_cutoff_and_a_rebuild(db, data):
    early = W47 + timedelta(minutes=3)      # before anyone answered
    d = build(db, Options(2026, 47, TZ, cutoff=early), early)
    assert d.total.people_invited == Figure(34) and d.total.people_responded == Figure(0)
    a = build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF).to_dict()
    later = build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF + timedelta(days=30)).to_dict()
    assert a == later


def test_one_organisation(db, data):
    d = build(db, Options(2026, 47, TZ, cutoff=CUTOFF, org_code="FOOD"), CUTOFF)
    assert d.organisation == "food" and d.organisations == []          # the code as stored
    assert d.total.name == "Riverside Food Bank" and d.total.people_invited == Figure(20)
    with pytest.raises(ValueError, match="no organisation"):
        build(db, Options(2026, 47, TZ, cutoff=CUTOFF, org_code="nope"), CUTOFF)


def test_week_boundary_across_the_clock_change(db):
    d = Data(db, datetime(2026, 9, 1, tzinfo=timezone.utc))
    d.org("food", "Food")
    # Sunday 25 Oct 2026 23:30 GMT is still week 43 in London; 00:30 GMT on Monday 26th is week 44.
    d.week(datetime(2026, 10, 25, 23, 30, tzinfo=timezone.utc), [P("food") for _ in range(5)])
    d.week(datetime(2026, 10, 26, 0, 30, tzinfo=timezone.utc), [P("food") for _ in range(7)])
    # Sunday 29 March 2026, 00:30 GMT (the night the clocks go forward) is in week 13
    cut = datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert build(db, Options(2026, 43, TZ, cutoff=cut), cut).total.people_invited == Figure(5)
    assert build(db, Options(2026, 44, TZ, cutoff=cut), cut).total.people_invited == Figure(7)


def test_a_prompt_naming_the_organisation_reads_well_in_either_digest():
    from analysis.digest.build import _score
    from surveys.definition import Question

    q = Question(key="recommend", type="nps", prompt={"en": "Would you recommend {org} to a friend?"})
    stats = (10, 80.0, 700.0, 6, 2)
    assert _score(q, "en", stats, None).prompt == "Would you recommend us to a friend?"
    assert _score(q, "en", stats, None, "Riverside Food Bank").prompt == "Would you recommend Riverside Food Bank to a friend?"


NOTHING_ANSWERS = ["No thats all thanks", "no thanks, that's everything", "nothing else to add thanks", "no thanks",
                   "nah thanks", "No thanks that is all", "no ta", "nah"]


def test_nothing_to_add_is_not_a_comment_and_a_flag_never_counts_positive(db):
    """'no ta' answering "Anything else?" is no comment: not counted, not a theme, not quoted. A flagged answer
    counts as negative even where its stored tag (written before that rule) says positive."""
    from analysis.sentiment import SentimentTagger

    tagger = SentimentTagger()
    anything = {"question": "anything", "question_text": "Anything else you'd like to tell us?"}
    d = Data(db, W46 - timedelta(days=30))
    d.org("food", "Riverside Food Bank")
    said = [("Staff were so kind to me and the kids", "positive", 0.6), ("lovely volunteers, thank you", "positive", 0.7),
            ("fresh veg was great this week", "positive", 0.8), ("really helpful advice today", "positive", 0.5),
            ("brilliant service as always", "positive", 0.9), ("the waiting times are far too long", "negative", -0.4),
            ("waiting times too long again today", "negative", -0.5), ("long waiting times in the cold", "negative", -0.3),
            ("waiting times awful this week", "negative", -0.6), ("rude man on the door, waiting times bad", "negative", -0.5)]
    people = [P("food", text=t, label=lab, polarity=p, quote_ok=True) for t, lab, p in said]
    tags = {t: tagger.tag(t, "en", anything) for t in NOTHING_ANSWERS}
    people += [P("food", text=t, label=tag["label"], polarity=tag["polarity"], quote_ok=True) for t, tag in tags.items()]
    people.append(P("food", text="I feel like ending it all", label="positive", polarity=0.36, quote_ok=True, flag=True))
    d.week(W47, people)
    digest = build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF)
    s = digest.total.sentiment
    assert (s.positive, s.negative, s.total) == (Figure(5), Figure(6), Figure(11))
    (part,) = digest.surveys
    labels = " ".join(t.label for t in part.themes)
    assert "wait" in labels and "thank" not in labels and "ta" not in labels.split()
    quoted = {q.text for q in part.quotes}
    assert quoted and not quoted & set(NOTHING_ANSWERS)


def test_a_flagged_answer_never_becomes_a_theme(db, data):
    """Quotes already skip flagged answers; a theme's label is words people wrote, so it must skip them too."""
    risk = "i have been saving my tablets to end it"
    data.week(W47, [P("food", responded=True, completed=True, text=risk, label="negative", polarity=-0.5,
                      quote_ok=True, flag=True) for _ in range(8)])
    d = build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF)
    (part,) = [p for p in d.surveys if any("wait" in t.label for t in p.themes)]
    words = " ".join(t.label for t in part.themes) + " " + " ".join(q.text for q in part.quotes)
    assert "tablet" not in words and "saving" not in words and "end it" not in words


@pytest.mark.parametrize("org_code", [None, "food"])
def test_the_trend_never_shows_what_the_week_withholds_by_difference(db, org_code):
    """10 positive, 3 neutral, 6 negative: neutral is small, so negative is withheld by difference (with it,
    neutral = total - positive - negative). The trend's row for the same week showed the negative share
    (6/19), which with the total of 19 gave the negative count and so the neutral one. The trend's rows for
    this week and last week are the figures the tables show, protected together."""
    d = Data(db, W46 - timedelta(days=30))
    d.org("food", "Riverside Food Bank")
    d.org("advice", "Northside Advice")
    people = ([P("food", text="great staff", label="positive", polarity=0.6) for _ in range(10)]
              + [P("food", text="i came on tuesday", label="neutral") for _ in range(3)]
              + [P("food", text="far too long a wait", label="negative", polarity=-0.5) for _ in range(6)]
              + [P("advice", responded=False) for _ in range(6)])
    d.week(W47, people)
    digest = build(db, Options(2026, 47, TZ, org_code=org_code), CUTOFF)
    week = digest.total.sentiment
    assert week.neutral.reason == "small" and week.negative.reason == "difference"   # the premise
    assert week.negative_share.suppressed
    [point] = [p for p in digest.trend if p.week == "2026-W47"]
    assert point.negative_share.suppressed and point.negative_share.reason == "difference"
    assert (point.response_rate, point.completion_rate) == (digest.total.response_rate, digest.total.completion_rate)
    assert (point.positive_share, point.negative_share) == (week.positive_share, week.negative_share)
