"""Safeguarding flags for free-text answers: does this answer suggest that someone is at risk?

Pure: no database, no network, no clock. The caller decides what to do with a flag (alert staff, hold the
answer out of digests); this module only says which categories and which lexicon rules matched.

Contract
- `Safeguarding(extra_dir=None)` loads every shipped lexicon (`analysis/data/safeguarding/<lang>.yaml`),
  then every `<lang>.yaml` in `extra_dir`. An extra file adds to the shipped lexicon of its language, or
  replaces it when it says `replace: true`; a file for a language with no shipped lexicon adds a language.
  Any bad file raises `LexiconError` at start ("{path}: {key}: {what is wrong}"), never at check time.
- `Safeguarding.check(text, language)` -> `Hit | None`. `language` is a tag ("en", "en-GB", "es_MX");
  only the primary subtag counts. A language with no lexicon gives None: no lexicon, no opinion. Two layers:
  the lexicon's phrases, then (for an answer they did not flag, in a language whose file gives enough
  `examples:`) the similarity layer of `analysis.similarity`. `Safeguarding(similarity=False)` is the lexicon
  alone; `layers()` and `describe()` say which layers read which language.
- `Hit(categories, rules, layer, score)`: sorted category names from CATEGORIES and sorted rule ids
  ("suicide.want_to_die") naming the rules that matched; `layer` "lexicon" or "similarity" (then `rules` is
  the rule of the closest example and `score` its cosine similarity). A Hit never carries the answer's text:
  staff see why it flagged, and the flag can travel where the answer may not.
- `load_lexicon(path)` -> `Lexicon` for one file on its own (for tools and tests).

Categories
- suicide: thoughts, wishes or plans to end one's life, the means, goodbyes, not being able to keep safe.
- self_harm: hurting oneself (cutting, burning, overdose) without a stated wish to die.
- abuse: harm, sexual abuse or control by someone close (partner, family, carer, "he"/"she"), or being
  unsafe or afraid at home.
- violence: weapons, assaults, threats of violence, or the writer saying they will hurt someone.
- danger: in danger now: followed, trapped, threatened with being killed, asking for the police.
- exploitation: a child or adult used by others: county lines, grooming, modern slavery, cuckooing.
- destitution: sleeping rough, nowhere to stay tonight, not eating for days, no heat in the cold.

Recall before precision. A false alert costs a member of staff a minute; a miss can cost a life. So
negation is ignored ("I'm not going to kill myself" flags), and the only things that stop a flag are the
lexicon's `not_a_risk` idioms ("the wait killed me", "shoot me an email").

Matching (see the header of `data/safeguarding/en.yaml` for the file format, written for the people who
will edit it)
- The answer and every phrase are normalised the same way: case folded, accents dropped, apostrophes
  (straight or curly) removed ("I'm" = "im"), other punctuation and emoji turned into spaces, and doubled
  letters made single, so "kil myself", "killl myself" and "kill myself" are one spelling. Sentence
  punctuation (. ! ? , ; : and new lines) is kept as a boundary that `not_a_risk` phrases never cross (an
  idiom lives in one sentence); risk phrases read straight across it ("I want to... die").
- `not_a_risk` phrases are crossed out of the answer first; risk phrases are then read in what is left.
  So "the wait killed me, I want to kill myself" still flags.
- All phrases are compiled to regular expressions once, at load, each with the words it cannot match
  without ("clauses"). A check normalises the answer, looks its words up, and runs only the regexes of
  phrases whose every clause is present: most answers run none. Exceptions run only after a risk matched.

Speed: the shipped English lexicon alone reads about 50,000 answers a second on one core, both layers about
20,000 (benchmarks/safeguarding.py, table in the README). Loading and compiling takes well under a second,
once per process.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis.language import primary_language

CATEGORIES = ("abuse", "danger", "destitution", "exploitation", "self_harm", "suicide", "violence")
SHIPPED_DIR = Path(__file__).resolve().parent / "data" / "safeguarding"
TOP_LEVEL_KEYS = ("language", "replace", "words", "risks", "not_a_risk", "ordinary")
RULE_KEYS = ("source", "phrases", "examples")
LAYERS = ("lexicon", "similarity")
GAP_WORDS = 3           # `...` in a phrase stands for up to this many words
MIN_PREFIX = 2          # letters before a `*`: "k*" would match half the dictionary

_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
_NAME_RE = re.compile(r"^[a-z0-9_]+$")


class LexiconError(ValueError):
    """A lexicon file is unreadable or malformed. str() is "{path}: {key}: {problem}"."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path, self.key, self.problem = Path(path), key, problem
        super().__init__(f"{path}: {key}: {problem}")


