"""Composition: build the store with the parts the core needs (the answer tagger comes with "Analysis")."""
from __future__ import annotations

from config.settings import Settings, load_settings
from surveys.store import Store


def make_store(settings: Settings | None = None) -> Store:
    return Store(settings or load_settings())
