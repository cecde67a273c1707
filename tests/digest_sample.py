"""A realistic digest value for renderer tests: three organisations, one with withheld figures, two surveys."""
from __future__ import annotations

from analysis.digest.model import (
    NA,
    Digest,
    Figure,
    Quote,
    Row,
    Score,
    Sentiment,
    SurveyPart,
    ThemeItem,
    TrendPoint,
)

W = Figure.withheld()                       # small: fewer than 5
WD = Figure.withheld("difference")          # withheld only so that another cannot be worked out


def F(v):
    return Figure(v)


def _sent(pos, neu, neg, mix, nt):
    figs = [F(v) if v is None or v == 0 or v >= 5 else W for v in (pos, neu, neg, mix, nt)]
    total = sum(v for v in (pos, neu, neg, mix, nt))
    tagged = total - nt
    return Sentiment(*figs, F(total), F(round(pos / tagged, 4)) if tagged >= 5 else W,
                     F(round(neg / tagged, 4)) if tagged >= 5 else W)


def sample_digest() -> Digest:
    # People (distinct) and invitations (messages): 412 people had 590 invitations between them.
    total = Row("Riverside Partnership", None, F(412), F(187), F(142), F(590), F(0.4539), F(0.3447), F(3.2), F(903),
                _sent(71, 40, 52, 12, 6))
    orgs = [
        Row("Riverside Food Bank", "food", F(220), F(101), F(80), F(310), F(0.4591), F(0.3636), F(5.1), F(488),
            _sent(40, 22, 30, 6, 0)),
        # advice's 84 responses would give away youth's by difference: withheld for that reason only
        Row("Northside Advice Centre", "advice", F(180), WD, F(60), F(262), WD, F(0.3333), WD, F(402),
            _sent(31, 18, 22, 6, 6)),
        Row("Youth Drop-in", "youth", F(12), W, W, F(18), W, W, W, F(13), _sent(0, 0, 0, 0, 0)),
    ]
    weeks = [f"2026-W{n}" for n in range(40, 48)]
    rates = [0.38, 0.41, 0.40, 0.44, 0.43, 0.42, 0.42, 0.4539]
    trend = [TrendPoint(w, F(380 + 4 * i), F(round((380 + 4 * i) * r)), F(r), F(round(r * 0.76, 4)),
                        F(round(0.36 + 0.01 * (i % 3), 4)), F(round(0.30 - 0.005 * i, 4)))
             for i, (w, r) in enumerate(zip(weeks, rates))]
    trend[0] = TrendPoint(weeks[0], NA, NA, NA, NA, NA, NA)          # before the first wave
    surveys = [
        SurveyPart(
            "weekly-checkin", "Weekly check-in", F(187),
            scores=[Score("visit", "How was your visit today?", "scale", 1, 5, F(176), F(3.84), F(3.69), F(3.99), F(3.71)),
                    Score("recommend", "How likely are you to recommend us to a friend?", "nps", 0, 10, F(170),
                          F(23.5), F(12.1), F(34.9), F(19.0))],
            themes=[ThemeItem("waiting times", F(34), F(21), "rising"), ThemeItem("kind staff", F(29), F(31), "steady"),
                    ThemeItem("opening hours", F(11), F(12), "steady"), ThemeItem("fresh veg", F(6), F(0), "new"),
                    ThemeItem("parking", W, F(9), "falling")],
            rising=["waiting times", "fresh veg"], falling=["parking"],
            quotes=[Quote("The staff were so kind to me and my kids, thank you", "positive"),
                    Quote("Waited over 2 hours in the cold, nobody told us what was happening", "negative"),
                    Quote("the queue is too long on tuesdays, could you open earlier? call me on [phone]", "theme",
                          "waiting times")]),
        SurveyPart("youth-voice", "Youth voice", W, scores=[], themes=[], quotes=[]),
    ]
    return Digest("Riverside Partnership", "2026-W47", "Europe/London", "2026-11-16T00:00:00+00:00",
                  "2026-11-23T00:00:00+00:00", "2026-11-23T08:00:00+00:00", None,
                  ["Response rate rose to 45% (+3.2 points on last week).",
                   "Waiting times came up in 34 answers, up from 21: the most common theme this week.",
                   "Negative sentiment fell to 28% of tagged answers."],
                  total, orgs, trend, surveys, W, "https://chorus.example/console/flags", F(0.0332))