@dataclass(frozen=True)
class Hit:
    categories: tuple[str, ...]   # sorted, from CATEGORIES
    rules: tuple[str, ...]        # sorted ids of the rules that matched, "category.rule"; never the answer's text
    layer: str = "lexicon"        # which layer raised it: "lexicon" (a phrase matched) or "similarity"
    score: float | None = None    # similarity layer only: cosine similarity to the closest example (0..1)


# --- normalisation -----------------------------------------------------------------------------------------
# The same function prepares answers and phrase words, so a lexicon author writes ordinary spelling and
# the answer's case, apostrophes, punctuation and letter-doubling never matter.
# Regex substitutions rather than str.translate: translate with a mapping costs ~60 ns a character.
_APOSTROPHES_RE = re.compile("['\u2019\u2018`\u00b4\u02bc\u2032]+")
_BOUNDARY_RE = re.compile(r"[.!?;:,\n\r|\u2026\u3002\uff01\uff1f]+")
_NON_WORD_RE = re.compile(r"(?:[^\w|]|_)+")
_DOUBLE_ASCII_RE = re.compile(r"([a-z])\1+")
_DOUBLE_RE = re.compile(r"([^\W\d_])\1+")      # letters only: "999" must stay "999"
_BOUNDARY = "|"
_CROSSED_OUT = "# "     # what a not_a_risk match becomes: not a word, and not a boundary risk phrases may skip


def normalise(text: str) -> str:
    """" word word | word ": lower case, no accents or apostrophes, single letters, one space between
    tokens, a space at each end; sentence punctuation becomes the boundary token "|"."""
    if text.isascii():
        text, double = text.lower(), _DOUBLE_ASCII_RE
    else:
        text = unicodedata.normalize("NFKD", text.casefold())
        text, double = "".join(c for c in text if not unicodedata.combining(c)), _DOUBLE_RE
    text = _APOSTROPHES_RE.sub("", text)
    text = _NON_WORD_RE.sub(" ", _BOUNDARY_RE.sub(" | ", text))
    return " " + double.sub(r"\1", text).strip() + " "


def _phrase_words(word: str) -> str:
    """A phrase word normalised like an answer, but punctuation inside a phrase is never a boundary."""
    return " ".join(t for t in normalise(word).split() if t != _BOUNDARY)


# --- phrases -------------------------------------------------------------------------------------------------
# A phrase parses to a small tree of tuples:
#   ("word", "self harm")  ("prefix", "kil")  ("any",)  ("gap",)  ("ref", "myself")
#   ("seq", [nodes])       ("alt", [seq nodes], optional)
_SYNTAX_RE = re.compile(r"(\.\.\.|[()\[\]/]|<[^<>\s]*>)")


class _PhraseSyntaxError(Exception):
    pass


