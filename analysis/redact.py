"""Mask personal data in free text before it leaves the store (digest quotes, governance exports, alerts).

Contract:
- `redact(text, names=())` returns `text` with every span of personal data replaced by one token:
  PHONE "[phone]", EMAIL "[email]", POSTCODE "[postcode]", NAME "[name]", URL "[link]". One span becomes one
  token whatever its length ("Sarah Jane Smith" -> "[name]"), so the output never reveals how long it was.
  Everything outside the spans is kept byte for byte.
- Idempotent: `redact(redact(x)) == redact(x)`. Tokens already in the text are never re-masked, and `redact`
  re-applies itself until nothing changes (masking can remove text that hid a cue), so this holds by
  construction, not by luck. It never raises on any `str`.
- `contains_pii(text)` is True exactly when `redact(text)` would change the text.
- Pure and thread-safe: compiled patterns only; no model, no network, no data files.

What counts, and the decisions behind it:
- Phones: UK numbers written nationally (07700 900123, (020) 7946 0958, 0161-496-0000, 07700.900.123) and
  international forms (+44 7700 900123, +44 (0)20 7946 0958, 0044 7700 900123, 447700900123, +33 6 12 34 56
  78), with spaces, dashes, dots or brackets between the groups, and a UK mobile with the 0 dropped
  (7700 900123). A candidate is a run of digit groups; it is a phone when its digits have a phone's shape:
  0 + 9..10 digits (first group at least 3 digits, so a date like 01.03.2026 is not one), + or 00 or 44
  followed by a number `phonenumbers` calls *possible* for its country. Possible, not valid: valid rejects the
  Ofcom drama ranges and any mistyped or newly issued number, and a wrong-but-personal number must still go.
  `phonenumbers`' own matcher is not used: at POSSIBLE leniency it takes years, room numbers and dates
  ("2019", "12.03.2026"); at VALID it misses the numbers above.
  Kept: dates (12/03/2026, 12.03.2026), times (10:30, 9.30-17.00), money (£1,200), counts, ages, years,
  opening hours (9-5, 24/7), and short service numbers (999, 111, 101, 116 123, Childline 0800 1111): they
  are said as services, not as anyone's number, and digests are better for keeping them.
- Emails: name@domain.tld, plus the spelled-out forms "sarah (at) gmail (dot) com", "sarah at gmail dot com".
- Postcodes: full UK postcodes in any case, with or without the space (SW1A 1AA, sw1a1aa, M1 1AE, B33 8TH,
  GIR 0AA), checked against the real postcode areas (so "XY1 2AB" is not one). Outward codes alone ("M1",
  "E17", "SW1A") are kept: they are ambiguous (the M1 motorway, vitamin B12, A4 paper) and name a district of
  thousands of households, not a person. "B1 1st floor"-style ordinals in lower case are not postcodes.
- URLs: anything with a scheme or starting "www.", bare domains on common TLDs (bbc.co.uk,
  facebook.com/some.one), and the short-link hosts that carry personal handles (t.me, wa.me, youtu.be).
  Trailing sentence punctuation is not part of a link.
- Names people give: there is no general name recogniser here (staff or participant names that are known
  go in `names=`, matched as whole words, case-insensitive). Cues are graded by how sure they are:
  * strong ("my name is", "my name's", "my names", "name's", "Name:", "I'm called", "they call me"): the next
    word is masked in any case, unless it is a function word ("my name is not important").
  * medium ("call me X", "it's X here/speaking/from", "this is X here/speaking/from", "X here," at the
    start, "her/his/<someone>'s name is X", sign-offs at the very end: "thanks, Priya", "cheers priya x",
    "Thanks Bev and Steve", "Love, Tom", "ta, Bev", a final sentence "From Ahmed."): masked in any case
    unless the word is in a list of common words that follow these cues ("call me back", "it's quiet here",
    "thanks again", "from home") or has an ending names do not have (-ful, -less, -ous, -able, -ible, -ing,
    -ly, contractions).
  * weak ("I'm X", "I am X", "this is X" at the start, "- Tom" at the very end, a title: "Dr O'Brien",
    "Mrs Patel", where the title stays): masked only when capitalised as a name is ("I'm John" yes,
    "I'm john" no) and not a common word ("I'm Happy", "I'm Muslim", "I'm Disabled", "I'm Not sure",
    "This is Great" are kept). In text with no lower-case letters at all,
    capitals carry no signal and weak cues are ignored.
  An all-capitals word in text that has lower case is emphasis or an acronym, not a name, except after a strong
  cue ("I'm STRANDED", "This is EXACTLY", "from NYC" are kept). Following words are masked with the first
  while they look like a surname (not a common word; capitalised after a weak cue), up to three words in all,
  the third only when capitalised ("My name is Sarah Jane Smith" -> "My name is [name]"). A sign-off at the
  end must be a name as a whole ("- Oscar performance" is kept). A possessive "'s" stays outside the mask
  ("I'm [name]'s mum").
  Known limits: names with no cue ("Sarah was lovely") are kept unless passed in `names=`; a name that is also
  a common word after a weak cue ("I'm Hope") is kept; social media handles (@someone), street addresses and
  other countries' numbers written without + or 00 ("617-653-3040") are not masked; postcode-shaped codes
  ("N598JB", an aircraft tail number) are masked.

Speed: about 10 µs for a typical short answer with nothing to mask, 30-40 µs with something (a second pass
confirms the fixed point); every detector is gated by a cheap test and no regex backtracks super-linearly.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

import phonenumbers

PHONE, EMAIL, POSTCODE, NAME, URL = "[phone]", "[email]", "[postcode]", "[name]", "[link]"

_TOKEN = re.compile(r"\[(?:phone|email|postcode|name|link)\]")

__all__ = ["PHONE", "EMAIL", "POSTCODE", "NAME", "URL", "redact", "contains_pii"]


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """Return `text` with personal data replaced by tokens; see the module docstring for what and why."""
    names_re = _names_pattern(_clean_names(names))
    while True:
        spans = _find(text, names_re)
        if not spans:
            return text
        text = _apply(text, spans)


def contains_pii(text: str) -> bool:
    """True when `redact(text)` would change the text."""
    return bool(_find(text, None))


# --- span plumbing -------------------------------------------------------------------------------------------

Span = tuple[int, int, str]  # start, end, token


def _find(text: str, names_re: re.Pattern[str] | None) -> list[Span]:
    """Non-overlapping PII spans, left to right; an earlier start wins, then the longer span."""
    found: list[Span] = []
    found += _phones(text)
    found += _emails(text)
    found += _urls(text)
    found += _postcodes(text)
    found += _cued_names(text)
    if names_re is not None:
        found += [(m.start(), m.end(), NAME) for m in names_re.finditer(text)]
    if not found:
        return []
    # Tokens already in the text (a second pass, or a quote redacted upstream) are never part of a span,
    # which is half of what makes redact idempotent (the other half is the loop in `redact`).
    tokens = [m.span() for m in _TOKEN.finditer(text)] if "[" in text else []
    token_starts = [t[0] for t in tokens]
    found.sort(key=lambda s: (s[0], -s[1]))
    spans: list[Span] = []
    end = -1
    for s in found:
        if s[0] < end or s[1] <= s[0]:
            continue
        k = bisect_left(token_starts, s[1]) - 1  # the last token starting before the span ends
        if k >= 0 and tokens[k][1] > s[0]:
            continue
        spans.append(s)
        end = s[1]
    return spans


def _apply(text: str, spans: list[Span]) -> str:
    out, pos = [], 0
    for start, end, token in spans:
        out += [text[pos:start], token]
        pos = end
    out.append(text[pos:])
    return "".join(out)


# --- phones --------------------------------------------------------------------------------------------------

# A run of digit groups and the separators people type between them. Brackets come in as part of a group
# ("(020)", "(0)"). Slashes, colons and commas are not separators: they make dates, times and money.
_DIGIT_RUN = re.compile(r"[+(]{0,2}\d[\d \t\u00a0().\-–]*")
_GROUP = re.compile(r"\(?\+?\d+\)?")
_MAX_GAP = 3          # more than this many separator characters between groups ends a number
_MAX_GROUPS = 8       # "+33 6 12 34 56 78" has 6
_MONEY = "£$€"


def _phones(text: str) -> list[Span]:
    if len(text) < 9:
        return []
    spans: list[Span] = []
    for run in _DIGIT_RUN.finditer(text):
        if run.end() - run.start() < 9 or sum(c.isdigit() for c in run.group()) < 9:
            continue  # too few digits for any phone number (and most runs are a count, a time or a year)
        groups = [(run.start() + g.start(), run.start() + g.end(), g.group()) for g in _GROUP.finditer(run.group())]
        i = 0
        while i < len(groups):
            j = _longest_phone_from(text, groups, i)
            if j is None:
                i += 1
            else:
                # "(07700 900123)" brackets the number; "(020) 7946 0958" brackets the area code, which belongs.
                first, last = groups[i][2], groups[j][2]
                start = groups[i][0] + (first[0] == "(" and (i == j or ")" not in first))
                end = groups[j][1] - (last[-1] == ")" and (i == j or "(" not in last))
                spans.append((start, end, PHONE))
                i = j + 1
    return spans


def _longest_phone_from(text: str, groups: list[tuple[int, int, str]], i: int) -> int | None:
    """Index of the last group of the longest phone number starting at group i, or None."""
    start, _, first = groups[i]
    if not first.lstrip("(+").startswith(("0", "44", "7")) and "+" not in first:
        return None
    if start > 0 and text[start - 1] in _MONEY:
        return None
    last = min(len(groups), i + _MAX_GROUPS) - 1
    for j in range(i + 1, last + 1):  # cut the window at the first gap too wide to be inside one number
        if groups[j][0] - groups[j - 1][1] > _MAX_GAP:
            last = j - 1
            break
    for j in range(last, i - 1, -1):
        if _is_phone([g[2] for g in groups[i:j + 1]]):
            return j
    return None


def _is_phone(groups: list[str]) -> bool:
    first = groups[0]
    international = "+" in first or first.lstrip("(").startswith("00")
    digits = "".join(g.strip("()+") for g in groups)
    if international or digits.startswith("44"):
        # "+44 (0)20 ..." writes the national trunk 0 in brackets; it is not part of the number.
        digits = "".join(g.strip("()+") for k, g in enumerate(groups) if k == 0 or g != "(0)")
        if not international:
            if len(digits) not in (12, 13) or len(first.strip("()")) < 2:
                return False
            if len(digits) == 13 and digits[2] == "0":  # 44 07700 900123
                digits = digits[:2] + digits[3:]
        elif digits.startswith("00"):
            if len(first.strip("()")) < 3:  # a lone "00" is a time or a score, not an exit code
                return False
            digits = digits[2:]
        return 8 <= len(digits) <= 15 and _possible("+" + digits, None)
    if digits.startswith("0"):
        return len(digits) in (10, 11) and (len(groups) == 1 or len(first.strip("()")) >= 3) and _possible(digits, "GB")
    if digits.startswith("7"):  # a UK mobile typed without its 0
        return len(digits) == 10 and len(first) >= 4 and _possible(digits, "GB")
    return False


def _possible(number: str, region: str | None) -> bool:
    try:
        # IS_POSSIBLE, not IS_POSSIBLE_LOCAL_ONLY: "+1 696 4012" (a US number without its area code) is too
        # short to be anyone's number as written, and too like a bag tag or a booking reference.
        parsed = phonenumbers.parse(number, region)
        return phonenumbers.is_possible_number_with_reason(parsed) == phonenumbers.ValidationResult.IS_POSSIBLE
    except phonenumbers.NumberParseException:
        return False


# --- emails and links ----------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]++@[\w\-]++(?:\.[\w\-]++)++")
# Spelled out to dodge spam filters: "sarah (at) gmail (dot) com", "sarah[at]gmail.com", "sarah at gmail dot com".
# The bare " at " form needs a spelled " dot " too, or "staff at tesco.com" would be an address.
_EMAIL_TLD = r"(?:com|org|net|uk|me|io|info|edu|gov|ie)(?![\w\-])"
_DOT_SPELLED = r"(?:\s*+[(\[]\s*+dot\s*+[)\]]\s*+|\s++dot\s++)"
_EMAIL_SPELLED = re.compile(
    r"(?<![\w.+\-])[\w.+\-]++(?:"
    rf"\s*+[(\[]\s*+at\s*+[)\]]\s*+[\w\-]++(?:(?:{_DOT_SPELLED}|\.)[\w\-]++)*?(?:{_DOT_SPELLED}|\.){_EMAIL_TLD}"
    rf"|\s++at\s++[\w\-]++(?:{_DOT_SPELLED}[\w\-]++)*?{_DOT_SPELLED}{_EMAIL_TLD})",
    re.IGNORECASE,
)
_URL_SCHEME = re.compile(r"(?<![\w@/.\-])(?:(?:https?|ftp)://|www\.)[^\s<>\[\]\"']+", re.IGNORECASE)
# Bare domains only on TLDs that are not English words, so "good.so helpful" or "there.it is" (a missing space
# after a full stop) do not become links; short-link hosts are listed by name.
_URL_BARE = re.compile(
    r"(?<![\w@.\-])(?:(?:t|wa|fb)\.me|youtu\.be|(?:[a-z0-9\-]+\.)+(?:com|org|net|edu|gov|uk|info|biz|io|ly|gl|app|dev|"
    r"eu|ie|de|fr|nl|pl|ro|au|nz|ca))(?![\w\-])(?:/[^\s<>\[\]\"']*)?",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?'\"’”"


def _emails(text: str) -> list[Span]:
    spans = [(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(text)] if "@" in text else []
    low = text.lower()
    if "at" in low and ("dot" in low or "(at)" in low or "[at]" in low):
        spans += [(m.start(), m.end(), EMAIL) for m in _EMAIL_SPELLED.finditer(text)]
    return spans


def _urls(text: str) -> list[Span]:
    if "." not in text:
        return []
    spans = []
    for m in [*_URL_SCHEME.finditer(text), *_URL_BARE.finditer(text)]:
        start, end = m.span()
        while end > start:  # "see bbc.co.uk." ends the sentence, not the link; keep ")" only when opened
            ch = text[end - 1]
            if ch in _URL_TRAILING or (ch == ")" and text.count("(", start, end) < text.count(")", start, end)):
                end -= 1
            else:
                break
        spans.append((start, end, URL))
    return spans


# --- postcodes -----------------------------------------------------------------------------------------------

_AREAS = (
    "AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC EH EN "
    "EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE "
    "NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR "
    "TS TW UB W WA WC WD WF WN WR WS WV YO ZE"
).split()
_AREA_SET = frozenset(_AREAS)
# The shape is matched first and the area checked after (one regex with 124 alternatives is 5x slower).
# GIR 0AA is Girobank's, the one postcode outside the pattern.
# The inward code's letters never include C, I, K, M, O or V (so "1am", "2pm", "5kg" never match).
_POSTCODE = re.compile(
    r"(?<![\w\-])(?:(?P<area>[A-Z]{1,2})\d[A-Z\d]?|GIR)[ \t]{0,2}(?P<inward>\d[ABD-HJLNP-UW-Z]{2})(?![\w\-])",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"1st|2nd|3rd|\dth")


def _postcodes(text: str) -> list[Span]:
    return [
        (m.start(), m.end(), POSTCODE)
        for m in _POSTCODE.finditer(text)
        if (m["area"] is None or m["area"].upper() in _AREA_SET) and not _ORDINAL.fullmatch(m["inward"])
    ]


# --- names ---------------------------------------------------------------------------------------------------

STRONG, MEDIUM, WEAK = 3, 2, 1

# Words that can follow a strong cue without being a name ("my name is not important").
_FUNCTION_WORDS = frozenset("""
a an the not no is was and but or so on in at to of for with from by as if it its it's i im i'm me my mine
you your he she they we our their his her this that these those there here what which who why how when where
also just still actually really very too now then please private confidential irrelevant unimportant
withheld anonymous unknown none nothing yes written spelt spelled above below same different changed hidden
thanks thank hi hello hey misspelled mispelled misspelt wrong incorrect correct missing listed showing down
""".split())

# Words that follow "I'm", "call me", "it's ... here", "thanks", "from" and friends without being a name.
# They are what people write in feedback: feelings, identities, situations, fillers, common adjectives.
_COMMON_WORDS = _FUNCTION_WORDS | frozenset("""
am are be been being being do does did done have has had having get got getting go going gone will would can
could should shall may might must need needs want wants like likes love loved know knew think thought feel felt
say said tell told ask asked call called text texted come came see saw look looked try tried use used make made
take took give gave help helped work worked live lived stay stayed wait waited hope hoped find found keep kept
all any some every each both either neither none lot lots loads plenty much many more most less least few bit
little kind sort type one two three four five six seven eight nine ten first second third last next other
another own only quite pretty rather fairly bit totally fully completely absolutely definitely probably maybe
perhaps actually honestly literally finally almost nearly already always never ever often sometimes usually
again anyway anyways though tho instead too as well even yet soon later today tonight tomorrow yesterday
morning afternoon evening night week weekend month year time times back out up down off over under into onto
about around after before since until till through during between against without within via per
anytime anywhere asap whenever wherever sometime somewhere everyone everybody everything everywhere someone
somebody something anyone anybody anything nobody nowhere all guys team mate mates folks lads love hun babe
dear sir madam bye cheers regards wishes best x xx xxx xxxx ta ty thx thanks thank ok okay k alright fine
good great nice lovely amazing brilliant excellent fantastic wonderful awesome perfect super cool decent
fab fabulous superb outstanding incredible marvellous magic happy glad pleased delighted satisfied content
grateful thankful lucky blessed relieved proud excited hopeful positive confident comfortable safe settled
calm relaxed sure certain ready keen interested able free available home well better best okay sorry afraid
sad unhappy upset angry annoyed furious frustrated disappointed fed sick tired exhausted worn stressed anxious
worried nervous scared frightened afraid lonely alone isolated lost confused stuck bored busy struggling
desperate hungry cold hot warm poorly ill unwell sick ok unsure uncertain unable unwilling concerned
embarrassed ashamed overwhelmed shocked surprised amazed impressed unimpressed dissatisfied depressed
muslim christian catholic protestant jewish hindu sikh buddhist atheist agnostic religious spiritual
british english scottish welsh irish northern polish romanian lithuanian latvian bulgarian hungarian czech
slovak albanian kosovan portuguese spanish italian french german dutch greek turkish kurdish syrian iraqi
iranian afghan pakistani indian bangladeshi nepali sri lankan chinese vietnamese filipino thai japanese
korean somali sudanese eritrean ethiopian nigerian ghanaian kenyan ugandan zimbabwean congolese jamaican
caribbean african asian european american canadian australian arab arabic black white mixed brown ukrainian
russian moldovan georgian eastern gay lesbian bi bisexual straight trans transgender queer nonbinary non-binary
disabled deaf blind autistic dyslexic diabetic epileptic dyspraxic neurodivergent partially partially-sighted
hard housebound bedbound vulnerable pregnant expecting breastfeeding recovering clean sober registered
homeless unemployed employed self-employed retired redundant married single divorced separated widowed
widow widower engaged carer caring parent mum mom mam mother dad father grandparent grandmother grandma gran
nan nana grandad grandfather son daughter sister brother aunt uncle wife husband partner student volunteer
refugee asylum seeker migrant immigrant pensioner veteran client member tenant resident user patient new
old older young younger aged elderly over under 18 local originally currently staying living working still
here there back now fine quiet busy noisy loud crowded packed empty clean dirty friendly welcoming warm
peaceful chaotic boring fun different same hard difficult easy expensive cheap dear rubbish terrible awful
horrible bad poor worse worst shocking ridiculous unacceptable disgraceful useless pointless important
urgent serious true right wrong fair unfair slow fast quick late early strange weird odd normal usual typical
mad crazy silly stupid dumb funny hilarious old-fashioned brave strong weak real fake honest open closed far away miles
home house work school college uni university church mosque temple gurdwara hospital gp town city council
them him her us it you everybody staff people volunteers workers food parking reception kindly bae guy
appreciate appreciated appreciating person lol haha omg wow yay yes yeah yep nope myself yourself himself herself
itself ourselves yourselves themselves fam doll darling pet duck chuck bro bruv man dude pal buddy sweetie
blue red green yellow purple pink gold silver platinum bronze grey gray
""".split())

_UNNAMELIKE_SUFFIXES = ("ful", "less", "ous", "able", "ible")
_CONTRACTIONS = ("n't", "'ll", "'ve", "'re", "'d", "'m")     # "call me can't", "I'm I'll": never names
_LY_NAMES = frozenset("beverly kimberly shelly everly waverly".split())  # "-ly" words that are names

_W = r"[^\W\d_]++(?:['’\-][^\W\d_]++)*+"                 # a word: letters, inner apostrophe or hyphen
# Up to three words that may be a name ("Sarah Jane Smith"); a trailing kiss ("thanks Priya x") is not one.
_MORE = rf"(?:[ \t]++(?!(?:x{{1,5}}|and)\b){_W}){{0,2}}"
_WORDS = rf"(?P<name>{_W}{_MORE})"
_AND_WORDS = rf"(?:\s++(?:and|&)\s++(?P<name2>{_W}{_MORE}))?"   # "Thanks Bev and Steve"
_START = r"(?:^|(?<=[.!?\n]))\s*+(?:(?:hi|hello|hey|hiya|morning|good\s+(?:morning|afternoon|evening))\b[\s,!.\-–—]*+)?"
_END = r"(?:\s*+(?:x{1,5}+(?![^\W\d_])|[^\w\s]++))*+\s*+\Z"    # trailing punctuation, emoji, kisses
_B = r"(?<![\w'’])"                                            # a cue starts at a word boundary
_SEP = r"(?:\s*+[,:\-–—]++\s*+|\s++)"                           # "Thanks, Priya", "Thanks - Priya", "Thanks Priya"
_WORD = re.compile(_W)


class _Rule(NamedTuple):
    pattern: re.Pattern[str]
    strength: int
    cues: tuple[str, ...]   # one must be in the lower-cased text for the pattern to be tried at all: most
                            # answers carry no cue, and skipping a regex is cheaper than running it
    whole: bool = False     # a sign-off at the very end: every word must pass, or it is a sentence, not a name


def _rule(pattern: str, strength: int, cues: tuple[str, ...], whole: bool = False) -> _Rule:
    return _Rule(re.compile(pattern, re.IGNORECASE), strength, cues, whole)


_NAME_RULES = [
    _rule(_B + r"my\s+(?:(?:first|last|full|real|given|family|christian)\s+|sur|nick)?name(?:\s+is\b|\s*['’]\s*s\b|s\b|\s*[:=])"
          r"\s*+" + _WORDS, STRONG, ("name",)),
    _rule(_B + r"(?:the\s+)?name['’]s\s++" + _WORDS, STRONG, ("name",)),
    _rule(_B + r"name\s*[:=]\s*+" + _WORDS, STRONG, ("name",)),
    _rule(_B + r"i(?:['’]?m|\s+am)\s+called\s++" + _WORDS, STRONG, ("called",)),
    _rule(_B + r"(?:people|they|everyone|friends|family)\s+call\s+me\s++" + _WORDS, STRONG, ("call",)),
    _rule(_B + r"(?:his|her|their|[^\W\d_]+['’]s)\s+(?:(?:first|last|full)\s+|sur|nick)?name\s+is\s++" + _WORDS,
          MEDIUM, ("name",)),
    _rule(_B + r"call\s+me\s++" + _WORDS, MEDIUM, ("call",)),
    _rule(_B + r"it['’]?s\s++" + _WORDS + r"\s+(?:here|speaking|from)\b", MEDIUM, ("here", "speaking", "from")),
    _rule(_START + r"this\s+is\s++" + _WORDS + r"\s+(?:here|speaking|from)\b", MEDIUM, ("this",)),
    _rule(_START + _WORDS + r"\s+here\s*+[,\-–—]", MEDIUM, ("here",), whole=True),
    _rule(r"(?:^|(?<=[\s,.!?;:(\-–—]))(?:thanks|thank\s+you|thankyou|thanx|thx|cheers|(?:kind\s+|best\s+|warm\s+)?regards"
          r"|best\s+wishes|many\s+thanks|sincerely|yours(?:\s+(?:sincerely|faithfully|truly))?|bye)"
          + _SEP + _WORDS + _AND_WORDS + _END,
          MEDIUM, ("than", "thx", "cheers", "regards", "wishes", "sincerely", "yours", "bye"), whole=True),
    # "ta" and "ty" are thanks only with a comma after them ("ta, Bev"): "forced ta leave" is not a sign-off.
    _rule(r"(?:^|(?<=[\s,.!?;:(\-–—]))(?:ta|ty)\s*+,\s*+" + _WORDS + _END, MEDIUM, ("ta", "ty"), whole=True),
    _rule(r"(?:^|(?<=[.!?,\n]))\s*+(?:love|lots\s+of\s+love)" + _SEP + _WORDS + _AND_WORDS + _END, MEDIUM, ("love",), whole=True),
    # "from" only opening the last sentence: "..., from Syria" is where someone came from, not who wrote.
    _rule(r"(?:^|(?<=[.!?\n]))\s*+from" + _SEP + _WORDS + _AND_WORDS + _END, MEDIUM, ("from",), whole=True),
    _rule(_B + r"i(?:['’]?m|\s+am)\s++" + _WORDS, WEAK, ("im", "i'm", "i’m", "i am")),
    _rule(_START + r"this\s+is\s++" + _WORDS, WEAK, ("this",)),
    _rule(r"(?:^|(?<=\s))[\-–—~]++\s*+" + _WORDS + _AND_WORDS + _END, WEAK, ("-", "–", "—", "~"), whole=True),
    # A title before a capitalised word is a name whoever it is ("Dr O'Brien", "Mrs Patel"); the title stays.
    _rule(_B + r"(?-i:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?[ \t]++" + _WORDS, WEAK, ("mr", "ms", "miss", "mx", "dr", "prof")),
]


def _cued_names(text: str) -> list[Span]:
    low = text.lower()
    capitals_mean_names = text != text.upper()  # some letter is lower case, so capitals were chosen
    spans: list[Span] = []
    for rule in _NAME_RULES:
        if not any(c in low for c in rule.cues):
            continue
        for m in rule.pattern.finditer(text):
            found = [_name_span(m, group, rule, capitals_mean_names) for group in ("name", "name2") if m.groupdict().get(group)]
            if rule.whole and None in found:
                continue
            spans += [span for span in found if span]
    return spans


def _name_span(m: re.Match[str], group: str, rule: _Rule, capitals_mean_names: bool) -> Span | None:
    """The span of the name the cue introduces: the first word if it could be a name, then each following
    word while it could be a surname; a possessive "'s" ends the name and stays outside the span."""
    offset = m.start(group)
    words = [(offset + w.start(), offset + w.end(), w.group()) for w in _WORD.finditer(m[group])]
    start, end, first = words[0]
    if not _could_be_name(first, rule.strength, capitals_mean_names):
        return None
    taken = 1
    while not _possessive(words[taken - 1][2]) and taken < len(words):
        word = words[taken][2]
        if not _could_be_surname(first, word, rule.strength, capitals_mean_names):
            break
        if taken == 2 and capitals_mean_names and not word[0].isupper():
            break  # a third word only when capitalised ("Sarah Jane Smith"), not "thx, social media person"
        taken += 1
    if rule.whole and taken < len(words):
        return None
    end, last = words[taken - 1][1:]
    return (start, end - 2 if _possessive(last) else end, NAME)


def _possessive(word: str) -> bool:
    return len(word) > 2 and word[-2] in "'’" and word[-1] in "sS"


def _shouted(word: str, capitals_mean_names: bool) -> bool:
    """An all-capitals word in text that has lower case is emphasis or an acronym ("I'm STRANDED", "from NYC")."""
    return capitals_mean_names and len(word) > 1 and word.isupper()


def _common(word: str) -> bool:
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return (
        w in _COMMON_WORDS
        or w.endswith(_CONTRACTIONS)
        or (len(w) >= 6 and w.endswith(_UNNAMELIKE_SUFFIXES))
        or (len(w) >= 6 and w.endswith("ing"))
        or (len(w) >= 6 and w.endswith("ly") and w not in _LY_NAMES)
    )


def _could_be_name(word: str, strength: int, capitals_mean_names: bool) -> bool:
    if strength == STRONG:
        return word.lower().replace("’", "'") not in _FUNCTION_WORDS
    if _shouted(word, capitals_mean_names) or _common(word):
        return False
    return strength == MEDIUM or (capitals_mean_names and word[0].isupper())


def _could_be_surname(first: str, second: str, strength: int, capitals_mean_names: bool) -> bool:
    if strength == STRONG and capitals_mean_names and first[0].isupper() and second[0].isupper():
        return second.lower() not in _FUNCTION_WORDS  # "My name is Sarah Hope"
    if strength == WEAK and not second[0].isupper():
        return False
    return not _shouted(second, capitals_mean_names) and not _common(second)


# --- names the caller knows ----------------------------------------------------------------------------------

def _clean_names(names: Iterable[str]) -> tuple[str, ...]:
    if isinstance(names, str):  # a lone string is one name, not a list of letters
        names = (names,)
    return tuple(sorted({n.strip() for n in names if n and n.strip()}, key=lambda n: (-len(n), n.lower())))


@lru_cache(maxsize=64)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    if not names:
        return None
    alternatives = (r"\s+".join(re.escape(part) for part in n.split()) for n in names)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
