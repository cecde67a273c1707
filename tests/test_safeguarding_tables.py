"""Quality gate on the safeguarding tables (tests/data/safeguarding, see its README): the test split was
written before the rules and is never tuned against; en_dev2 was written by a second author before reading the
lexicon, then used for tuning. Both layers together must reach the issue's targets on each (recall at least
95%, false alarms at most 5%). No timing here: benchmarks/safeguarding.py measures speed."""
from __future__ import annotations

from pathlib import Path

import pytest

from analysis.safeguarding import Safeguarding
from benchmarks.safeguarding import TableError, read_table, score

TABLES = Path(__file__).resolve().parent / "data" / "safeguarding"


@pytest.fixture(scope="module")
def sg() -> Safeguarding:
    return Safeguarding()


@pytest.mark.parametrize("name", ["en_dev.csv", "en_dev2.csv", "en_dev3.csv", "en_test.csv"])
def test_both_layers_meet_the_targets(sg, name):
    s = score(sg.check, read_table(TABLES / name))
    missed = [r["text"] for r in s["misses"]]
    alarms = [r["text"] for r, _ in s["alarms"]]
    assert s["recall"] >= 0.95, missed
    assert s["false_alarms"] <= 0.05, alarms


def test_the_tables_are_big_enough_and_separate():
    dev, test = read_table(TABLES / "en_dev.csv"), read_table(TABLES / "en_test.csv")
    rows = dev + test
    assert sum(r["label"] == "flag" for r in rows) >= 200 and sum(r["label"] == "ok" for r in rows) >= 200
    assert not {r["text"] for r in dev} & {r["text"] for r in test}
    dev2 = {r["text"] for r in read_table(TABLES / "en_dev2.csv")}
    assert not dev2 & {r["text"] for r in dev + test}
    dev3 = {r["text"] for r in read_table(TABLES / "en_dev3.csv")}
    assert not dev3 & ({r["text"] for r in dev + test} | dev2)


def test_every_flag_row_says_its_category():
    from analysis.safeguarding import CATEGORIES

    for name in ("en_dev.csv", "en_dev2.csv", "en_dev3.csv", "en_test.csv"):
        cats = {r["category"] for r in read_table(TABLES / name) if r["label"] == "flag"}
        assert cats <= set(CATEGORIES) and len(cats) >= 6


@pytest.mark.parametrize("content,problem", [
    ("words,label\nhi,ok\n", "needs a header row with columns 'text' and 'label'"),
    ("text,label\nhi,maybe\n", "line 2: label 'maybe' is not 'flag' or 'ok'"),
])
def test_a_bad_extra_file_is_one_clear_line(tmp_path, content, problem):
    path = tmp_path / "extra.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TableError, match=problem):
        read_table(path)


def test_an_extra_file_is_read_with_its_language(tmp_path, sg):
    path = tmp_path / "extra.csv"
    path.write_text("text,label,language\nme quiero morir,flag,es\nla espera me mato,ok,es\ni want to die,flag,\n",
                    encoding="utf-8")
    s = score(sg.check, read_table(path))
    assert (s["flags"], s["oks"], s["recall"], s["false_alarms"]) == (2, 1, 1.0, 0.0)
