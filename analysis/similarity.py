"""The second safeguarding layer: an answer that reads like one of the lexicon's examples of a risk.

The lexicon (layer 1) flags what its phrases say; people also write what no phrase lists ("got the rope
ready", "you wont hear from me after this"). Each rule in a lexicon file can give `examples:` (answers in a
service user's words) and the file can give `ordinary:` answers (feedback that shares words with risk: "the
hall was freezing"). This layer flags an answer when its closest example of a risk is close enough, and
closer by a margin than the closest ordinary answer. The flag names the rule of that closest example and the
similarity, so the person reading it sees why.

How "close" is measured: TF-IDF vectors over stemmed words, word pairs and character 4-grams (so "tabs",
"tablets" and "tabletts" share most features), cosine similarity. Everything is built from the lexicon file
at start (about 50 ms, no download, no model file, numpy only), so editing the examples changes the layer
and the same file always gives the same layer. The answer is read after the lexicon's not_a_risk idioms are
crossed out, so "this queue is killing me" looks like "this queue is".

Thresholds (THRESHOLD, MARGIN) were set on the dev table (tests/data/safeguarding/en_dev.csv) and with
leave-one-out over the file's own examples; `benchmarks/safeguarding.py` measures them on the test table.

Speed: about 60 µs an answer on one core (see the README's table), so both layers together stay well
above 2,000 answers a second.
"""
from __future__ import annotations

import math
import re

import numpy as np

from analysis.safeguarding import Hit, Lexicon

THRESHOLD = 0.28        # cosine similarity to the closest example of a risk
MARGIN = 0.10           # ... and at least this much closer than the closest ordinary answer
MIN_SHARED = 2          # words or word pairs the answer must share with that example (one shared word is chance)
MIN_EXAMPLES = 20       # fewer examples than this: no similarity layer for that language
CHAR_N = 4
WEIGHTS = {"w": 1.0, "b": 1.0, "c": 0.6}    # words, word pairs, character n-grams

# Texting forms that the lexicon's word lists spell out but examples cannot: read them as the full word.
_TEXTING = {
    "u": "you", "ur": "your", "2": "to", "4": "for", "im": "i", "ive": "i", "id": "i", "ill": "i", "imma": "i", "ima": "i",
    "wanna": "want", "gonna": "going", "gotta": "got", "cant": "cannot", "dont": "not", "wont": "not",
    "didnt": "not", "doesnt": "not", "isnt": "not", "arent": "not", "wasnt": "not", "werent": "not",
    "havent": "not", "hasnt": "not", "aint": "not", "coz": "because", "cos": "because", "cuz": "because",
    "tho": "though", "tonite": "tonight", "2nite": "tonight", "bf": "boyfriend", "gf": "girlfriend",
    "hes": "he", "shes": "she", "theyre": "they", "theyll": "they", "hell": "he", "shell": "she",
    "pls": "please", "plz": "please", "n": "and", "r": "are", "ppl": "people", "meds": "medication",
    "tabs": "tablets", "kms": "kill myself", "sh": "selfharm", "od": "overdose",
}
# Words that carry no risk on their own: leaving them out keeps "i want to # purple" (an idiom crossed out)
# from reading like "i want to kill myself". Negations, "myself" and "nowhere" are kept: they carry meaning here.
STOP_WORDS = frozenset("""
a an the and or but if so as at by for from in into of on onto to up out with about than then too very
i me my mine you your yours he him his she her hers it its we us our they them their this that these those
is are was were be been being am do does did doing have has had having will would shall should can could
may might must just really also even still only ever again now here there what which who whom when where
why how all any some such own same other more most much many lot lots bit get got gets getting going go
goes went gone said say says saying tell told know like want wanted wants need feel felt think thought
one thing things way well yeah yes ok okay lol x xx please thanks thank everything everyone anything
""".split())
_WEAK = frozenset({"w:not", "w:never", "w:no", "w:cannot"})
_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s")
_TOKEN_RE = re.compile(r"[^\W_]+")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            return word + "y" if suffix in ("ies", "ied") else word
    return word


def features(clean: str) -> dict[str, float]:
    """Features of an answer already normalised (and idioms crossed out): name -> group weight."""
    words = []
    for token in _TOKEN_RE.findall(clean):
        words.extend(w for w in _TEXTING.get(token, token).split() if w not in STOP_WORDS)
    words = [w for w in words if _stem(w) not in STOP_WORDS]      # "needed", "wants", "said"
    stems = [_stem(w) for w in words]
    out: dict[str, float] = {}
    for s in stems:
        out["w:" + s] = WEIGHTS["w"]
    for a, b in zip(stems, stems[1:]):
        out[f"b:{a}_{b}"] = WEIGHTS["b"]
    for word in words:
        padded = f" {word} "
        for i in range(len(padded) - CHAR_N + 1):
            out["c:" + padded[i:i + CHAR_N]] = WEIGHTS["c"]
    return out


