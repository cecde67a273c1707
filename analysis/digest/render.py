"""The digest's renderers in one place, and what the digest says before any format.

The public API, importable from here (each lives in its own module and is loaded on first use):

- `render_html_email(d)` -> (html, {content-id: png})      (render_html)
- `render_print_html(d)` -> html for board papers, A4      (render_html)
- `render_text(d)`, `render_markdown(d)` -> str             (render_text)
- `charts(d)` -> {"trend": png, "sentiment": png}          (charts)
- `build_mime(d, sender=..., recipients=..., subject=None)` (mime)

`d` is the JSON dict (`Digest.to_dict()`, schema chorus.digest/2), so an archived digest renders again.

`view(d)`, below, turns that dict into plain, unescaped strings and small tables, every figure worded once,
so all formats agree; the format modules only lay them out and escape them.

Rules every format inherits from here:
- A withheld figure (`{"value": null, "suppressed": true, "reason": ...}`) never shows `value`, whatever it
  holds, so a malformed record can never leak the number. A count withheld for being small (`"reason":
  "small"`) reads "fewer than 5"; a figure withheld only so that another cannot be worked out by difference
  (`"difference"`, or no reason given) reads "withheld to protect small numbers"; a small rate, share or
  average reads "withheld (fewer than 5)". A withheld average or NPS reads "Average withheld: fewer than 5
  answers" with no interval. NA (`{"value": null}`) reads as a dash.
- Participation is in people (people invited, who responded, who completed); invitations are counted
  apart and always called invitations.
- Rounding is half-up on the decimal the JSON holds (0.125 -> 13%), never binary-float banker's rounding,
  so a printed figure matches what a person computes from the JSON.
- Nothing depends on the clock, the locale or the machine: month names are spelled here, times are shown in
  the digest's own timezone.
- User text (quotes, names, theme labels, prompts) is cleaned of control characters and runs of whitespace
  here; escaping is each format's job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import import_module
from zoneinfo import ZoneInfo

from analysis.digest.loop import loop_lines
from analysis.digest.model import no_contact_text

# Loaded lazily (PEP 562): the format modules import this one for its wording.
_API = {"render_html_email": "render_html", "render_print_html": "render_html", "render_text": "render_text",
        "render_markdown": "render_text", "charts": "charts", "build_mime": "mime"}


def __getattr__(name: str):
    if name in _API:
        return getattr(import_module(f"analysis.digest.{_API[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


WITHHELD = "fewer than 5"                              # a count of 1 to 4 people
WITHHELD_DIFFERENCE = "withheld to protect small numbers"  # hidden only so that another cannot be worked out
WITHHELD_SMALL_RATE = "withheld (fewer than 5)"        # a rate, share or average resting on fewer than 5
DASH = "\u2013"   # en dash: "nothing to report"
NO_DATA = "no data"   # what a dash means, for alt text read aloud

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACE = re.compile(r"\s+")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


# ---- figures ------------------------------------------------------------------------------------------
def is_withheld(f: dict | None) -> bool:
    return bool(f) and bool(f.get("suppressed"))


def is_small(f: dict | None) -> bool:
    """Withheld because it is (or rests on) fewer than 5 people; anything else withheld (by difference, or
    with no reason recorded) is never called "fewer than 5", which could be untrue."""
    return is_withheld(f) and f.get("reason") == "small"


def withheld_text(f: dict | None, small: str = WITHHELD) -> str:
    return small if is_small(f) else WITHHELD_DIFFERENCE


def number(f: dict | None) -> float | None:
    """The plottable value: None for withheld and NA alike (charts leave a gap for both)."""
    if not f or f.get("suppressed") or f.get("value") is None:
        return None
    return f["value"]


def _dec(v) -> Decimal:
    try:
        return Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
    except (InvalidOperation, TypeError, ValueError):
        return Decimal(0)


def _fixed(v, places: int) -> str:
    q = Decimal(1).scaleb(-places)
    out = _dec(v).quantize(q, rounding=ROUND_HALF_UP)
    return format(out if out != 0 else abs(out), "f")   # never "-0.0"


def _fmt(f: dict | None, fn, small: str = WITHHELD_SMALL_RATE) -> str:
    if is_withheld(f):
        return withheld_text(f, small)
    if not f or f.get("value") is None:
        return DASH
    return fn(f["value"])


def count(f) -> str:
    return _fmt(f, lambda v: f"{int(_dec(v).quantize(Decimal(1), rounding=ROUND_HALF_UP)):,}", WITHHELD)


def _pct(v) -> str:
    p = _dec(v) * 100
    if 0 < p < Decimal("0.5"):
        return "under 1%"
    return _fixed(p, 0) + "%"


def pct(f) -> str:
    """A fraction 0..1 as a whole percentage."""
    return _fmt(f, _pct)


def _points(v) -> str:
    s = _fixed(v, 1)
    if s == "0.0":
        return "no change"
    return ("+" if not s.startswith("-") else "") + s + " points"


def points(f) -> str:
    """A change in percentage points: "+3.2 points", "-1.4 points", "no change"."""
    return _fmt(f, _points)


def mean(f) -> str:
    return _fmt(f, lambda v: _fixed(v, 2))


def nps(f) -> str:
    return _fmt(f, lambda v: _fixed(v, 0))


def change_note(f) -> str:
    """Words for a change in a rate, for a headline: "up 3.2 points on last week"."""
    if is_withheld(f) or not f or f.get("value") is None:
        return f"change on last week: {_fmt(f, str)}"
    s = _fixed(f["value"], 1)
    if s == "0.0":
        return "the same as last week"
    return (f"down {s[1:]}" if s.startswith("-") else f"up {s}") + " points on last week"


def any_figure(d, pred) -> bool:
    """True when some figure anywhere in the dict satisfies pred (used to decide which footnotes apply)."""
    if isinstance(d, dict):
        if "value" in d and set(d) <= {"value", "suppressed", "reason"}:
            return pred(d)
        return any(any_figure(v, pred) for v in d.values())
    if isinstance(d, list):
        return any(any_figure(v, pred) for v in d)
    return False


# ---- text and time ------------------------------------------------------------------------------------
def clean(text) -> str:
    """User text on one line: control characters and line breaks become spaces, runs of spaces collapse."""
    return _SPACE.sub(" ", _CONTROL.sub(" ", str(text or ""))).strip()


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except Exception:   # an unknown zone in an old archive must not stop it rendering
        return ZoneInfo("UTC")


def _local(iso: str, tz: str) -> datetime | None:
    try:
        return datetime.fromisoformat(iso).astimezone(_zone(tz))
    except (TypeError, ValueError):
        return None


def day(d: date, year: bool = True) -> str:
    return f"{d.day} {MONTHS[d.month - 1]}" + (f" {d.year}" if year else "")


def short_day(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1][:3]}"


def week_monday(week: str) -> date | None:
    m = _WEEK.match(week or "")
    if not m:
        return None
    try:
        return date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        return None


def week_short(week: str) -> str:
    """'2026-W47' -> '16 Nov' (the Monday the week starts on)."""
    monday = week_monday(week)
    return short_day(monday) if monday else clean(week)


def period_text(d: dict) -> str:
    """'16 to 22 November 2026' in the digest's timezone (the end instant is exclusive)."""
    tz = d.get("timezone") or "UTC"
    start, end = _local(d.get("period_start"), tz), _local(d.get("period_end"), tz)
    if not start or not end:
        return clean(d.get("week"))
    last = date.fromordinal(end.date().toordinal() - 1) if (end.hour, end.minute, end.second) == (0, 0, 0) else end.date()
    a = start.date()
    if a.year != last.year:
        return f"{day(a)} to {day(last)}"
    if a.month != last.month:
        return f"{day(a, year=False)} to {day(last)}"
    return f"{a.day} to {day(last)}"


