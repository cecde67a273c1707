"""Sentiment tags for free-text answers: polarity, subjectivity, a label, and the analyzer that made them.

`SentimentTagger` implements the store's `AnswerTagger` protocol (`surveys.store`): the service calls
`tag(text, language, context)` when it stores a free-text answer and keeps the returned dict.

Contract of a tag (`Tag.to_dict()`):
- `polarity` -1..1 and `subjectivity` 0..1 come from the analyzer, scored on the normalised text
  (texting forms, common misspellings and emoji rewritten to words, @handles dropped, see `normalise`).
- `label` is 'positive' | 'neutral' | 'negative' | 'mixed' | 'not tagged: language' | 'nothing to add'.
  * 'nothing to add' (polarity and subjectivity 0): the answer only says there is nothing to say ("no ta",
    "no thats all", "n/a", "-", "👍", "nada más"; `analysis.nothing_to_add`), in any language we recognise.
    It depends on the question in two cases only: "no"/"nothing"/"none"... answering a praise question
    ("What did we do well?") is negative, and "no"/"nah"/"all good"/"👍" answering a closed question whose
    wording asks for yes or no ("Did anyone call you back?", but not "Is there anything else?") is an answer,
    tagged by the rules below. Anywhere else (improvement, problem, "anything else?" questions, comments with
    no question) it is nothing to add: not a comment, so not counted in the digest's sentiment.
  Otherwise the label is decided from
  the polarity (|polarity| < 0.05 is neutral), per-clause polarity (mixed: a clause at +0.2 or more and one
  at -0.2 or less, split at "but", "though", ";"), and the conversation's context:
  * "not sure"/"idk"/"n/a" on its own is neutral; in "nothing really, it's great" / "no, the staff were rude"
    the leading "nothing"/"no" answers the question and only the rest is scored;
  * "no"/"not really" on its own answering a closed question carries no complaint by itself ("Was it hard
    to get here?" "no"), so a negative polarity is taken as 0 (praise such as "nothing, it was great" stays
    positive);
  * an answer with no clear text signal (|polarity| < 0.05) takes its label from the question when the
    question decides it ("What did we do well?" -> positive, "What went wrong?" -> negative, "everything"
    answering "What could we do better?" -> negative), otherwise from the other numeric answers of the same
    conversation: mean fraction >= 0.8 is positive, <= 0.3 negative, otherwise neutral.
  The question is `context["prompt_kind"]` when given ('improve', 'problem', 'praise', 'open'), otherwise
  read from `context["question"]` (its key) and `context["question_text"]` (its wording).
- `tag` returns None when `context["free_text"]` is False (a number or a choice has no sentiment).
- The language is the conversation's, given by the caller; it is never guessed from the text. An answer in a
  language the analyzer does not support is labelled 'not tagged: language' with polarity/subjectivity 0.

Analyzers (`make_analyzer`): 'textblob' (TextBlob's pattern lexicon), 'vader', 'combined' (their mean) and
'feedback' (the default: VADER with a service-feedback lexicon and phrases, plus TextBlob's lexicon and a
small logistic model over them, trained by `benchmarks/train_sentiment.py`; see `FeedbackAnalyzer`).

No run-time downloads: TextBlob's pattern analyzer and VADER both ship their lexicons, and the feedback model
ships in `analysis/data/sentiment/`. Never call TextBlob's .words/.tags/.noun_phrases (they need NLTK
corpora this deployment does not have).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

from analysis.language import primary_language
from analysis.nothing_to_add import CLOSE, DECLINE, nothing_said

POSITIVE, NEUTRAL, NEGATIVE, MIXED = "positive", "neutral", "negative", "mixed"
NOT_TAGGED_LANGUAGE = "not tagged: language"
NOTHING_TO_ADD = "nothing to add"   # not a comment: no sentiment, not counted (see analysis.nothing_to_add)

NEUTRAL_BAND = 0.05      # |polarity| below this is neutral (and counts as "no clear text signal")
CLAUSE_CLEAR = 0.2       # a clause at or beyond +/- this is "clearly" positive / negative (for 'mixed')
SCORE_HIGH = 0.8         # conversation scores (0..1) at or above this make a signal-free answer positive
SCORE_LOW = 0.3          # ... at or below this, negative

DEFAULT_ANALYZER = "feedback"
ANALYZERS = ("textblob", "vader", "combined", "feedback")
MODEL_PATH = Path(__file__).resolve().parent / "data" / "sentiment" / "feedback-model.json"


@dataclass(frozen=True)
class Tag:
    polarity: float        # -1..1
    subjectivity: float    # 0..1
    label: str             # positive | neutral | negative | mixed | not tagged: language | nothing to add
    analyzer: str          # name and version, e.g. 'textblob-0.20.1'

    def to_dict(self) -> dict:
        # Written out rather than dataclasses.asdict, which deep-copies and costs more than the rest of tag().
        return {"polarity": self.polarity, "subjectivity": self.subjectivity, "label": self.label,
                "analyzer": self.analyzer}


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


# --- normalisation -----------------------------------------------------------------------------------------
# Only forms common in SMS feedback whose meaning is unambiguous. Each maps to a word both lexicons know, so
# TextBlob (which ignores emoji and does not know "dont" is a negation) and VADER score them alike.
TEXTING = {
    "gr8": "great", "gr8t": "great", "grt": "great", "gud": "good", "gd": "good",
    "thx": "thanks", "thnx": "thanks", "thanx": "thanks", "thnks": "thanks", "thks": "thanks", "ty": "thanks",
    "ta": "thanks", "tyvm": "thank you very much", "thankyou": "thank you", "thanku": "thank you",
    "luv": "love", "luvd": "loved", "luvly": "lovely", "lovley": "lovely", "u": "you", "ur": "your",
    "pls": "please", "plz": "please", "rly": "really", "realy": "really", "vry": "very",
    "dont": "don't", "didnt": "didn't", "doesnt": "doesn't", "cant": "can't", "wont": "won't",
    "wasnt": "wasn't", "werent": "weren't", "isnt": "isn't", "arent": "aren't", "havent": "haven't",
    "couldnt": "couldn't", "wouldnt": "wouldn't", "shouldnt": "shouldn't", "theyre": "they're",
    "youre": "you're", "thats": "that's", "im": "I'm", "ive": "I've",
    # misspellings of sentiment words (a word the lexicons miss scores as nothing at all)
    "helpfull": "helpful", "unhelpfull": "unhelpful", "usefull": "useful", "greatful": "grateful",
    "gratefull": "grateful", "disapointed": "disappointed", "dissapointed": "disappointed",
    "dissappointed": "disappointed", "disapointing": "disappointing", "dissapointing": "disappointing",
    "terible": "terrible", "terrable": "terrible", "horible": "horrible", "horrable": "horrible",
    "awfull": "awful", "brillant": "brilliant", "brilliand": "brilliant", "excelent": "excellent",
    "exellent": "excellent", "amazin": "amazing", "wonderfull": "wonderful", "beautifull": "beautiful",
    "recomend": "recommend", "reccomend": "recommend", "reccommend": "recommend", "appaling": "appalling",
    "rubish": "rubbish", "frendly": "friendly", "freindly": "friendly", "unfriendley": "unfriendly",
    "rood": "rude", "discusting": "disgusting", "disgustin": "disgusting",
}
# Emoji and emoticons become a sentiment word. Variation selectors (U+FE0F) are dropped first, so "❤️" and
# "❤" are the same. Emoji not listed are left to VADER's own emoji descriptions.
EMOJI = {
    ":)": "good", ":-)": "good", ":D": "good", ":-D": "good", ";)": "good", ";-)": "good", "=)": "good",
    "<3": "love",
    ":(": "bad", ":-(": "bad", ":((": "bad", ":'(": "sad", "=(": "bad",
    "🙂": "good", "😊": "good", "😀": "good", "😃": "good", "😄": "good", "😁": "good", "☺": "good",
    "😇": "good", "👌": "good", "👍": "good", "👏": "great", "💯": "great", "🙏": "thanks", "🤗": "love",
    "❤": "love", "😍": "love", "🥰": "love", "😘": "love", "💕": "love", "💖": "love", "💗": "love",
    "💙": "love", "💚": "love", "💛": "love", "💜": "love", "🧡": "love",
    "😞": "bad", "🙁": "bad", "☹": "bad", "😟": "bad", "😕": "bad", "😔": "sad", "😢": "sad", "😭": "sad",
    "💔": "heartbroken", "😡": "angry", "😠": "angry", "🤬": "angry", "😤": "annoyed", "😒": "annoyed",
    "😩": "bad", "😫": "bad", "🤮": "disgusting", "🤢": "disgusting", "👎": "bad",
}
# Texting forms must stand alone as words ("ty" but not "typical"); an @handle (a Telegram or Twitter
# address) is an address, not an opinion ("@united" scored as the word "united" is positive in VADER).
_WORDS_RE = re.compile(
    r"(?<![\w'@-])(" + "|".join(map(re.escape, sorted(TEXTING, key=len, reverse=True))) + r")(?![\w'-])",
    re.IGNORECASE,
)
_HANDLE_RE = re.compile(r"@\w+")      # only where "@" does not follow a word character (not in e-mail addresses)
_EMOTICONS = sorted((e for e in EMOJI if e.isascii()), key=len, reverse=True)
# Emoticons must stand alone (":)" but not the ":(" inside "http://x.org/a:(b"); emoji may touch words.
_EMOTICON_RE = re.compile(r"(?<!\S)(" + "|".join(map(re.escape, _EMOTICONS)) + r")(?=\s|$|[.!,])")
_EMOJI_RE = re.compile("|".join(re.escape(e) for e in EMOJI if not e.isascii()))


_TEXTING_LOWER = frozenset(TEXTING)
_WORD_CHARS_RE = re.compile(r"[a-z0-9]+")


def _word(m: re.Match) -> str:
    return TEXTING[m.group(1).lower()]


def _handle(m: re.Match) -> str:
    start = m.start()
    return m.group(0) if start and (m.string[start - 1].isalnum() or m.string[start - 1] in "_@") else ""


# "great...no problems" and "thanks!!see you": texts glue words to punctuation, and the lexicons split words
# on spaces ("great...no" is no word, and the "no" before "problems" is lost). A single "." between letters
# is left alone (web addresses, "e.g.").
_GLUED_RE = re.compile(r"(?<=[A-Za-z])(\.{2,}|[!?,;]+)(?=[A-Za-z])")


def normalise(text: str) -> str:
    """Rewrite the texting forms, misspellings and emoji in TEXTING/EMOJI to words, drop @handles, and put a
    space after punctuation glued between two words."""
    # Fast paths: the substitution only runs when a candidate word or an "@" is there (a set lookup per word
    # costs a tenth of the regex); most answers have no emoticon character and are plain ASCII (no emoji).
    if "@" in text:
        text = _HANDLE_RE.sub(_handle, text)
    if not _TEXTING_LOWER.isdisjoint(_WORD_CHARS_RE.findall(text.lower())):
        text = _WORDS_RE.sub(_word, text)
    if ":" in text or ";" in text or "<3" in text or "=" in text:
        text = _EMOTICON_RE.sub(lambda m: f" {EMOJI[m.group(1)]} ", text)
    if not text.isascii():
        text = _EMOJI_RE.sub(lambda m: f" {EMOJI[m.group(0)]} ", text.replace("\ufe0f", ""))
    return _GLUED_RE.sub(r"\1 ", text)


# --- lexicons shared by the analyzers ------------------------------------------------------------------------
# Words of service feedback that VADER's lexicon (built from tweets and reviews) lacks, on VADER's scale
# (-4..4). Written for feedback to a service (British and American spellings), not fitted to any data set.
FEEDBACK_WORDS = {
    "brill": 2.5, "chuffed": 2.5, "ace": 2.0, "lush": 1.8, "reliable": 1.5, "approachable": 1.8,
    "knowledgeable": 1.8, "understanding": 1.2, "listened": 1.2, "listen": 1.0, "listens": 1.2, "helped": 1.5, "cared": 1.5, "supported": 1.2, "lifeline": 2.5, "sorted": 1.0, "quick": 1.0,
    "non-judgemental": 2.0, "non-judgmental": 2.0, "nonjudgemental": 2.0, "nonjudgmental": 2.0,
    "unhelpful": -1.8, "rubbish": -2.0, "shambles": -2.2, "shambolic": -2.2, "naff": -1.3, "gutted": -2.0,
    "disrespectful": -2.0, "patronising": -2.0, "patronizing": -2.0, "condescending": -2.0, "dismissive": -1.8,
    "judgemental": -1.8, "judgmental": -1.8, "judged": -1.4, "rushed": -1.2, "unreliable": -1.5,
    "smelly": -1.5, "cramped": -1.2, "overcrowded": -1.3, "crowded": -0.8, "understaffed": -1.3,
    "overpriced": -1.5, "expensive": -1.0, "slow": -1.0, "late": -0.8, "cold": -0.6, "canceled": -1.0,
    "delays": -1.3, "wait": -0.5, "waited": -0.8, "waiting": -0.6, "queue": -0.5, "queues": -0.5,
    "queued": -0.8, "queuing": -0.8, "queueing": -0.8, "unanswered": -1.2, "impossible": -1.2,
    "complicated": -0.8, "pointless": -1.8, "nightmare": -2.2, "faff": -1.2, "hassle": -1.2, "star": 1.8, "stars": 1.0, "superstar": 2.5, "disorganised": -1.5, "disorganized": -1.5,
    "joke": -0.8,   # "it's a joke" is a complaint; VADER rates a joke as funny (+1.2)
}
# VADER lexicon words that are requests, not opinions, in messages to a service ("please help", "I want a
# number to call"): scored as 0. "no help" is still negative through FEEDBACK_PHRASES.
NEUTRAL_WORDS = ("please", "pls", "help", "want", "number")
# Idioms whose words mislead a lexicon ("can't recommend them enough" has a negated "recommend"; "I won't be
# back" and "nobody called me back" have no sentiment word at all), on VADER's scale per match.
FEEDBACK_PHRASES = {
    -2.5: [
        r"(?:won'?t|will not|not|never) (?:be )?(?:coming |going |come |go )?back", r"never again",
        r"waste of (?:time|money|space|effort)", r"\bno help\b", r"not (?:much|any|a lot of) help",
        r"(?:wasn'?t|was not|weren'?t|were not|isn'?t|is not) (?:any|much) (?:help|use|good)",
        r"thanks? (?:you )?for nothing", r"not worth",
        r"(?:nobody|no one|no-one|noone) (?:ever |really |even )?(?:calls|called|rings|rang|phoned|got back|gets back|"
        r"replied|replies|answered|answers|listened|listens|came|comes|helped|helps|cared|cares|bothered|told|"
        r"explained|turned up|showed up|picks up|picked up|knew|knows|understood|understands|checked|followed up)",
        r"(?:didn'?t|did not|never|couldn'?t|could not|can'?t|cannot) (?:get|got|receive|find) (?:the |any |much )?"
        r"(?:help|support|advice|answers?)",
        r"(?:didn'?t|did not|never) (?:call|ring|phone|get|got|write|text|email|calls|rings) (?:me |us )?back",
        r"(?:still|kept|keep|left) (?:me |us )?(?:waiting|on hold|hanging)", r"\bon hold\b", r"hung up",
        r"fobbed (?:me |us )?off", r"pillar to post", r"treated (?:me |us )?like",
        r"(?:made (?:me|us)|(?:was|were) made to) feel (?:stupid|small|judged|unwelcome|worse|rushed|useless|"
        r"like (?:a |an )?(?:burden|nuisance|number|criminal|beggar|child|idiot|failure|scrounger|liar|pest))",
        r"(?:didn'?t|did not|doesn'?t|does not|don'?t|do not|isn'?t|wasn'?t|not|never) (?:even )?work(?:s|ed|ing)?\b",
        r"(?:wasn'?t|weren'?t|was not|were not|never|not) (?:told|informed|kept informed|updated|contacted)",
        r"(?:don'?t|didn'?t|do not|did not) (?:know|have a clue|have any idea) what (?:they|they're|they are|she|he|"
        r"she's|he's|you|you're|you are) (?:doing|were doing|was doing)",
        r"had to (?:keep |constantly )?(?:chase|repeat|explain .{0,25}(?:again|twice|times))",
        r"leaves? (?:a lot|much) to be desired", r"let (?:me|us) down", r"\bran out\b",
        r"\btoo (?:long|slow|late|far|busy|crowded|expensive|noisy|short|rushed)\b",
        r"took (?:ages|forever|too long)", r"rings? out", r"\bfor (?:ages|hours|forever)\b", r"no (?:reply|response|answer)\b",
    ],
    -1.5: [r"(?:could|should) (?:do|have done|be|have been) better", r"(?:should|could) have been (?:told|informed)"],
    1.5: [r"not (?:too|that|so|as) bad", r"no (?:problems?|issues?|worries)"],
    2.5: [
        r"(?:will|i'?ll|we'?ll|would|definitely|def) (?:be|come|go) back",
        r"(?:can'?t|cannot|couldn'?t|could not) (?:fault|complain|ask for (?:more|better)|have asked for|"
        r"(?:praise|thank|recommend)\b.{0,30}\benough)",
        r"(?:couldn'?t|could not|can'?t|cannot) (?:have )?(?:been|be) (?:better|happier|more helpful|nicer|kinder)",
        r"no complaints", r"nothing to complain", r"above and beyond", r"over and above",
        r"made (?:me|us) feel (?:welcome|welcomed|safe|comfortable|at home|listened to|valued|better|heard|normal|"
        r"human|cared for|special)",
        r"(?:felt|feel|was|were) (?:listened to|heard|understood|welcome|safe|at home|valued)",
        r"feel (?:like )?(?:part of the family|like family|like a person|like a human|human again)",
        r"life ?saver", r"(?:made|makes|make|making) (?:a|such a|a real|a huge|a big|all the) difference",
        r"keep (?:it )?up\b", r"spot on", r"over the moon", r"top notch", r"second to none",
        r"nothing (?:was|is) too much", r"10 ?/ ?10|\b10 out of 10|ten out of ten|\b5 stars|five stars",
    ],
}
_PHRASE_VALENCE = {f"v{i}": valence for i, valence in enumerate(FEEDBACK_PHRASES)}
# One pass for all phrases; starting at word boundaries only, which is what makes it cheap.
_PHRASE_RE = re.compile(r"(?<![a-z0-9'])(?=[a-z0-9])(?:" + "|".join(
    f"(?P<v{i}>" + "|".join(f"(?:{p})" for p in pats) + ")" for i, pats in enumerate(FEEDBACK_PHRASES.values())
) + ")")


def take_phrases(text: str) -> tuple[str, float]:
    """`text` with the FEEDBACK_PHRASES in it blanked out, and the sum of their valences: a phrase stands for
    its words, so "can't recommend them enough" adds its valence and no negated "recommend"."""
    lower = text.lower()
    total = 0.0
    pieces = []
    last = 0
    for m in _PHRASE_RE.finditer(lower):
        total += _PHRASE_VALENCE[m.lastgroup]
        pieces.append(text[last:m.start()])
        last = m.end()
    if not pieces:
        return text, 0.0
    if len(lower) != len(text):        # lower() changed the length (rare letters): keep the words
        return text, total
    pieces.append(text[last:])
    return " , ".join(pieces), total


_VADER_ALPHA = 15.0    # VADER normalises a sum x of valences to x / sqrt(x^2 + 15)


def _add_valence(compound: float, extra: float) -> float:
    """VADER's compound with `extra` added to the sum of valences it was normalised from."""
    if not extra:
        return compound
    c = max(-0.9999, min(0.9999, compound))
    raw = c * math.sqrt(_VADER_ALPHA / (1.0 - c * c)) + extra
    return raw / math.sqrt(raw * raw + _VADER_ALPHA)


