"""Composition: build the store with the parts the core needs, such as the answer tagger from analysis."""
from __future__ import annotations

from config.settings import Settings, load_settings
from surveys.store import Store


def make_store(settings: Settings | None = None) -> Store:
    from analysis.sentiment import SentimentTagger, make_analyzer

    settings = settings or load_settings()
    return Store(settings, tagger=SentimentTagger(make_analyzer(settings.sentiment_analyzer)))