class SimilarityLayer:
    """Built from one language's lexicon; `check(text)` -> Hit(layer="similarity") or None."""

    name = "similarity"

    def __init__(self, lexicon: Lexicon, threshold: float = THRESHOLD, margin: float = MARGIN) -> None:
        self.lexicon, self.threshold, self.margin = lexicon, threshold, margin
        examples = [(rule, text) for rule, texts in lexicon.examples.items() for text in texts]
        texts = [t for _, t in examples] + list(lexicon.ordinary)
        self.rules = [r for r, _ in examples]
        self.n_risk = len(examples)
        self.examples = texts
        feats = [features(lexicon.cross_out(t)) for t in texts]
        df: dict[str, int] = {}
        for f in feats:
            for name in f:
                df[name] = df.get(name, 0) + 1
        n = len(feats)
        self.idf = {name: math.log((n + 1) / (d + 1)) + 1.0 for name, d in df.items()}
        self.unknown_idf = math.log(n + 1) + 1.0
        self.vocab = {name: i for i, name in enumerate(sorted(df))}
        matrix = np.zeros((len(self.vocab), n), dtype=np.float32)   # feature x example, rows gathered per answer
        for j, f in enumerate(feats):
            weights = {name: g * self.idf[name] for name, g in f.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for name, w in weights.items():
                matrix[self.vocab[name], j] = w / norm
        self.matrix = matrix
        # For MIN_SHARED: each risk example's word and word-pair features.
        # A negation alone ("not", "never", "no") is shared by too many answers to count as evidence.
        self.word_ids = [frozenset(self.vocab[n] for n in f if n[0] in "wb" and n not in _WEAK)
                         for f in feats[: self.n_risk]]

    def similarities(self, text: str) -> np.ndarray:
        """Cosine similarity of the answer to every example (risk examples first, then ordinary ones)."""
        return self._similarities(features(self.lexicon.cross_out(text)))

    def _similarities(self, f: dict[str, float]) -> np.ndarray:
        ids, weights, norm2 = [], [], 0.0
        for name, g in f.items():
            i = self.vocab.get(name)
            w = g * (self.idf[name] if i is not None else self.unknown_idf)
            norm2 += w * w
            if i is not None:
                ids.append(i)
                weights.append(w)
        if not ids:
            return np.zeros(self.matrix.shape[1], dtype=np.float32)
        return np.asarray(weights, dtype=np.float32) @ self.matrix[ids] / math.sqrt(norm2)

    def check(self, text: str) -> Hit | None:
        if not text or not text.strip():
            return None
        f = features(self.lexicon.cross_out(text))
        sims = self._similarities(f)
        ordinary = float(sims[self.n_risk:].max()) if len(sims) > self.n_risk else 0.0
        words = {self.vocab[n] for n in f if n[0] in "wb" and n in self.vocab}
        best = None
        for i in np.flatnonzero(sims[: self.n_risk] >= self.threshold)[np.argsort(-sims[: self.n_risk][sims[: self.n_risk] >= self.threshold])]:
            if len(words & self.word_ids[i]) >= MIN_SHARED:
                best = int(i)
                break
        if best is None:
            return None
        risk = float(sims[best])
        if risk - ordinary < self.margin:
            return None
        rule = self.rules[best]
        return Hit((self.lexicon.category(rule),), (rule,), layer=self.name, score=round(risk, 3))

    def closest(self, text: str) -> tuple[str, str, float, str, float]:
        """(rule, closest risk example, its similarity, closest ordinary answer, its similarity): for tuning
        and for people asking why."""
        sims = self.similarities(text)
        best = int(np.argmax(sims[: self.n_risk]))
        other = self.n_risk + int(np.argmax(sims[self.n_risk:])) if len(sims) > self.n_risk else best
        return (self.rules[best], self.examples[best], float(sims[best]), self.examples[other],
                float(sims[other]) if other != best else 0.0)


def build(lexicon: Lexicon) -> SimilarityLayer | None:
    """The layer for a lexicon with enough examples; None otherwise (that language is lexicon only)."""
    if sum(len(v) for v in lexicon.examples.values()) < MIN_EXAMPLES:
        return None
    return SimilarityLayer(lexicon)
