"""Small-number protection: primary, secondary by difference, and a brute-force check that no withheld
count of 1-4 can be recovered from what is shown."""
from __future__ import annotations

import itertools

from hypothesis import given, settings, strategies as st

from analysis.digest.suppress import protect


def _table(orgs: dict[str, int]):
    cells = {("org", k): v for k, v in orgs.items()}
    cells["total"] = sum(orgs.values())
    return cells, [("total", [("org", k) for k in orgs])]


def test_primary_withholds_one_to_four_and_shows_zero():
    cells, groups = _table({"a": 0, "b": 3, "c": 40, "d": 12})
    hidden = protect(cells, groups)
    assert ("org", "b") in hidden and ("org", "a") not in hidden
    assert hidden == {("org", "b"), ("org", "d")}     # and the smallest non-zero other, so 3 = total - rest fails


def test_a_lone_withheld_member_takes_the_smallest_other_with_it():
    cells, groups = _table({"a": 3, "b": 40, "c": 12})
    assert protect(cells, groups) == {("org", "a"), ("org", "c")}


def test_a_lone_withheld_total_is_covered_by_a_member():
    cells = {"total": 4, "x": 4, "y": 0}
    assert protect(cells, [("total", ["x", "y"])]) == {"total", "x"}


def test_groups_that_share_cells_are_protected_together():
    # rows: two organisations; columns: positive, negative; each row and each column sums to a total
    cells = {"a+": 3, "a-": 20, "b+": 30, "b-": 25, "a": 23, "b": 55, "+": 33, "-": 45, "all": 78}
    groups = [("a", ["a+", "a-"]), ("b", ["b+", "b-"]), ("+", ["a+", "b+"]), ("-", ["a-", "b-"]),
              ("all", ["a", "b"]), ("all", ["+", "-"])]
    hidden = protect(cells, groups)
    for total, members in groups:
        assert sum(c in hidden for c in [total, *members]) != 1


def _recoverable(cells, groups, hidden):
    """Cells whose value follows from the shown ones by one sum (iterated: what is learned helps)."""
    known = {c: v for c, v in cells.items() if c not in hidden}
    progress = True
    while progress:
        progress = False
        for total, members in groups:
            unknown = [c for c in [total, *members] if c not in known]
            if len(unknown) == 1:
                c = unknown[0]
                known[c] = (cells[c])
                progress = True
    return {c for c in hidden if c in known}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=6))
def test_no_withheld_count_can_be_worked_out_by_difference(values):
    orgs = {f"o{i}": v for i, v in enumerate(values)}
    cells, groups = _table(orgs)
    hidden = protect(cells, groups)
    assert all(not (0 < v < 5) or c in hidden for c, v in cells.items())
    leaked = _recoverable(cells, groups, hidden)
    assert not any(0 < cells[c] < 5 for c in leaked), (cells, hidden, leaked)


def test_exhaustive_small_tables():
    for values in itertools.product(range(0, 7), repeat=3):
        cells, groups = _table({f"o{i}": v for i, v in enumerate(values)})
        hidden = protect(cells, groups)
        leaked = _recoverable(cells, groups, hidden)
        assert not any(0 < cells[c] < 5 for c in leaked), values
