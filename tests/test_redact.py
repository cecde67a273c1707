"""Redaction of personal data in free text: tables of answers as people write them (each PII kind in many
spellings, mid-sentence, several at once), tables of look-alikes that must survive byte for byte, caller-given
names, and properties (idempotent, never raises, contains_pii agrees with redact)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.redact import EMAIL, NAME, PHONE, POSTCODE, URL, contains_pii, redact

# (text, expected)
PHONES = [
    ("07700 900123", PHONE),
    ("call me on 07700 900123 please", f"call me on {PHONE} please"),
    ("my number is 07700900123.", f"my number is {PHONE}."),
    ("+44 7700 900123", PHONE),
    ("+447700900123", PHONE),
    ("ring (020) 7946 0958 after 5", f"ring {PHONE} after 5"),
    ("(020)79460958", PHONE),
    ("0044 7700 900123", PHONE),
    ("447700900123", PHONE),
    ("+44 (0)20 7946 0958", PHONE),
    ("+44 (0) 7700 900 123", PHONE),
    ("07700-900-123 or 07700.900.123", f"{PHONE} or {PHONE}"),
    ("0161 496 0000, 0161 496 0001", f"{PHONE}, {PHONE}"),
    ("tel: 01632 960123", f"tel: {PHONE}"),
    ("I'm 34 07700 900123", f"I'm 34 {PHONE}"),
    ("7700 900123", PHONE),  # a mobile typed without its 0
    ("+33 6 12 34 56 78", PHONE),
    ("+1 (555) 123-4567", PHONE),
    ("0800 123 4567", PHONE),
    ("text 07911 123456 or email", f"text {PHONE} or email"),
]

EMAILS = [
    ("sarah.jones@gmail.com", EMAIL),
    ("email me at Sarah_J+chorus@example.co.uk.", f"email me at {EMAIL}."),
    ("write to info@foodbank.org.uk or ring", f"write to {EMAIL} or ring"),
    ("sarah(at)gmail.com", EMAIL),
    ("sarah [at] gmail [dot] com", EMAIL),
    ("it's sarah at gmail dot co dot uk thanks", f"it's {EMAIL} thanks"),
    ("mailto:someone@nhs.net", f"mailto:{EMAIL}"),
]

POSTCODES = [
    ("SW1A 1AA", POSTCODE),
    ("sw1a1aa", POSTCODE),
    ("I live in M1 1AE now", f"I live in {POSTCODE} now"),
    ("B33 8TH", POSTCODE),
    ("moved to ec1a 1bb last week", f"moved to {POSTCODE} last week"),
    ("CR2 6XH, near the park", f"{POSTCODE}, near the park"),
    ("DN55 1PT.", f"{POSTCODE}."),
    ("GIR 0AA", POSTCODE),
    ("W1A  0AX", POSTCODE),
]

URLS = [
    ("see https://example.com/x?y=1.", f"see {URL}."),
    ("www.facebook.com/sarah.j", URL),
    ("my page is facebook.com/sarah.jones ok", f"my page is {URL} ok"),
    ("bbc.co.uk", URL),
    ("message me t.me/sarahj", f"message me {URL}"),
    ("(http://example.org/a_(b))", f"({URL})"),
    ("HTTPS://EXAMPLE.COM", URL),
]

NAMES = [
    ("my name is sarah", f"my name is {NAME}"),
    ("my name is sarah smith and I need help", f"my name is {NAME} and I need help"),
    ("My name is Sarah Hope", f"My name is {NAME}"),
    ("My name is Sarah Jane Smith and I", f"My name is {NAME} and I"),
    ("my names priya", f"my names {NAME}"),
    ("my name's Tom", f"my name's {NAME}"),
    ("MY NAME IS SARAH SMITH", f"MY NAME IS {NAME}"),
    ("Name: Tom Jones", f"Name: {NAME}"),
    ("I'm John Smith", f"I'm {NAME}"),
    ("Hi, I'm Sarah and I volunteer", f"Hi, I'm {NAME} and I volunteer"),
    ("I am Ahmed", f"I am {NAME}"),
    ("I'm Sarah's mum", f"I'm {NAME}'s mum"),
    ("i'm called dave", f"i'm called {NAME}"),
    ("this is Tom here", f"this is {NAME} here"),
    ("This is Sarah from the drop-in", f"This is {NAME} from the drop-in"),
    ("Hi this is Priya", f"Hi this is {NAME}"),
    ("Sarah here, just to say thanks", f"{NAME} here, just to say thanks"),
    ("call me Dave", f"call me {NAME}"),
    ("call me dave", f"call me {NAME}"),
    ("it's sarah here", f"it's {NAME} here"),
    ("thanks, Priya", f"thanks, {NAME}"),
    ("Great help thanks priya x", f"Great help thanks {NAME} x"),
    ("Lovely staff.\nLove, Tom x", f"Lovely staff.\nLove, {NAME} x"),
    ("Cheers - Bev", f"Cheers - {NAME}"),
    ("Great service - Tom", f"Great service - {NAME}"),
    ("All sorted. From Ahmed", f"All sorted. From {NAME}"),
    ("my son's name is jack", f"my son's name is {NAME}"),
    ("her name is Kathryn Sotelo, she helped", f"her name is {NAME}, she helped"),
    ("Hi its Jo from flat 4", f"Hi its {NAME} from flat 4"),
    ("Thanks Bev and Steve", f"Thanks {NAME} and {NAME}"),
    ("Kind regards,\nMargaret Thompson", f"Kind regards,\n{NAME}"),
    ("Dr O'Brien was kind", f"Dr {NAME} was kind"),
    ("ask for Mr. Khan", f"ask for Mr. {NAME}"),
]

SEVERAL = [
    (
        "my name is sarah, call 07700 900123 or sarah@example.com, I live at SW1A 1AA",
        f"my name is {NAME}, call {PHONE} or {EMAIL}, I live at {POSTCODE}",
    ),
    ("I'm Tom (07700 900123) - see www.tom.example.com", f"I'm {NAME} ({PHONE}) - see {URL}"),
    ("Thanks! ring +44 7700 900123 or 020 7946 0958. Priya", f"Thanks! ring {PHONE} or {PHONE}. Priya"),
    ("B33 8TH and M1 1AE", f"{POSTCODE} and {POSTCODE}"),
    ("Thanks for the help with my forms, from Sarah at sarah@x.org", f"Thanks for the help with my forms, from Sarah at {EMAIL}"),
]

# Look-alikes that must come back byte for byte.
KEPT = [
    "on 12/03/2026 at 10:30",
    "12.03.2026",
    "from 01.03.2026 - 02.03.2026",
    "2026-03-12",
    "open 09.30 - 17.00 weekdays",
    "it cost £1,200 and then £12 345",
    "waited 3 hours, 45 mins",
    "I'm 34 with 2 kids",
    "in 2019 2020 2021 it was better",
    "open 9-5, or 24/7 online",
    "NHS 111 told me to call 999",
    "Samaritans 116 123, Childline 0800 1111, police 101",
    "room 1204 on floor 3",
    "ref 1234567",
    "bag tags 0016 964012",
    "the M1 was busy",
    "the E17 bus",
    "room B1 1st floor",
    "at 1am and 2pm",
    "flat 3b, 12 Acacia Avenue",  # street addresses are not detected; only postcodes are
    "it was good.so helpful",
    "version 1.2.3",
    "rated it 10/10",
]

NOT_NAMES = [
    "I'm happy",
    "I'm not sure",
    "I'm Muslim",
    "I am disabled",
    "I'm Happy With The Service",
    "I'm john",
    "i'm so grateful",
    "I'm STRANDED!!",
    "I am HELLA tired",
    "I'm Deaf and the staff signed",
    "this is great",
    "This is Great",
    "This is my third visit",
    "call me back",
    "call me anytime",
    "could someone call me directly?",
    "it's quiet here",
    "it's lovely here",
    "thanks again",
    "Thank you so much",
    "thanks. Safety first.",
    "cheers mate",
    "my name is not important",
    "they moved here from Syria",
    "I want to fly to Cuba, from NYC.",
    "Rating - Excellent",
    "It's awful - fix it",
    "- Oscar performance",
    "Sarah was lovely",  # no cue, no names=: kept (known staff go in names=)
    "I'M HAPPY WITH IT",
    "Staff here are lovely",
    "thanks bev and the team",  # a sign-off must be names as a whole
    "Love, Mum and Dad",
    "it's closed from 5pm",
    "I have MS Fatigue",
]


@pytest.mark.parametrize(("text", "expected"), PHONES + EMAILS + POSTCODES + URLS + NAMES + SEVERAL)
def test_masks(text, expected):
    assert redact(text) == expected
    assert contains_pii(text)


@pytest.mark.parametrize("text", KEPT + NOT_NAMES)
def test_keeps(text):
    assert redact(text) == text
    assert not contains_pii(text)


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("Sarah was lovely, thanks", ["Sarah"], f"{NAME} was lovely, thanks"),
        ("SARAH and sarah and Sarahs", ["sarah"], f"{NAME} and {NAME} and Sarahs"),  # whole words only
        ("Mary-Jane helped; Mary did not", ["Mary-Jane"], f"{NAME} helped; Mary did not"),
        ("Ask Sarah  Jones or Sarah", ["Sarah Jones"], f"Ask {NAME} or Sarah"),
        ("Priya's advice", ["Priya"], f"{NAME}'s advice"),
        ("Tom at 07700 900123", ("Tom", "", "  "), f"{NAME} at {PHONE}"),  # blanks are ignored
        ("Dr O'Brien was kind", {"O'Brien"}, f"Dr {NAME} was kind"),
        ("Ahmed", "Ahmed", NAME),  # a lone string is one name
        ("a [name] and a name", ["name"], f"a {NAME} and a {NAME}"),  # tokens are never re-masked
    ],
)
def test_given_names(text, names, expected):
    assert redact(text, names=names) == expected
    assert redact(expected, names=names) == expected


def test_token_does_not_reveal_length():
    assert redact("call 0161 496 0000") == redact("call +44 (0) 161 496 0000") == f"call {PHONE}"
    assert redact("my name is Al") == redact("my name is Bartholomew Montgomery") == f"my name is {NAME}"


def test_everything_else_is_kept_byte_for_byte():
    text = "  Café\u00a0staff 👍\r\n were great;\tcall 07700 900123\u2026 \u200bthanks  "
    assert redact(text) == text.replace("07700 900123", PHONE)


def test_empty_and_already_redacted():
    assert redact("") == ""
    assert not contains_pii("")
    done = f"my name is {NAME}, call {PHONE}, {EMAIL}, {POSTCODE}, {URL}"
    assert redact(done) == done
    assert not contains_pii(done)


# Fragments that exercise the detectors' edges when glued together at random.
FRAGMENTS = [
    "07700 900123", "+44", "(0)", "020", "7946", "0958", "0044", "12/03/2026", "£1,200", "9-5", " ", "  ", "\n", ".",
    ",", "-", "(", ")", "[", "]", "@", "x", "my name is ", "I'm ", "i am ", "call me ", "this is ", "it's ", " here",
    "thanks ", "Love, ", "From ", "Sarah", "sarah", "Smith", "HAPPY", "happy", "SW1A", "1AA", "sw1a1aa", "M1", "www.",
    "example", ".com", "gmail", " at ", " dot ", "[name]", "[phone]", "[link]", "'s", "’", "Ahmed", "x.org/a",
]
texts = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=12).map("".join),
)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_idempotent_and_never_raises(text):
    once = redact(text)
    assert redact(once) == once
    assert contains_pii(text) == (once != text)
    assert not contains_pii(once)


@settings(max_examples=200, deadline=None)
@given(texts, st.lists(st.sampled_from(["Sarah", "name", "Tom Jones", "O'Brien", "[", "a.b", ""]), max_size=3))
def test_idempotent_with_names(text, names):
    once = redact(text, names=names)
    assert redact(once, names=names) == once


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=7_000_000_000, max_value=7_999_999_999),
    st.sampled_from(["{a}{b}", "0{a} {b}", "0{a}-{b}", "+44 {a} {b}", "+44{a}{b}", "0044 {a} {b}", "(0{a}) {b}"]),
    st.sampled_from(["", "call me on ", "ring "]),
    st.sampled_from(["", ".", " thanks", ", after 5pm"]),
)
def test_any_uk_mobile_is_masked(number, layout, before, after):
    digits = str(number)
    text = before + layout.format(a=digits[:4], b=digits[4:]) + after
    assert redact(text) == before + PHONE + after


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["the", "staff", "were", "kind", "wait", "was", "long", "I", "came", "on", "Tuesday",
                                 "3", "hours", "2026", "£20", "9-5", "and", "but", ",", ".", "!"]), max_size=15))
def test_ordinary_answers_are_untouched(words):
    text = " ".join(words)
    assert redact(text) == text
