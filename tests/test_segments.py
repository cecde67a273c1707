"""sms.segments: GSM-7 / UCS-2 detection, segment counts as carriers bill them, and gsm7_sanitise."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms.segments import GSM7_BASIC, GSM7_EXTENSION, SegmentCount, count_segments, gsm7_sanitise, is_gsm7

EMOJI = "\U0001F600"  # 😀, outside the BMP: a UTF-16 surrogate pair, 2 units
FAMILY = "\U0001F469\u200d\U0001F469\u200d\U0001F467"  # 👩‍👩‍👧: three emoji joined by ZWJ into one glyph


# ---- the alphabet ----------------------------------------------------------------------------------------
def test_alphabet_tables():
    # 128 code points less the escape (0x1B); the extension table's sendable characters.
    assert len(GSM7_BASIC) == 127
    assert GSM7_EXTENSION == frozenset("^{}\\[~]|€\f")
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert set("éèùìòÇØøÅåÄÖÑÜ§äöñüà¿¡£¥ßÉÆæΔΦΓΛΩΠΨΣΘΞ@$¤_\n\r") <= GSM7_BASIC
    # Frequent surprises: these are NOT in GSM-7 and force UCS-2.
    for ch in "áíóúçÁÍÓÚâêô`\t’\u00a0–…":
        assert ch not in GSM7_BASIC and ch not in GSM7_EXTENSION, ch


# ---- count_segments --------------------------------------------------------------------------------------
BODY_1600 = ("Thanks for taking part! How easy was it to find the service you needed today? " * 30)[:1600]


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("", SegmentCount("GSM-7", 0, 0, 160), id="empty"),
        pytest.param("a" * 160, SegmentCount("GSM-7", 160, 1, 160), id="gsm-160"),
        pytest.param("a" * 161, SegmentCount("GSM-7", 161, 2, 153), id="gsm-161"),
        pytest.param("a" * 306, SegmentCount("GSM-7", 306, 2, 153), id="gsm-306"),
        pytest.param("a" * 307, SegmentCount("GSM-7", 307, 3, 153), id="gsm-307"),
        pytest.param("á" * 70, SegmentCount("UCS-2", 70, 1, 70), id="ucs-70"),
        pytest.param("á" * 71, SegmentCount("UCS-2", 71, 2, 67), id="ucs-71"),
        pytest.param("á" * 134, SegmentCount("UCS-2", 134, 2, 67), id="ucs-134"),
        pytest.param("á" * 135, SegmentCount("UCS-2", 135, 3, 67), id="ucs-135"),
        # Extension characters cost an escape septet plus the character.
        pytest.param("{" * 80, SegmentCount("GSM-7", 160, 1, 160), id="ext-80-fills-one"),
        pytest.param("{" * 81, SegmentCount("GSM-7", 162, 2, 153), id="ext-81"),
        pytest.param("Price: 5€", SegmentCount("GSM-7", 10, 1, 160), id="euro-counts-2"),
        pytest.param("a\fb", SegmentCount("GSM-7", 4, 1, 160), id="form-feed-counts-2"),
        # One emoji switches the whole message to UCS-2, and counts two code units.
        pytest.param("Hi " + EMOJI, SegmentCount("UCS-2", 5, 1, 70), id="emoji-2-units"),
        pytest.param("a" * 68 + EMOJI, SegmentCount("UCS-2", 70, 1, 70), id="emoji-fills-one"),
        pytest.param("a" * 69 + EMOJI, SegmentCount("UCS-2", 71, 2, 67), id="emoji-spills"),
        pytest.param(BODY_1600, SegmentCount("GSM-7", 1600, 11, 153), id="gsm-1600"),
        # A single segment has no boundary, so a pair in its last two units is fine.
        pytest.param("a" * 158 + "{", SegmentCount("GSM-7", 160, 1, 160), id="ext-pair-ends-single"),
        # Escape pair straddling the 153 boundary: segment 1 ends one septet short, the pair opens segment 2,
        # which then overflows: 3 segments where ceil(306 / 153) would say 2.
        pytest.param("a" * 152 + "{" + "a" * 152, SegmentCount("GSM-7", 306, 3, 153), id="ext-pair-straddles"),
        pytest.param("a" * 151 + "{" + "a" * 153, SegmentCount("GSM-7", 306, 2, 153), id="ext-pair-fits"),
        # Same for a surrogate pair at the 67 boundary.
        pytest.param("á" * 66 + EMOJI + "á" * 66, SegmentCount("UCS-2", 134, 3, 67), id="surrogates-straddle"),
        pytest.param("á" * 65 + EMOJI + "á" * 67, SegmentCount("UCS-2", 134, 2, 67), id="surrogates-fit"),
        pytest.param(EMOJI * 36, SegmentCount("UCS-2", 72, 2, 67), id="emoji-only"),
        # Not valid text, but a possible Python str: must not raise.
        pytest.param("\ud83d", SegmentCount("UCS-2", 1, 1, 70), id="lone-surrogate"),
    ],
)
def test_count_segments(text, expected):
    assert count_segments(text) == expected


@pytest.mark.parametrize("ch", ["á", "ç", "`", "\t", "’", "\u00a0", "–", "…", EMOJI, "中"])
def test_one_foreign_character_forces_ucs2(ch):
    # The cost trap this module exists for: 150 plain characters are one GSM-7 segment; add one of these
    # and the message goes out as three UCS-2 segments.
    text = "a" * 150 + ch
    assert count_segments("a" * 150).segments == 1
    assert not is_gsm7(text)
    assert count_segments(text).encoding == "UCS-2"
    assert count_segments(text).segments == 3


# ---- gsm7_sanitise ---------------------------------------------------------------------------------------
FULLWIDTH = "".join(chr(cp) for cp in range(0xFF01, 0xFF5F) if cp != 0xFF40)  # ！..～ without ｀
REPLACED = (
    "‘’‚‛′“”„‟″"
    "\u00a0\u202f\u2009\u2002\u2003\u2007\u200a\u3000"
    "\u200b\u200c\u200d\ufeff\u00ad\u2060"
    "–—−‐‑‒…•×"
)


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("It‘s ’fine’", "It's 'fine'", id="single-quotes"),
        pytest.param("‚low‛", "'low'", id="low-single-quotes"),
        pytest.param("“Yes” or „no‟", '"Yes" or "no"', id="double-quotes"),
        pytest.param("5′10″", "5'10\"", id="primes"),
        pytest.param("10\u00a0am", "10 am", id="nbsp"),
        pytest.param("10\u202fam", "10 am", id="narrow-nbsp"),
        pytest.param("a\u2009b\u2002c\u2003d\u2007e\u3000f", "a b c d e f", id="thin-en-em-figure-ideographic"),
        pytest.param("re\u200bply", "reply", id="zero-width-space"),
        pytest.param("\ufeffHello", "Hello", id="bom"),
        pytest.param("in\u00adcredible", "incredible", id="soft-hyphen"),
        pytest.param("a\u200cb\u200dc", "abc", id="zwnj-zwj-in-plain-text"),
        pytest.param("1–5, yes—no, −3, co‐op, e‑mail, 555‒1234", "1-5, yes-no, -3, co-op, e-mail, 555-1234", id="dashes"),
        pytest.param("Wait…", "Wait...", id="ellipsis"),
        pytest.param("• one\n• two", "- one\n- two", id="bullet"),
        pytest.param("ＡＢＣ１２３！？", "ABC123!?", id="fullwidth"),
        pytest.param("｛ｘ｝", "{x}", id="fullwidth-extension"),
        pytest.param("2×3", "2x3", id="times"),
        # Left alone: no equivalent, or the meaning would change.
        pytest.param("Autobús", "Autobús", id="spanish-u-acute"),
        pytest.param("Café é", "Café é", id="e-acute-is-gsm7"),
        pytest.param("Façade", "Façade", id="c-cedilla-lower"),
        pytest.param("Thanks " + EMOJI, "Thanks " + EMOJI, id="emoji"),
        pytest.param("你好", "你好", id="other-script"),
        pytest.param("use `code`", "use `code`", id="backtick"),
        # Mixed: the cost-neutral swaps are made, the accent stays, the message stays UCS-2.
        pytest.param("“Autobús”", '"Autobús"', id="quotes-around-accent"),
        # The ellipsis stays in a message that stays UCS-2: '...' would cost two more units for nothing.
        pytest.param("Autobús…", "Autobús…", id="ellipsis-kept-in-ucs2"),
        # ZWJ inside an emoji sequence is meaning (one glyph instead of three); the message stays UCS-2.
        pytest.param("Family " + FAMILY, "Family " + FAMILY, id="zwj-in-emoji"),
        # 53 ellipses: '...' * 53 = 159 septets, 1 GSM-7 segment, as good as 1 UCS-2 segment: expand.
        pytest.param("…" * 53, "..." * 53, id="ellipses-expand-when-not-worse"),
        # 54 ellipses: 162 septets = 2 GSM-7 segments, worse than 1 UCS-2 segment: keep them.
        pytest.param("…" * 54, "…" * 54, id="ellipses-kept-when-worse"),
    ],
)
def test_gsm7_sanitise(text, expected):
    out = gsm7_sanitise(text)
    assert out == expected
    assert gsm7_sanitise(out) == out  # idempotent
    assert count_segments(out).segments <= count_segments(text).segments


@pytest.mark.parametrize("text", ["", "plain ascii {text}", "Autobús", "é", EMOJI, "…" * 54])
def test_sanitise_returns_the_same_object_when_nothing_applies(text):
    assert gsm7_sanitise(text) is text


@pytest.mark.parametrize("ch", list(REPLACED + FULLWIDTH))
def test_each_replaced_character_becomes_gsm7(ch):
    assert not is_gsm7(ch)
    assert is_gsm7(gsm7_sanitise(ch))
    assert is_gsm7(gsm7_sanitise("Question 1" + ch + "answer"))


def test_text_of_only_replaced_characters_becomes_gsm7():
    out = gsm7_sanitise(REPLACED + FULLWIDTH)
    assert is_gsm7(out)
    assert count_segments(out).encoding == "GSM-7"


def test_typical_survey_question_drops_from_ucs2_to_gsm7():
    # A non-breaking space and curly quotes pasted from a word processor double the cost of every send.
    text = "How would you rate today’s visit?\u00a0Reply 1–5 (“1” = poor)."
    assert count_segments(text) == SegmentCount("UCS-2", 57, 1, 70)
    out = gsm7_sanitise(text)
    assert out == "How would you rate today's visit? Reply 1-5 (\"1\" = poor)."
    assert count_segments(out) == SegmentCount("GSM-7", 57, 1, 160)
    long = text * 3  # 171 characters: 3 UCS-2 segments, 2 GSM-7 once sanitised
    assert count_segments(long).segments == 3
    assert count_segments(gsm7_sanitise(long)).segments == 2


# ---- properties ------------------------------------------------------------------------------------------
# Biased towards the characters that matter (two-unit characters, replaced ones, UCS-2 forcers) so that long
# texts cross segment boundaries in every configuration, plus arbitrary characters for the rest.
_INTERESTING = "a {€\f…’“\u00a0\u200b\u200d–×Ａá中" + EMOJI
_texts = st.text(alphabet=st.one_of(st.sampled_from(_INTERESTING), st.characters()), max_size=400)
_ellipsis_heavy = st.text(alphabet=st.sampled_from("…a{’\u200d"), min_size=40, max_size=250)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_texts, _ellipsis_heavy))
def test_properties(text):
    count = count_segments(text)
    assert count.segments >= 1 if text else count.segments == 0
    assert is_gsm7(text) == (count.encoding == "GSM-7")
    # Pairs kept whole can only add segments to the plain formula; with no pair, it is the plain formula.
    if text:
        formula = 1 if count.units <= count.per_segment else math.ceil(count.units / count.per_segment)
        assert count.segments >= formula
        if count.units == len(text):
            assert count.segments == formula
    sanitised = gsm7_sanitise(text)
    assert count_segments(sanitised).segments <= count.segments  # sanitising can only help
    assert gsm7_sanitise(sanitised) == sanitised
    if is_gsm7(text):
        assert sanitised is text
