"""Reading what people type on a phone into survey answers.

Pure functions, standard library only, no I/O: every inbound SMS/Telegram
message passes through here, so everything is precompiled at import time and
the per-call work is linear in the length of the message.

The guiding rule is *conservative*: when a message could mean two things the
parsers return ``None`` and the engine asks again. Recording a wrong answer is
worse than asking twice.

Public API: :data:`KEYWORDS`, :func:`clean`, :func:`normalise`,
:func:`match_keyword`, :func:`parse_number`, :func:`parse_choice`,
:func:`parse_yes_no`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "KEYWORDS",
    "clean",
    "strip_controls",
    "normalise",
    "match_keyword",
    "parse_number",
    "parse_choice",
    "parse_yes_no",
]


# --------------------------------------------------------------------------
# Cleaning and normalisation
# --------------------------------------------------------------------------


# What no person types and no store or reply can carry: C0 controls except
# tab, newline and carriage return (NUL included: PostgreSQL ``text`` rejects
# it), DEL and the C1 controls, lone surrogates (JSON can escape them; no
# database driver can encode them) and the non-characters U+FFFE/U+FFFF.
# XML 1.0 forbids all of these but DEL and C1, so a reply without them is
# always well-formed TwiML.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def strip_controls(text: str) -> str:
    """``text`` without control characters (tab, newline and carriage return
    stay), lone surrogates or U+FFFE/U+FFFF. Letters, emoji (with their
    joiners and variation selectors) and every other printable character are
    kept. The one cleaning for anything stored from or echoed to a person."""
    if text.isprintable():  # the common case, at C speed: nothing to strip
        return text
    return _CONTROLS.sub("", text)


def clean(text: str) -> str:
    """Return ``text`` as it may be stored and echoed: see :func:`strip_controls`.

    Every inbound message passes through here first, whatever its channel.
    PostgreSQL ``text`` columns reject NUL, and some handsets and gateways do
    send it and other control characters; everything a person can see is
    kept, so the stored answer is what they typed.
    """
    return strip_controls(text)


def _fold(text: str) -> str:
    """Casefold, NFKC, strip accents and collapse whitespace; keep punctuation.

    The shared first step of every parser. ``'Autobús'`` -> ``'autobus'``,
    ``'７'`` -> ``'7'``, ``'dziesięć'`` -> ``'dziesiec'``.
    """
    if text.isascii():
        # Fast path for the common case: for ASCII, casefold is lower() and
        # NFKC/NFKD change nothing.
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    # Only marks with a non-zero combining class are accents; spacing vowel
    # signs (Devanagari, Thai) and emoji variation selectors have class 0 and
    # are part of the word, so they stay.
    unaccented = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Recompose what NFKD split apart without being an accent (Hangul).
    return " ".join(unicodedata.normalize("NFC", unaccented).split())


# Emoji glue that is meaningless at the edge of a message: variation
# selectors (U+FE0E/U+FE0F) and the enclosing keycap (U+20E3) are marks with
# combining class 0, so _fold keeps them.
_EDGE_MARKS = frozenset("\ufe0e\ufe0f\u20e3")


def _is_edge_junk(ch: str) -> bool:
    """Whitespace, punctuation, symbols (emoji), control/format chars, emoji glue."""
    return unicodedata.category(ch)[0] in "PSZC" or ch in _EDGE_MARKS


def normalise(text: str) -> str:
    """Matching form of a label or short answer.

    Casefold, NFKC, strip accents (NFKD, then drop combining marks), collapse
    runs of whitespace to one space, and strip leading/trailing whitespace,
    punctuation and symbols (including emoji). Punctuation *inside* the text
    is kept: ``'  ¡Autobús! 🚌 '`` -> ``'autobus'``, ``'Opt-out.'`` -> ``'opt-out'``.
    """
    folded = _fold(text)
    start, end = 0, len(folded)
    while start < end and _is_edge_junk(folded[start]):
        start += 1
    while end > start and _is_edge_junk(folded[end - 1]):
        end -= 1
    return folded[start:end]


_NON_ALNUM_ASCII = re.compile(r"[^a-z0-9]+")


def _compact(normalised: str) -> str:
    """Letters, digits and marks only: the punctuation- and space-blind key."""
    if normalised.isascii():
        return _NON_ALNUM_ASCII.sub("", normalised)
    return "".join(
        ch for ch in normalised if ch.isalnum() or unicodedata.category(ch)[0] == "M"
    )


def _is_word(text: str) -> bool:
    """True when ``text`` is non-empty and made only of letters (and their marks)."""
    if text.isascii():
        return text.isalpha()
    return bool(text) and all(
        ch.isalpha() or unicodedata.category(ch)[0] == "M" for ch in text
    )


# Phones type U+2019 for the apostrophe in "I'd"; NFKC leaves it alone.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})

# Keycap emoji: a digit, an optional variation selector, U+20E3.
_KEYCAP = re.compile("([0-9#*])[\ufe0e\ufe0f]?\u20e3")
_KEYCAP_TEN = "\U0001f51f"  # 🔟


def _unkeycap(text: str) -> str:
    """'7️⃣' -> '7', '7⃣' -> '7', '🔟' -> '10'. Adjacent keycaps join: '1️⃣0️⃣' -> '10'."""
    if "\u20e3" in text:
        text = _KEYCAP.sub(r"\1", text)
    if _KEYCAP_TEN in text:
        text = text.replace(_KEYCAP_TEN, "10")
    return text


def _prepare(text: str) -> str:
    """Keycaps to digits, typographic apostrophes to ASCII, then fold."""
    return _fold(_unkeycap(text).translate(_APOSTROPHES))


def _languages_key(languages: Sequence[str]) -> tuple[str, ...]:
    """Hashable form of ``languages`` for the per-language caches.

    A bare string counts as one code ('es'), not as the letters 'e', 's'.
    """
    return (languages,) if isinstance(languages, str) else tuple(languages)


def _language_bases(languages: tuple[str, ...]) -> tuple[str, ...]:
    """('es-MX', 'pt_BR') -> ('es', 'pt')."""
    return tuple(code.replace("_", "-").split("-")[0].lower() for code in languages)


# --------------------------------------------------------------------------
# Keywords
# --------------------------------------------------------------------------

_KEYWORD_SPELLINGS: dict[str, tuple[str, ...]] = {
    "STOP": ("stop", "unsubscribe", "end", "quit", "cancel", "stopall", "revoke", "optout"),
    "START": ("start", "unstop"),
    "HELP": ("help", "info"),
    "SKIP": ("skip",),
    "LANGUAGE": ("language", "lang", "languages"),
    "DELETE": ("delete",),
    "CONSENT": ("consent",),
    "MYDATA": ("mydata",),   # 'my data', 'MY-DATA' too (two words are joined)
}

#: Spelling (normalised, letters only, lowercase) -> canonical keyword.
#: Multi-word spellings ('stop all', 'opt-out') are stored without separators.
KEYWORDS: dict[str, str] = {
    spelling: keyword
    for keyword, spellings in _KEYWORD_SPELLINGS.items()
    for spelling in spellings
}

# A keyword message is one word (or 'opt out' / 'stop all'), so anything long
# is answered without normalising it. The raw bound leaves room for padding
# and emoji around the word; the normalised bound is the real one.
_KEYWORD_MAX_RAW = 256
_KEYWORD_MAX_NORMALISED = 40
_KEYWORD_MAX_WORDS = 2

# '/stop', '/opt_out': a command, as chat apps send them (an adapter strips its own decorations first,
# such as Telegram's '/stop@SomeBot' in a group).
_COMMAND = re.compile(r"/(\w+)")
_KEYWORD_SEPARATORS = re.compile(r"[\s\-_.'\u2019]+")


def match_keyword(text: str, aliases: Mapping[str, str] | None = None) -> str | None:
    """The canonical keyword when the WHOLE message is a keyword, else None.

    Case, accents, surrounding whitespace, punctuation and emoji are ignored:
    'STOP', ' stop! ', '🛑 Stop 🛑', 'opt-out', '/stop' -> 'STOP'.
    A sentence that merely contains a keyword is not one: 'please help me'
    -> None. A keyword repeated ('STOP STOP') still counts.

    ``aliases`` maps extra *normalised* spellings (as :func:`normalise`
    returns them, e.g. ``{'ayuda': 'HELP', 'darse de baja': 'STOP'}``) to the
    value returned; built-in spellings win over aliases so the carrier
    keywords behave the same in every survey.
    """
    if not text or len(text) > _KEYWORD_MAX_RAW:
        return None
    stripped = text.strip()
    command = _COMMAND.fullmatch(stripped)
    if command:
        return _lookup_keyword(_compact(_fold(command.group(1))), aliases)
    normalised = normalise(stripped)
    if not normalised or len(normalised) > _KEYWORD_MAX_NORMALISED:
        return None
    words = _KEYWORD_SEPARATORS.sub(" ", normalised).split()
    if len(set(words)) == 1:
        words = words[:1]  # 'stop stop stop' is still STOP
    joined = "".join(words)
    if len(words) <= _KEYWORD_MAX_WORDS and _is_word(joined):
        keyword = _lookup_keyword(joined, aliases)
        if keyword:
            return keyword
    return _lookup_alias(normalised, aliases) or _lookup_alias(" ".join(words), aliases)


def _lookup_keyword(spelling: str, aliases: Mapping[str, str] | None) -> str | None:
    """Built-in spelling first, so survey aliases cannot redefine STOP and friends."""
    return KEYWORDS.get(spelling) or _lookup_alias(spelling, aliases)


def _lookup_alias(spelling: str, aliases: Mapping[str, str] | None) -> str | None:
    return aliases.get(spelling) if aliases else None


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

_NUMBER_WORDS: dict[str, dict[str, int]] = {
    "en": {
        "zero": 0, "nil": 0, "nought": 0, "one": 1, "two": 2, "three": 3,
        "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
        "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
        "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
        "nineteen": 19, "twenty": 20,
    },
    "es": {
        "cero": 0, "uno": 1, "una": 1, "un": 1, "dos": 2, "tres": 3,
        "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
        "nueve": 9, "diez": 10,
    },
    "pl": {
        "zero": 0, "jeden": 1, "jedna": 1, "jedno": 1, "dwa": 2, "dwie": 2,
        "trzy": 3, "cztery": 4, "pięć": 5, "sześć": 6, "siedem": 7,
        "osiem": 8, "dziewięć": 9, "dziesięć": 10,
    },
    "fr": {
        "zéro": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4,
        "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
    },
    # Welsh, with the common mutated forms ('ddau', 'bump', 'ddeg', ...).
    "cy": {
        "dim": 0, "sero": 0, "un": 1, "dau": 2, "ddau": 2, "dwy": 2,
        "ddwy": 2, "tri": 3, "thri": 3, "tair": 3, "pedwar": 4, "bedwar": 4,
        "pedair": 4, "pump": 5, "bump": 5, "phump": 5, "chwech": 6,
        "chwe": 6, "saith": 7, "wyth": 8, "naw": 9, "deg": 10, "ddeg": 10,
    },
    "pt": {
        "zero": 0, "um": 1, "uma": 1, "dois": 2, "duas": 2, "três": 3,
        "quatro": 4, "cinco": 5, "seis": 6, "sete": 7, "oito": 8, "nove": 9,
        "dez": 10,
    },
}
_NUMBER_WORDS = {
    language: {_fold(word): value for word, value in words.items()}
    for language, words in _NUMBER_WORDS.items()
}

# Number words that are also articles or pronouns ('no one', 'un peu',
# 'um pouco', Welsh 'dim' = 'no/none'): they count as a number only when they
# stand alone as the answer, never inside a comment.
_ARTICLE_LIKE = frozenset(
    {"one", "un", "une", "una", "uno", "um", "uma", "dim", "jeden", "jedna", "jedno"}
)

# Words people put before a number word without changing it: 'about seven',
# "I'd say seven", 'definitely a ten', 'un siete'. (Digits need no such list:
# a digit counts wherever it is.)
_HEDGES = frozenset(
    """
    a an about around roughly approx approximately maybe perhaps probably prob
    possibly likely i i'd id i'll i'm im would say said give it its it's that's
    thats rate rating score my is be solid strong good firm high low
    definitely definately def defo deffo easily only just like hmm hm um umm
    uh er erm well ok okay so oh honestly overall the answer very
    un una uno une um uma unos uns como quizas quiza tal vez diria creo que le
    doy pongo yo seria pues bueno environ peut etre je dirais donne mets
    disons alors euh c'est moze chyba daje okolo raczej tua efallai rhoi
    talvez acho dou tipo cerca de
    """.split()
)

# A digit straight before one of these is a quantity, not a rating:
# '2 hours wait', 'I have 3 kids'.
_UNITS = frozenset(
    """
    hour hours hr hrs h minute minutes min mins second seconds sec secs
    day days week weeks wk wks month months year years yr yrs time times
    am pm o'clock oclock people person kids children child adults visits
    horas hora minutos dias semanas meses anos veces personas
    heures heure jours semaines mois ans fois
    godzin godziny godzina minut dni tygodni lat razy osoby
    awr awran munud diwrnod wythnos
    vezes pessoas
    """.split()
)

# Words that join a score to its scale: '7 out of 10', '7 sur 10',
# '7 sobre 10', '7 na 10', '7 allan o 10', '7 de 10'.
_SCALE_CONNECTORS: tuple[tuple[str, ...], ...] = (
    ("/",), ("\\",), ("\u2215",), ("out", "of"), ("allan", "o"),
    ("of",), ("sobre",), ("sur",), ("de",), ("na",),
)

# First token of each connector: lets _score_at skip almost every token at once.
_CONNECTOR_STARTS = frozenset(connector[0] for connector in _SCALE_CONNECTORS)

# Longer than any SMS (1,600) or Telegram message (4,096): not typed on a phone.
_NUMBER_MAX_LENGTH = 4096

# The commonest answer of all, '7' or ' 10. ', read without tokenising.
_PLAIN_DIGITS = re.compile(r"\s*([0-9]{1,6})\s*[.!]*\s*")

_NOT_A_WHOLE_NUMBER = re.compile(
    r"\d[.,:]\d"                       # decimals '7.5', '3,5'; times '7:30'
    r"|(?<![\w.,)])[-\u2212\u2013]\d"  # negative numbers '-3'
    r"|\d[^\W\d_]|[^\W\d_]\d"          # glued to letters: '7th', '2hrs', '10am'
    r"|[$£€¥₹%]\s?\d|\d\s?[%$£€¥₹]"    # money and percentages
    r"|\u2044"                         # FRACTION SLASH, what NFKC makes of '½'
)

_NUMBER_TOKEN = re.compile(r"(\d+)|([^\W\d_]+(?:'[^\W\d_]+)*)|(\S)")

# Longer digit runs are phone numbers or codes; never converted (Python also
# refuses int() on very long digit strings).
_MAX_DIGITS = 6


class _Token(NamedTuple):
    kind: str  # one of the constants below
    text: str
    value: int | None  # numbers only; None when too long to be a score


_DIGITS, _NUMBER_WORD, _WORD, _MARK, _SCORE = "digits", "number word", "word", "mark", "score"
_NUMERIC_KINDS = (_DIGITS, _NUMBER_WORD)


@lru_cache(maxsize=64)
def _number_words_for(languages: tuple[str, ...]) -> dict[str, int]:
    """English number words plus those of the survey's languages."""
    words = dict(_NUMBER_WORDS["en"])
    for base in _language_bases(languages):
        words.update(_NUMBER_WORDS.get(base, {}))
    return words