_vader_class = None


def _vader(feedback: bool):
    """A VADER analyzer; with `feedback`, its lexicon extended by FEEDBACK_WORDS and NEUTRAL_WORDS."""
    global _vader_class
    if _vader_class is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer, SentiText

        class FastVader(SentimentIntensityAnalyzer):
            """VADER 3.3's polarity_scores with its character-by-character emoji pass skipped for ASCII text,
            where it cannot change anything (it costs about 15% of the call)."""

            def polarity_scores(self, text):
                if not text.isascii():
                    return super().polarity_scores(text)
                sentitext = SentiText(text.strip())
                words = sentitext.words_and_emoticons
                sentiments: list = []
                for i, item in enumerate(words):
                    lower = item.lower()
                    if lower in self._boosters or (lower == "kind" and i < len(words) - 1
                                                   and words[i + 1].lower() == "of"):
                        sentiments.append(0)
                        continue
                    sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
                sentiments = self._but_check(words, sentiments)
                return self.score_valence(sentiments, text)

        from vaderSentiment.vaderSentiment import BOOSTER_DICT

        FastVader._boosters = BOOSTER_DICT
        _vader_class = FastVader
    analyzer = _vader_class()
    if feedback:
        analyzer.lexicon.update(FEEDBACK_WORDS)
        for word in NEUTRAL_WORDS:
            analyzer.lexicon.pop(word, None)
    return analyzer