def cutoff_text(d: dict) -> str:
    tz = d.get("timezone") or "UTC"
    c = _local(d.get("cutoff"), tz)
    if not c:
        return clean(d.get("cutoff"))
    return f"{day(c.date())}, {c.hour:02d}:{c.minute:02d} ({clean(tz)} time)"


def week_title(d: dict) -> str:
    m = _WEEK.match(d.get("week") or "")
    return f"Week {int(m.group(2))} of {m.group(1)}" if m else clean(d.get("week"))


def safe_link(url) -> str | None:
    """Only http(s) links are shown as links; anything else (javascript:, data:) is dropped."""
    url = clean(url)
    return url if re.match(r"^https?://[^\s\"'<>]+$", url, re.IGNORECASE) else None


# ---- the view -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stat:
    label: str
    value: str
    note: str


@dataclass(frozen=True)
class Table:
    caption: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    total_row: int | None = None     # index of the partnership-total row, shown in bold


@dataclass(frozen=True)
class ScoreView:
    prompt: str
    headline: str      # "Average 3.84 out of 5"
    detail: str        # "176 answers; 95% confidence interval 3.69 to 3.99; last week 3.71"


@dataclass(frozen=True)
class ThemeView:
    label: str
    text: str          # "34 answers (21 last week)"
    mark: str          # "rising", "falling", "new" or ""