def parse_number(
    text: str, lo: int, hi: int, languages: Sequence[str] = ("en",)
) -> int | None:
    """Read an integer answer in ``lo..hi``; None unless it is unambiguous.

    Reads digits in any script ('7', '٧', '۷', '७', '৭', '７'), keycaps ('7️⃣',
    '🔟'), number words in English (zero..twenty) and in ``languages`` (es, pl,
    fr, cy, pt: 0..10), scores on the survey's scale ('7/10', '10 out of 10',
    '4/5' when ``hi`` is 5), and a number inside a short comment ("I'd say 7",
    'solid 8', '7 - staff were lovely', '10/10 would recommend').

    The rules, in order:

    1. Decimals, times, negatives, money, percentages and digits glued to
       letters ('7.5', '7:30', '-3', '£5', '7th') -> None.
    2. A score 'X/Y' or 'X out of Y' counts as the number X only when Y == hi;
       any other scale ('3/10' on 1..5, the date '12/3') -> None.
    3. Exactly one number may remain; two or more ('7 or 8', '7-8',
       'between 7 and 8', '2 hours wait, 6', phone numbers) -> None.
    4. A digit followed by a unit word ('2 hours', '3 kids') is a quantity -> None.
    5. A number *word* must be the answer itself: only hedge words ('about',
       "I'd say", 'a') before it, and nothing or punctuation after it
       ('seven', 'Seven!', 'seven - lovely staff'); 'I have seven kids' -> None.
       Words that double as articles ('one', 'un', 'um') only ever count there.
    6. The number must be within ``lo..hi``.
    """
    if not text or lo > hi or len(text) > _NUMBER_MAX_LENGTH:
        return None
    plain = _PLAIN_DIGITS.fullmatch(text)
    if plain:
        value = int(plain.group(1))
        return value if lo <= value <= hi else None
    prepared = _prepare(text)
    if _NOT_A_WHOLE_NUMBER.search(prepared):
        return None
    tokens = _number_tokens(prepared, _number_words_for(_languages_key(languages)))
    tokens = _read_scores(tokens, hi)
    if tokens is None:
        return None
    value = _single_number(tokens)
    return value if value is not None and lo <= value <= hi else None


