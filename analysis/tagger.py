"""The answer tagger the composition root hands to the store: sentiment for free text, safeguarding for
every answer with words in it.

Returned tags (stored in `answer.tags`, see `surveys.store.AnswerTagger`):
- the sentiment tag's keys (`polarity`, `subjectivity`, `label`, `analyzer`) when the answer is free text
  (`context["free_text"]`, true unless the service says otherwise);
- `flag: {"categories": [...], "rules": [...], "layer": "lexicon"|"similarity", "score": float|None}` when
  safeguarding (the lexicon of the conversation's language, or its similarity layer) flags the answer; the core
  then raises a flag and alerts people (`surveys.flags`). Never the matched words.
"""
from __future__ import annotations

from analysis.safeguarding import Safeguarding
from analysis.sentiment import SentimentTagger


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
        if self.safeguarding is not None:
            hit = self.safeguarding.check(text, language)
            if hit is not None:
                out["flag"] = {"categories": list(hit.categories), "rules": list(hit.rules), "layer": hit.layer,
                               "score": hit.score}
        return out or None
