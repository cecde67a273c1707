"""Warnings about a valid survey that staff should still hear about before sending it."""
from __future__ import annotations

from surveys import messages
from surveys.definition import Survey
from surveys.loader import lint_survey


def survey_warnings(survey: Survey) -> list[str]:
    warnings = list(lint_survey(survey))
    for lang in survey.languages:
        if lang not in messages.TEXTS:
            warnings.append(f"languages: Chorus has no translation of its own messages (consent, help, "
                            f"re-prompts) for {lang!r}; those will be sent in English")
    return warnings
