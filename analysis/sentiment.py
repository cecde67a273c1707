"""Sentiment tags for free-text answers: polarity, subjectivity, a label, and the analyzer that made them.

`SentimentTagger` implements the store's `AnswerTagger` protocol (`surveys.store`): the service calls
`tag(text, language, context)` when it stores a free-text answer and keeps the returned dict.

Contract of a tag (`Tag.to_dict()`):
- `polarity` -1..1 and `subjectivity` 0..1 come from the analyzer, scored on the normalised text
  (texting forms and emoji rewritten to words, see `normalise`).
- `label` is 'positive' | 'neutral' | 'negative' | 'mixed' | 'not tagged: language'. It is decided from
  the polarity (|polarity| < 0.05 is neutral), per-clause polarity (mixed), and the conversation's context:
  * "Nothing."/"None"/"no"/"all good"... answering a "what could be better?" question carries no text signal
    (it is not a complaint), so its polarity is taken as 0;
  * with no text signal (polarity exactly 0), the other numeric answers of the same conversation decide:
    mean fraction >= 0.8 is positive, <= 0.3 negative, otherwise neutral.
- The language is the conversation's, given by the caller; it is never guessed from the text. An answer in a
  language the analyzer does not support is labelled 'not tagged: language' with polarity/subjectivity 0.

No run-time downloads: TextBlob's pattern analyzer and VADER both ship their lexicons. Never call TextBlob's
.words/.tags/.noun_phrases (they need NLTK corpora this deployment does not have).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol

POSITIVE, NEUTRAL, NEGATIVE, MIXED = "positive", "neutral", "negative", "mixed"
NOT_TAGGED_LANGUAGE = "not tagged: language"

NEUTRAL_BAND = 0.05      # |polarity| below this is neutral
CLAUSE_CLEAR = 0.2       # a clause at or beyond +/- this is "clearly" positive / negative (for 'mixed')
SCORE_HIGH = 0.8         # conversation scores (0..1) at or above this make a signal-free answer positive
SCORE_LOW = 0.3          # ... at or below this, negative


@dataclass(frozen=True)
class Tag:
    polarity: float        # -1..1
    subjectivity: float    # 0..1
    label: str             # positive | neutral | negative | mixed | not tagged: language
    analyzer: str          # name and version, e.g. 'textblob-0.20.1'

    def to_dict(self) -> dict:
        return asdict(self)


class Analyzer(Protocol):
    name: str
    languages: frozenset[str]

    def score(self, text: str) -> tuple[float, float]:
        """(polarity -1..1, subjectivity 0..1) of already normalised text."""
        ...


def _version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:  # pragma: no cover - only when run from an unusual install
        return "unknown"


class TextBlobAnalyzer:
    """TextBlob's pattern lexicon (the same numbers as `TextBlob(text).sentiment`, without building a blob)."""

    languages = frozenset({"en"})

    def __init__(self) -> None:
        from textblob.en.sentiments import PatternAnalyzer

        self._analyze = PatternAnalyzer().analyze
        self.name = f"textblob-{_version('textblob')}"

    def score(self, text: str) -> tuple[float, float]:
        s = self._analyze(text)
        return float(s.polarity), float(s.subjectivity)


class VaderAnalyzer:
    """VADER: the compound score as polarity; subjectivity as the share of non-neutral text (1 - neu)."""

    languages = frozenset({"en"})

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._scores = SentimentIntensityAnalyzer().polarity_scores
        self.name = f"vader-{_version('vaderSentiment')}"

    def score(self, text: str) -> tuple[float, float]:
        s = self._scores(text)
        return float(s["compound"]), max(0.0, min(1.0, 1.0 - float(s["neu"])))


class CombinedAnalyzer:
    """The mean of two analyzers' scores; supports only the languages both support."""

    def __init__(self, a: Analyzer, b: Analyzer) -> None:
        self.a, self.b = a, b
        self.name = f"combined-{a.name}+{b.name}"
        self.languages = frozenset(a.languages & b.languages)

    def score(self, text: str) -> tuple[float, float]:
        pa, sa = self.a.score(text)
        pb, sb = self.b.score(text)
        return (pa + pb) / 2, (sa + sb) / 2


def make_analyzer(name: str = "textblob") -> Analyzer:
    """'textblob' (the default), 'vader' or 'combined' (TextBlob and VADER averaged)."""
    key = (name or "textblob").strip().lower()
    if key == "textblob":
        return TextBlobAnalyzer()
    if key == "vader":
        return VaderAnalyzer()
    if key == "combined":
        return CombinedAnalyzer(TextBlobAnalyzer(), VaderAnalyzer())
    raise ValueError(f"unknown sentiment analyzer {name!r}: expected 'textblob', 'vader' or 'combined'")


