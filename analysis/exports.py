"""Exports for staff, with the redaction rule in one place: what people wrote is masked (analysis.redact)
unless someone explicitly keeps personal details (backbone staff only)."""
from __future__ import annotations

from typing import Iterator

from analysis.redact import redact
from surveys.admin import EXPORT_COLUMNS, export_answers, keep_words
from surveys.store import Store

__all__ = ["EXPORT_COLUMNS", "answers_export"]


def answers_export(db: Store, survey_id: str | None = None, *, keep_personal_details: bool = False,
                   answer_ids: list[int] | None = None) -> Iterator[list[str]]:
    """The answers export (surveys.admin.export_answers: header row first, pseudonyms, never addresses),
    personal details masked in every column that holds what people wrote, unless `keep_personal_details`.
    `answer_ids`: only these answers (the console's filtered rows)."""
    return export_answers(db, survey_id, redact=keep_words if keep_personal_details else redact, answer_ids=answer_ids)