# Words either way in any lexicon, for the cheap "could this be mixed at all?" check before clause scoring.
_POLAR_WORDS: tuple[frozenset[str], frozenset[str]] | None = None
_NEGATORS = frozenset({"not", "no", "never", "nobody", "nothing", "none", "nowhere", "neither", "nor",
                       "without", "cannot", "hardly", "barely", "noone"})
_GATE_NEGATORS = set(_NEGATORS) | {"least"}    # and VADER's, added when the lexicons load
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*|[!?.,;:]")


def polar_words() -> tuple[frozenset[str], frozenset[str]]:
    """(positive, negative) words of VADER's lexicon, FEEDBACK_WORDS and TextBlob's lexicon, each in full (a
    word may be in both)."""
    global _POLAR_WORDS
    if _POLAR_WORDS is None:
        from textblob.en import sentiment as pattern

        pos, neg = set(), set()
        for word, value in [*_vader(feedback=False).lexicon.items(), *FEEDBACK_WORDS.items()]:
            (pos if value > 0 else neg).add(word)
        for word, senses in pattern.items():
            for p, *_ in senses.values():
                if p > 0:
                    pos.add(word)
                elif p < 0:
                    neg.add(word)
        _POLAR_WORDS = (frozenset(pos), frozenset(neg))
        from vaderSentiment.vaderSentiment import NEGATE

        _GATE_NEGATORS.update(NEGATE)
    return _POLAR_WORDS


