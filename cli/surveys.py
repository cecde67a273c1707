"""`chorus surveys ...`: survey definitions (YAML)."""
from __future__ import annotations

from pathlib import Path

import click

from cli.common import now as _now, store as _store
from config.settings import SettingsError, load_settings


@click.group()
def surveys() -> None:
    """Survey definitions (YAML)."""


def _load_files(files) -> list:
    from surveys.loader import SurveyError, load_survey_file

    loaded, failed = [], False
    for path in files:
        try:
            loaded.append((path, load_survey_file(path)))
        except SurveyError as exc:
            failed = True
            click.echo(str(exc), err=True)
    if failed:
        raise click.ClickException("some survey files are invalid; nothing was changed")
    return loaded


@surveys.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def surveys_validate(files) -> None:
    """Check survey files; print every problem with its file, path and reason, and warnings."""
    from analysis.safeguarding import LexiconError, Safeguarding
    from config.checks import survey_warnings

    try:
        lexicons = Safeguarding(load_settings().safeguarding_lexicon_dir).languages()
    except (SettingsError, LexiconError) as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    for path, survey in _load_files(files):
        warnings = survey_warnings(survey, lexicons)
        for w in warnings:
            click.echo(f"{Path(path).name}: warning: {w}")
        click.echo(f"{Path(path).name}: ok ({survey.id} v{survey.version}, {len(survey.questions)} questions, "
                   f"{', '.join(survey.languages)})")


@surveys.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def surveys_load(files) -> None:
    """Validate and store survey files; a new version is made only when the content changed."""
    from surveys.admin import load_survey

    store = _store()
    for path, survey in _load_files(files):
        result = load_survey(store, survey, _now())
        state = "new version" if result.created else "unchanged"
        click.echo(f"{survey.id}: {state} {result.number} (from {Path(path).name})")


@surveys.command("list")
def surveys_list() -> None:
    """List stored surveys with their current version and answer counts."""
    from surveys.admin import list_surveys

    rows = list_surveys(_store())
    if not rows:
        click.echo("no surveys loaded (try: chorus surveys load surveys/examples/*.yaml)")
    for r in rows:
        click.echo(f"{r.id:24} v{r.current} (label {r.label}, {r.versions} version(s))  {r.answers} answers  {r.title}")

