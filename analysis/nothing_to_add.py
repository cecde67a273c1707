"""Answers that say there is nothing (more) to say: "no ta", "no thats all", "nah im good", "n/a", "-", "👍",
"nada más, gracias". They are not comments: no sentiment (the tag's label is "nothing to add", left out of
the digest's sentiment counts and quotes) and no themes.

Pure and cheap (it runs on every answer the tagger and the theme counter see): only answers of at most
MAX_CHARS characters are read, as a sequence of known pieces; one piece that is not known (any word that says
something: "no one called me back", "nothing works", "not really happy with the wait") and the answer is a
comment like any other. English and Spanish pieces are recognised whatever the conversation's language (a
"no" is a "no"); other languages need their pieces added here.

`nothing_said(text)` returns what kind of "nothing" the answer is, because one kind depends on the question
(the sentiment tagger decides, see `analysis.sentiment.SentimentTagger`):
- CLOSE: "n/a", "that's it", "nothing to add", "no comment", "eso es todo", punctuation alone ("-", "."):
  nothing to add, whatever the question;
- CONTENT: "all good", "I'm good", "you're alright", "todo bien", a thumbs-up alone: nothing to add, except where it answers a
  praise question ("What did we do well?" "all good" is praise) or a closed question;
- DECLINE: "no", "nah", "nothing", "none", "not really", "nada": nothing to add, except where it answers a
  praise question ("What did we do well?" "nothing" is a complaint) or a closed question ("Did anyone call
  you back?" "no" is an answer). An answer with a DECLINE piece is DECLINE ("no thats all").
None: the answer says something.
"""
from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 60           # longer answers always say something
CLOSE, CONTENT, DECLINE = "close", "content", "decline"

_SEP = r"[\s,.!…~*\"'\-–—/_|]+"
# Only these alone make an answer of punctuation ("-", ".", "..."); ":(" and "?" say something.
_BLANK = frozenset(" \t\r\n,.…~*-–—_/|")
# Pieces, after folding (lower case, straight apostrophes, accents dropped, emoji modifiers dropped). Within a
# group the longer alternatives come first; across groups, CLOSE is tried first, then CONTENT, DECLINE, and
# the words that only add politeness.
_CLOSE = (
    r"nothing (?:else |more |further )?to (?:add|say|report|mention|tell(?: you)?|declare)"
    r"|nothing (?:comes|springs) to mind|nothing (?:that )?i can think of|none that i can think of"
    r"|(?:i )?can'?t think of anything(?: else| more)?|(?:i )?cannot think of anything(?: else| more)?"
    r"|no (?:more |further |other |additional )?(?:comments?|thoughts|feedback|questions)"
    r"|(?:that'?s|that is|thats|tht'?s) (?:it|all|everything|about it|all from me|it from me|all i have)"
    r"|n\s?/\s?a|n\.a|nil|skip|pass"
    # Spanish
    r"|eso es todo|es todo|nada (?:mas|que (?:anadir|agregar|decir|comentar|contar))"
    r"|no tengo (?:nada )?(?:mas|nada)(?: que (?:anadir|agregar|decir|comentar|contar))?"
    r"|sin comentarios?|ningun comentario|ya esta"
)
_CONTENT = (
    r"(?:i'?m|i am|im|we'?re|all) (?:all )?(?:good|fine|ok|okay|alright|sorted)"
    r"|all good here|good for now"
    # "(nah) you're alright": British for "no need, thanks"
    r"|(?:you'?re|youre|you are|your|ur|u'?re|u r) (?:alright|all right|ok|okay|fine|good)"
    r"|todo (?:bien|ok|correcto)|estoy bien|esta bien"
    r"|👍|👌|✅|✔|🆗|🤙|🙏|👋|🤝"
)
_DECLINE = (
    r"not (?:really|rly|realy|at all|much|a lot|anything|that i can think of|for now|today|right now|"
    r"at the moment|atm)"
    r"|nothing|nothin|nuthin|nuffin|nowt|none|nope+|nah+|naw|nay|nop|no+|na|n"
    # Spanish
    r"|para nada|en absoluto|creo que no|la verdad (?:es que )?no|de momento no|por ahora no|nada|nel"
    r"|ninguno|ninguna|ningun"
)
_FILLER = (
    r"thank you(?: very much| so much)?|thank u|thankyou|thanks|thanx|thnx|thx|tyvm|ty|ta|cheers|many thanks"
    r"|much appreciated|appreciate it|x+|xo+|love|luv|mate|hun|pal|tbh|honestly|really|rly|realy|at all|else"
    r"|more|much|for now|right now|atm|at the moment|just|i think|think so|sorry|ok|okay|kk|k|bye(?: for now)?"
    r"|take care|have a good (?:day|evening|weekend)|lol|haha|um+|erm+|hmm+|well|ah|oh|from me|for me|here"
    r"|i'?m afraid|im afraid|as such|again|so"
    r"|😊|🙂|☺|😀|😁|😃|😄|❤|💕|😘|🤗|😉"
    # Spanish
    r"|muchas gracias|muchisimas gracias|mil gracias|gracias|saludos|un saludo|besos|bss|vale|de verdad"
    r"|la verdad|igualmente|por ahora|de momento|tambien|mas"
)
# Friendly emoticons may close a "nothing" ("no thanks :)"); they are tried before the separators.
_SMILEY = r":-?\)|:-?d|=\)|;-?\)|<3"
_PIECE_RE = re.compile(
    rf"(?P<smiley>{_SMILEY})|(?P<sep>{_SEP})|(?P<close>(?:{_CLOSE})(?!\w))|(?P<content>(?:{_CONTENT})(?!\w))"
    rf"|(?P<decline>(?:{_DECLINE})(?!\w))|(?P<filler>(?:{_FILLER})(?!\w))"
)
_STRENGTH = {DECLINE: 3, CONTENT: 2, CLOSE: 1}
_KINDS = {"close": CLOSE, "content": CONTENT, "decline": DECLINE}   # so callers may compare with `is`
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
# Emoji modifiers: variation selectors, skin tones, zero-width joiners ("👍🏽" is "👍").
_MODIFIERS_RE = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")


def _fold(text: str) -> str:
    text = text.strip().lower()
    if not text.isascii():
        text = _MODIFIERS_RE.sub("", text.translate(_APOSTROPHES))
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text


def nothing_said(text: str | None) -> str | None:
    """CLOSE, CONTENT or DECLINE when the whole answer says there is nothing to add (see the module's
    docstring); None when it says something."""
    if not text or len(text) > MAX_CHARS:
        return None
    folded = _fold(text)
    if folded and _BLANK.issuperset(folded):
        return CLOSE          # punctuation alone: "-", ".", "..."
    kind = None
    pos, end = 0, len(folded)
    while pos < end:
        m = _PIECE_RE.match(folded, pos)
        if m is None:
            return None
        group = _KINDS.get(m.lastgroup)
        if group is not None and (kind is None or _STRENGTH[group] > _STRENGTH[kind]):
            kind = group
        pos = m.end()
    return kind


def says_nothing(text: str | None) -> bool:
    """True when the answer, whatever the question, is no comment to count themes in."""
    return nothing_said(text) is not None


__all__ = ["CLOSE", "CONTENT", "DECLINE", "MAX_CHARS", "nothing_said", "says_nothing"]
