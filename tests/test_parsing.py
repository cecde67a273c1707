"""How Chorus reads what people type on a phone.

The ANSWERS table is the documentation: one row per realistic message, the
question it answers, and what the parser makes of it (None = "could not read
it unambiguously; ask again").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.parsing import (
    _NUMBER_WORDS,
    _YES_NO_PHRASES,
    KEYWORDS,
    clean,
    match_keyword,
    normalise,
    parse_choice,
    parse_number,
    parse_yes_no,
)

# --------------------------------------------------------------------------
# The questions the table's answers reply to
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    lo: int
    hi: int
    languages: tuple[str, ...] = ("en",)

    def read(self, text):
        return parse_number(text, self.lo, self.hi, self.languages)

    def __repr__(self):
        return f"rating {self.lo}..{self.hi} {'/'.join(self.languages)}"


@dataclass(frozen=True)
class Choice:
    options: tuple[tuple[str, ...], ...]

    def read(self, text):
        return parse_choice(text, self.options)

    def __repr__(self):
        return "choice " + "/".join(option[0] for option in self.options)


@dataclass(frozen=True)
class YesNo:
    languages: tuple[str, ...] = ("en",)

    def read(self, text):
        return parse_yes_no(text, self.languages)

    def __repr__(self):
        return f"yes/no {'/'.join(self.languages)}"


@dataclass(frozen=True)
class Keyword:
    aliases: dict = field(default_factory=dict, hash=False)

    def read(self, text):
        return match_keyword(text, self.aliases)

    def __repr__(self):
        return "keyword"


RATE_0_10 = Rating(0, 10)
RATE_1_5 = Rating(1, 5)
RATE_0_20 = Rating(0, 20)
RATE_ES, RATE_PL, RATE_FR = Rating(0, 10, ("es",)), Rating(0, 10, ("pl",)), Rating(0, 10, ("fr",))
RATE_CY, RATE_PT = Rating(0, 10, ("cy",)), Rating(0, 10, ("pt",))
TRANSPORT = Choice((
    ("bus", "Bus", "Autobús"),
    ("walk", "Walking", "A pie"),
    ("car", "Car", "Coche"),
))
AGREEMENT = Choice((
    ("agree", "Agree"),
    ("strongly_agree", "Strongly agree"),
    ("strongly_disagree", "Strongly disagree"),
    ("neutral", "Neither agree nor disagree"),
))
HOUSEHOLD = Choice((("1", "1"), ("2-3", "2-3"), ("4+", "4+")))
MOOD = Choice((("😀",), ("😐",), ("☹️",)))
YES_NO = YesNo()
YES_NO_ES, YES_NO_PL, YES_NO_FR = YesNo(("es",)), YesNo(("pl",)), YesNo(("fr",))
YES_NO_CY, YES_NO_PT = YesNo(("cy",)), YesNo(("pt",))
KEYWORD = Keyword({"ayuda": "HELP", "darse de baja": "STOP"})

# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------

ANSWERS = [
    # question,  what the person typed,       what it means
    # ---- ratings: plain digits, with the punctuation thumbs add
    (RATE_0_10, "7", 7),
    (RATE_0_10, " 7 ", 7),
    (RATE_0_10, "7.", 7),
    (RATE_0_10, "7!", 7),
    (RATE_0_10, "0", 0),
    (RATE_0_10, "10", 10),
    # ---- ratings: on the survey's scale
    (RATE_0_10, "7/10", 7),
    (RATE_0_10, "7 / 10", 7),
    (RATE_0_10, "10 out of 10", 10),
    (RATE_0_10, "7 out of 10", 7),
    (RATE_0_10, "10/10 would recommend", 10),
    (RATE_1_5, "4/5", 4),
    (RATE_0_10, "seven out of ten", 7),
    # ---- ratings: in a few words
    (RATE_0_10, "I'd say 7", 7),
    (RATE_0_10, "I\u2019d say 7", 7),
    (RATE_0_10, "a 7", 7),
    (RATE_0_10, "about 7", 7),
    (RATE_0_10, "maybe 7", 7),
    (RATE_0_10, "solid 8", 8),
    (RATE_0_10, "definitely a 10", 10),
    (RATE_0_10, "7 - staff were lovely", 7),
    (RATE_0_10, "8, one of the best", 8),
    # ---- ratings: other scripts and emoji
    (RATE_0_10, "٧", 7),  # Arabic-Indic
    (RATE_0_10, "۷", 7),  # Persian
    (RATE_0_10, "७", 7),  # Devanagari
    (RATE_0_10, "７", 7),  # fullwidth
    (RATE_0_10, "৭", 7),  # Bengali
    (RATE_0_10, "7\ufe0f\u20e3", 7),  # 7️⃣
    (RATE_0_10, "7\u20e3", 7),  # keycap without the variation selector
    (RATE_0_10, "🔟", 10),
    # ---- ratings: number words
    (RATE_0_10, "seven", 7),
    (RATE_0_10, "Seven!", 7),
    (RATE_0_10, "SEVEN", 7),
    (RATE_0_10, "zero", 0),
    (RATE_0_20, "fifteen", 15),
    (RATE_0_20, "twenty", 20),
    (RATE_ES, "siete", 7),
    (RATE_ES, "Diez", 10),
    (RATE_ES, "un siete", 7),
    (RATE_PL, "dziesięć", 10),
    (RATE_PL, "dziesiec", 10),
    (RATE_PL, "pięć", 5),
    (RATE_FR, "zéro", 0),
    (RATE_FR, "Sept", 7),
    (RATE_FR, "un peu long, 7", 7),
    (RATE_CY, "saith", 7),
    (RATE_CY, "dim", 0),
    (RATE_CY, "deg", 10),
    (RATE_PT, "dez", 10),
    (RATE_PT, "três", 3),
    # ---- ratings that must NOT be read
    (RATE_0_10, "", None),
    (RATE_0_10, "good", None),
    (RATE_0_10, "a lot", None),
    (RATE_0_10, "between 7 and 8", None),
    (RATE_0_10, "7 or 8", None),
    (RATE_0_10, "7-8", None),
    (RATE_0_10, "78", None),
    (RATE_0_10, "-3", None),
    (RATE_0_10, "11", None),
    (RATE_0_10, "7.5", None),
    (RATE_0_10, "3,5", None),
    (RATE_0_10, "7½", None),
    (RATE_1_5, "0", None),
    (RATE_1_5, "3/10", None),
    (RATE_1_5, "7 out of 10", None),
    (RATE_0_10, "2 hours wait, 6", None),  # two numbers: which one is the score?
    (RATE_0_10, "waited 2 hours", None),  # a quantity, not a score
    (RATE_0_10, "12/3", None),  # a date
    (RATE_0_10, "1/5/2024", None),
    (RATE_0_10, "7:30", None),
    (RATE_0_10, "07700 900123", None),
    (RATE_0_10, "+447700900123", None),
    (RATE_0_10, "7th", None),
    (RATE_0_10, "100%", None),
    (RATE_0_10, "no one helped", None),  # 'one' here is not a score
    (RATE_0_10, "I have seven kids", None),
    (RATE_0_10, "siete", None),  # Spanish words only when the survey is in Spanish
    # ---- choices
    (TRANSPORT, "2", 1),
    (TRANSPORT, "2.", 1),
    (TRANSPORT, "number 2", 1),
    (TRANSPORT, "#2", 1),
    (TRANSPORT, "2\ufe0f\u20e3", 1),
    (TRANSPORT, "٢", 1),
    (TRANSPORT, "b", 1),
    (TRANSPORT, "B", 1),
    (TRANSPORT, "b)", 1),
    (TRANSPORT, "(b)", 1),
    (TRANSPORT, "Bus", 0),
    (TRANSPORT, "autobus", 0),
    (TRANSPORT, "AUTOBÚS!", 0),
    (TRANSPORT, "a pie", 1),
    (TRANSPORT, "walk", 1),
    (TRANSPORT, "Walkng", 1),  # one letter missing
    (TRANSPORT, "Wakling", 1),  # two letters swapped
    (TRANSPORT, "coche", 2),
    (TRANSPORT, "Bus, it is cheaper", 0),
    (AGREEMENT, "agree", 0),
    (AGREEMENT, "Strongly agree", 1),
    (AGREEMENT, "strongly-agree", 1),
    (AGREEMENT, "stongly disagree", 2),
    (HOUSEHOLD, "4+", 2),  # a label wins over the option number
    (HOUSEHOLD, "2-3", 1),
    (MOOD, "☹", 2),  # emoji labels match with or without the variation selector
    # ---- choices that must NOT be read
    (TRANSPORT, "4", None),
    (TRANSPORT, "0", None),
    (TRANSPORT, "d", None),
    (TRANSPORT, "train", None),
    (TRANSPORT, "bus and car", None),
    (TRANSPORT, "bus, not the car", None),
    (TRANSPORT, "Walking, sometimes the bus", None),
    (AGREEMENT, "strongly", None),  # prefix of two options
    (AGREEMENT, "disagree", None),
    (TRANSPORT, "", None),
    # ---- yes / no
    (YES_NO, "y", True),
    (YES_NO, "Yes", True),
    (YES_NO, "yes!", True),
    (YES_NO, "YESSS", True),
    (YES_NO, "yeah", True),
    (YES_NO, "yea", True),
    (YES_NO, "yep", True),
    (YES_NO, "yup", True),
    (YES_NO, "ya", True),
    (YES_NO, "sure", True),
    (YES_NO, "ok", True),
    (YES_NO, "Okay", True),
    (YES_NO, "of course", True),
    (YES_NO, "definitely", True),
    (YES_NO, "absolutely", True),
    (YES_NO, "yes please", True),
    (YES_NO, "👍", True),
    (YES_NO, "👍🏾", True),
    (YES_NO, "✅", True),
    (YES_NO, "✔️", True),
    (YES_NO, "n", False),
    (YES_NO, "No", False),
    (YES_NO, "nope", False),
    (YES_NO, "nah", False),
    (YES_NO, "no thanks", False),
    (YES_NO, "No, thank you", False),
    (YES_NO, "not really", False),
    (YES_NO, "definitely not", False),
    (YES_NO, "never", False),
    (YES_NO, "👎", False),
    (YES_NO, "❌", False),
    (YES_NO, "✖️", False),
    (YES_NO_ES, "sí", True),
    (YES_NO_ES, "si", True),
    (YES_NO_ES, "claro", True),
    (YES_NO_ES, "no", False),
    (YES_NO_PL, "tak", True),
    (YES_NO_PL, "nie", False),
    (YES_NO_FR, "oui", True),
    (YES_NO_FR, "non", False),
    (YES_NO_CY, "ie", True),
    (YES_NO_CY, "do", True),
    (YES_NO_CY, "ydw", True),
    (YES_NO_CY, "ydy", True),
    (YES_NO_CY, "na", False),
    (YES_NO_CY, "nac ydw", False),
    (YES_NO_CY, "naddo", False),
    (YES_NO_PT, "sim", True),
    (YES_NO_PT, "não", False),
    # ---- yes / no that must NOT be read
    (YES_NO, "1", None),  # numbered choices are the engine's business
    (YES_NO, "2", None),
    (YES_NO, "yes and no", None),
    (YES_NO, "yes 👎", None),
    (YES_NO, "maybe", None),
    (YES_NO, "not sure", None),
    (YES_NO, "don't know", None),
    (YES_NO, "🙂", None),
    (YES_NO, "thanks", None),
    (YES_NO, "tak", None),  # Polish only when the survey is in Polish
    (YES_NO, "", None),
    # ---- keywords
    (KEYWORD, "STOP", "STOP"),
    (KEYWORD, "stop", "STOP"),
    (KEYWORD, " Stop! ", "STOP"),
    (KEYWORD, "🛑 STOP 🛑", "STOP"),
    (KEYWORD, "unsubscribe", "STOP"),
    (KEYWORD, "END", "STOP"),
    (KEYWORD, "quit", "STOP"),
    (KEYWORD, "Cancel", "STOP"),
    (KEYWORD, "STOPALL", "STOP"),
    (KEYWORD, "stop all", "STOP"),
    (KEYWORD, "revoke", "STOP"),
    (KEYWORD, "OPTOUT", "STOP"),
    (KEYWORD, "opt out", "STOP"),
    (KEYWORD, "Opt-out", "STOP"),
    (KEYWORD, "STOP STOP", "STOP"),
    (KEYWORD, "/stop", "STOP"),
    (KEYWORD, "/stop@SomeBot", None),  # Telegram's form: bot/inbound.py strips the @SomeBot before the core
    (KEYWORD, "START", "START"),
    (KEYWORD, "unstop", "START"),
    (KEYWORD, "/start", "START"),
    (KEYWORD, "help", "HELP"),
    (KEYWORD, "HELP?", "HELP"),
    (KEYWORD, "/help", "HELP"),
    (KEYWORD, "info", "HELP"),
    (KEYWORD, "Skip", "SKIP"),
    (KEYWORD, "LANGUAGE", "LANGUAGE"),
    (KEYWORD, "lang", "LANGUAGE"),
    (KEYWORD, "languages", "LANGUAGE"),
    (KEYWORD, "delete", "DELETE"),
    (KEYWORD, "consent", "CONSENT"),
    (KEYWORD, "Ayuda", "HELP"),  # survey alias
    (KEYWORD, "Darse de baja", "STOP"),  # multi-word survey alias
    # ---- keywords that must NOT match
    (KEYWORD, "", None),
    (KEYWORD, "7", None),
    (KEYWORD, "yes", None),
    (KEYWORD, "st0p", None),
    (KEYWORD, "stop 2", None),
    (KEYWORD, "/stop now", None),
    (KEYWORD, "s t o p", None),
]


@pytest.mark.parametrize(
    ("question", "typed", "expected"),
    ANSWERS,
    ids=[f"{q!r}: {t!r}" for q, t, _ in ANSWERS],
)
def test_reads_answers_as_people_type_them(question, typed, expected):
    assert question.read(typed) == expected


def test_the_table_is_big_enough_to_document_the_rules():
    assert len(ANSWERS) >= 70
    assert sum(expected is None for _, _, expected in ANSWERS) >= 15


# --------------------------------------------------------------------------
# Keywords
# --------------------------------------------------------------------------

KEYWORD_LIKE_SENTENCES = [
    "stop making me wait",
    "please help me",
    "please stop",
    "I want to quit smoking",
    "end of the day was fine",
    "Help! the bus never came",
    "can you cancel my appointment",
    "START time was 9am",
    "info about the food bank please",
    "skip the queue would be nice",
    "I don't consent to photos",
    "delete my last answer and put 8",
    "language was a barrier",
    "stop" * 20,
    "stop " + " " * 300,  # not worth reading this much padding
]


@pytest.mark.parametrize("sentence", KEYWORD_LIKE_SENTENCES)
def test_a_sentence_containing_a_keyword_is_not_a_keyword(sentence):
    assert match_keyword(sentence) is None


def test_keyword_spellings_are_normalised_letters():
    assert KEYWORDS["optout"] == "STOP"
    assert KEYWORDS["unstop"] == "START"
    assert KEYWORDS["mydata"] == "MYDATA"
    canonical = {"STOP", "START", "HELP", "SKIP", "LANGUAGE", "DELETE", "CONSENT", "MYDATA"}
    assert set(KEYWORDS.values()) == canonical
    for spelling in KEYWORDS:
        assert spelling.isalpha() and spelling == spelling.lower()


def test_built_in_keywords_win_over_survey_aliases():
    assert match_keyword("stop", {"stop": "HELP"}) == "STOP"
    assert match_keyword("ayuda") is None
    assert match_keyword("ayuda", None) is None


# --------------------------------------------------------------------------
# The word lists agree with each other
# --------------------------------------------------------------------------

ALL_LANGUAGES = ("en", "es", "pl", "fr", "cy", "pt")


def test_every_number_word_keeps_its_value_with_all_languages_on():
    for language, words in _NUMBER_WORDS.items():
        for word, value in words.items():
            assert parse_number(word, 0, 20, ALL_LANGUAGES) == value, (language, word)


def test_every_yes_no_phrase_keeps_its_meaning_with_all_languages_on():
    for language, answers in _YES_NO_PHRASES.items():
        for answer, phrases in answers.items():
            for phrase in phrases:
                assert parse_yes_no(phrase, ALL_LANGUAGES) is answer, (language, phrase)


def test_language_codes_with_regions_are_understood():
    assert parse_number("siete", 0, 10, ["es-MX"]) == 7
    assert parse_yes_no("não", "pt_BR") is False


# --------------------------------------------------------------------------
# clean and normalise
# --------------------------------------------------------------------------


def test_clean_strips_control_characters_and_keeps_what_a_person_can_see():
    assert clean("a\x00b") == "ab"
    assert clean("code \x01\x08\x0b\x0c\x1b[31m\x7f\x85X") == "code [31mX"
    assert clean("lone \ud800 surrogate \udfff, \ufffe\uffff") == "lone  surrogate , "
    assert clean("  Autobús 👍\t\n\r\n") == "  Autobús 👍\t\n\r\n"
    # Emoji sequences keep their joiners, variation selectors and skin tones; scripts keep their marks.
    assert clean("👩\u200d👩\u200d👧 ❤\ufe0f 👍🏽 नमस्ते مرحبا\u200f") == "👩\u200d👩\u200d👧 ❤\ufe0f 👍🏽 नमस्ते مرحبا\u200f"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  ¡Autobús! 🚌 ", "autobus"),
        ("Opt-out.", "opt-out"),
        ("A   PIE", "a pie"),
        ("Ｗａｌｋｉｎｇ", "walking"),
        ("Straße", "strasse"),
        ("Dziesięć", "dziesiec"),
        ("🙂", ""),
    ],
)
def test_normalise(raw, normalised):
    assert normalise(raw) == normalised


# --------------------------------------------------------------------------
# Nothing raises, whatever arrives
# --------------------------------------------------------------------------

LANGUAGE_SETS = st.sampled_from([("en",), ("es",), ("pl", "fr"), ("cy", "pt"), ("es-MX",), ()])
NASTY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=50),  # NUL and controls
    st.text(alphabet="0123456789/.,:- ofutsevn٧🔟\u20e3\ufe0f", max_size=30),
    st.sampled_from(["", "\x00", "7\x00", "x" * 10_000, "7 " * 5_000, "٧" * 10_000]),
)
OPTIONS = TRANSPORT.options + AGREEMENT.options + HOUSEHOLD.options + (("😀",), ())


@settings(max_examples=200, deadline=None)
@given(text=NASTY_TEXT, lo=st.integers(-5, 5), span=st.integers(0, 25), languages=LANGUAGE_SETS)
def test_parsers_never_raise_and_numbers_stay_in_range(text, lo, span, languages):
    hi = lo + span
    number = parse_number(text, lo, hi, languages)
    assert number is None or lo <= number <= hi
    assert parse_choice(text, OPTIONS) in (None, *range(len(OPTIONS)))
    assert parse_yes_no(text, languages) in (None, True, False)
    assert match_keyword(text, {"ayuda": "HELP"}) in (None, *KEYWORDS.values())
    cleaned = clean(text)
    assert not [c for c in cleaned if unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n\r"]
    assert isinstance(normalise(text), str)


@pytest.mark.parametrize("text", ["MYDATA", "my data", "My-Data!", "/mydata", "mydata mydata"])
def test_mydata_in_its_spellings(text):
    assert match_keyword(text) == "MYDATA"


def test_mis_datos_is_mydata_in_spanish_only():
    from surveys.messages import KEYWORD_ALIASES

    assert match_keyword("Mis datos", KEYWORD_ALIASES["es"]) == "MYDATA"
    assert match_keyword("Mis datos") is None
    assert match_keyword("send me my data please") is None
