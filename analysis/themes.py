"""Themes: the recurring words and phrases in free-text answers, with counts and change against earlier weeks.

Pure: no database, no clock, no network, no downloaded data. The digest counts one survey's answers for one
week with a `ThemeCounter`, asks `top_themes` for the list, and `compare`s it with the counts it stored for
earlier weeks.

Theme keys (`terms`):
- Personal details are masked first (`analysis.redact`), and its tokens dropped, so a name people give never
  becomes a theme label.
- Tokens come from a regex, not a tokenizer that needs NLTK data. Lower-cased; curly apostrophes made
  straight; URLs, e-mail addresses, @mentions, bare domains and any token with a digit in it (numbers, times,
  phone numbers, "2nd") are dropped; emoji and punctuation are dropped too. Hyphenated words stay one token
  ("drop-in"); a possessive "'s" is removed ("staff's" -> "staff"); tokens shorter than 2 letters are dropped.
- Stop words come from `analysis/data/stopwords/<language>.txt`. A language with no list shipped yields no
  themes at all (an empty set), rather than themes made of its function words.
- Word forms are merged with NLTK's Snowball stemmer, which is pure code (no corpus): "waiting", "waited",
  "wait" -> "wait". A key is a stem; a label is the surface form people wrote most.
- Bigrams join two content words that stand next to each other in the answer ("long waiting time" ->
  "long wait", "wait time"). A stop word, punctuation, a dropped token or an emoji in between breaks the
  pair, so "staff were kind" gives "staff" and "kind" but no bigram.
- Negations ("no", "not", "never", "nobody", "don't", "cant"...) are not stop words: one binds to the next
  content word of its clause (up to NEGATION_REACH stop words may stand between; for "no", none) and makes the
  key "not <stem>" in place of that word's unigram: "nobody answered" -> "not answer", "staff were not very
  kind" -> "not kind" (never "kind"). The word still forms ordinary bigrams with its neighbours.
- A set: an answer counts once per key however often it repeats a word.
- An answer that only says there is nothing to add ("no ta", "nah im good", "n/a", "👍";
  `analysis.nothing_to_add.says_nothing`) has no themes, whatever the question.

Aliases are staff decisions, key -> target name: several keys mapped to one name merge into one theme, one
key mapped to a new name renames it, a key mapped to "" hides it. A merged theme counts an answer once even
when the answer has several of its keys. Prefer giving them at count time, `ThemeCounter(aliases=...)`:
`counts()` is then final and is what the digest stores for next week's `compare`, so the weeks stay
comparable. `top_themes(aliases=...)` applies (more) aliases afterwards, exactly, from the per-answer key
sets the counter keeps; it is for previewing a merge in the console without recounting.

Subsumption (`top_themes`): a unigram is left out when at least SUBSUME_SHARE of the answers that contain
it also contain a listed bigram made of it ("time" inside "wait time"), so the list does not say the same
thing three times. Keys named by an alias are never left out and never leave others out.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from analysis.language import primary_language
from analysis.nothing_to_add import says_nothing
from analysis.redact import EMAIL, NAME, PHONE, POSTCODE, URL, redact

STOPWORDS_DIR = Path(__file__).resolve().parent / "data" / "stopwords"

SUBSUME_SHARE = 0.8      # a unigram inside a listed bigram in >= this share of its answers is left out
TREND_MIN_ANSWERS = 2    # rising/falling needs a change of at least this many answers against the mean...
TREND_MIN_SHARE = 0.5    # ... and of at least this share of the mean (so 10 -> 13 is steady, 2 -> 4 rising)
NEW, RISING, FALLING, STEADY = "new", "rising", "falling", "steady"
NEGATED = "not"          # head of a negation key: "not answer"

# Snowball stemmer names by ISO 639-1 code. A language with a stop-word list but no stemmer here is counted
# by exact (lower-cased) word form.
_SNOWBALL = {
    "ar": "arabic", "da": "danish", "de": "german", "en": "english", "es": "spanish", "fi": "finnish",
    "fr": "french", "hu": "hungarian", "it": "italian", "nl": "dutch", "no": "norwegian", "nb": "norwegian",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish",
}
# Negations per language. Tokens ending in "n't" are negations in English too (see _classify).
_NEGATIONS = {
    "en": frozenset({
        "no", "not", "never", "nobody", "noone", "no-one", "nothing", "none", "nowhere", "cannot", "without",
        "neither",
        "dont", "doesnt", "didnt", "cant", "couldnt", "wont", "wouldnt", "isnt", "wasnt", "arent", "werent",
        "havent", "hasnt", "hadnt", "shouldnt", "aint",
    }),
}

# One pass over the text. Order matters: the "drop" alternatives must win over the word alternative.
_TOKEN_RE = re.compile(
    r"(?P<drop>"
    + "|".join(re.escape(t) for t in (PHONE, EMAIL, POSTCODE, NAME, URL)) +  # what redaction put in its place
    r"|(?:https?://|www\.)\S+"                                    # URLs
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"                              # e-mail addresses
    r"|@\w+"                                                      # @mentions
    r"|(?:[^\W_]+\.)+(?:com|org|net|uk|io|info|gov|edu)\b\S*"     # bare domains: example.org/help, x.co.uk
    r"|\w*\d\w*"                                                  # anything with a digit: 3, 10am, 2nd, phone numbers
    r")"
    r"|(?P<word>[^\W\d_]+(?:['-][^\W\d_]+)*)"                     # words, with inner apostrophes and hyphens
    r"|\S",                                                       # anything else (punctuation, emoji): a break
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}")

# What _classify says about a token
_STOP, _NEG, _CONTENT = 0, 1, 2


@dataclass(frozen=True)
class Theme:
    key: str     # the stem key ("wait time"), or an alias target name
    label: str   # what to show: the most common surface form ("waiting times"), or the alias target name
    count: int   # answers that contain it (once per answer)


@dataclass(frozen=True)
class ThemeTrend:
    key: str
    label: str
    count: int
    previous_count: int     # last week's count, 0 when there is no last week or the key was absent
    change: int             # count - previous_count
    mean_previous: float    # mean count over all given earlier weeks (absent = 0); 0.0 when none given
    status: str             # new | rising | falling | steady (see compare)


# --- language data -----------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def stopwords(language: str) -> frozenset[str] | None:
    """The shipped stop-word list of a primary language code, or None when none is shipped."""
    if not _LANGUAGE_RE.fullmatch(language):   # also keeps the file name inside STOPWORDS_DIR
        return None
    path = STOPWORDS_DIR / f"{language}.txt"
    if not path.is_file():
        return None
    words = (line.split("#", 1)[0].strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(w.translate(_APOSTROPHES) for w in words if w)


@lru_cache(maxsize=None)
def _stemmer(language: str) -> Callable[[str], str]:
    name = _SNOWBALL.get(language)
    if name is None:
        return str.lower
    # Imported here: NLTK takes ~0.2 s to import, and only counting needs it. ignore_stopwords stays False:
    # True would load NLTK's stopwords corpus, which is not installed.
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer(name).stem


@lru_cache(maxsize=200_000)
def _classify(token: str, language: str) -> tuple[int, str, str]:
    """(kind, key, surface) of one lower-cased token. Cached: stemming is the main cost of counting, and
    feedback repeats a small vocabulary."""
    stop = stopwords(language) or frozenset()
    if token in stop:
        return _STOP, "", ""
    if token in _NEGATIONS.get(language, ()) or (language == "en" and token.endswith("n't")):
        return _NEG, NEGATED, token
    if token.endswith("'s"):                  # possessive: "staff's" -> "staff"
        token = token[:-2]
        if token in stop:
            return _STOP, "", ""
    if len(token) < 2:
        return _STOP, "", ""
    stem = _stemmer(language)
    if "-" in token:                          # "drop-in" stays one theme; stem each part: "follow-ups" -> "follow-up"
        parts = token.split("-")
        if all(p in stop or len(p) < 2 for p in parts):
            return _STOP, "", ""
        return _CONTENT, "-".join(stem(p) for p in parts), token
    return _CONTENT, stem(token), token


# --- one answer --------------------------------------------------------------------------------------------
NEGATION_REACH = 3       # a negation binds to a content word at most this many tokens on ("didn't get a call")
# "no" binds only to the very next word: SMS drops commas, and "no the staff were kind" must not become
# "not staff". "no one" is "nobody" and reaches as far.
_NEAR_NEGATIONS = frozenset({"no"})
_NO_ONE = ("no", "one")


def _scan(text: str, language: str) -> Iterator[tuple[str, str]]:
    """(key, surface) for every theme occurrence in one answer, in order; repeats possible. The language
    must already be primary and have a stop-word list."""
    previous: tuple[str, str] | None = None  # last content word, while nothing has broken the pair
    negation: str | None = None              # pending negation's surface
    reach = 0
    for m in _TOKEN_RE.finditer(text.translate(_APOSTROPHES).lower()):
        word = m.group("word")
        if word is None:                      # dropped token or punctuation/emoji: ends pairs and negations
            previous, negation = None, None
            continue
        kind, key, surface = _classify(word, language)
        if kind == _CONTENT:
            if negation is not None:
                yield f"{NEGATED} {key}", f"{negation} {surface}"
                negation = None
            else:
                yield key, surface
            if previous is not None and previous[0] != key:
                yield f"{previous[0]} {key}", f"{previous[1]} {surface}"
            previous = (key, surface)
            continue
        previous = None
        if kind == _NEG:
            negation, reach = surface, (1 if surface in _NEAR_NEGATIONS else NEGATION_REACH)
        elif (negation, word) == _NO_ONE:
            negation, reach = "no one", NEGATION_REACH
        elif negation is not None:
            reach -= 1
            if reach <= 0:
                negation = None


def terms(text: str, language: str = "en") -> set[str]:
    """Theme keys in one answer: stems of content words and of adjacent content-word bigrams, stop words
    removed, negated words as "not <stem>". Empty for a language with no shipped stop-word list, and for an
    answer that says there is nothing to add."""
    lang = primary_language(language)
    if not text or stopwords(lang) is None or says_nothing(text):
        return set()
    return {key for key, _ in _scan(text, lang)}


# --- counting ----------------------------------------------------------------------------------------------
def _is_bigram(key: str) -> bool:
    return key.count(" ") == 1


class ThemeCounter:
    """Counts, for one set of answers (a survey's week), how many answers contain each theme key.

    `aliases` (key -> target name, "" to hide) are applied to each answer's keys before counting, so an
    answer counts once per resulting theme. Besides the counts it keeps how many answers had each distinct
    set of raw (un-aliased) keys, so `top_themes` can apply more aliases and judge subsumption exactly, and
    the surface forms of every raw key, for labels. An answer in a language with no stop-word list adds
    nothing but one to `answers`.
    """

    def __init__(self, language: str = "en", aliases: Mapping[str, str] | None = None) -> None:
        self.language = primary_language(language)
        self.aliases: dict[str, str] = {k: v for k, v in (aliases or {}).items() if k != v}
        self.answers = 0                               # answers added, with or without themes
        self._counts: Counter[str] = Counter()         # after aliases
        self._sets: Counter[frozenset[str]] = Counter()  # raw key sets; answers alike in keys share an entry
        self._surfaces: dict[str, Counter[str]] = {}
        self._supported = stopwords(self.language) is not None

    def add(self, text: str) -> None:
        """Count one answer."""
        self.answers += 1
        if not text or not self._supported or says_nothing(text):
            return
        seen: dict[str, str] = {}
        # Labels are people's words: a name given in an answer ("my name is Sarah Jones") must not become a
        # theme that leaves in a digest or a listing, so personal details are masked before counting.
        for key, surface in _scan(redact(text), self.language):
            seen.setdefault(key, surface)             # one surface per key per answer: labels count answers too
        if not seen:
            return
        surfaces = self._surfaces
        for key, surface in seen.items():
            forms = surfaces.get(key)
            if forms is None:
                forms = surfaces[key] = Counter()
            forms[surface] += 1
        self._sets[frozenset(seen)] += 1
        if self.aliases:
            self._counts.update({self.aliases.get(k, k) for k in seen} - {""})
        else:
            self._counts.update(seen.keys())

    def copy(self) -> ThemeCounter:
        """An independent counter that has counted the same answers (adding to it leaves this one as it is)."""
        other = ThemeCounter.__new__(ThemeCounter)
        other.language, other.aliases, other.answers = self.language, dict(self.aliases), self.answers
        other._counts, other._sets = Counter(self._counts), Counter(self._sets)
        other._surfaces = {k: Counter(v) for k, v in self._surfaces.items()}
        other._supported = self._supported
        return other

    def counts(self) -> dict[str, int]:
        """Key (after the counter's aliases) -> number of answers containing it."""
        return dict(self._counts)

    def label(self, key: str) -> str:
        """The surface form written most often for a raw key ("waiting times" for "wait time"; a tie goes to
        the form seen first); any other key (an alias target name) is its own label."""
        forms = self._surfaces.get(key)
        if not forms:
            return key
        return forms.most_common(1)[0][0]

    def answer_key_sets(self) -> Iterator[tuple[frozenset[str], int]]:
        """(a distinct set of raw keys of one answer, the number of answers with exactly that set)."""
        return iter(self._sets.items())


# --- the list for the digest -------------------------------------------------------------------------------
def top_themes(counter: ThemeCounter, *, limit: int = 10, min_count: int = 2,
               aliases: Mapping[str, str] | None = None) -> list[Theme]:
    """The `limit` themes in the most answers, each in at least `min_count` answers, most first (ties: phrases,
    i.e. keys or names with one space, before single words, then by key).

    `aliases` apply per answer after the counter's own (so they may name the counter's targets too). A
    unigram is left out when, in at least SUBSUME_SHARE of its answers, it is part of a bigram whose theme
    (the bigram itself, or what an alias made of it) is in at least `min_count` answers. A key that is an
    alias target is never left out."""
    extra = {k: v for k, v in (aliases or {}).items() if k != v}
    mapping = dict(counter.aliases)
    for key, target in mapping.items():
        mapping[key] = extra.get(target, target)
    for key, target in extra.items():
        mapping.setdefault(key, target)
    if extra:
        counts: Counter[str] = Counter()
        for keys, n in counter.answer_key_sets():
            for theme in {mapping.get(k, k) for k in keys} - {""}:
                counts[theme] += n
    else:
        counts = Counter(counter.counts())

    eligible = {k: n for k, n in counts.items() if n >= min_count}
    hidden = _subsumed(eligible, counter.answer_key_sets(), mapping)
    ranked = sorted((k for k in eligible if k not in hidden), key=lambda k: (-eligible[k], not _is_bigram(k), k))
    # An alias target that is not a raw key has no surface forms, so label() returns the name itself.
    return [Theme(k, counter.label(k), eligible[k]) for k in ranked[:limit]]


def _subsumed(eligible: Mapping[str, int], sets: Iterable[tuple[frozenset[str], int]],
              mapping: Mapping[str, str]) -> set[str]:
    """Eligible unigrams that are, in at least SUBSUME_SHARE of their answers, part of a bigram whose theme
    is eligible."""
    targets = set(mapping.values())
    candidates = {k for k in eligible if not _is_bigram(k) and k not in targets and k not in mapping}
    if not candidates:
        return set()
    inside: Counter[str] = Counter()
    for keys, n in sets:
        covered = set()
        for key in keys:
            if _is_bigram(key) and mapping.get(key, key) in eligible:
                covered.update(part for part in key.split(" ") if part in candidates and part in keys)
        for u in covered:
            inside[u] += n
    return {u for u, n in inside.items() if n >= SUBSUME_SHARE * eligible[u]}


# --- against earlier weeks -----------------------------------------------------------------------------------
def compare(current: list[Theme], previous: Sequence[Mapping[str, int]]) -> list[ThemeTrend]:
    """One trend per current theme, in the same order. `previous` holds the counts per key of earlier weeks,
    most recent first (a key missing from a week counts 0); keys must come from the same aliases.

    Status, against the mean over the given weeks (a mean, so one odd week does not flip it):
    - "new": the key has no answers in any given week (also when no earlier week is given);
    - "rising": count - mean >= max(TREND_MIN_ANSWERS, TREND_MIN_SHARE * mean);
    - "falling": mean - count >= the same;
    - "steady": otherwise.
    """
    trends = []
    for theme in current:
        history = [int(week.get(theme.key, 0)) for week in previous]
        last = history[0] if history else 0
        mean = sum(history) / len(history) if history else 0.0
        needed = max(TREND_MIN_ANSWERS, TREND_MIN_SHARE * mean)
        if not any(history):
            status = NEW
        elif theme.count - mean >= needed:
            status = RISING
        elif mean - theme.count >= needed:
            status = FALLING
        else:
            status = STEADY
        trends.append(ThemeTrend(theme.key, theme.label, theme.count, last, theme.count - last, mean, status))
    return trends
