"""Sentiment accuracy and throughput: every analyzer on every labelled file in ../shared/data/sentiment.

For each file prints, per method, accuracy, macro-F1 and the time per message (answers/s on one core):
- raw TextBlob (`TextBlob(text).sentiment.polarity`) and raw VADER (compound), as published baselines;
- the tagger (`analysis.sentiment.SentimentTagger`: texting/emoji normalisation, mixed, context) with each
  analyzer: textblob (the default), vader, combined.

Two-class files (UCI amazon, imdb, yelp; 0/1 labels): the forced choice between positive and negative is
scored: for raw scores the sign (score > 0 is positive); for the tagger its label when positive/negative,
otherwise the sign of its polarity. Three-class files (airline): raw scores use a neutral band |score| < 0.05
(the tagger's own band); the tagger's 'mixed' falls back to the same band on its polarity.

Extra files: `python benchmarks/sentiment.py FILE.tsv ...`, a header row with columns `text` and `label`
(positive/neutral/negative) and an optional `question` (the question's key, passed as context).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textblob import TextBlob  # noqa: E402
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

from analysis.sentiment import NEUTRAL_BAND, SentimentTagger, make_analyzer  # noqa: E402
from benchmarks.inbound import machine  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "sentiment"
Row = tuple[str, str, dict]      # text, gold label, context


def load_uci(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").split("\n"):     # "\n" only: texts may hold other breaks
        if "\t" in line:
            text, label = line.rsplit("\t", 1)
            rows.append((text, "positive" if label.strip() == "1" else "negative", {}))
    return rows


def load_tsv(path: Path) -> list[Row]:
    """A header row; `text` and `label` (or the airline file's `label3`); optional `question`."""
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].rstrip("\r").split("\t")
    label_col = "label" if "label" in header else "label3"
    i_text, i_label = header.index("text"), header.index(label_col)
    i_q = header.index("question") if "question" in header else None
    rows = []
    for line in lines[1:]:
        cols = line.split("\t")
        if len(cols) < len(header):
            continue
        if len(cols) > len(header) and i_text == len(header) - 1:     # a tab inside the last column
            cols = cols[:i_text] + ["\t".join(cols[i_text:])]
        label = cols[i_label].strip().lower()
        if label not in ("positive", "neutral", "negative"):
            continue
        ctx = {"question": cols[i_q].strip()} if i_q is not None and cols[i_q].strip() else {}
        rows.append((cols[i_text], label, ctx))
    return rows


def band(score: float) -> str:
    if abs(score) < NEUTRAL_BAND:
        return "neutral"
    return "positive" if score > 0 else "negative"


def methods() -> dict[str, object]:
    blob = lambda text: TextBlob(text).sentiment.polarity  # noqa: E731
    vader = SentimentIntensityAnalyzer().polarity_scores
    out: dict[str, object] = {"raw textblob": ("raw", blob), "raw vader": ("raw", lambda t: vader(t)["compound"])}
    for name in ("textblob", "vader", "combined"):
        out[f"tagger {name}"] = ("tagger", SentimentTagger(make_analyzer(name)))
    return out


def predict(kind: str, fn, rows: list[Row], classes: int) -> tuple[list[str], float]:
    """Predictions and seconds spent producing them (one core, no batching)."""
    preds = []
    start = time.perf_counter()
    for text, _, ctx in rows:
        if kind == "raw":
            score = fn(text)
            preds.append(("positive" if score > 0 else "negative") if classes == 2 else band(score))
        else:
            tag = fn.tag(text, "en", ctx)
            label = tag["label"]
            if label not in ("positive", "negative") and (classes == 2 or label != "neutral"):
                label = ("positive" if tag["polarity"] > 0 else "negative") if classes == 2 else band(tag["polarity"])
            preds.append(label)
    return preds, time.perf_counter() - start


def macro_f1(gold: list[str], pred: list[str], labels: list[str]) -> float:
    f1s = []
    for c in labels:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", type=Path, help="extra labelled TSV files (text, label[, question])")
    args = ap.parse_args(argv)

    datasets: list[tuple[str, list[Row]]] = []
    for path in sorted((DATA / "uci").glob("*.txt")):
        datasets.append((f"uci/{path.name}", load_uci(path)))
    for path in sorted((DATA / "airline").glob("*.tsv")):
        datasets.append((f"airline/{path.name}", load_tsv(path)))
    for path in args.files:
        datasets.append((str(path), load_tsv(path)))
    if not datasets:
        print(f"no labelled data under {DATA}")
        return

    print(f"machine: {machine()}")
    all_methods = methods()
    for name, rows in datasets:
        gold = [g for _, g, _ in rows]
        classes = 3 if "neutral" in gold else 2
        labels = ["positive", "negative"] if classes == 2 else ["positive", "neutral", "negative"]
        print(f"\n{name}: {len(rows)} answers, {classes} classes")
        print(f"  {'method':<18} {'accuracy':>8} {'macro-F1':>8} {'us/msg':>8} {'msgs/s':>8}")
        for mname, (kind, fn) in all_methods.items():
            pred, secs = predict(kind, fn, rows, classes)
            acc = sum(g == p for g, p in zip(gold, pred)) / len(rows)
            per = secs / len(rows)
            print(f"  {mname:<18} {acc:8.3f} {macro_f1(gold, pred, labels):8.3f} {per * 1e6:8.1f} {1 / per:8.0f}")


if __name__ == "__main__":
    main()
