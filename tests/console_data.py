"""A small partnership for the console's operations: PANTRY (6 people last week, one answer flagged) and
HOUSING (3 people: a group under 5), plus a few people the week before. Built with tests/digest_data."""
from __future__ import annotations

from datetime import timedelta

from surveys.scope import Scope
from tests.digest_data import Data, Person

TEXTS = [("the waiting times were far too long", "negative", -0.6),
         ("the staff were so kind and helpful", "positive", 0.7),
         ("waiting times are awful, queue outside", "negative", -0.5),
         ("fresh veg was brilliant this week", "positive", 0.8),
         ("the waiting times never get better", "negative", -0.4),
         ("i dont want to be here anymore", "negative", -0.8)]


def partnership(db, now) -> Data:
    """Last week (2026-W47, the default week at `now`) and the week before."""
    data = Data(db, now)
    data.org("PANTRY", "Riverside Pantry")
    data.org("HOUSING", "Housing Help")
    last = now - timedelta(days=7)              # Monday of W47, 10:00
    pantry = [Person("PANTRY", completed=True, visit=3 + i % 3, recommend=6 + i, text=t, label=lab, polarity=pol,
                     quote_ok=True, flag=(i == 5)) for i, (t, lab, pol) in enumerate(TEXTS)]
    housing = [Person("HOUSING", visit=2, text="the waiting times at the office", label="negative", polarity=-0.3),
               Person("HOUSING", visit=4, text="my name is Jane Smith, call me on 07700 900123", label="neutral"),
               Person("HOUSING", responded=False)]
    data.week(last, pantry + housing)
    data.week(last - timedelta(days=7), [Person("PANTRY", visit=4, text="the waiting times were long",
                                                label="negative") for _ in range(5)])
    return data


def staff(data: Data, code: str, role: str = "staff") -> Scope:
    return Scope(role, frozenset({data.orgs[code]}), 5, f"{role}-{code.lower()}")
