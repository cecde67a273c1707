"""Warnings about a valid survey that staff should still hear about before sending it.

Two things here are other rooms' knowledge and come in through `SurveyChecks`, built by the composition
root (config.wiring.survey_checks): which languages the safeguarding lexicons read (analysis) and what a text
costs by SMS (the SMS channel). So the core asks, and never imports a channel or the analysis."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from surveys import messages
from surveys.definition import Survey
from surveys.engine import OutgoingMessage, render_question
from surveys.loader import lint_survey

MAX_SMS_SEGMENTS = 3  # beyond this a question costs more than a short conversation should


@dataclass(frozen=True)
class SurveyChecks:
    """`watched(language)`: whether a safeguarding lexicon reads answers in that language.
    `sms_cost(message)`: what a message costs as sent by SMS, with `segments`, `encoding` and `units`."""
    watched: Callable[[str], bool]
    sms_cost: Callable[[OutgoingMessage], object]


def survey_warnings(survey: Survey, checks: SurveyChecks) -> list[str]:
    warnings = list(lint_survey(survey))
    for lang in survey.languages:
        if lang not in messages.TEXTS:
            warnings.append(f"languages: Chorus has no translation of its own messages (consent, help, "
                            f"re-prompts) for {lang!r}; those will be sent in English")
        if not checks.watched(lang):
            warnings.append(f"languages: no safeguarding lexicon for {lang!r}, so answers in it are never flagged "
                            f"for a person; add one ({lang}.yaml in SAFEGUARDING_LEXICON_DIR)")
    warnings.extend(sms_length_warnings(survey, checks.sms_cost))
    return warnings


def sms_length_warnings(survey: Survey, sms_cost: Callable[[OutgoingMessage], object]) -> list[str]:
    """Every text as it would go out by SMS (choices numbered, `{org}` filled with a long-ish name),
    measured in segments: carriers bill per segment, and one non-GSM character halves a segment."""
    out = []
    sample_org = "Riverside Community Food Bank"
    texts = [("intro", OutgoingMessage(survey.intro[lang].replace("{org}", sample_org)), lang) for lang in survey.languages]
    texts += [("outro", OutgoingMessage(survey.outro[lang].replace("{org}", sample_org)), lang) for lang in survey.languages]
    for i, q in enumerate(survey.questions):
        texts += [(f"questions[{i}].prompt", render_question(q, lang, sample_org), lang) for lang in survey.languages]
    for path, message, lang in texts:
        count = sms_cost(message)
        if count.segments > MAX_SMS_SEGMENTS:
            out.append(f"{path}.{lang}: {count.segments} SMS segments as sent ({count.encoding}, {count.units} "
                       f"{'characters' if count.encoding == 'GSM-7' else 'UTF-16 units'}); keep it to {MAX_SMS_SEGMENTS}")
    return out


@dataclass(frozen=True)
class CheckedSurvey:
    path: str
    survey: Survey
    warnings: list[str]


def check_survey_files(paths: Iterable[str], checks: SurveyChecks) -> list[CheckedSurvey]:
    """`chorus surveys validate`: read every file all or nothing (surveys.admin.read_survey_files raises
    SurveyFilesError listing every problem), then the warnings of each."""
    from surveys.admin import read_survey_files

    return [CheckedSurvey(f.path, f.survey, survey_warnings(f.survey, checks)) for f in read_survey_files(paths)]