def parse_phrase(phrase: str) -> tuple:
    """Parse one phrase of the lexicon syntax; raises _PhraseSyntaxError with a message for a person."""
    if re.search(r"[)\]]\s*\?", phrase):
        raise _PhraseSyntaxError("'?' after brackets means nothing here: use [ ] for words that may be left out")
    # "|" is accepted for "/" because people who have seen regular expressions will write it.
    phrase = phrase.replace("\u2026", "...").replace("|", "/")
    tokens = _SYNTAX_RE.sub(r" \1 ", phrase).split()
    pos = 0

    def seq(closing: str | None) -> tuple:
        nonlocal pos
        items = []
        while pos < len(tokens):
            tok = tokens[pos]
            if tok in (")", "]"):
                if closing is None:
                    raise _PhraseSyntaxError(f"a '{tok}' that closes nothing")
                if tok != closing:
                    raise _PhraseSyntaxError(f"'{_OPENING[closing]}' closed by '{tok}'")
                break
            if tok == "/":
                if closing is None:
                    raise _PhraseSyntaxError("a '/' outside brackets: write choices in brackets, e.g. (he/she) hit me")
                break
            pos += 1
            if tok in ("(", "["):
                items.append(group(tok))
            elif tok == "...":
                items.append(("gap",))
            elif tok.startswith("<") and tok.endswith(">"):
                name = tok[1:-1].strip().lower()
                if not _NAME_RE.match(name):
                    raise _PhraseSyntaxError(f"{tok} is not a words-list name (letters, digits and _ only)")
                items.append(("ref", name))
            else:
                node = _word(tok)
                if node is not None:
                    items.append(node)
        return ("seq", items)

    def group(opening: str) -> tuple:
        nonlocal pos
        closing = ")" if opening == "(" else "]"
        choices = [seq(closing)]
        while pos < len(tokens) and tokens[pos] == "/":
            pos += 1
            choices.append(seq(closing))
        if pos >= len(tokens):
            raise _PhraseSyntaxError(f"a '{opening}' that is never closed with '{closing}'")
        pos += 1
        if opening == "(" and any(not c[1] for c in choices):
            raise _PhraseSyntaxError("an empty choice in ( ): use [ ] for words that may be left out")
        choices = [c for c in choices if c[1]]
        if not choices:
            raise _PhraseSyntaxError(f"empty brackets {opening}{closing}")
        return ("alt", choices, opening == "[")

    tree = seq(None)
    if pos < len(tokens):   # only a stray ')' or ']' stops the top level early
        raise _PhraseSyntaxError(f"a '{tokens[pos]}' that closes nothing")
    if not _needs_word(tree):
        raise _PhraseSyntaxError("needs at least one word that must be there (not only [optional] words, * or ...)")
    return tree


_OPENING = {")": "(", "]": "["}


def _word(tok: str) -> tuple | None:
    if "<" in tok or ">" in tok:
        raise _PhraseSyntaxError(f"'{tok}': a words-list name is written <name>, with no spaces")
    if tok == "*":
        return ("any",)
    if "*" in tok[:-1]:
        raise _PhraseSyntaxError(f"'{tok}': a * may only end a word (kill* matches kill, kills, killed)")
    if tok.endswith("*"):
        stem = _phrase_words(tok[:-1])
        if " " in stem or len(stem) < MIN_PREFIX:
            raise _PhraseSyntaxError(f"'{tok}': a * needs at least {MIN_PREFIX} letters of one word before it")
        return ("prefix", stem)
    words = _phrase_words(tok)
    return ("word", words) if words else None   # a token of pure punctuation ("-", "!") is nothing


def _needs_word(node: tuple) -> bool:
    """True when every match of the node contains at least one fixed word (or a words-list entry, which
    is itself checked to contain one)."""
    kind = node[0]
    if kind in ("word", "prefix", "ref"):
        return True
    if kind == "seq":
        return any(_needs_word(n) for n in node[1])
    if kind == "alt":
        return not node[2] and all(_needs_word(c) for c in node[1])
    return False      # any, gap


def _refs(node: tuple):
    if node[0] == "ref":
        yield node[1]
    elif node[0] == "seq":
        for n in node[1]:
            yield from _refs(n)
    elif node[0] == "alt":
        for c in node[1]:
            yield from _refs(c)


# Every word in a compiled pattern is followed by a separator. Risk phrases may step over sentence
# boundaries; not_a_risk phrases may not (an idiom lives inside one sentence).
_RISK_SEP = r" (?:\| )*"
_EXCEPTION_SEP = " "


