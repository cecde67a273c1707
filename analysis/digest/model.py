"""The digest as one value, and its JSON form (the machine-readable record for shared measurement).

Schema `chorus.digest/2` (documented in docs/digest-schema.md; any change that removes or renames a field
makes it /3). Every figure that could identify people is a `Figure`: a value, or withheld. In JSON a figure is
`{"value": 12}` or `{"value": null, "suppressed": true, "reason": "small" | "difference"}`: withheld because
it is (or rests on) fewer than 5 people, or only so that another withheld figure cannot be worked out by
difference; the two read differently ("fewer than 5" / "withheld to protect small numbers").
Fractions (rates, shares) are 0..1; changes in rates are in percentage points.

Participation is counted in people (distinct participants of an organisation) and, separately and labelled
so, in invitations: see docs/digest-schema.md.

Renderers take the JSON dict (`Digest.to_dict()`), so an archived digest can be rendered again from its
JSON alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA = "chorus.digest/2"
SMALL = 5            # counts 1..4, and rates, means and intervals over fewer than 5 people, are withheld
SMALL_REASON = "small"            # a count of 1 to 4, or a figure resting on fewer than 5 people
DIFFERENCE = "difference"         # withheld only so that another withheld figure cannot be worked out
REASONS = (SMALL_REASON, DIFFERENCE)


def no_contact_text(one_organisation: bool) -> str:
    """Said in the summary and the safeguarding section when a flag could alert nobody."""
    who = ("No safeguarding contact is set for this organisation, or none that alerts can reach" if one_organisation
           else "Not every organisation has a safeguarding contact that alerts can reach")
    return (f"{who}, so a safeguarding flag raised there alerts nobody: staff must check for flags themselves "
            "on the Flags page of the staff console, or with the command chorus flags list (add a contact with chorus flags contacts add; email alerts need "
            "SMTP_HOST, Telegram ones the bot token).")


@dataclass(frozen=True)
class Figure:
    value: float | int | None
    suppressed: bool = False
    reason: str | None = None         # for a withheld figure: SMALL_REASON or DIFFERENCE

    @classmethod
    def withheld(cls, reason: str = SMALL_REASON) -> Figure:
        if reason not in REASONS:
            raise ValueError(f"unknown reason for withholding: {reason!r}")
        return cls(None, True, reason)

    def to_dict(self) -> dict:
        if self.suppressed:
            return {"value": None, "suppressed": True, "reason": self.reason or SMALL_REASON}
        return {"value": self.value}


NA = Figure(None)    # not applicable (no base at all): shown as a dash, not as withheld


@dataclass(frozen=True)
class Sentiment:
    positive: Figure
    neutral: Figure
    negative: Figure
    mixed: Figure
    not_tagged: Figure          # free-text answers in a language the analyzer does not read
    total: Figure               # all free-text answers of the week (the sum of the five)
    positive_share: Figure      # of tagged answers (total - not_tagged)
    negative_share: Figure

    def to_dict(self) -> dict:
        return {k: getattr(self, k).to_dict() for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Row:
    """One organisation, or the partnership total."""
    name: str
    code: str | None            # None for the partnership total
    people_invited: Figure      # distinct people with an invitation sent to them in the week
    people_responded: Figure    # ... of them, who answered at least one question of such an invitation
    people_completed: Figure    # ... of them, who completed such a conversation
    invitations_sent: Figure    # invitation messages sent in the week (a person may have several)
    response_rate: Figure       # people_responded / people_invited
    completion_rate: Figure     # people_completed / people_invited
    response_rate_change: Figure  # percentage points against last week
    answers: Figure             # answers of any kind received in the week (waves and otherwise)
    sentiment: Sentiment

    FIGURES = ("people_invited", "people_responded", "people_completed", "invitations_sent", "response_rate",
               "completion_rate", "response_rate_change", "answers")

    def to_dict(self) -> dict:
        out = {"name": self.name, "code": self.code}
        for k in self.FIGURES:
            out[k] = getattr(self, k).to_dict()
        out["sentiment"] = self.sentiment.to_dict()
        return out


@dataclass(frozen=True)
class TrendPoint:
    week: str
    people_invited: Figure
    people_responded: Figure
    response_rate: Figure
    completion_rate: Figure
    positive_share: Figure
    negative_share: Figure

    def to_dict(self) -> dict:
        return {"week": self.week, **{k: getattr(self, k).to_dict() for k in self.__dataclass_fields__ if k != "week"}}


@dataclass(frozen=True)
class Score:
    """A scale or NPS question: mean (or NPS -100..100) with its 95% confidence interval."""
    question: str
    prompt: str
    kind: str                   # scale | nps
    scale_min: int
    scale_max: int
    n: Figure
    value: Figure               # mean for a scale, NPS for nps
    ci_low: Figure
    ci_high: Figure
    previous: Figure            # last week's value

    def to_dict(self) -> dict:
        out = {"question": self.question, "prompt": self.prompt, "kind": self.kind, "scale_min": self.scale_min,
               "scale_max": self.scale_max}
        for k in ("n", "value", "ci_low", "ci_high", "previous"):
            out[k] = getattr(self, k).to_dict()
        return out


@dataclass(frozen=True)
class ThemeItem:
    label: str
    count: Figure
    previous: Figure
    status: str                 # new | rising | falling | steady

    def to_dict(self) -> dict:
        return {"label": self.label, "count": self.count.to_dict(), "previous": self.previous.to_dict(),
                "status": self.status}


@dataclass(frozen=True)
class Quote:
    text: str                   # redacted
    kind: str                   # positive | negative | theme
    theme: str | None = None
    # Which answer it is, for the archive's bookkeeping (erasure): never part of the digest itself.
    answer_id: int | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind, "theme": self.theme}


@dataclass(frozen=True)
class SurveyPart:
    survey_id: str
    title: str
    responses: Figure
    scores: list[Score] = field(default_factory=list)
    themes: list[ThemeItem] = field(default_factory=list)
    rising: list[str] = field(default_factory=list)     # theme labels rising or new this week
    falling: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"survey_id": self.survey_id, "title": self.title, "responses": self.responses.to_dict(),
                "scores": [s.to_dict() for s in self.scores], "themes": [t.to_dict() for t in self.themes],
                "rising": list(self.rising), "falling": list(self.falling),
                "quotes": [q.to_dict() for q in self.quotes]}


@dataclass(frozen=True)
class Digest:
    partnership: str
    week: str                   # ISO week, e.g. 2026-W47
    timezone: str
    period_start: str           # ISO 8601, UTC
    period_end: str
    cutoff: str                 # data stored after this instant is not in the digest
    organisation: str | None    # the organisation code for a one-organisation digest, else None
    summary: list[str]          # "what changed this week", sentence by sentence
    total: Row
    organisations: list[Row]
    trend: list[TrendPoint]     # 8 weeks, oldest first, for the total
    surveys: list[SurveyPart]
    open_flags: Figure
    flags_link: str | None
    not_tagged_share: Figure    # share of free-text answers not tagged for their language
    # Whether every organisation in the digest's scope had a safeguarding contact (its own, or one for every
    # organisation) at the cut-off: without one, a flag alerts nobody.
    safeguarding_contact: bool = True
    # The loop (analysis.digest.loop.loop_figures): actions done and in progress, themes answered, waves that
    # got a "you said, we did" message. None in a record made before the register existed.
    loop: dict | None = None

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA, "partnership": self.partnership, "week": self.week, "timezone": self.timezone,
            "period_start": self.period_start, "period_end": self.period_end, "cutoff": self.cutoff,
            "organisation": self.organisation, "summary": list(self.summary), "total": self.total.to_dict(),
            "organisations": [r.to_dict() for r in self.organisations], "trend": [t.to_dict() for t in self.trend],
            "surveys": [s.to_dict() for s in self.surveys],
            "safeguarding": {"open_flags": self.open_flags.to_dict(), "link": self.flags_link,
                             "contact_set": self.safeguarding_contact},
            "sentiment_not_tagged_share": self.not_tagged_share.to_dict(),
            "loop": self.loop,
        }


# ---- reading an archived record back (analysis.digest.archive keeps published figures after an erasure) -------
def figure_from(d: dict | None) -> Figure:
    if not d:
        return NA
    if d.get("suppressed"):
        return Figure(None, True, d.get("reason") or SMALL_REASON)
    return Figure(d.get("value"))


def _figures(cls, d: dict, names, **extra):
    return cls(**{k: figure_from(d.get(k)) for k in names}, **extra)


def _row(d: dict) -> Row:
    return _figures(Row, d, Row.FIGURES, name=d["name"], code=d.get("code"),
                    sentiment=_figures(Sentiment, d.get("sentiment") or {}, Sentiment.__dataclass_fields__))


def digest_from_dict(d: dict) -> Digest:
    """The Digest a `Digest.to_dict()` record was made from (quotes come back without their answer ids)."""
    trend_names = [k for k in TrendPoint.__dataclass_fields__ if k != "week"]
    surveys = []
    for s in d.get("surveys", ()):
        scores = [_figures(Score, c, ("n", "value", "ci_low", "ci_high", "previous"), question=c["question"],
                           prompt=c["prompt"], kind=c["kind"], scale_min=c["scale_min"], scale_max=c["scale_max"])
                  for c in s.get("scores", ())]
        themes = [ThemeItem(t["label"], figure_from(t.get("count")), figure_from(t.get("previous")), t["status"])
                  for t in s.get("themes", ())]
        quotes = [Quote(q["text"], q["kind"], q.get("theme")) for q in s.get("quotes", ())]
        surveys.append(SurveyPart(s["survey_id"], s["title"], figure_from(s.get("responses")), scores, themes,
                                  list(s.get("rising", ())), list(s.get("falling", ())), quotes))
    safeguarding = d.get("safeguarding") or {}
    return Digest(
        partnership=d["partnership"], week=d["week"], timezone=d["timezone"], period_start=d["period_start"],
        period_end=d["period_end"], cutoff=d["cutoff"], organisation=d.get("organisation"),
        summary=list(d.get("summary", ())), total=_row(d["total"]), organisations=[_row(r) for r in d["organisations"]],
        trend=[_figures(TrendPoint, t, trend_names, week=t["week"]) for t in d.get("trend", ())], surveys=surveys,
        open_flags=figure_from(safeguarding.get("open_flags")), flags_link=safeguarding.get("link"),
        not_tagged_share=figure_from(d.get("sentiment_not_tagged_share")),
        safeguarding_contact=safeguarding.get("contact_set", True), loop=d.get("loop"))
