"""The answer tagger the composition root hands to the store: sentiment for free text, safeguarding for
every answer with words in it.

Returned tags (stored in `answer.tags`, see `surveys.store.AnswerTagger`):
- the sentiment tag's keys (`polarity`, `subjectivity`, `label`, `analyzer`) when the answer is free text
  (`context["free_text"]`, true unless the service says otherwise);
- `flag: {"categories": [...], "rules": [...], "layer": "lexicon"|"similarity", "score": float|None}` when
  safeguarding (the lexicon of the conversation's language, or its similarity layer) flags the answer; the core
  then raises a flag and alerts people (`surveys.flags`). Never the matched words.

An answer with a flag is never labelled positive, neutral, mixed or nothing to add: its label is negative ("I feel like
ending it all" scores positive on "like"; a disclosure of risk is never good news), whatever the lexicons
say, and its polarity stays as measured. An answer in a language the analyzer does not read stays 'not
tagged: language'. `flagged_label` is that rule, for every place that composes a tag (`analysis.retag`).

`context["flag"]`, when the key is there, is the flag already stored for the answer (a re-tag): the lexicon
is not run again and that flag (or None) decides, since flags belong to the moment an answer arrived.
"""
from __future__ import annotations

from analysis.safeguarding import Safeguarding
from analysis.sentiment import MIXED, NEGATIVE, NEUTRAL, NOTHING_TO_ADD, POSITIVE, SentimentTagger

_NEVER_FLAGGED = frozenset({POSITIVE, NEUTRAL, MIXED, NOTHING_TO_ADD})


def flagged_label(tags: dict) -> dict:
    """`tags` with a flagged answer's positive, neutral, mixed or nothing-to-add label made negative (in
    place)."""
    if tags.get("flag") and tags.get("label") in _NEVER_FLAGGED:
        tags["label"] = NEGATIVE
    return tags


class AnswerAnalysis:
    def __init__(self, sentiment: SentimentTagger, safeguarding: Safeguarding | None = None) -> None:
        self.sentiment = sentiment
        self.safeguarding = safeguarding

    @property
    def analyzer_name(self) -> str:
        return self.sentiment.analyzer.name

    def tag(self, text: str, language: str, context: dict) -> dict | None:
        context = context or {}
        out: dict = {}
        if context.get("free_text", True):
            out.update(self.sentiment.tag(text, language, context))
        if "flag" in context:
            flag = context["flag"]
        elif self.safeguarding is not None:
            hit = self.safeguarding.check(text, language)
            flag = {"categories": list(hit.categories), "rules": list(hit.rules), "layer": hit.layer,
                    "score": hit.score} if hit is not None else None
        else:
            flag = None
        if flag:
            out["flag"] = flag
            flagged_label(out)
        return out or None