def _number_tokens(prepared: str, number_words: Mapping[str, int]) -> list[_Token]:
    tokens = []
    for match in _NUMBER_TOKEN.finditer(prepared):
        digits, word, mark = match.groups()
        if digits is not None:
            tokens.append(_Token(_DIGITS, digits, _digits_value(digits)))
        elif word is not None:
            value = number_words.get(word)
            kind = _WORD if value is None else _NUMBER_WORD
            tokens.append(_Token(kind, word, value))
        else:
            tokens.append(_Token(_MARK, mark, None))
    return tokens


def _digits_value(digits: str) -> int | None:
    if len(digits) > _MAX_DIGITS:
        return None
    try:
        return int(digits)  # int() reads every Unicode decimal digit, as \d matches
    except ValueError:
        return None


def _read_scores(tokens: list[_Token], hi: int) -> list[_Token] | None:
    """Replace 'X / hi' and 'X out of hi' with one score token worth X.

    None when a score is on another scale ('3/10' on 1..5, '12/3'). A chain
    such as the date '1/5/2024' is not a score: its numbers are left as they
    are, and rule 3 then rejects them.
    """
    result: list[_Token] = []
    i = 0
    while i < len(tokens):
        score = _score_at(tokens, i)
        if score is None:
            result.append(tokens[i])
            i += 1
            continue
        numerator, denominator, end = score
        if denominator.value != hi:
            return None
        result.append(_Token(_SCORE, numerator.text, numerator.value))
        i = end
    return result