@dataclass(frozen=True)
class QuoteView:
    label: str
    text: str


@dataclass(frozen=True)
class SurveyView:
    title: str
    responses: str
    scores: list[ScoreView]
    themes: list[ThemeView]
    also: list[str]            # rising/falling labels not in the theme list
    quotes: list[QuoteView]
    note: str                  # said when there is nothing else to show


@dataclass(frozen=True)
class View:
    title: str
    organisation: str | None
    week: str
    period: str
    cutoff: str
    summary: list[str]
    headline: list[Stat]
    trend: Table
    trend_alt: str
    sentiment: Table
    sentiment_line: str
    not_tagged_line: str
    sentiment_alt: str
    surveys: list[SurveyView]
    flags_value: str
    flags_text: str
    flags_link: str | None
    contact_line: str          # said when a flag could alert nobody, else ""
    organisations: list[Table]
    footnotes: list[str] = field(default_factory=list)
    loop: list[str] = field(default_factory=list)      # "you said, we did" (analysis.digest.loop.loop_lines)
    loop_warning: str = ""


MARKS = {"rising": "\u2191 rising", "falling": "\u2193 falling", "new": "new this week"}

SENTIMENT_KEYS = (("positive", "Positive"), ("neutral", "Neutral"), ("negative", "Negative"),
                  ("mixed", "Mixed"), ("not_tagged", "Not tagged: language"))

QUOTE_LABELS = {"positive": "A positive comment", "negative": "A critical comment"}


def _previous_point(d: dict) -> dict | None:
    """Last week's trend point, found by week label (the trend may not end on the digest's week)."""
    monday = week_monday(d.get("week"))
    if not monday:
        return None
    prev = date.fromordinal(monday.toordinal() - 7).isocalendar()
    label = f"{prev[0]}-W{prev[1]:02d}"
    return next((p for p in d.get("trend") or [] if p.get("week") == label), None)


def _headline(d: dict) -> list[Stat]:
    t = d.get("total") or {}
    prev = _previous_point(d) or {}
    last = (lambda key, fn: f"last week: {fn(prev.get(key))}") if prev else (lambda key, fn: "")
    invitations = f"{count(t.get('invitations_sent'))} invitations sent"
    return [
        Stat("People invited", count(t.get("people_invited")),
             "; ".join(x for x in (invitations, last("people_invited", count)) if x)),
        Stat("People who responded", count(t.get("people_responded")), last("people_responded", count)),
        Stat("Response rate", pct(t.get("response_rate")), change_note(t.get("response_rate_change"))),
        Stat("Completion rate", pct(t.get("completion_rate")), last("completion_rate", pct)),
    ]


def trend_alt(d: dict) -> str:
    points_ = d.get("trend") or []
    if not points_:
        return "Chart: weekly trend. No weeks to show."

    def series(key: str) -> str:
        return ", ".join(f"{week_short(p.get('week'))} {alt_value(p.get(key), _pct)}" for p in points_)

    return (f"Chart: the last {len(points_)} weeks, week starting {week_short(points_[0].get('week'))} to "
            f"{week_short(points_[-1].get('week'))}. Response rate (of people invited): {series('response_rate')}. "
            f"Positive share of tagged answers: {series('positive_share')}. "
            f"Negative share: {series('negative_share')}.")


def alt_value(f, fn, small: str = WITHHELD) -> str:
    if is_withheld(f):
        return withheld_text(f, small)
    if not f or f.get("value") is None:
        return NO_DATA
    return fn(f["value"])


def sentiment_alt(d: dict) -> str:
    s = (d.get("total") or {}).get("sentiment") or {}
    parts = ", ".join(f"{label.lower()} {alt_value(s.get(k), lambda v: count({'value': v}))}"
                      for k, label in SENTIMENT_KEYS)
    return f"Chart: sentiment of {count(s.get('total'))} written answers this week: {parts}."


def _sentiment(d: dict) -> tuple[Table, str, str]:
    s = (d.get("total") or {}).get("sentiment") or {}
    rows = [(label, count(s.get(k))) for k, label in SENTIMENT_KEYS]
    rows.append(("All written answers", count(s.get("total"))))
    table = Table("Sentiment of written answers this week", ("Sentiment", "Answers"), rows, total_row=len(rows) - 1)
    line = (f"Of the answers that could be tagged: positive {pct(s.get('positive_share'))}, "
            f"negative {pct(s.get('negative_share'))}.")
    not_tagged = (f"Written answers not tagged: language: {pct(d.get('sentiment_not_tagged_share'))} (written in a "
                  "language the sentiment analysis does not read; counted, but with no sentiment).")
    return table, line, not_tagged