def _render(node: tuple, sep: str, ref) -> str:
    kind = node[0]
    if kind == "word":
        return "".join(re.escape(w) + sep for w in node[1].split())
    if kind == "prefix":
        return re.escape(node[1]) + r"\w*" + sep
    if kind == "any":
        return r"\w+" + sep
    if kind == "gap":
        return rf"(?:\w+{sep}){{0,{GAP_WORDS}}}"
    if kind == "seq":
        return "".join(_render(n, sep, ref) for n in node[1])
    if kind == "alt":
        return "(?:" + "|".join(_render(c, sep, ref) for c in node[1]) + ")" + ("?" if node[2] else "")
    return ref(node[1], sep)


# --- reading files ---------------------------------------------------------------------------------------------
@dataclass
class _Phrase:
    text: str
    path: Path
    key: str
    tree: tuple


@dataclass
class _Draft:
    """One language's lexicon, read and checked but not yet compiled (extra files merge into it)."""

    language: str
    path: Path
    words: dict[str, list[_Phrase]] = field(default_factory=dict)
    rules: dict[str, tuple[str, list[_Phrase]]] = field(default_factory=dict)   # id -> (category, phrases)
    not_a_risk: list[_Phrase] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)           # rule id -> published guidance it comes from
    examples: dict[str, list[str]] = field(default_factory=dict)    # rule id -> answers in people's words
    ordinary: list[str] = field(default_factory=list)               # ordinary feedback that shares risk words

    def merge(self, other: _Draft) -> None:
        for name, phrases in other.words.items():
            self.words.setdefault(name, []).extend(phrases)
        for rule_id, (category, phrases) in other.rules.items():
            self.rules.setdefault(rule_id, (category, []))[1].extend(phrases)
        self.not_a_risk.extend(other.not_a_risk)
        for rule_id, source in other.sources.items():
            self.sources[rule_id] = f"{self.sources[rule_id]}; {source}" if rule_id in self.sources else source
        for rule_id, examples in other.examples.items():
            self.examples.setdefault(rule_id, []).extend(examples)
        self.ordinary.extend(other.ordinary)


def _phrase(value, path: Path, key: str) -> _Phrase:
    if isinstance(value, bool):
        raise LexiconError(path, key, "YAML read this as yes/no (true/false): put the phrase in quotes")
    if isinstance(value, (int, float)):
        value = str(value)
    if isinstance(value, (list, dict)):
        raise LexiconError(path, key, "is a list or mapping, not a phrase: a phrase that starts with [ or { "
                                      "must be in quotes")
    if not isinstance(value, str) or not value.strip():
        raise LexiconError(path, key, "is empty: expected a phrase")
    try:
        tree = parse_phrase(value)
    except _PhraseSyntaxError as e:
        raise LexiconError(path, key, f"{e} in {value!r}") from None
    return _Phrase(value, path, key, tree)


def _phrase_list(value, path: Path, key: str) -> list[_Phrase]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise LexiconError(path, key, "expected a list of phrases (lines starting with '- ')")
    if not value:
        raise LexiconError(path, key, "has no phrases")
    return [_phrase(v, path, f"{key}[{i}]") for i, v in enumerate(value, 1)]


