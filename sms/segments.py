"""SMS encoding and segment arithmetic: which alphabet a body goes out in, and how many segments it is billed as.

An SMS body is sent in GSM-7 (the GSM 03.38 default alphabet, 7-bit septets) when every character is in that
alphabet or its extension table; one character outside it switches the *whole* message to UCS-2 (UTF-16 code
units), which cuts a segment from 160 to 70 characters. Typographic punctuation that word processors and
phones insert on their own (curly quotes, non-breaking spaces, en dashes) is the usual culprit, so
``gsm7_sanitise`` swaps it for plain equivalents where the meaning is unchanged.

Pure and stdlib only: no I/O, no Twilio client.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "SegmentCount", "count_segments", "gsm7_sanitise", "is_gsm7"]

# ---- the alphabet ----------------------------------------------------------------------------------------
# GSM 03.38 (3GPP TS 23.038) default alphabet, in code-point order 0x00..0x7F. 0x1B is the escape into the
# extension table, not a character, so it is absent: 127 characters. 0x09 is the capital Ç (lower-case ç is
# not in the alphabet, whatever some handsets display).
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table as carriers support it: each costs two septets (ESC + the character). The table's
# other entries (a second escape, a page-break control) have no Unicode character to send.
GSM7_EXTENSION: frozenset[str] = frozenset("^{}\\[~]|€\f")
_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

# Segment sizes. A concatenated message spends 6 octets of each segment on the user data header that says
# "part i of n", leaving 153 septets or 67 UTF-16 code units.
_GSM7_SINGLE, _GSM7_MULTI = 160, 153
_UCS2_SINGLE, _UCS2_MULTI = 70, 67


# ---- sanitising ------------------------------------------------------------------------------------------
def _always_table() -> dict[int, str]:
    # Replacements that keep the meaning in any context and never cost a unit in either encoding (one
    # character for one, or removal). Each of these, left alone, forces UCS-2 and so more than doubles
    # the cost of an otherwise plain message.
    table: dict[int, str] = {}
    for ch in "\u2018\u2019\u201a\u201b\u2032":  # ‘ ’ ‚ ‛ ′ — curly/low single quotes, prime
        table[ord(ch)] = "'"
    for ch in "\u201c\u201d\u201e\u201f\u2033":  # “ ” „ ‟ ″ — curly/low double quotes, double prime
        table[ord(ch)] = '"'
    # No-break, narrow no-break, the typographic spaces of U+2000..U+200A (en, em, thin, figure, hair...),
    # medium mathematical space, ideographic (fullwidth) space: all print as a space.
    for cp in (0x00A0, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000):
        table[cp] = " "
    for ch in "\u2010\u2011\u2012\u2013\u2014\u2212":  # ‐ ‑ ‒ – — − : hyphens, dashes, minus sign
        table[ord(ch)] = "-"
    table[0x2022] = "-"  # • bullet: a list marker, which '-' is in plain text
    table[0x00D7] = "x"  # × multiplication sign, as in "2×3" or "4×4"
    # Invisible characters with no meaning once rendered: zero-width space (a line-break hint), BOM /
    # zero-width no-break space and word joiner (break suppression), soft hyphen (a hyphenation hint).
    for cp in (0x200B, 0xFEFF, 0x2060, 0x00AD):
        table[cp] = ""
    # Fullwidth ASCII (U+FF01..U+FF5E) is the same character drawn wider. The fullwidth grave accent is
    # left alone: '`' is not in GSM-7 either, so mapping it would change the text for no gain.
    for cp in range(0xFF01, 0xFF5F):
        if cp != 0xFF40:
            table[cp] = chr(cp - 0xFEE0)
    return table


_ALWAYS = _always_table()
# Replacements that only pay off when they make the whole message GSM-7, so they are applied only then:
# - the ellipsis becomes three characters, which costs two extra units in a message that stays UCS-2;
# - ZWJ and ZWNJ carry meaning next to emoji (👩‍👩‍👧 is one glyph) and in Arabic, Persian and Indic scripts,
#   all of which keep the message UCS-2 anyway; between GSM-7 characters they are invisible noise.
_WHEN_GSM7 = {0x2026: "...", 0x200C: "", 0x200D: ""}


def gsm7_sanitise(text: str) -> str:
    """Replace characters that silently force UCS-2 with GSM-7 equivalents where the meaning is unchanged.

    Curly and low quotes and primes become ' and "; no-break and typographic spaces become ' '; zero-width
    space, BOM, word joiner and soft hyphen are removed; hyphens, dashes and the minus sign become '-';
    the bullet becomes '-'; fullwidth ASCII becomes ASCII; '×' becomes 'x'. The ellipsis becomes '...' and
    ZWJ/ZWNJ are removed only when that makes the whole text GSM-7 without adding a segment; otherwise
    they stay, as they cost less (or mean something) in a UCS-2 message.

    Accented letters GSM-7 lacks (á, í, ó, ú, ç...), emoji and other scripts are never touched: they have
    no equivalent, so such a message stays UCS-2.

    Guarantees: never increases ``count_segments(...).segments``; idempotent; returns ``text`` itself when
    nothing applies (GSM-7 text in particular is returned unchanged).
    """
    if text.isascii():  # every replaced character is non-ASCII: the common case costs one C-level scan
        return text
    partial = text.translate(_ALWAYS)
    full = partial.translate(_WHEN_GSM7)
    if full != partial and is_gsm7(full) and count_segments(full).segments <= count_segments(text).segments:
        return full
    # The ALWAYS replacements map one character to one BMP character or remove it, so the result never
    # costs more segments than the input (proved in the tests by a property check).
    return text if partial == text else partial


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 default alphabet or its extension table (so the text goes
    out as GSM-7). The empty string is GSM-7."""
    return _GSM7_ALL.issuperset(text)


