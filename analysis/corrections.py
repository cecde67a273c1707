"""Staff corrections of sentiment labels, and how often the machine agrees with them.

A correction never overwrites the machine's tag: it is a row of its own (`answer_label`), the latest per
answer counts, and `accuracy` compares the two. Until the staff console exists, `chorus analysis label`
and `chorus analysis accuracy` are the way in.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from analysis.sentiment import MIXED, NEGATIVE, NEUTRAL, NOT_TAGGED_LANGUAGE, POSITIVE
from surveys import models as m
from surveys.store import Store

LABELS = (POSITIVE, NEUTRAL, NEGATIVE, MIXED)


class CorrectionError(ValueError):
    pass


def set_label(db: Store, answer_id: int, label: str, by: str, now: datetime) -> tuple[str | None, str]:
    """Record a person's label for an answer. Returns (the machine's label or None, the new label)."""
    label = (label or "").strip().lower()
    if label not in LABELS:
        raise CorrectionError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
    by = (by or "").strip()
    if not by:
        raise CorrectionError("say who is labelling (--by NAME)")
    with db.session() as s:
        answer = s.get(m.Answer, answer_id)
        if answer is None:
            raise CorrectionError(f"no answer {answer_id}")
        if not answer.raw_text:
            raise CorrectionError(f"answer {answer_id} has no words to label")
        s.add(m.AnswerLabel(answer_id=answer_id, label=label, by=by, created_at=now))
        return (answer.tags or {}).get("label"), label


def staff_labels(db: Store, answer_ids: list[int] | None = None) -> dict[int, str]:
    """The current (latest) staff label per answer."""
    q = select(m.AnswerLabel.answer_id, m.AnswerLabel.label).where(m.AnswerLabel.id.in_(m.latest_answer_labels()))
    if answer_ids is not None:
        q = q.where(m.AnswerLabel.answer_id.in_(answer_ids))
    with db.read() as conn:
        return dict(conn.execute(q).all())


@dataclass
class Agreement:
    compared: int = 0                 # answers with both a machine label and a staff label
    agreed: int = 0
    confusion: Counter = field(default_factory=Counter)  # (machine, staff) -> count
    not_tagged: int = 0               # corrected answers the machine left 'not tagged: language'
    analyzers: Counter = field(default_factory=Counter)  # which analyzer made the compared tags

    @property
    def rate(self) -> float | None:
        return self.agreed / self.compared if self.compared else None

    def kappa(self) -> float | None:
        """Cohen's kappa: agreement beyond what the two label distributions give by chance."""
        n = self.compared
        if not n:
            return None
        machine = Counter()
        staff = Counter()
        for (a, b), c in self.confusion.items():
            machine[a] += c
            staff[b] += c
        expected = sum(machine[label] * staff[label] for label in LABELS) / (n * n)
        if expected >= 1.0:
            return 1.0 if self.agreed == n else 0.0
        return (self.agreed / n - expected) / (1 - expected)

    def per_label(self) -> dict[str, tuple[int, float | None, float | None]]:
        """label -> (staff count, precision of the machine's label, recall of the staff's label)."""
        out = {}
        for label in LABELS:
            tp = self.confusion[(label, label)]
            said = sum(c for (a, _), c in self.confusion.items() if a == label)
            truth = sum(c for (_, b), c in self.confusion.items() if b == label)
            out[label] = (truth, tp / said if said else None, tp / truth if truth else None)
        return out


def accuracy(db: Store, survey_id: str | None = None, since: datetime | None = None) -> Agreement:
    q = (select(m.Answer.tags, m.AnswerLabel.label)
         .join(m.AnswerLabel, m.AnswerLabel.answer_id == m.Answer.id)
         .where(m.AnswerLabel.id.in_(m.latest_answer_labels())))
    if survey_id:
        q = q.where(m.Answer.survey_id == survey_id)
    if since:
        q = q.where(m.Answer.answered_at >= since)
    result = Agreement()
    with db.read() as conn:
        for tags, staff in conn.execute(q):
            machine = (tags or {}).get("label")
            if machine == NOT_TAGGED_LANGUAGE:
                result.not_tagged += 1
                continue
            if machine not in LABELS:
                continue
            result.compared += 1
            result.agreed += machine == staff
            result.confusion[(machine, staff)] += 1
            result.analyzers[(tags or {}).get("analyzer", "?")] += 1
    return result


@dataclass(frozen=True)
class Coverage:
    free_text: int       # free-text answers with a sentiment tag of any kind
    not_tagged: int      # ... marked 'not tagged: language'

    @property
    def not_tagged_share(self) -> float | None:
        return self.not_tagged / self.free_text if self.free_text else None


def coverage(db: Store, since: datetime | None = None, until: datetime | None = None,
             survey_id: str | None = None) -> Coverage:
    """How many tagged answers the analyzer could not read for their language (the digest shows the share)."""
    q = select(m.Answer.tags).where(m.Answer.tags.is_not(None))
    if since:
        q = q.where(m.Answer.answered_at >= since)
    if until:
        q = q.where(m.Answer.answered_at < until)
    if survey_id:
        q = q.where(m.Answer.survey_id == survey_id)
    total = skipped = 0
    with db.read() as conn:
        for (tags,) in conn.execute(q):
            label = (tags or {}).get("label")
            if label is None:
                continue
            total += 1
            skipped += label == NOT_TAGGED_LANGUAGE
    return Coverage(total, skipped)
