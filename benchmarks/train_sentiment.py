"""Train the weights of the 'feedback' sentiment analyzer (`analysis.sentiment.FeedbackAnalyzer`).

    python benchmarks/train_sentiment.py            # writes analysis/data/sentiment/feedback-model.json
    python benchmarks/train_sentiment.py --check    # leave-one-file-out accuracy only, writes nothing

Data: the UCI "Sentiment Labelled Sentences" (amazon, imdb, yelp; 1,000 sentences each, 0/1 labels), read in
place from ../shared/data/sentiment/uci. Kotzias, Denil, de Freitas and Smyth, "From Group to Individual Labels
using Deep Features", KDD 2015; https://archive.ics.uci.edu/dataset/331; licence CC BY 4.0. Nothing else:
the airline tweets (CC BY-NC-SA) are for evaluation only and are never read here.

The model: logistic regression with no intercept over
- three dense features: VADER's compound (with the feedback lexicon and phrases), VADER's share of negative
  words, and TextBlob's pattern polarity;
- word features (a word after a negation is "not_<word>"), kept only when the word occurs in every training
  file (so that "battery", "movie" and "waiter" cannot carry a file's topic into feedback about a food bank)
  and is not a function word, L1-regularised so that most of them end at exactly 0, and never weighed against
  the sign a lexicon gives the word.
The L1 strength is chosen by leave-one-file-out inside the training files, never by the file being
evaluated. Training is deterministic (fixed order, fixed seed): the same data gives the same JSON.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.sentiment import MODEL_PATH, FeedbackAnalyzer, normalise, polar_words  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "sentiment"
UCI_FILES = {"amazon": "amazon_cells_labelled.txt", "imdb": "imdb_labelled.txt", "yelp": "yelp_labelled.txt"}
VERSION = "1.0"
SEED = 20261127
EPOCHS = 25
LEARNING_RATE = 0.2
L2_DENSE = 1e-4
L1_GRID = (1e-6, 1e-5, 3e-5, 1e-4, 3e-4)      # per-example L1 strength on word weights, chosen by inner leave-one-out
MIN_DOCS = 3                      # a word must occur in at least this many training sentences
PRUNE = 0.02                      # word weights smaller than this are dropped from the shipped file

# Function words carry no opinion of their own; as features they only learn which topics a file's reviewers
# praised. Negations, intensifiers and "again", "back", "too" are not here on purpose.
STOP = frozenset("""
a an the and or of to in on at for from by with about as into onto over under up down out off than then so
i me my mine myself we us our ours you your yours he him his she her hers it its they them their theirs this
that these those there here who whom whose which what when where why how
is am are was were be been being have has had having do does did doing will would shall should can could may
might must 's 'm 're 've 'd 'll i'm i've i'd i'll you're you've it's that's there's they're we're he's she's
if because while just also only even still all any some each every both either other such own same one two
3 4 5 6 7 8 9 10 1 2 s t d ll m re ve y
""".split())


def load_uci(name: str) -> list[tuple[str, int]]:
    """(sentence, 1 positive / 0 negative); split on "\\n" only: some sentences hold other line breaks."""
    rows = []
    for line in (DATA / "uci" / UCI_FILES[name]).read_text(encoding="utf-8").split("\n"):
        if "\t" in line:
            text, label = line.rsplit("\t", 1)
            rows.append((text, int(label.strip())))
    return rows


Example = tuple[dict[str, float], list[str], int]      # dense features, words, label


def featurise(rows: list[tuple[str, int]], extractor: FeedbackAnalyzer | None = None) -> list[Example]:
    extractor = extractor or FeedbackAnalyzer({"version": "train", "dense": {}, "words": {}})
    out = []
    for text, label in rows:
        dense, words, _ = extractor.features(normalise(text))
        out.append((dense, words, label))
    return out


def vocabulary(files: list[list[Example]]) -> set[str]:
    """Words in every training file and in at least MIN_DOCS sentences, not function words."""
    need = len(files)
    in_files: dict[str, int] = {}
    docs: dict[str, int] = {}
    for examples in files:
        seen = set()
        for _, words, _ in examples:
            seen.update(words)
            for w in words:
                docs[w] = docs.get(w, 0) + 1
        for w in seen:
            in_files[w] = in_files.get(w, 0) + 1
    return {w for w, n in in_files.items()
            if n >= need and docs[w] >= MIN_DOCS and w.removeprefix("not_") not in STOP and w.isascii()
            and any(c.isalpha() for c in w)}


def fit(examples: list[Example], vocab: set[str], l1: float, seed: int = SEED) -> dict:
    """Logistic regression, no intercept: AdaGrad SGD, L2 on the dense weights, L1 (clipped at zero, so that
    weights stop at exactly 0) on the words. A word a lexicon rates one way only may get more weight that way
    or none, never weight the other way: reviews teach that "killer" and "dark" are praise and "ok" is faint
    praise, which is not true of feedback to a service."""
    positive, negative = polar_words()
    low = {w: 0.0 for w in vocab if w in positive and w not in negative}
    high = {w: 0.0 for w in vocab if w in negative and w not in positive}
    dense_w: dict[str, float] = {}
    word_w: dict[str, float] = {}
    g2: dict[str, float] = {}
    order = list(range(len(examples)))
    rnd = random.Random(seed)
    for _ in range(EPOCHS):
        rnd.shuffle(order)
        for i in order:
            dense, words, label = examples[i]
            ws = [w for w in words if w in vocab]
            z = sum(dense_w.get(k, 0.0) * x for k, x in dense.items()) + sum(word_w.get(w, 0.0) for w in ws)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = p - label
            for k, x in dense.items():
                grad = g * x + L2_DENSE * dense_w.get(k, 0.0)
                key = "d:" + k
                g2[key] = g2.get(key, 0.0) + grad * grad
                dense_w[k] = dense_w.get(k, 0.0) - LEARNING_RATE * grad / math.sqrt(g2[key] + 1e-8)
            for w in ws:
                g2[w] = g2.get(w, 0.0) + g * g
                step = LEARNING_RATE / math.sqrt(g2[w] + 1e-8)
                new = word_w.get(w, 0.0) - step * g
                shrink = step * l1 * len(examples)      # proximal L1: move towards 0, never past it
                new = math.copysign(max(0.0, abs(new) - shrink), new)
                word_w[w] = min(high.get(w, math.inf), max(low.get(w, -math.inf), new))
    words = {w: round(x, 4) for w, x in sorted(word_w.items()) if abs(x) >= PRUNE}
    return {"dense": {k: round(x, 4) for k, x in sorted(dense_w.items())}, "words": words}


def accuracy(model: dict, examples: list[Example]) -> float:
    dense_w, word_w = model["dense"], model["words"]
    right = 0
    for dense, words, label in examples:
        z = 0.0    # as FeedbackAnalyzer.score: no lexicon evidence, polarity 0 (the forced choice: negative)
        if any(dense.values()):
            z = sum(dense_w.get(k, 0.0) * x for k, x in dense.items()) + sum(word_w.get(w, 0.0) for w in words)
        right += (z > 0) == (label == 1)
    return right / len(examples)


def choose_l1(files: dict[str, list[Example]]) -> tuple[float, dict[float, float]]:
    """The L1 strength with the best mean accuracy over leave-one-file-out folds inside `files`."""
    scores = {}
    for l1 in L1_GRID:
        accs = []
        for held in files:
            train = [files[n] for n in files if n != held]
            flat = [e for f in train for e in f]
            accs.append(accuracy(fit(flat, vocabulary(train), l1), files[held]))
        scores[l1] = sum(accs) / len(accs)
    return max(L1_GRID, key=lambda v: (scores[v], v)), scores


def train(names: list[str], featurised: dict[str, list[Example]] | None = None) -> dict:
    """A model (the JSON shape `FeedbackAnalyzer` takes) trained on the named UCI files only."""
    featurised = featurised or {}
    files = {n: featurised.get(n) or featurise(load_uci(n)) for n in names}
    l1, scores = choose_l1(files)
    model = fit([e for f in files.values() for e in f], vocabulary(list(files.values())), l1)
    digest = hashlib.sha256()
    for n in names:
        digest.update((DATA / "uci" / UCI_FILES[n]).read_bytes())
    return {
        "version": VERSION if sorted(names) == sorted(UCI_FILES) else f"{VERSION}-{'+'.join(names)}",
        "trained_on": [f"uci/{UCI_FILES[n]}" for n in names],
        "data_sha256": digest.hexdigest(),
        "licence": "trained on the UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015), CC BY 4.0",
        "hyperparameters": {"epochs": EPOCHS, "learning_rate": LEARNING_RATE, "l2_dense": L2_DENSE, "l1": l1,
                            "l1_inner_accuracy": {str(k): round(v, 4) for k, v in scores.items()},
                            "min_docs": MIN_DOCS, "prune": PRUNE, "seed": SEED},
        **model,
    }


def leave_one_file_out(featurised: dict[str, list[Example]] | None = None) -> dict[str, tuple[dict, float]]:
    """For each UCI file: the model trained on the other two, and its accuracy on the held-out file."""
    featurised = featurised or {n: featurise(load_uci(n)) for n in UCI_FILES}
    out = {}
    for held in UCI_FILES:
        model = train([n for n in UCI_FILES if n != held], featurised)
        out[held] = (model, accuracy(model, featurised[held]))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="leave-one-file-out accuracy only; write nothing")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args(argv)
    featurised = {n: featurise(load_uci(n)) for n in UCI_FILES}
    for held, (model, acc) in leave_one_file_out(featurised).items():
        print(f"trained on {'+'.join(n for n in UCI_FILES if n != held):<12} l1={model['hyperparameters']['l1']:<7}"
              f" {len(model['words']):>4} words  accuracy on {held}: {acc:.3f}")
    if args.check:
        return
    model = train(list(UCI_FILES), featurised)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(model['words'])} words, l1={model['hyperparameters']['l1']})")


if __name__ == "__main__":
    main()