def _sentences(value, path: Path, key: str) -> list[str]:
    """Examples and ordinary answers: plain sentences, not phrases (no syntax is read in them)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise LexiconError(path, key, "expected a list of example answers (lines starting with '- ')")
    out = []
    for i, v in enumerate(value, 1):
        if isinstance(v, bool):
            raise LexiconError(path, f"{key}[{i}]", "YAML read this as yes/no (true/false): put the answer in quotes")
        if isinstance(v, (int, float)):
            v = str(v)
        if not isinstance(v, str) or not normalise(v).replace(_BOUNDARY, "").strip():
            raise LexiconError(path, f"{key}[{i}]", "is empty or not a sentence: expected an answer as someone would write it")
        out.append(v)
    return out


def _rule(value, path: Path, key: str) -> tuple[list[_Phrase], str | None, list[str]]:
    """A rule is a list of phrases, or a mapping with `source:`, `phrases:` and optional `examples:`."""
    if not isinstance(value, dict):
        return _phrase_list(value, path, key), None, []
    for k in value:
        if k not in RULE_KEYS:
            close = difflib.get_close_matches(str(k), RULE_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise LexiconError(path, f"{key}.{k}", f"unknown key{hint}: a rule has {', '.join(RULE_KEYS)}")
    if "phrases" not in value:
        raise LexiconError(path, key, "has no `phrases:` (a rule written as a mapping lists its phrases under `phrases:`)")
    source = value.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise LexiconError(path, f"{key}.source", "expected the organisation and page title the rule comes from")
    examples = _sentences(value["examples"], path, f"{key}.examples") if value.get("examples") is not None else []
    return _phrase_list(value["phrases"], path, f"{key}.phrases"), (source.strip() if source else None), examples


def _mapping(value, path: Path, key: str) -> dict:
    if not isinstance(value, dict):
        raise LexiconError(path, key, "expected a mapping (indented 'name:' lines)")
    return value


def _name(value, path: Path, key: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise LexiconError(path, f"{key}.{value}", f"{what} {value!r} must use only a-z, 0-9 and _ (no spaces)")
    return value


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key, line: int) -> None:
        self.key, self.line = key, line


class _StrictLoader(yaml.SafeLoader):
    """PyYAML keeps only the last of two equal keys; in a lexicon that silently drops a rule's phrases."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKey(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read(path: Path) -> tuple[_Draft, bool]:
    """One file, checked: (its draft, whether it says `replace: true`)."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LexiconError(path, "file", f"cannot be read ({e})") from None
    try:
        data = yaml.load(source, Loader=_StrictLoader)
    except _DuplicateKey as e:
        raise LexiconError(path, f"line {e.line}", f"{e.key!r} appears twice at the same level: merge the two "
                                                   "into one (YAML would silently keep only the last)") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        problem = getattr(e, "problem", None) or str(e)
        raise LexiconError(path, where, f"not valid YAML ({problem}); a phrase that starts with [ {{ * or "
                                        "contains ': ' or ' #' must be in quotes") from None
    if data is None:
        raise LexiconError(path, "file", "is empty")
    data = _mapping(data, path, "(top level)")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            close = difflib.get_close_matches(str(key), TOP_LEVEL_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise LexiconError(path, str(key), f"unknown key{hint}: expected one of {', '.join(TOP_LEVEL_KEYS)}")

    stem = path.stem.lower()
    language = data.get("language", stem)
    if not isinstance(language, str) or not _LANGUAGE_RE.match(language.strip().lower()):
        raise LexiconError(path, "language", f"{language!r} is not a language code such as 'en' or 'es' "
                                             "(name the file <language>.yaml or set `language:`)")
    language = language.strip().lower()
    if _LANGUAGE_RE.match(stem) and stem != language:
        raise LexiconError(path, "language", f"says {language!r} but the file is named {path.name}")
    replace = data.get("replace", False)
    if not isinstance(replace, bool):
        raise LexiconError(path, "replace", f"expected true or false, got {replace!r}")

    draft = _Draft(language, path)
    for name, value in _mapping(data.get("words") or {}, path, "words").items():
        name = _name(name, path, "words", "the words-list name")
        draft.words[name] = _phrase_list(value, path, f"words.{name}")
    for category, rules in _mapping(data.get("risks") or {}, path, "risks").items():
        if category not in CATEGORIES:
            raise LexiconError(path, f"risks.{category}", f"unknown category: expected one of {', '.join(CATEGORIES)}")
        for rule, value in _mapping(rules or {}, path, f"risks.{category}").items():
            rule = _name(rule, path, f"risks.{category}", "the rule name")
            rule_id = f"{category}.{rule}"
            phrases, source, examples = _rule(value, path, f"risks.{category}.{rule}")
            draft.rules[rule_id] = (category, phrases)
            if source:
                draft.sources[rule_id] = source
            if examples:
                draft.examples[rule_id] = examples
    if data.get("not_a_risk") is not None:
        draft.not_a_risk = _phrase_list(data["not_a_risk"], path, "not_a_risk")
    if data.get("ordinary") is not None:
        draft.ordinary = _sentences(data["ordinary"], path, "ordinary")
    return draft, replace


# --- compiling -----------------------------------------------------------------------------------------------
# Running every phrase's regular expression on every answer costs ~200 µs for a paragraph. Instead each
# phrase gets clauses: for each part that must be there, the words (and word starts, for `kill*`) that part
# can be. A phrase can only match an answer that has a word from every clause, so an answer costs a few
# set operations, and only phrases that pass run their regex.
Clause = tuple[frozenset, frozenset]      # (whole words, word starts): the answer must contain one of them


def _cost(clause: Clause) -> float:
    """Rough chance that an answer contains a word of the clause: short words are common words."""
    words, starts = clause
    return sum(1.0 / len(w) ** 2 for w in words) + sum(2.0 / len(p) ** 2 for p in starts)


def _either(clauses: list[Clause]) -> Clause:
    return frozenset().union(*(w for w, _ in clauses)), frozenset().union(*(p for _, p in clauses))


def _clauses(node: tuple, ref) -> list[Clause]:
    """What any match of the node must contain, as clauses that must all hold; [] when nothing is certain."""
    kind = node[0]
    if kind == "word":
        return [(frozenset({w}), frozenset()) for w in node[1].split()]
    if kind == "prefix":
        return [(frozenset(), frozenset({node[1]}))]
    if kind == "seq":
        return [c for n in node[1] for c in _clauses(n, ref)]
    if kind == "alt":
        if node[2]:
            return []
        best = [min(cs, key=_cost) if cs else None for cs in (_clauses(c, ref) for c in node[1])]
        return [] if None in best else [_either(best)]
    if kind == "ref":
        return [ref(node[1])]
    return []     # any, gap


def _holds(clause: Clause, tokens: set[str], starts: set[str]) -> bool:
    """tokens: the answer's words; starts: the lexicon's word starts that begin one of them."""
    return not clause[0].isdisjoint(tokens) or not clause[1].isdisjoint(starts)


class Lexicon:
    """One language's compiled lexicon. Build it with `load_lexicon` or through `Safeguarding`."""

    def __init__(self, language: str, phrases: list[tuple[str, str, str, list[Clause]]], exceptions: str | None,
                 sources: dict[str, str] | None = None, examples: dict[str, list[str]] | None = None,
                 ordinary: list[str] | None = None) -> None:
        """phrases: (rule id, category, regex source, clauses) for every risk phrase; exceptions: the regex
        source of all not_a_risk phrases; sources, examples, ordinary: as read from the file (for the
        similarity layer and for people)."""
        self.language = language
        self.sources = dict(sources or {})
        self.examples = {k: list(v) for k, v in (examples or {}).items()}
        self.ordinary = list(ordinary or ())
        self._rule = [rule_id for rule_id, _, _, _ in phrases]
        self._category = {rule_id: category for rule_id, category, _, _ in phrases}
        self._patterns = [re.compile(f"(?<= )(?:{src})") for _, _, src, _ in phrases]
        self._clauses = [sorted(clauses, key=_cost) for _, _, _, clauses in phrases]   # likeliest to fail first
        # Each phrase is looked up by its rarest clause; its other clauses are checked before its regex.
        self._by_word: dict[str, set[int]] = {}
        self._by_start: dict[str, set[int]] = {}
        for i, clauses in enumerate(self._clauses):
            words, starts = clauses[0]
            for w in words:
                self._by_word.setdefault(w, set()).add(i)
            for p in starts:
                self._by_start.setdefault(p, set()).add(i)
        self._words = frozenset(self._by_word)
        # One scan finds which word starts the answer has. Longest first, so "touche" wins over "touch" at
        # a word, and `_covers` adds back the shorter starts the longer one implies.
        all_starts = sorted({p for clauses in self._clauses for _, ps in clauses for p in ps}, key=len, reverse=True)
        self._starts_re = re.compile("(?<= )(?:" + "|".join(map(re.escape, all_starts)) + ")") if all_starts else None
        self._covers = {p: frozenset(q for q in all_starts if p.startswith(q)) for p in all_starts}
        self._exceptions = re.compile(f"(?<= )(?:{exceptions})") if exceptions else None

    @property
    def rules(self) -> tuple[str, ...]:
        """Ids of every rule, "category.rule"."""
        return tuple(dict.fromkeys(self._rule))

    def category(self, rule_id: str) -> str:
        return self._category[rule_id]

    def cross_out(self, text: str) -> str:
        """The answer normalised, with its not_a_risk idioms crossed out (what the similarity layer reads)."""
        clean = normalise(text or "")
        return self._exceptions.sub(_CROSSED_OUT, clean) if self._exceptions is not None else clean

    def check(self, text: str) -> Hit | None:
        """The categories and rules the answer matches after its not_a_risk idioms are crossed out; None
        when nothing matches. Never raises on odd input (empty, None, emoji only)."""
        if not text:
            return None
        clean = normalise(text)
        tokens = set(clean.split())
        starts: set[str] = set()
        if self._starts_re is not None:
            for m in self._starts_re.finditer(clean):
                starts |= self._covers[m.group()]
        candidates: set[int] = set()
        for w in tokens & self._words:
            candidates |= self._by_word[w]
        for p in starts:
            candidates |= self._by_start.get(p, set())
        matched = [
            i for i in candidates
            if all(_holds(c, tokens, starts) for c in self._clauses[i]) and self._patterns[i].search(clean)
        ]
        if matched and self._exceptions is not None:
            clean = self._exceptions.sub(_CROSSED_OUT, clean)
            matched = [i for i in matched if self._patterns[i].search(clean)]
        if not matched:
            return None
        rules = {self._rule[i] for i in matched}
        return Hit(tuple(sorted({self._category[r] for r in rules})), tuple(sorted(rules)))

    def __repr__(self) -> str:
        return f"<Lexicon {self.language}: {len(self.rules)} rules, {len(self._patterns)} phrases>"


