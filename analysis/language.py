"""Language tags as analysis uses them: the conversation's language, never guessed from the text."""
from __future__ import annotations


def primary_language(language: str | None) -> str:
    """'en-GB', 'EN_gb', ' en ' -> 'en': lexicons, stop words and analyzers are per primary language."""
    return (language or "").strip().lower().replace("_", "-").split("-", 1)[0]