def may_be_mixed(text: str) -> bool:
    """False only when no lexicon could find a clearly positive and a clearly negative clause in `text`: it
    has no word of one of the two signs and no negation (which can turn either sign around)."""
    if not text.isascii():
        return True        # VADER describes emoji that `normalise` leaves alone
    pos, neg = polar_words()
    words = _TOKEN_RE.findall(text.lower())
    if any(w in _GATE_NEGATORS or w.endswith("n't") for w in words):
        return True
    return any(w in pos for w in words) and any(w in neg for w in words)


_pattern_lexicons: dict[bool, tuple] = {}
# Quantity, order and age are not opinions: "more food please", "many people", "first time", "the new hall"
# (TextBlob rates "more", "most" and "many" +0.5). Left out of the pattern lexicon the feedback analyzer uses.
PATTERN_IGNORED = ("more", "most", "many", "first", "other", "few", "less", "new", "old", "last", "next")


def _pattern(full: bool = False):
    """TextBlob's pattern lexicon (without PATTERN_IGNORED unless `full`) copied into a plain dict, and its
    `assessments`: the lexicon is a lazily loaded dict whose every lookup goes through a Python method, which
    made up half the cost of scoring."""
    if full not in _pattern_lexicons:
        from textblob.en import sentiment as pattern

        class Lexicon(dict):
            pass

        lexicon = Lexicon(pattern.items())
        if not full:
            for word in PATTERN_IGNORED:
                lexicon.pop(word, None)
        for attr in ("negations", "modifiers", "modifier", "labeler"):
            setattr(lexicon, attr, getattr(pattern, attr))
        _pattern_lexicons[full] = (lexicon, type(pattern).assessments)
    return _pattern_lexicons[full]


