"""Sentiment accuracy and throughput: every analyzer on every labelled file in ../shared/data/sentiment.

    python benchmarks/sentiment.py [FILE.tsv ...]

For each file prints, per method, accuracy, macro-F1 and the time per answer (answers/s on one core):
- raw TextBlob (`TextBlob(text).sentiment.polarity`) and raw VADER (compound), as published baselines;
- the tagger (`analysis.sentiment.SentimentTagger`: normalisation, mixed, context) with each analyzer:
  textblob, vader, combined and feedback (the default). The feedback analyzer's model is learned, so on a UCI
  file it is trained on the two other UCI files in this run (leave one file out, `benchmarks/
  train_sentiment.py`); on every other file it is the shipped model (trained on the three UCI files, never on
  the airline file, which is CC BY-NC-SA and for evaluation only).
Then the throughput of each tagger over all the answers of all files together, best of three runs, with the
process pinned to one core. Times are the process's CPU time, so that other work on a shared machine does
not count (wall-clock time on an idle machine is the same).

Two-class files (UCI amazon, imdb, yelp; 0/1 labels): the forced choice between positive and negative is
scored: for raw scores the sign (score > 0 is positive); for the tagger its label when positive/negative,
otherwise the sign of its polarity. Three-class files (airline): raw scores use a neutral band |score| < 0.05
(the tagger's own band); the tagger's 'mixed' falls back to the same band on its polarity.

Extra files: a header row with columns `text` and `label` (positive/neutral/negative) and an optional
`question` (the question the text answered, its key or its wording), passed to the tagger as context.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textblob import TextBlob  # noqa: E402
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

from analysis.sentiment import (  # noqa: E402
    DEFAULT_ANALYZER,
    NEUTRAL_BAND,
    FeedbackAnalyzer,
    SentimentTagger,
    make_analyzer,
)
from benchmarks import train_sentiment  # noqa: E402
from benchmarks.common import machine  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "sentiment"
Row = tuple[str, str, dict]      # text, gold label, context
TAGGERS = ("textblob", "vader", "combined", "feedback")


def load_uci(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").split("\n"):     # "\n" only: texts may hold other breaks
        if "\t" in line:
            text, label = line.rsplit("\t", 1)
            rows.append((text, "positive" if label.strip() == "1" else "negative", {}))
    return rows


def load_tsv(path: Path) -> list[Row]:
    """A header row; `text` and `label` (or the airline file's `label3`); optional `question`."""
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    header = [h.strip().lower() for h in lines[0].rstrip("\r").split("\t")]
    label_col = "label" if "label" in header else "label3"
    if "text" not in header or label_col not in header:
        raise SystemExit(f"{path}: the header needs columns 'text' and 'label', found {header}")
    i_text, i_label = header.index("text"), header.index(label_col)
    i_q = header.index("question") if "question" in header else None
    rows = []
    for line in lines[1:]:
        cols = line.rstrip("\r").split("\t")
        if len(cols) < len(header):
            continue
        if len(cols) > len(header) and i_text == len(header) - 1:     # a tab inside the last column
            cols = cols[:i_text] + ["\t".join(cols[i_text:])]
        label = cols[i_label].strip().lower()
        if label not in ("positive", "neutral", "negative"):
            continue
        question = cols[i_q].strip() if i_q is not None else ""
        ctx = {"question": question, "question_text": question} if question else {}
        rows.append((cols[i_text], label, ctx))
    return rows


def band(score: float) -> str:
    if abs(score) < NEUTRAL_BAND:
        return "neutral"
    return "positive" if score > 0 else "negative"


def raw_methods() -> dict[str, object]:
    vader = SentimentIntensityAnalyzer().polarity_scores
    TextBlob("warm up").sentiment
    return {"raw textblob": lambda text: TextBlob(text).sentiment.polarity,
            "raw vader": lambda text: vader(text)["compound"]}


def predict(kind: str, fn, rows: list[Row], classes: int) -> tuple[list[str], float]:
    """Predictions and CPU seconds spent producing them (one core, no batching)."""
    preds = []
    start = time.process_time()
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
    return preds, time.process_time() - start


def macro_f1(gold: list[str], pred: list[str], labels: list[str]) -> float:
    f1s = []
    for c in labels:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def pin_to_one_core() -> str:
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    except (AttributeError, OSError):      # not Linux
        return "not pinned (no sched_setaffinity)"


def leave_one_out_models() -> dict[str, dict]:
    """UCI file name -> a feedback model trained on the two other UCI files."""
    uci = {n: f for n, f in train_sentiment.UCI_FILES.items() if (DATA / "uci" / f).exists()}
    if len(uci) < len(train_sentiment.UCI_FILES):
        return {}
    featurised = {n: train_sentiment.featurise(train_sentiment.load_uci(n)) for n in uci}
    return {uci[held]: model for held, (model, _) in train_sentiment.leave_one_file_out(featurised).items()}


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

    pinned = pin_to_one_core()
    print(f"machine: {machine()}; {pinned}")
    taggers = {name: SentimentTagger(make_analyzer(name)) for name in TAGGERS}
    for tagger in taggers.values():        # load the lexicons now, not inside the first timed file
        tagger.tag("lovely staff but an awful wait", "en", {})
    held_out = leave_one_out_models()
    summary: dict[str, dict[str, tuple[float, float]]] = {}
    for name, rows in datasets:
        gold = [g for _, g, _ in rows]
        classes = 3 if "neutral" in gold else 2
        labels = ["positive", "negative"] if classes == 2 else ["positive", "neutral", "negative"]
        file_taggers = dict(taggers)
        note = ""
        if name.removeprefix("uci/") in held_out:
            model = held_out[name.removeprefix("uci/")]
            file_taggers["feedback"] = SentimentTagger(FeedbackAnalyzer(model))
            note = f" (feedback trained on {' + '.join(model['trained_on'])} only)"
        print(f"\n{name}: {len(rows)} answers, {classes} classes{note}")
        print(f"  {'method':<18} {'accuracy':>8} {'macro-F1':>8} {'us/msg':>8} {'msgs/s':>8}")
        methods = [(m, "raw", fn) for m, fn in raw_methods().items()]
        methods += [(f"tagger {t}", "tagger", tagger) for t, tagger in file_taggers.items()]
        for mname, kind, fn in methods:
            pred, secs = predict(kind, fn, rows, classes)
            acc = sum(g == p for g, p in zip(gold, pred)) / len(rows)
            f1 = macro_f1(gold, pred, labels)
            per = secs / len(rows)
            summary.setdefault(mname, {})[name] = (acc, f1)
            print(f"  {mname:<18} {acc:8.3f} {f1:8.3f} {per * 1e6:8.1f} {1 / per:8.0f}")

    texts = [(text, ctx) for _, rows in datasets for text, _, ctx in rows]
    print(f"\nthroughput over all {len(texts)} answers, CPU time, best of 3 runs, one core:")
    for tname, tagger in taggers.items():
        best = min(_timed(tagger, texts) for _ in range(3))
        default = " (default)" if tname == DEFAULT_ANALYZER else ""
        print(f"  tagger {tname:<10} {best / len(texts) * 1e6:7.1f} us/answer {len(texts) / best:9,.0f} answers/s{default}")

    print("\nmarkdown (accuracy, macro-F1 in brackets):")
    names = [n for n, _ in datasets]
    print("| method | " + " | ".join(Path(n).stem.removesuffix("_labelled") for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for mname, per_file in summary.items():
        print(f"| {mname} | " + " | ".join(f"{per_file[n][0]:.3f} ({per_file[n][1]:.3f})" for n in names) + " |")


def _timed(tagger: SentimentTagger, texts: list[tuple[str, dict]]) -> float:
    start = time.process_time()
    for text, ctx in texts:
        tagger.tag(text, "en", ctx)
    return time.process_time() - start


if __name__ == "__main__":
    main()