def _compile(draft: _Draft) -> Lexicon:
    if not draft.rules:
        raise LexiconError(draft.path, "risks", "no risk phrases: a lexicon needs at least one rule")
    all_phrases = [p for ps in draft.words.values() for p in ps] + [p for _, ps in draft.rules.values() for p in ps]
    for p in all_phrases + draft.not_a_risk:
        for name in _refs(p.tree):
            if name not in draft.words:
                close = difflib.get_close_matches(name, list(draft.words), n=1)
                hint = f" (did you mean <{close[0]}>?)" if close else ""
                raise LexiconError(p.path, p.key, f"<{name}> is not a list under `words:`{hint}")

    rendered: dict[tuple[str, str], str] = {}
    word_clauses: dict[str, Clause] = {}
    visiting: list[str] = []

    def enter(name: str) -> None:
        if name in visiting:
            first = draft.words[name][0]
            loop = " -> ".join(f"<{n}>" for n in visiting[visiting.index(name):] + [name])
            raise LexiconError(first.path, f"words.{name}", f"refers to itself ({loop})")
        visiting.append(name)

    def ref(name: str, sep: str) -> str:
        if (name, sep) not in rendered:
            enter(name)
            choices = "|".join(_render(p.tree, sep, ref) for p in draft.words[name])
            visiting.pop()
            rendered[(name, sep)] = f"(?:{choices})"
        return rendered[(name, sep)]

    def ref_clause(name: str) -> Clause:
        if name not in word_clauses:
            enter(name)
            # Every entry needs a word (checked at parse), so each has at least one clause.
            word_clauses[name] = _either([min(_clauses(p.tree, ref_clause), key=_cost) for p in draft.words[name]])
            visiting.pop()
        return word_clauses[name]

    for name in draft.words:      # a loop in an unused list is still a mistake worth reporting
        ref(name, _RISK_SEP)
    phrases = [
        (rule_id, category, _render(p.tree, _RISK_SEP, ref), _clauses(p.tree, ref_clause))
        for rule_id, (category, ps) in draft.rules.items()
        for p in ps
    ]
    exceptions = "|".join(_render(p.tree, _EXCEPTION_SEP, ref) for p in draft.not_a_risk) or None
    return Lexicon(draft.language, phrases, exceptions, draft.sources, draft.examples, draft.ordinary)