def _pattern_word(w: str, lexicon: dict) -> str:
    if w.endswith("n't") or w in _NEGATORS:
        return "not"
    if w in lexicon or w.isalpha() or len(w) == 1:
        return w
    # An unknown word with a digit or an apostrophe ("it's", "10"): pattern would compare it with each of its
    # emoticons. A letters-only stand-in of the same length class behaves the same way in its rules.
    return "qqq" if len(w) > 2 else "qq"


def pattern_score(tokens: list[str], full: bool = False) -> tuple[float, float]:
    """TextBlob's pattern polarity and subjectivity (its lexicon, modifiers, negation and '!', by its own
    `assessments`) over already split, lower-cased tokens: TextBlob's tokenizer is the larger part of its cost,
    and it splits "don't" into "do n ' t" so that the negation is lost."""
    lexicon, assess = _pattern(full)
    words = [(_pattern_word(w, lexicon), None) for w in tokens]
    found = assess(lexicon, words)
    if not found:
        return 0.0, 0.0
    return sum(a[1] for a in found) / len(found), sum(a[2] for a in found) / len(found)


def lexicon_valence(tokens: list[str], lexicon: dict[str, float]) -> tuple[float, float]:
    """VADER's rules reduced to the lexicon and its negation (a negation in the three words before a word
    turns it around, times -0.74): the sum of valences, and the share of negative ones as VADER counts it.
    Used to score the clauses of an answer, where VADER's own run would double the cost of the answer."""
    total = pos = neg = 0.0
    neutral = 0
    for i, w in enumerate(tokens):
        v = lexicon.get(w)
        if v is None:
            if w.isalnum() or "'" in w:
                neutral += 1
            continue
        if any(t in _NEGATORS or t.endswith("n't") for t in tokens[max(0, i - 3):i]):
            v *= -0.74
        total += v
        if v > 0:
            pos += v + 1
        elif v < 0:
            neg += 1 - v
        else:
            neutral += 1
    return total, (neg / (pos + neg + neutral) if neg else 0.0)


# --- analyzers -----------------------------------------------------------------------------------------------
class TextBlobAnalyzer:
    """TextBlob's pattern lexicon (the same numbers as `TextBlob(text).sentiment`, without building a blob)."""

    languages = frozenset({"en"})

    def __init__(self) -> None:
        # What PatternAnalyzer().analyze calls; analyze itself also builds a namedtuple class on every call,
        # which cost a third as much as the scoring.
        from textblob.en.sentiments import pattern_sentiment

        self._analyze = pattern_sentiment
        self.name = f"textblob-{_version('textblob')}"

    def score(self, text: str) -> tuple[float, float]:
        polarity, subjectivity = self._analyze(text)
        return float(polarity), float(subjectivity)

    def clause_polarity(self, text: str) -> float:
        """score(text)[0] by the same lexicon and rules at a third of the cost (`pattern_score`), for clauses."""
        return pattern_score(_TOKEN_RE.findall(text.lower()), full=True)[0]

    def may_be_mixed(self, text: str) -> bool:
        return may_be_mixed(text)


