"""Small-number protection: which counts to withhold so that no count of 1 to 4 people can be read or worked
out by difference.

Primary: every count from 1 to 4 is withheld (0 is shown: "nobody" identifies nobody).
Secondary: figures are tied by sums (a partnership total is the sum of its organisations' figures; a
sentiment total is the sum of its labels). In any such group, one withheld cell could be recovered by
subtracting the others from the total, so whenever a group (members and total together) has exactly one
withheld cell, one more is withheld: the smallest shown non-zero member (a zero only when there is no other;
ties broken by cell name, so the choice is deterministic), or the total when no member is left. Groups share cells, so this repeats until nothing
changes.

Derived figures (rates, shares, means) are not handled here: the builder withholds a rate whenever its
numerator or denominator is withheld or its base is under 5, so a shown rate never reveals a withheld count.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

SMALL = 5


def primary(value: int | None) -> bool:
    return value is not None and 0 < value < SMALL


def protect(cells: Mapping[Hashable, int], groups: Sequence[tuple[Hashable, Sequence[Hashable]]]) -> set:
    """`cells`: name -> count. `groups`: (total cell, member cells) with total == sum(members).
    Returns the names of the cells to withhold."""
    hidden = {name for name, value in cells.items() if primary(value)}
    changed = True
    while changed:
        changed = False
        for total, members in groups:
            group = [total, *members]
            if sum(1 for c in group if c in hidden) != 1:
                continue
            shown = sorted((c for c in members if c not in hidden), key=lambda c: (cells[c] == 0, cells[c], str(c)))
            hidden.add(shown[0] if shown else total)
            changed = True
    return hidden