def load_lexicon(path: Path) -> Lexicon:
    """Read, check and compile one lexicon file on its own. Raises LexiconError naming file, key, problem."""
    draft, _ = _read(Path(path))
    return _compile(draft)


class Safeguarding:
    """The shipped lexicons plus a deployment's own (see the module docstring for the contract), and the
    similarity layer (analysis.similarity) for each language whose lexicon gives enough examples."""

    def __init__(self, extra_dir: Path | None = None, similarity: bool = True) -> None:
        drafts: dict[str, _Draft] = {}
        for path in sorted(SHIPPED_DIR.glob("*.yaml")):
            draft, _ = _read(path)
            drafts[draft.language] = draft
        if extra_dir is not None:
            extra_dir = Path(extra_dir)
            if not extra_dir.is_dir():
                raise LexiconError(extra_dir, "extra_dir", "is not a directory")
            for path in sorted(extra_dir.glob("*.yml")):
                # Silently ignoring a misnamed file would leave staff believing their phrases are in use.
                raise LexiconError(path, "file name", f"name it {path.stem}.yaml (only .yaml files are read)")
            for path in sorted(extra_dir.glob("*.yaml")):
                draft, replace = _read(path)
                if replace or draft.language not in drafts:
                    drafts[draft.language] = draft
                else:
                    drafts[draft.language].merge(draft)
        self._lexicons = {language: _compile(draft) for language, draft in drafts.items()}
        self._similar: dict = {}
        if similarity:
            from analysis import similarity as layer   # numpy; imported here because it imports this module

            for language, lexicon in self._lexicons.items():
                built = layer.build(lexicon)
                if built is not None:
                    self._similar[language] = built

    def languages(self) -> frozenset[str]:
        """Primary language subtags that have a lexicon."""
        return frozenset(self._lexicons)

    def lexicon(self, language: str) -> Lexicon | None:
        return self._lexicons.get(primary_language(language))

    def similarity(self, language: str):
        """The similarity layer for a language, or None (that language is read by its lexicon only)."""
        return self._similar.get(primary_language(language))

    def layers(self) -> dict[str, tuple[str, ...]]:
        """Language -> the layers that read it, e.g. {"en": ("lexicon", "similarity"), "es": ("lexicon",)}."""
        return {lang: ("lexicon", "similarity") if lang in self._similar else ("lexicon",)
                for lang in sorted(self._lexicons)}

    def describe(self) -> str:
        """One line for people: which layers are active for which languages."""
        layers = self.layers()
        with_similarity = [lang for lang, ls in layers.items() if "similarity" in ls]
        line = f"safeguarding layers: lexicon ({', '.join(layers) or 'no language'})"
        if with_similarity:
            return line + f" + similarity ({', '.join(with_similarity)})"
        return line + "; similarity layer off (lexicon only)"

    def check(self, text: str, language: str) -> Hit | None:
        """The answer's Hit in its conversation's language; None when nothing matches or no lexicon. The
        lexicon reads first; the similarity layer reads only what the lexicon did not flag, so each flag has
        one layer that raised it."""
        lexicon = self.lexicon(language)
        if lexicon is None:
            return None
        hit = lexicon.check(text)
        if hit is None:
            similar = self._similar.get(primary_language(language))
            if similar is not None:
                hit = similar.check(text)
        return hit