class VaderAnalyzer:
    """VADER: the compound score as polarity; subjectivity as the share of non-neutral text (1 - neu)."""

    languages = frozenset({"en"})

    def __init__(self) -> None:
        vader = _vader(feedback=False)
        self._scores = vader.polarity_scores
        self._lexicon = vader.lexicon
        self.name = f"vader-{_version('vaderSentiment')}"

    def score(self, text: str) -> tuple[float, float]:
        s = self._scores(text)
        return float(s["compound"]), max(0.0, min(1.0, 1.0 - float(s["neu"])))

    def clause_polarity(self, text: str) -> float:
        """About score(text)[0] at a fifth of the cost (`lexicon_valence`), for the clauses of an answer."""
        total, _ = lexicon_valence(_TOKEN_RE.findall(text.lower()), self._lexicon)
        return total / math.sqrt(total * total + _VADER_ALPHA)

    def may_be_mixed(self, text: str) -> bool:
        return may_be_mixed(text)


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

    def may_be_mixed(self, text: str) -> bool:
        return any(getattr(x, "may_be_mixed", lambda t: True)(text) for x in (self.a, self.b))


class FeedbackAnalyzer:
    """For feedback to a service: VADER with FEEDBACK_WORDS, NEUTRAL_WORDS and FEEDBACK_PHRASES, TextBlob's
    pattern lexicon (scored by `pattern_score`), and words with their negation (a word after "not", "never",
    "n't"... until the end of the clause is a different word, "not_<word>"), weighed by a logistic model.

    polarity = tanh(z / 2) (that is 2 * P(positive) - 1) where z is the weighted sum of the features. The
    model has no intercept, and the words it learned only adjust what the lexicons found: an answer no lexicon
    has a word of ("the bus", "longer opening hours") has polarity exactly 0 and the context rules decide
    its label. Subjectivity is TextBlob's, or VADER's share of non-neutral words when TextBlob's lexicon knows
    none of the words.

    The weights (`analysis/data/sentiment/feedback-model.json`) are trained by `benchmarks/train_sentiment.py`
    on the UCI "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015; CC BY 4.0). Pass `model` (a dict in
    the same shape) to use other weights, e.g. one trained without the file being evaluated.
    """

    languages = frozenset({"en"})

    def __init__(self, model: dict | None = None) -> None:
        if model is None:
            model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
        self.model = model
        self._dense = dict(model["dense"])
        self._words = dict(model["words"])
        vader = _vader(feedback=True)
        self._vader = vader.polarity_scores
        self._lexicon = vader.lexicon
        self.name = f"feedback-{model['version']}"

    def features(self, text: str) -> tuple[dict[str, float], list[str], float]:
        """The dense features, the word features and the subjectivity of normalised text."""
        text, phrases = take_phrases(text)
        v = self._vader(text)
        tokens = _TOKEN_RE.findall(text.lower())
        tb_polarity, tb_subjectivity = pattern_score(tokens)
        dense = {
            "vader": _add_valence(v["compound"], phrases),
            "vader_neg": v["neg"],
            "pattern": tb_polarity,
        }
        subjectivity = tb_subjectivity if tb_subjectivity else 1.0 - v["neu"]
        if phrases:
            subjectivity = max(subjectivity, 0.5)      # an idiom of praise or complaint is an opinion
        return dense, word_features(tokens), subjectivity

    def score(self, text: str) -> tuple[float, float]:
        dense, words, subjectivity = self.features(text)
        if not any(dense.values()):
            return 0.0, 0.0        # no lexicon knows a word of it: the learned words alone do not decide
        weights = self._dense
        z = sum(weights.get(k, 0.0) * x for k, x in dense.items())
        known = self._words
        z += sum(known.get(w, 0.0) for w in words)
        return math.tanh(z / 2), max(0.0, min(1.0, subjectivity))

    def clause_polarity(self, text: str) -> float:
        """About score(text)[0] at a third of the cost, for the clauses of an answer (is it 'mixed'?): VADER's
        rules reduced to `lexicon_valence`."""
        text, phrases = take_phrases(text)
        tokens = _TOKEN_RE.findall(text.lower())
        total, neg_share = lexicon_valence(tokens, self._lexicon)
        tb_polarity = pattern_score(tokens)[0]
        total += phrases
        if not (total or neg_share or tb_polarity):
            return 0.0
        weights = self._dense
        z = weights.get("vader", 0.0) * total / math.sqrt(total * total + _VADER_ALPHA)
        z += weights.get("vader_neg", 0.0) * neg_share + weights.get("pattern", 0.0) * tb_polarity
        known = self._words
        z += sum(known.get(w, 0.0) for w in word_features(tokens))
        return math.tanh(z / 2)

    def may_be_mixed(self, text: str) -> bool:
        return may_be_mixed(text) or self._has_strong_words_both_ways(text)

    def _has_strong_words_both_ways(self, text: str) -> bool:
        ws = [self._words.get(w, 0.0) for w in word_features(_TOKEN_RE.findall(text.lower()))]
        return max(ws, default=0.0) >= 0.5 and min(ws, default=0.0) <= -0.5


_SCOPE_END = frozenset({".", ",", "!", "?", ";", ":", "but", "however", "although", "though"})


