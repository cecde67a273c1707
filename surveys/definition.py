"""The survey definition model: what a survey asks, in which languages, and where each answer leads.

Instances are immutable and assumed valid: `surveys.loader` builds them from staff-written YAML and
checks everything first; `Survey.from_dict` rebuilds stored versions without re-checking (it must be
fast). `Survey.to_dict` is the canonical form stored per version and hashed into `content_hash`; it has
the same shape as the YAML format, so `loader.parse_survey(survey.to_dict(), ...)` gives back `survey`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

Text = dict[str, str]  # language code -> text; every survey language must be present

QUESTION_TYPES = ("text", "scale", "nps", "choice", "yesno")
OPERATORS = ("lt", "lte", "gt", "gte", "eq", "ne", "in", "not_in", "between", "answered")
END = "end"  # the goto that finishes the survey; reserved as a question key
NPS_MIN, NPS_MAX = 0, 10


def _same_kind(a: object, b: object) -> bool:
    # True == 1 in Python; a yes/no answer must never satisfy a numeric condition or the reverse.
    return isinstance(a, bool) == isinstance(b, bool)


def _equal(a: object, b: object) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        # Text answers are compared the way people type: case and surrounding spaces don't matter.
        return a.strip().casefold() == b.strip().casefold()
    return _same_kind(a, b) and a == b


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass(frozen=True)
class Condition:
    """`op` applied to an answer. `value` by op: a number (lt/lte/gt/gte, or eq/ne on scale/nps); a choice key,
    a bool (yes/no) or any string (text) for eq/ne; a tuple for in/not_in (lists are stored as tuples);
    (lo, hi) for between, inclusive; a bool for answered."""

    op: str
    value: object

    def __post_init__(self) -> None:
        if isinstance(self.value, list):
            object.__setattr__(self, "value", tuple(self.value))

    def matches(self, value: object, answered: bool) -> bool:
        """value is the parsed answer (int for scale/nps, choice key str for choice, bool for yesno, str for
        text) or None when skipped/unreadable; 'answered' op compares `answered`; every other op is False
        when value is None. Text eq/ne ignore case and surrounding spaces."""
        op, want = self.op, self.value
        if op == "answered":
            return answered == bool(want)
        if value is None:
            return False
        if op == "eq":
            return _equal(value, want)
        if op == "ne":
            return not _equal(value, want)
        if op in ("in", "not_in"):
            found = any(_equal(value, w) for w in want)  # type: ignore[union-attr]
            return found if op == "in" else not found
        if not _is_number(value):
            return False
        if op == "between":
            lo, hi = want  # type: ignore[misc]
            return lo <= value <= hi
        if op == "lt":
            return value < want  # type: ignore[operator]
        if op == "lte":
            return value <= want  # type: ignore[operator]
        if op == "gt":
            return value > want  # type: ignore[operator]
        if op == "gte":
            return value >= want  # type: ignore[operator]
        return False

    def to_dict(self) -> dict:
        return {self.op: list(self.value) if isinstance(self.value, tuple) else self.value}

    @classmethod
    def from_dict(cls, data: dict) -> "Condition":
        ((op, value),) = data.items()
        return cls(op, value)


@dataclass(frozen=True)
class Rule:
    """Go to `goto` (a question key, or 'end') when `when` matches; `when=None` always matches."""

    goto: str
    when: Condition | None = None

    def to_dict(self) -> dict:
        out: dict = {}
        if self.when is not None:
            out["when"] = self.when.to_dict()
        out["goto"] = self.goto
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Rule":
        when = data.get("when")
        return cls(data["goto"], Condition.from_dict(when) if when is not None else None)


@dataclass(frozen=True)
class Choice:
    key: str
    label: Text


@dataclass(frozen=True)
class Question:
    """One question. scale: min/max required (0 <= min < max, at most 11 points); nps: min/max are always
    0/10 (filled in here when not given); choice: 2..12 choices. `next` rules are tried in order; when none
    matches, the survey continues with the next question in file order."""

    key: str
    type: str  # 'text' | 'scale' | 'nps' | 'choice' | 'yesno'
    prompt: Text
    optional: bool = False
    min: int | None = None
    max: int | None = None
    min_label: Text | None = None  # scale/nps end labels (optional for nps)
    max_label: Text | None = None
    choices: tuple[Choice, ...] = ()
    next: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        if self.type == "nps":
            object.__setattr__(self, "min", NPS_MIN)
            object.__setattr__(self, "max", NPS_MAX)

    def to_dict(self) -> dict:
        out: dict = {"key": self.key, "type": self.type, "prompt": dict(self.prompt)}
        if self.optional:
            out["optional"] = True
        if self.type == "scale":  # nps bounds are implied by the type, and the YAML format forbids them
            out["min"], out["max"] = self.min, self.max
        if self.min_label is not None:
            out["min_label"] = dict(self.min_label)
        if self.max_label is not None:
            out["max_label"] = dict(self.max_label)
        if self.choices:
            out["choices"] = [{"key": c.key, "label": dict(c.label)} for c in self.choices]
        if self.next:
            out["next"] = [r.to_dict() for r in self.next]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Question":
        return cls(
            key=data["key"],
            type=data["type"],
            prompt=dict(data["prompt"]),
            optional=data.get("optional", False),
            min=data.get("min"),
            max=data.get("max"),
            min_label=data.get("min_label"),
            max_label=data.get("max_label"),
            choices=tuple(Choice(c["key"], dict(c["label"])) for c in data.get("choices", ())),
            next=tuple(Rule.from_dict(r) for r in data.get("next", ())),
        )


@dataclass(frozen=True)
class Schedule:
    """When to send. `rule` is parsed by `surveys.schedule_rule.parse_schedule_rule`; timezone None means the
    service default; start/end bound the sending dates (inclusive); fatigue_days: skip people surveyed
    (by any survey) within that many days."""

    rule: str
    timezone: str | None = None
    start: date | None = None
    end: date | None = None
    fatigue_days: int | None = None


@dataclass(frozen=True)
class Audience:
    """Who receives it; an empty tuple means no restriction on that attribute."""

    organisations: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reminders:
    not_started_after_hours: int | None = None
    not_finished_after_hours: int | None = None


def _drop_empty(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in (None, [], ())}


@dataclass(frozen=True)
class Survey:
    id: str
    title: str
    version: str  # the author's label from the file ("3", "2026-11")
    languages: tuple[str, ...]  # first is the default
    intro: Text
    outro: Text
    questions: tuple[Question, ...]
    schedule: Schedule | None = None
    audience: Audience | None = None
    reminders: Reminders | None = None
    expire_after_hours: int | None = None  # None = the service default
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {q.key: i for i, q in enumerate(self.questions)}
        if len(index) != len(self.questions):
            raise ValueError(f"survey {self.id!r} has duplicate question keys")
        object.__setattr__(self, "_index", index)

    # ---- navigation --------------------------------------------------------------------------------
    def question(self, key: str) -> Question:
        """The question with `key`; KeyError if there is none."""
        return self.questions[self._index[key]]

    def index(self, key: str) -> int:
        """Position of `key` in file order (0-based); KeyError if there is none."""
        return self._index[key]

    @property
    def first_key(self) -> str:
        return self.questions[0].key

    def next_key(self, key: str, value: object, answered: bool) -> str | None:
        """First matching rule's goto (None when 'end'); with no match, the next question in file order,
        or None after the last. Arguments as for `Condition.matches`."""
        for rule in self.question(key).next:
            if rule.when is None or rule.when.matches(value, answered):
                return None if rule.goto == END else rule.goto
        i = self._index[key] + 1
        return self.questions[i].key if i < len(self.questions) else None

    # ---- serialisation -----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Canonical JSON-serialisable form, in YAML-format shape: fixed key order, defaults left out
        (so adding an optional field later doesn't change existing hashes), dates as ISO strings."""
        out: dict = {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "languages": list(self.languages),
            "intro": dict(self.intro),
            "questions": [q.to_dict() for q in self.questions],
            "outro": dict(self.outro),
        }
        if self.schedule is not None:
            s = self.schedule
            out["schedule"] = _drop_empty({
                "rule": s.rule,
                "timezone": s.timezone,
                "start": s.start.isoformat() if s.start else None,
                "end": s.end.isoformat() if s.end else None,
                "fatigue_days": s.fatigue_days,
            })
        if self.audience is not None:
            a = self.audience
            out["audience"] = _drop_empty({
                "organisations": list(a.organisations),
                "tags": list(a.tags),
                "channels": list(a.channels),
                "languages": list(a.languages),
            })
        if self.reminders is not None:
            r = self.reminders
            out["reminders"] = _drop_empty({
                "not_started_after_hours": r.not_started_after_hours,
                "not_finished_after_hours": r.not_finished_after_hours,
            })
        if self.expire_after_hours is not None:
            out["expire_after_hours"] = self.expire_after_hours
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "Survey":
        """Rebuild from `to_dict()` output. No validation: the data was valid when it was stored."""
        s, a, r = data.get("schedule"), data.get("audience"), data.get("reminders")
        return cls(
            id=data["id"],
            title=data["title"],
            version=data["version"],
            languages=tuple(data["languages"]),
            intro=dict(data["intro"]),
            outro=dict(data["outro"]),
            questions=tuple(Question.from_dict(q) for q in data["questions"]),
            schedule=None if s is None else Schedule(
                rule=s["rule"],
                timezone=s.get("timezone"),
                start=date.fromisoformat(s["start"]) if s.get("start") else None,
                end=date.fromisoformat(s["end"]) if s.get("end") else None,
                fatigue_days=s.get("fatigue_days"),
            ),
            audience=None if a is None else Audience(
                organisations=tuple(a.get("organisations", ())),
                tags=tuple(a.get("tags", ())),
                channels=tuple(a.get("channels", ())),
                languages=tuple(a.get("languages", ())),
            ),
            reminders=None if r is None else Reminders(r.get("not_started_after_hours"), r.get("not_finished_after_hours")),
            expire_after_hours=data.get("expire_after_hours"),
        )

    def __hash__(self) -> int:
        # The generated hash would fail on the dict fields; equal surveys have equal content hashes.
        return hash(self.content_hash)

    @cached_property
    def content_hash(self) -> str:
        """sha256 hex of the canonical JSON; equal surveys have equal hashes (cached: instances are immutable)."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