def _score_at(tokens: list[_Token], i: int) -> tuple[_Token, _Token, int] | None:
    """(numerator, denominator, index after) when a score starts at ``i``."""
    numerator = tokens[i]
    if (
        numerator.kind not in _NUMERIC_KINDS
        or i + 2 >= len(tokens)
        or tokens[i + 1].text not in _CONNECTOR_STARTS
        or _is_slash(tokens, i - 1)
    ):
        return None
    for connector in _SCALE_CONNECTORS:
        end_of_connector = i + 1 + len(connector)
        if tuple(t.text for t in tokens[i + 1 : end_of_connector]) != connector:
            continue
        if end_of_connector >= len(tokens):
            return None
        denominator = tokens[end_of_connector]
        if denominator.kind not in _NUMERIC_KINDS or _is_slash(tokens, end_of_connector + 1):
            return None
        return numerator, denominator, end_of_connector + 1
    return None


def _is_slash(tokens: list[_Token], i: int) -> bool:
    return 0 <= i < len(tokens) and tokens[i].kind == _MARK and tokens[i].text in "/\\\u2215"


def _single_number(tokens: list[_Token]) -> int | None:
    """The value of the one number mentioned (rules 3-5), else None."""
    first_content = _first_content(tokens)
    mentions = []
    for i, token in enumerate(tokens):
        if token.kind in (_DIGITS, _SCORE) or (
            token.kind == _NUMBER_WORD
            and (token.text not in _ARTICLE_LIKE or _stands_alone(tokens, i, first_content))
        ):
            mentions.append(i)
            if len(mentions) > 1:
                return None  # two numbers: no telling which one is the answer
    if not mentions:
        return None
    i = mentions[0]
    token = tokens[i]
    if token.kind == _NUMBER_WORD and not _stands_alone(tokens, i, first_content):
        return None
    if token.kind == _DIGITS and _is_unit(tokens, i + 1):
        return None
    return token.value


