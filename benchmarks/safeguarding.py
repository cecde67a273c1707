"""Safeguarding recall, false alarms and throughput: the lexicon alone and both layers (lexicon + similarity).

    python benchmarks/safeguarding.py [FILE.csv ...]

For our own tables (tests/data/safeguarding/en_dev.csv and en_dev2.csv, where rules and thresholds are set,
and en_test.csv, where they are measured) and for every extra file given: recall on the rows labelled `flag`,
the false-alarm rate on the rows labelled `ok`, and the time per answer as answers/s on one core (the process
is pinned to one core; times are process CPU time, best of three passes, so other work on a shared machine
does not count).

An extra file is a CSV with a header row and columns `text` and `label` (`flag` or `ok`); an optional
`language` column (default en) and any other columns are ignored except `category`, which is reported with
each miss. `-v` lists every miss and false alarm with the layer and rule that raised it.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.safeguarding import Safeguarding  # noqa: E402
from benchmarks.common import machine  # noqa: E402

TABLES = ROOT / "tests" / "data" / "safeguarding"
OWN = (TABLES / "en_dev.csv", TABLES / "en_dev2.csv", TABLES / "en_dev3.csv", TABLES / "en_test.csv")
LABELS = ("flag", "ok")


class TableError(ValueError):
    pass


def read_table(path: Path) -> list[dict]:
    """Rows of a table: text, label ('flag'/'ok'), language, category. One clear error for a bad file."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            columns = [c.strip().lower() for c in reader.fieldnames or ()]
            if "text" not in columns or "label" not in columns:
                raise TableError(f"{path}: needs a header row with columns 'text' and 'label' (has: {', '.join(columns) or 'none'})")
            rows = []
            for n, raw in enumerate(reader, 2):
                row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
                label = row["label"].lower()
                if label not in LABELS:
                    raise TableError(f"{path}: line {n}: label {row['label']!r} is not 'flag' or 'ok'")
                rows.append({"text": row["text"], "label": label, "language": row.get("language") or "en",
                             "category": row.get("category", "")})
    except OSError as e:
        raise TableError(f"{path}: cannot be read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise TableError(f"{path}: is not UTF-8 text") from None
    return rows


def score(check, rows: list[dict]) -> dict:
    """Recall, false-alarm rate and the rows each got wrong, for one checker over one table."""
    flags = [r for r in rows if r["label"] == "flag"]
    oks = [r for r in rows if r["label"] == "ok"]
    misses, alarms = [], []
    for r in flags:
        if check(r["text"], r["language"]) is None:
            misses.append(r)
    for r in oks:
        hit = check(r["text"], r["language"])
        if hit is not None:
            alarms.append((r, hit))
    return {"flags": len(flags), "oks": len(oks), "misses": misses, "alarms": alarms,
            "recall": 1 - len(misses) / len(flags) if flags else None,
            "false_alarms": len(alarms) / len(oks) if oks else None}


def per_second(check, rows: list[dict], min_seconds: float = 0.5) -> float:
    """Answers per CPU second, best of three passes (each repeated to at least `min_seconds`)."""
    best = float("inf")
    for _ in range(3):
        n, start = 0, time.process_time()
        while True:
            for r in rows:
                check(r["text"], r["language"])
            n += len(rows)
            spent = time.process_time() - start
            if spent >= min_seconds:
                break
        best = min(best, spent / n)
    return 1 / best


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:5.1f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="extra CSV files (text,label[,language])")
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses and false alarms")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    try:
        tables = [(path, read_table(path)) for path in [*OWN, *args.files]]
    except TableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    both = Safeguarding()
    built = time.perf_counter() - start
    lexicon = Safeguarding(similarity=False)
    layers = {"lexicon alone": lexicon.check, "both layers": both.check}
    print(f"{both.describe()} (loaded in {built * 1000:.0f} ms)")
    print(f"{'table':28} {'layers':14} {'must flag':>9} {'recall':>7} {'must not':>8} {'false alarms':>12} {'answers/s':>10} {'µs/answer':>9}")
    for path, rows in tables:
        name = path.name if path.parent == TABLES else str(path)
        for label, check in layers.items():
            s = score(check, rows)
            rate = per_second(check, rows)
            print(f"{name:28} {label:14} {s['flags']:>9} {_pct(s['recall']):>7} {s['oks']:>8} "
                  f"{_pct(s['false_alarms']):>12} {rate:>10,.0f} {1e6 / rate:>9.0f}")
            if args.verbose:
                for r in s["misses"]:
                    print(f"    missed    [{r['category'] or '-'}] {r['text']}")
                for r, hit in s["alarms"]:
                    print(f"    false alarm ({hit.layer}: {', '.join(hit.rules)}) {r['text']}")
    print(f"one core; machine: {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