def _trend(d: dict, org: str | None) -> Table:
    rows = [(week_short(p.get("week")), pct(p.get("response_rate")), pct(p.get("positive_share")),
             pct(p.get("negative_share"))) for p in d.get("trend") or []]
    return Table(f"The last 8 weeks, {org or 'the whole partnership'}",
                 ("Week starting", "Response rate", "Positive", "Negative"), rows)


def _org_name(row: dict, total: bool, org: str | None) -> str:
    if total:
        return org or "Partnership total"     # a one-organisation digest's only row is that organisation
    return clean(row.get("name")) or DASH


def _organisations(d: dict, org: str | None) -> list[Table]:
    """Three narrow tables (four or five columns each) rather than one wide one: they fit a phone."""
    rows = list(d.get("organisations") or []) + [d.get("total") or {}]
    n = len(rows) - 1

    def table(caption, header, cells):
        return Table(caption, ("Organisation", *header),
                     [(_org_name(r, i == n, org), *cells(r, r.get("sentiment") or {})) for i, r in enumerate(rows)],
                     total_row=n)

    return [
        table("People invited and responding, by organisation",
              ("People invited", "Responded", "Completed", "Invitations sent"),
              lambda r, s: (count(r.get("people_invited")), count(r.get("people_responded")),
                            count(r.get("people_completed")), count(r.get("invitations_sent")))),
        table("Rates, by organisation", ("Response rate", "Change on last week", "Completion rate"),
              lambda r, s: (pct(r.get("response_rate")), points(r.get("response_rate_change")),
                            pct(r.get("completion_rate")))),
        table("Sentiment, by organisation", ("Written answers", "Positive", "Negative", "Not tagged: language"),
              lambda r, s: (count(s.get("total")), pct(s.get("positive_share")), pct(s.get("negative_share")),
                            count(s.get("not_tagged")))),
    ]


def _score(s: dict) -> ScoreView:
    """A score with its interval; a withheld (or absent) score says so in words and prints no interval."""
    prompt = clean(s.get("prompt")) or clean(s.get("question"))
    if s.get("kind") == "nps":
        what, scale, fn = "Net Promoter Score", "on a scale from -100 to +100", nps
    else:
        what, scale, fn = "Average", f"on a scale from {s.get('scale_min')} to {s.get('scale_max')}", mean
    value = s.get("value")
    n = f"{count(s.get('n'))} answers"
    if number(value) is not None:
        headline = f"{what} {fn(value)} ({scale})"
        detail = f"{n}; 95% confidence interval {fn(s.get('ci_low'))} to {fn(s.get('ci_high'))}"
    elif is_withheld(value) and is_small(value):
        # The headline already says how many answered; saying "fewer than 5 answers" twice reads as a fault.
        return ScoreView(prompt, f"{what} withheld: fewer than 5 answers", f"last week {fn(s.get('previous'))}")
    elif is_withheld(value):
        headline, detail = f"{what} {WITHHELD_DIFFERENCE}", n
    else:
        headline, detail = f"{what}: no answers this week", n
    return ScoreView(prompt, headline, f"{detail}; last week {fn(s.get('previous'))}")


def _theme(t: dict) -> ThemeView:
    status = t.get("status") or ""
    text = f"{count(t.get('count'))} answers"
    if status != "new":
        text += f" ({count(t.get('previous'))} last week)"
    return ThemeView(clean(t.get("label")), text, MARKS.get(status, ""))


def _quote(q: dict) -> QuoteView:
    kind = q.get("kind")
    label = QUOTE_LABELS.get(kind) or (f"About \u201c{clean(q.get('theme'))}\u201d" if q.get("theme") else "A comment")
    return QuoteView(label, clean(q.get("text")))


def _survey(s: dict) -> SurveyView:
    themes = [_theme(t) for t in s.get("themes") or []]
    listed = {t.label for t in themes}
    also = ([f"Also rising: {clean(x)}" for x in s.get("rising") or [] if clean(x) not in listed]
            + [f"Also falling: {clean(x)}" for x in s.get("falling") or [] if clean(x) not in listed])
    scores = [_score(x) for x in s.get("scores") or []]
    quotes = [_quote(q) for q in s.get("quotes") or []]
    note = ""
    if not (scores or themes or quotes or also):
        note = ("Fewer than 5 people answered this survey this week, so its details are withheld to protect them."
                if is_withheld(s.get("responses")) else "No scores, themes or quotes to show this week.")
    return SurveyView(clean(s.get("title")) or clean(s.get("survey_id")), count(s.get("responses")), scores, themes,
                      also, quotes, note)