def _first_content(tokens: list[_Token]) -> int:
    """Index of the first token that is neither punctuation nor a hedge word."""
    for i, token in enumerate(tokens):
        if token.kind != _MARK and token.text not in _HEDGES:
            return i
    return len(tokens)


def _stands_alone(tokens: list[_Token], i: int, first_content: int) -> bool:
    """Only hedges and punctuation before token ``i``; nothing or punctuation after."""
    after_ok = i + 1 == len(tokens) or tokens[i + 1].kind == _MARK
    return i <= first_content and after_ok


def _is_unit(tokens: list[_Token], i: int) -> bool:
    return i < len(tokens) and tokens[i].kind == _WORD and tokens[i].text in _UNITS


# --------------------------------------------------------------------------
# Choices
# --------------------------------------------------------------------------

# Longer messages are comments, not a pick from a list.
_CHOICE_MAX_LENGTH = 500
_MIN_PREFIX = 3

_CHOICE_NUMBER = re.compile(
    r"(?:(?:number|option|choice|no|nr|num|n°|numero|numer|rhif|opcion|opcao|opcja|choix)"
    r"\s*\.?\s*)?#?\s*(\d{1,4})"
)
_CHOICE_LETTER = re.compile(
    r"(?:(?:option|letter|choice|opcion|opcao|opcja|choix)\s+)?\(?([a-z])\)?"
)
_CHOICE_WORDS = re.compile(r"[^\W_]+")