# ---- counting --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentCount:
    """How a body is billed.

    encoding: 'GSM-7' or 'UCS-2'.
    units: septets for GSM-7 (an extension character counts 2), UTF-16 code units for UCS-2 (a character
        outside the BMP, such as most emoji, counts 2). Padding left at a segment's end is not included.
    segments: 0 for the empty text; 1 when units fit one segment (160 / 70); otherwise the number of
        concatenated segments (153 / 67 each), with no escape pair or surrogate pair split across two.
    per_segment: the capacity used: 160 or 153 for GSM-7, 70 or 67 for UCS-2.
    """

    encoding: str
    units: int
    segments: int
    per_segment: int


def count_segments(text: str) -> SegmentCount:
    """Segments as carriers bill them, for ``text`` sent as is (sanitise first if that is what is sent).

    A concatenated message never splits an extension-table escape pair (ESC + character) or a UTF-16
    surrogate pair across segments: when a pair would straddle a boundary, the segment ends one unit short
    and the pair starts the next one, as Twilio does. So the count can exceed ceil(units / per_segment).

    Never raises for any ``str``; a lone surrogate (not valid text, but a possible Python str) counts as one
    UCS-2 unit.
    """
    if not text:
        return SegmentCount("GSM-7", 0, 0, _GSM7_SINGLE)
    if is_gsm7(text):
        encoding, single, multi = "GSM-7", _GSM7_SINGLE, _GSM7_MULTI
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    else:
        encoding, single, multi = "UCS-2", _UCS2_SINGLE, _UCS2_MULTI
        sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    units = sum(sizes)
    if units <= single:  # one segment: no header, nothing to split
        return SegmentCount(encoding, units, 1, single)
    if units == len(sizes):  # no two-unit character, so nothing can straddle a boundary
        return SegmentCount(encoding, units, -(-units // multi), multi)
    segments, used = 1, 0
    for size in sizes:  # fill greedily; a pair that does not fit opens the next segment whole
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return SegmentCount(encoding, units, segments, multi)
