"""Warnings about a valid survey that staff should still hear about before sending it.

What a text costs by SMS is the SMS channel's knowledge: it comes in as a function (`sms_cost`, by default
sms.channel.sms_cost), so this code needs no channel and can move into the core's staff operations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from analysis.language import primary_language
from surveys import messages
from surveys.definition import Survey
from surveys.engine import OutgoingMessage, render_question
from surveys.loader import lint_survey

MAX_SMS_SEGMENTS = 3  # beyond this a question costs more than a short conversation should


def survey_warnings(survey: Survey, safeguarding_languages: frozenset[str] | None = None,
                    sms_cost: Callable[[OutgoingMessage], object] | None = None) -> list[str]:
    """`safeguarding_languages`: the languages with a safeguarding lexicon (default: the shipped ones).
    `sms_cost`: what a message costs as sent by SMS, with `segments`, `encoding` and `units` (default: the
    SMS channel's)."""
    warnings = list(lint_survey(survey))
    if safeguarding_languages is None:
        from analysis.safeguarding import Safeguarding

        safeguarding_languages = Safeguarding().languages()
    for lang in survey.languages:
        if lang not in messages.TEXTS:
            warnings.append(f"languages: Chorus has no translation of its own messages (consent, help, "
                            f"re-prompts) for {lang!r}; those will be sent in English")
        if primary_language(lang) not in safeguarding_languages:
            warnings.append(f"languages: no safeguarding lexicon for {lang!r}, so answers in it are never flagged "
                            f"for a person; add one ({lang}.yaml in SAFEGUARDING_LEXICON_DIR)")
    if sms_cost is None:
        from sms.channel import sms_cost
    warnings.extend(sms_length_warnings(survey, sms_cost))
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


def check_survey_files(paths, settings) -> list[CheckedSurvey]:
    """`chorus surveys validate`: read every file all or nothing (surveys.admin.read_survey_files raises
    SurveyFilesError listing every problem), then the warnings of each, against the safeguarding lexicons
    configured in `settings` (a bad lexicon folder raises analysis.safeguarding.LexiconError)."""
    from analysis.safeguarding import Safeguarding
    from surveys.admin import read_survey_files

    lexicons = Safeguarding(settings.safeguarding_lexicon_dir).languages()
    return [CheckedSurvey(f.path, f.survey, survey_warnings(f.survey, lexicons)) for f in read_survey_files(paths)]