# A label followed by these is not a plain pick: 'bus and train', 'bus, not
# the train', 'bus or walking'.
_CHOICE_BREAKERS = frozenset(
    """
    and or but not no nor never & plus also
    y o pero ni et ou mais pas i lub albo ale nie a neu ond dim nid e mas nao
    """.split()
)


class _Name(NamedTuple):
    compact: str  # punctuation- and space-blind key; for emoji labels, the emoji
    words: tuple[str, ...]


@lru_cache(maxsize=256)
def _choice_names(options: tuple[tuple[str, ...], ...]) -> tuple[tuple[_Name, ...], ...]:
    """Every name of every option, in matching form (cached per option list)."""
    return tuple(tuple(_name(name) for name in option) for option in options)


def _name(text: str) -> _Name:
    normalised = normalise(text)
    compact = _compact(normalised) or _symbol_key(text)
    return _Name(compact, tuple(_CHOICE_WORDS.findall(normalised)))


def _symbol_key(text: str) -> str:
    """Key for a label with no letters or digits, e.g. the emoji '😀' or '☹️'."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKC", text)
        if not ch.isspace() and ch not in _EDGE_MARKS
        and not "\U0001f3fb" <= ch <= "\U0001f3ff"  # skin tones
    )


def _freeze(options: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    # A bare string is one name, not a sequence of one-letter names.
    return tuple((o,) if isinstance(o, str) else tuple(o) for o in options)


def parse_choice(text: str, options: Sequence[Sequence[str]]) -> int | None:
    """The 0-based index of the option the message picks, or None.

    Each option is a list of its names (key and labels in every language,
    e.g. ``['bus', 'Bus', 'Autobús']``). Tried in order, the first rule that
    applies decides:

    1. The whole message is a name (case-, accent-, punctuation- and
       space-insensitive: 'autobus', 'A PIE'). Names win over numbers and
       letters, so options labelled '1', '2-3', '4+' read naturally.
    2. An option number: '2', '2.', '#2', 'number 2', '2️⃣', '٢'; out of range -> None.
    3. An option letter: 'b', 'B', 'b)', '(b)'; out of range -> None.
    4. A prefix of at least 3 letters of exactly one option's name ('walk').
    5. A small typo of exactly one option's name: edit distance (a swap of
       two neighbouring letters counts as one edit) at most 1 for names of
       4-7 characters, 2 for 8 or more.
    6. A name followed by a comment ('Bus, it is cheaper'), only if no other
       option is named in it, it has no digits, and it does not start with
       'and', 'or', 'but', 'not' and the like.

    Whenever a rule matches more than one option, the answer is None.
    """
    if not text or not options or len(text) > _CHOICE_MAX_LENGTH:
        return None
    names = _choice_names(_freeze(options))
    normalised = normalise(_unkeycap(text))
    compact = _compact(normalised) or _symbol_key(text)
    if not compact:
        return None
    exact = {i for i, option in enumerate(names) if any(n.compact == compact for n in option)}
    if exact:
        return _only(exact)
    by_position = _by_number_or_letter(normalised, len(names))
    if by_position is not _NOT_POSITIONAL:
        return by_position
    if len(compact) >= _MIN_PREFIX and not compact.isdigit():
        for close_enough in (_by_prefix, _by_typo):
            candidates = close_enough(compact, names)
            if candidates:
                return _only(candidates)
    found = _by_leading_name(normalised, names)
    if found is None:
        # 'the bus', 'by car', 'I walked': people wrap the label in a few words; try once without them.
        words = normalised.split()
        lead = 0
        while lead < len(words) and lead < 3 and words[lead] in _CHOICE_FILLERS:
            lead += 1
        if 0 < lead < len(words):
            return parse_choice(" ".join(words[lead:]), options)
    return found


# Leading words that carry no choice: articles, prepositions and "I took" in the survey languages.
_CHOICE_FILLERS = frozenset(
    "the a an by on via in my i took take came come went go used use with "
    "el la los las un una en por con yo fui vine".split()
)


def _only(candidates: set[int]) -> int | None:
    return next(iter(candidates)) if len(candidates) == 1 else None


_NOT_POSITIONAL = object()  # the message is not an option number or letter


def _by_number_or_letter(normalised: str, count: int) -> int | None | object:
    number = _CHOICE_NUMBER.fullmatch(normalised)
    if number:
        index = _digits_value(number.group(1))
        return index - 1 if index is not None and 1 <= index <= count else None
    letter = _CHOICE_LETTER.fullmatch(normalised)
    if letter:
        index = ord(letter.group(1)) - ord("a")
        return index if index < count else None
    return _NOT_POSITIONAL


def _by_prefix(compact: str, names: tuple[tuple[_Name, ...], ...]) -> set[int]:
    return {
        i
        for i, option in enumerate(names)
        if any(n.compact.startswith(compact) for n in option)
    }


def _by_typo(compact: str, names: tuple[tuple[_Name, ...], ...]) -> set[int]:
    return {
        i
        for i, option in enumerate(names)
        for n in option
        if len(n.compact) >= 4
        and _within_edits(compact, n.compact, 1 if len(n.compact) <= 7 else 2)
    }


def _within_edits(a: str, b: str, limit: int) -> bool:
    """Optimal-string-alignment distance of a and b is at most ``limit``.

    Transpositions count as one edit because swapped neighbours ('bsu') are
    the most common thumb typo.
    """
    if abs(len(a) - len(b)) > limit:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False  # every path is already too long
        previous2, previous = previous, current
    return previous[-1] <= limit


def _by_leading_name(normalised: str, names: tuple[tuple[_Name, ...], ...]) -> int | None:
    """Rule 6: 'Bus, it is cheaper' -> the bus option (conservatively)."""
    words = tuple(_CHOICE_WORDS.findall(normalised))
    leading = [
        (len(n.words), i)
        for i, option in enumerate(names)
        for n in option
        if n.words and len(words) > len(n.words) and words[: len(n.words)] == n.words
    ]
    if not leading:
        return None
    longest = max(length for length, _ in leading)
    chosen = _only({i for length, i in leading if length == longest})
    if chosen is None:
        return None
    rest = words[longest:]
    if rest[0] in _CHOICE_BREAKERS or any(w.isdigit() for w in rest):
        return None
    for i, option in enumerate(names):
        if i != chosen and any(n.words and _contains(rest, n.words) for n in option):
            return None
    return chosen


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(words[k : k + size] == phrase for k in range(len(words) - size + 1))


# --------------------------------------------------------------------------
# Yes / no
# --------------------------------------------------------------------------

_YES_NO_MAX_LENGTH = 100

_YES_NO_PHRASES: dict[str, dict[bool, tuple[str, ...]]] = {
    "en": {
        True: (
            "y", "yes", "yeah", "yea", "yep", "yup", "ya", "yah", "sure",
            "for sure", "ok", "okay", "of course", "definitely", "absolutely",
            "certainly", "correct", "yes please", "i do", "i did", "i am",
            "i have", "i will", "i would", "it was", "it is", "it did", "we do",
            "we did",
        ),
        False: (
            "n", "no", "nope", "nah", "no thanks", "not really", "never",
            "definitely not", "absolutely not", "certainly not",
            "of course not", "not at all", "no way", "don't", "didn't",
            "i don't", "i didn't", "i'm not", "i haven't", "i won't",
            "i wouldn't", "it wasn't", "it isn't", "it didn't", "we don't",
            "we didn't",
        ),
    },
    "es": {
        True: ("sí", "si", "claro", "claro que sí", "por supuesto", "vale", "de acuerdo"),
        False: ("no", "claro que no", "para nada", "de ninguna manera"),
    },
    "pl": {
        True: ("tak", "jasne", "oczywiście", "pewnie"),
        False: ("nie", "raczej nie", "wcale nie", "nigdy"),
    },
    "fr": {
        True: ("oui", "ouais", "bien sûr", "d'accord", "absolument"),
        False: ("non", "pas du tout", "jamais"),
    },
    "cy": {
        True: ("ie", "do", "ydw", "ydy", "ydyn", "oes", "wrth gwrs"),
        False: ("na", "nac ydw", "nac ydy", "nac ydyn", "nac oes", "naddo", "nage", "dim"),
    },
    "pt": {
        True: ("sim", "claro", "com certeza", "pode ser"),
        False: ("não", "nao", "de jeito nenhum", "nunca"),
    },
}

# Politeness around the answer: 'yes please', 'no thank you', 'sí, gracias'.
_COURTESIES = (
    "please", "pls", "plz", "thanks", "thank you", "thx", "ty", "ta", "cheers",
    "por favor", "gracias", "merci", "s'il vous plait", "dziekuje", "diolch",
    "obrigado", "obrigada",
)

# Emoji answers: thumbs, ticks and crosses only; faces are too ambiguous.
_YES_EMOJI = re.compile("[\U0001f44d\u2705\u2714\u2611\u2713]")  # 👍 ✅ ✔ ☑ ✓
_NO_EMOJI = re.compile("[\U0001f44e\u274c\u2716\u274e\u2717\u2718]")  # 👎 ❌ ✖ ❎ ✗ ✘
_YES_NO_WORDS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_REPEATS = re.compile(r"(.)\1+")
_PHRASE_MAX_WORDS = 3


def _phrase_key(phrase: str) -> tuple[str, ...]:
    """Words of a phrase with repeated letters squeezed: 'Yesss' == 'yes', 'nooo' == 'no'.

    Squeezing every repeat (not only long ones) is harmless because the
    same happens to the table, and it catches 'yess', 'okk', 'nooo'.
    """
    return tuple(_REPEATS.sub(r"\1", w) for w in _YES_NO_WORDS.findall(_prepare(phrase)))


@lru_cache(maxsize=64)
def _yes_no_table(languages: tuple[str, ...]) -> dict[tuple[str, ...], bool | None]:
    """Phrase key -> True/False, or None for a courtesy. English is always on."""
    table: dict[tuple[str, ...], bool | None] = {_phrase_key(p): None for p in _COURTESIES}
    for base in ("en", *_language_bases(languages)):
        for answer, phrases in _YES_NO_PHRASES.get(base, {}).items():
            for phrase in phrases:
                for spelling in {phrase, phrase.replace("'", "")}:  # "don't" / "dont"
                    table[_phrase_key(spelling)] = answer
    return table


def parse_yes_no(text: str, languages: Sequence[str] = ("en",)) -> bool | None:
    """True for yes, False for no, None for anything else.

    English is always understood ('y', 'yeah', 'sure', 'of course', 'nope',
    'not really', 'definitely not', ...) plus the listed ``languages`` (es,
    pl, fr, cy, pt). Thumbs, ticks and crosses count (👍 in any skin tone,
    ✅, ✔️, 👎, ❌, ✖️); other emoji and punctuation are ignored.

    The message must consist only of yes/no phrases and courtesies ('yes
    please', 'no, thank you', 'yes yes 👍'), all with the same answer: mixed
    ('yes and no', 'yes 👎'), unsure ('maybe', 'not sure', "don't know") or
    anything with a digit ('1', '2': the engine reads numbered choices
    itself) -> None.
    """
    if not text or len(text) > _YES_NO_MAX_LENGTH:
        return None
    answers: set[bool] = set()
    if _YES_EMOJI.search(text):
        answers.add(True)
        text = _YES_EMOJI.sub(" ", text)
    if _NO_EMOJI.search(text):
        answers.add(False)
        text = _NO_EMOJI.sub(" ", text)
    if any(ch.isdigit() for ch in text):
        return None
    phrases = _read_phrases(_phrase_key(text), _yes_no_table(_languages_key(languages)))
    if phrases is None:
        return None
    answers.update(answer for answer in phrases if answer is not None)
    return answers.pop() if len(answers) == 1 else None


def _read_phrases(
    words: tuple[str, ...], table: Mapping[tuple[str, ...], bool | None]
) -> list[bool | None] | None:
    """Split ``words`` into known phrases, longest first; None if any word is unknown."""
    found: list[bool | None] = []
    i = 0
    while i < len(words):
        for size in range(min(_PHRASE_MAX_WORDS, len(words) - i), 0, -1):
            key = words[i : i + size]
            if key in table:
                found.append(table[key])
                i += size
                break
        else:
            return None
    return found