def _flags(d: dict) -> tuple[str, str, str | None, str]:
    """What is true now: flags are read on the console's Flags page (linked when the installation has a public
    address) or with `chorus flags list` / `show ID`; an open flag is one no person has closed yet; without a safeguarding contact a flag alerts nobody."""
    sg = d.get("safeguarding") or {}
    f = sg.get("open_flags")
    value = count(f)
    link = safe_link(sg.get("link"))
    if number(f) == 0:
        text = "No safeguarding flags are open."
    else:
        text = (f"Open safeguarding flags (not yet closed by a person who read them): {value}. Staff read them "
                + ("on the Flags page of the staff console (the link below)" if link else
                   "on the Flags page of the staff console") + ", or with the commands chorus flags list and chorus "
                "flags show followed by a flag's number; what people wrote is never included in this digest.")
    contact = "" if sg.get("contact_set", True) else no_contact_text(bool(d.get("organisation")))
    return value, text, link, contact


def footnotes(d: dict) -> list[str]:
    notes = []
    if any_figure(d, is_small):
        notes.append("\u201cFewer than 5\u201d: to protect the people who answered, we never show a count of 1 to 4, "
                     "or a rate, average or range based on fewer than 5 people.")
    if any_figure(d, lambda f: is_withheld(f) and not is_small(f)):
        notes.append("\u201cWithheld to protect small numbers\u201d: a figure that is not small itself, hidden "
                     "because with it a hidden number could be worked out from the others (by difference).")
    if any_figure(d, lambda f: not f.get("suppressed") and f.get("value") is None):
        notes.append(f"A dash ({DASH}) means there is nothing to report, for example a week before the first "
                     "survey was sent.")
    notes.append("People invited: the people an invitation was sent to this week, each counted once however "
                 "many invitations they had (invitations not yet sent, failed or cancelled invite nobody). "
                 "Invitations sent counts the messages themselves. Response rate: the share of the people invited "
                 "who answered at least one question. Completion rate: the share who answered every question. "
                 "Changes in rates are in percentage points.")
    notes.append("95% confidence interval: the range the true figure very likely lies in, given how many people "
                 "answered. Net Promoter Score: the percentage who would recommend us (9 or 10 out of 10) minus the "
                 "percentage who would not (0 to 6).")
    notes.append("Quotes are chosen by rule (a positive one, a critical one, one on the most common theme) from "
                 "people who agreed to be quoted. Personal details are replaced by a word in square brackets, "
                 "and quotes are never attributed.")
    notes.append(f"Reference: ISO week {clean(d.get('week'))} ({clean(d.get('timezone'))}), answers received by "
                 f"{cutoff_text(d)}. The same figures are kept as data (schema {clean(d.get('schema')) or 'chorus.digest/2'}) "
                 "for shared measurement.")
    return notes


def organisation_name(d: dict) -> str | None:
    """A one-organisation digest's organisation, by name (its only row, the total, carries it)."""
    org_code = d.get("organisation")
    if not org_code:
        return None
    total = d.get("total") or {}
    if str(total.get("code") or "").lower() == str(org_code).lower() and clean(total.get("name")):
        return clean(total.get("name"))
    row = next((r for r in d.get("organisations") or [] if r.get("code") == org_code), None)
    return (clean(row.get("name")) if row else "") or clean(org_code)


def view(d: dict) -> View:
    org = organisation_name(d)
    sentiment, line, not_tagged = _sentiment(d)
    flags_value, flags_text, link, contact = _flags(d)
    loop, loop_warning = loop_lines(d.get("loop"))
    return View(
        title=f"User-voice digest: {clean(d.get('partnership'))}",
        organisation=org,
        week=week_title(d),
        period=period_text(d),
        cutoff=cutoff_text(d),
        summary=[clean(s) for s in d.get("summary") or [] if clean(s)],
        headline=_headline(d),
        trend=_trend(d, org),
        trend_alt=trend_alt(d),
        sentiment=sentiment,
        sentiment_line=line,
        not_tagged_line=not_tagged,
        sentiment_alt=sentiment_alt(d),
        surveys=[_survey(s) for s in d.get("surveys") or []],
        flags_value=flags_value,
        flags_text=flags_text,
        flags_link=link,
        contact_line=contact,
        organisations=_organisations(d, org),
        footnotes=footnotes(d),
        loop=[clean(line) for line in loop],
        loop_warning=clean(loop_warning),
    )


def subject(d: dict) -> str:
    v = view(d)
    who = clean(d.get("partnership")) + (f", {v.organisation}" if v.organisation else "")
    return f"User-voice digest: {who}, {v.period}"