# --- normalisation -----------------------------------------------------------------------------------------
# Kept deliberately small: only forms common in SMS feedback whose meaning is unambiguous. Each maps to a
# word both lexicons know, so TextBlob (which ignores emoji) and VADER score them alike.
TEXTING = {
    "gr8": "great",
    "thx": "thanks", "thnx": "thanks", "thanx": "thanks", "ty": "thanks",
    "luv": "love",
}
# Emoji and emoticons become a sentiment word. Variation selectors (U+FE0F) are dropped first, so "❤️" and
# "❤" are the same.
EMOJI = {
    ":)": "good", ":-)": "good", ":D": "good", "🙂": "good", "😊": "good", "👍": "good", "❤": "love",
    ":(": "bad", ":-(": "bad", "😞": "bad", "😡": "angry", "👎": "bad",
}
_TEXTING_RE = re.compile(r"(?<![\w'])(" + "|".join(map(re.escape, TEXTING)) + r")(?![\w'])", re.IGNORECASE)
# Emoticons must stand alone (":)" but not the ":(" inside "http://x.org/a:(b"); emoji may touch words.
_EMOTICON_RE = re.compile(r"(?<!\S)(" + "|".join(re.escape(e) for e in EMOJI if e.startswith(":")) + r")(?=\s|$|[.!,])")
_EMOJI_RE = re.compile("|".join(re.escape(e) for e in EMOJI if not e.startswith(":")))


def normalise(text: str) -> str:
    """Rewrite the texting forms and emoji in TEXTING/EMOJI to words, before scoring."""
    text = text.replace("\ufe0f", "")
    text = _TEXTING_RE.sub(lambda m: TEXTING[m.group(1).lower()], text)
    text = _EMOTICON_RE.sub(lambda m: f" {EMOJI[m.group(1)]} ", text)
    text = _EMOJI_RE.sub(lambda m: f" {EMOJI[m.group(0)]} ", text)
    return text


# --- context ---------------------------------------------------------------------------------------------
# "Nothing to improve" answers: not complaints, whatever the lexicon makes of "no" or "none".
_NOTHING_RE = re.compile(
    r"^\s*(nothing|none|no|nope|nah|not really|nothing really|nothing at all|nothing much|n/?a|all good|"
    r"no complaints|can'?t think of anything|nothing,? (it was|all) (fine|good|great))\s*[.!]*\s*$",
    re.IGNORECASE,
)
# When the caller does not say `prompt_kind`, a question key naming an improvement stands in for it.
_IMPROVE_KEY_RE = re.compile(r"better|improve|change|make_it|wrong|worse|hard|problem|complain", re.IGNORECASE)
_CLAUSE_RE = re.compile(r"\bbut\b|\b(?:al)?though\b|;", re.IGNORECASE)


def _asks_to_improve(context: dict) -> bool:
    kind = context.get("prompt_kind")
    if kind is not None:
        return kind == "improve"
    key = context.get("question")
    return isinstance(key, str) and bool(_IMPROVE_KEY_RE.search(key))


def _conversation_score(context: dict) -> float | None:
    """Mean of the conversation's other numeric answers, each already a fraction 0..1; None when none."""
    scores = context.get("scores") or {}
    values = [float(v) for v in scores.values() if isinstance(v, (int, float)) and 0.0 <= float(v) <= 1.0]
    return sum(values) / len(values) if values else None


def _sign_label(polarity: float) -> str:
    if abs(polarity) < NEUTRAL_BAND:
        return NEUTRAL
    return POSITIVE if polarity > 0 else NEGATIVE


def _primary_language(language: str | None) -> str:
    return (language or "").strip().lower().replace("_", "-").split("-", 1)[0]


class SentimentTagger:
    """Implements the store's AnswerTagger protocol: tag(text, language, context) -> dict | None"""

    def __init__(self, analyzer: Analyzer | None = None) -> None:
        self.analyzer = analyzer if analyzer is not None else make_analyzer("textblob")

    def tag(self, text: str, language: str, context: dict) -> dict:
        return self.tag_object(text, language, context or {}).to_dict()

    def tag_object(self, text: str, language: str, context: dict) -> Tag:
        name = self.analyzer.name
        if _primary_language(language) not in self.analyzer.languages:
            return Tag(0.0, 0.0, NOT_TAGGED_LANGUAGE, name)
        clean = normalise(text or "")
        polarity, subjectivity = self.analyzer.score(clean)
        if _asks_to_improve(context) and _NOTHING_RE.match(clean):
            polarity, subjectivity = 0.0, 0.0      # "nothing to improve" is no complaint
        label = _sign_label(polarity)
        if _CLAUSE_RE.search(clean) and self._is_mixed(clean):
            label = MIXED
        elif polarity == 0.0:
            score = _conversation_score(context)
            if score is not None and score >= SCORE_HIGH:
                label = POSITIVE
            elif score is not None and score <= SCORE_LOW:
                label = NEGATIVE
        return Tag(round(polarity, 4), round(subjectivity, 4), label, name)

    def _is_mixed(self, text: str) -> bool:
        clauses = [c for c in _CLAUSE_RE.split(text) if c.strip()]
        if len(clauses) < 2:
            return False
        scores = [self.analyzer.score(c)[0] for c in clauses]
        return max(scores) >= CLAUSE_CLEAR and min(scores) <= -CLAUSE_CLEAR