def word_features(tokens: list[str]) -> list[str]:
    """Distinct words, each after a negation (until the clause ends) marked as "not_<word>"."""
    out: list[str] = []
    negated = False
    for w in tokens:
        if w in _SCOPE_END:
            negated = False
        elif w in _NEGATORS or w.endswith("n't"):
            negated = True
            out.append(w)
        else:
            out.append("not_" + w if negated else w)
    return list(dict.fromkeys(out))


def make_analyzer(name: str = DEFAULT_ANALYZER) -> Analyzer:
    """'feedback' (the default, see FeedbackAnalyzer), 'textblob', 'vader' or 'combined' (TextBlob and VADER
    averaged)."""
    key = (name or DEFAULT_ANALYZER).strip().lower()
    if key == "textblob":
        return TextBlobAnalyzer()
    if key == "vader":
        return VaderAnalyzer()
    if key == "combined":
        return CombinedAnalyzer(TextBlobAnalyzer(), VaderAnalyzer())
    if key == "feedback":
        return FeedbackAnalyzer()
    raise ValueError(f"unknown sentiment analyzer {name!r}: expected one of {', '.join(map(repr, ANALYZERS))}")


# --- context ---------------------------------------------------------------------------------------------
# "Nothing to improve" answers: not complaints, whatever the lexicon makes of "no" or "none".
_NOTHING_RE = re.compile(
    r"^\s*(nothing|none|no|nope|nah|not really|nothing really|nothing at all|nothing much|n/?a|all good|nowt|"
    r"no complaints|can'?t think of anything|nothing,? (it was|all|it's|its) (fine|good|great|perfect))"
    r"\s*[.!]*\s*$",
    re.IGNORECASE,
)
# "Nothing" answering "what did we do well?": a complaint.
_NOTHING_LIKED_RE = re.compile(
    r"^\s*(nothing|none|no|nope|nah|not much|not really|nothing really|nothing at all|nothing much|not a lot|"
    r"nowt|nothing tbh|not anything)\s*[.!]*\s*$",
    re.IGNORECASE,
)
_UNSURE_RE = re.compile(
    r"^\s*(dunno|don'?t know|idk|not sure|no idea|unsure|n/?a|skip|no comment|can'?t say|\?+)\s*[.!?]*\s*$",
    re.IGNORECASE,
)
_NOTHING_PREFIX_RE = re.compile(
    r"^\s*(?:nothing|none|no|nope|nah|not really)(?:\s+(?:really|at all|much|else|thanks|thank you|tbh|honestly))*"
    r"(?:\s*[,.!;:-]+\s*|\s+(?=(?:all|it|its|it's|it was|everything|you|u|your|the|staff|they|i'm|im|very|so|really|"
    r"just)\b))(?P<rest>\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
_EVERYTHING_RE = re.compile(r"^\s*(everything|all of it|the lot|lots|loads|so much|everythin)\s*[.!]*\s*$",
                            re.IGNORECASE)
# When the caller does not say `prompt_kind`, a question key or wording stands in for it: an improvement
# ("What could we do better?"), a problem ("What went wrong?") or praise ("What did we do well?").
_PROBLEM_KEY_RE = re.compile(r"wrong|worse|hard|problem|complain|difficult|dislike|least|worst", re.IGNORECASE)
_IMPROVE_KEY_RE = re.compile(r"better|improve|change|make_it|make it", re.IGNORECASE)
# "Anything else you'd like to tell us?": "no" / "nothing" only means there is nothing more to say.
_OPEN_KEY_RE = re.compile(r"anything_?else|anything (else|more|to add)|any (other|more|further) (comments?|thoughts?)|"
                          r"other comments|add anything|else to (say|add|tell)", re.IGNORECASE)
_PRAISE_KEY_RE = re.compile(
    r"did_?well|went_?well|\b(do|did|went|doing|going) (so |really )?well\b|liked|what did you (most )?(like|love|"
    r"enjoy)|what (was|were) (good|best|great|helpful)|\bbest (thing|part|bit)|favou?rite|helped (you )?(the )?most|"
    r"what worked|highlight",
    re.IGNORECASE,
)
_CLAUSE_RE = re.compile(r"\bbut\b|\b(?:al)?though\b|;", re.IGNORECASE)


def _question_kind(context: dict) -> str | None:
    """'improve', 'problem', 'praise', 'open' ("anything else?") or None: from `prompt_kind` when given,
    otherwise from the question's key or wording."""
    kind = context.get("prompt_kind")
    if kind is not None:
        return kind
    words = " ".join(context[k] for k in ("question", "question_text") if isinstance(context.get(k), str))
    if not words:
        return None
    if _PROBLEM_KEY_RE.search(words):
        return "problem"
    if _IMPROVE_KEY_RE.search(words):
        return "improve"
    if _PRAISE_KEY_RE.search(words):
        return "praise"
    if _OPEN_KEY_RE.search(words):
        return "open"
    return None


# A closed question asks for yes or no ("Did anyone call you back?"): a bare "no" answers it. A question that
# asks whether there is anything (more) to say ("Is there anything else?", "Could we have done better?") is
# not closed: there "no" means there is nothing to add. English wording only.
_CLOSED_RE = re.compile(
    r"^\W*(?:am|is|are|was|were|do|does|did|have|has|had|can|could|will|would|should|shall|may|might|must|"
    r"isn'?t|wasn'?t|aren'?t|weren'?t|don'?t|doesn'?t|didn'?t|haven'?t|hasn'?t|won'?t|wouldn'?t|can'?t|"
    r"couldn'?t)\b",
    re.IGNORECASE,
)
_OPEN_WORDS_RE = re.compile(r"\b(?:any|anything|something|else|more|other|further|add|"
                            r"comments?|suggestions?|ideas?|improve|better|change)\b", re.IGNORECASE)
_QUESTION_RE = re.compile(r"[^.?!]*\?")


def _closed_question(context: dict) -> bool:
    """Whether the question's wording (its last question sentence) asks for yes or no."""
    words = context.get("question_text") if context else None
    if not isinstance(words, str):
        return False
    asked = _QUESTION_RE.findall(words)
    if not asked:
        return False
    last = asked[-1]
    return bool(_CLOSED_RE.match(last)) and not _OPEN_WORDS_RE.search(last)


def _conversation_score(context: dict) -> float | None:
    """Mean of the conversation's other numeric answers, each already a fraction 0..1; None when none."""
    scores = context.get("scores") or {}
    values = [float(v) for v in scores.values() if isinstance(v, (int, float)) and 0.0 <= float(v) <= 1.0]
    return sum(values) / len(values) if values else None


def _sign_label(polarity: float) -> str:
    if abs(polarity) < NEUTRAL_BAND:
        return NEUTRAL
    return POSITIVE if polarity > 0 else NEGATIVE


class SentimentTagger:
    """Implements the store's AnswerTagger protocol: tag(text, language, context) -> dict | None"""

    def __init__(self, analyzer: Analyzer | None = None) -> None:
        self.analyzer = analyzer if analyzer is not None else make_analyzer(DEFAULT_ANALYZER)
        # Optional analyzer methods that make the 'mixed' check cheap: a test that rules it out before any
        # clause is scored, and a cheaper score for clauses.
        self._may_be_mixed = getattr(self.analyzer, "may_be_mixed", None)
        self._clause_polarity = getattr(self.analyzer, "clause_polarity", None) or (
            lambda clause: self.analyzer.score(clause)[0])

    def tag(self, text: str, language: str, context: dict) -> dict | None:
        """The tag as a dict; None when the service says the answer is not free text (a number, a choice)."""
        context = context or {}
        if context.get("free_text") is False:
            return None
        return self.tag_object(text, language, context).to_dict()

    def tag_object(self, text: str, language: str, context: dict) -> Tag:
        name = self.analyzer.name
        context = context or {}
        said = nothing_said(text)    # None at once for answers longer than a few words
        if said is not None:
            kind = _question_kind(context)
            if said == DECLINE and kind == "praise":
                # "nothing" answering "what did we do well?" is a complaint, in any language we recognise
                return Tag(0.0, 0.0, NEGATIVE, name)
            if said == CLOSE or (kind != "praise" and not _closed_question(context)):
                return Tag(0.0, 0.0, NOTHING_TO_ADD, name)
            # else an answer to the question asked ("no" to "Did anyone call you back?"): scored below
        if primary_language(language) not in self.analyzer.languages:
            return Tag(0.0, 0.0, NOT_TAGGED_LANGUAGE, name)
        clean = normalise(text or "")
        short = len(clean) < 40      # the context rules below are about short answers only
        if short and _UNSURE_RE.match(clean):
            return Tag(0.0, 0.0, NEUTRAL, name)        # "not sure", "idk": nothing said, whatever the words
        answered = _NOTHING_PREFIX_RE.match(clean)
        # "nothing really its great": the "nothing" answers the question; the lexicons would read it as
        # negating "great". The rest of the answer carries the sentiment.
        polarity, subjectivity = self.analyzer.score(answered.group("rest") if answered else clean)
        if short and _NOTHING_RE.match(clean):
            kind = _question_kind(context)
            if kind != "praise" and polarity < 0:
                polarity, subjectivity = 0.0, 0.0      # "nothing to improve" / "nothing to add" is no complaint
            elif kind == "praise" and _NOTHING_LIKED_RE.match(clean):
                return Tag(round(polarity, 4), round(subjectivity, 4), NEGATIVE, name)   # nothing went well
        if _CLAUSE_RE.search(clean) and self._is_mixed(clean):
            label = MIXED
        else:
            label = _sign_label(polarity)
            if label is NEUTRAL:
                label = self._signal_free_label(clean, context, short)
        return Tag(round(polarity, 4), round(subjectivity, 4), label, name)

    def _signal_free_label(self, clean: str, context: dict, short: bool) -> str:
        """The label of an answer with no clear text signal: from the question, else the conversation."""
        kind = _question_kind(context) if context and clean.strip() else None
        nothing = short and bool(_NOTHING_RE.match(clean))
        if kind == "praise":
            return POSITIVE                            # "the staff" answering "what did we do well?"
        if kind == "problem" and not nothing:
            return NEGATIVE                            # "the bus" answering "what went wrong?"
        if kind == "improve" and short and _EVERYTHING_RE.match(clean):
            return NEGATIVE                            # "everything" could be better
        score = _conversation_score(context) if context else None
        if score is not None and score >= SCORE_HIGH:
            return POSITIVE
        if score is not None and score <= SCORE_LOW:
            return NEGATIVE
        return NEUTRAL

    def _is_mixed(self, text: str) -> bool:
        if self._may_be_mixed is not None and not self._may_be_mixed(text):
            return False
        clauses = [c for c in _CLAUSE_RE.split(text) if c.strip()]
        if len(clauses) < 2:
            return False
        high = low = False
        for clause in clauses:
            p = self._clause_polarity(clause)
            high = high or p >= CLAUSE_CLEAR
            low = low or p <= -CLAUSE_CLEAR
            if high and low:
                return True
        return False
