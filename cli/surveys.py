"""`chorus surveys ...`: survey definitions (YAML)."""
from __future__ import annotations

from pathlib import Path

import click

from cli.common import now as _now, store as _store
from config.settings import SettingsError, load_settings


@click.group()
def surveys() -> None:
    """Survey definitions (YAML)."""


def _read(files, read):
    """Run `read` on the files; when any is invalid, print every problem and stop with one line."""
    from surveys.admin import SurveyFilesError

    try:
        return read(files)
    except SurveyFilesError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(str(exc)) from None


@surveys.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def surveys_validate(files) -> None:
    """Check survey files; print every problem with its file, path and reason, and warnings."""
    from analysis.safeguarding import LexiconError
    from config.wiring import survey_checks
    from surveys.checks import check_survey_files

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    try:
        checked = _read(files, lambda paths: check_survey_files(paths, survey_checks(settings)))
    except LexiconError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    for c in checked:
        for w in c.warnings:
            click.echo(f"{Path(c.path).name}: warning: {w}")
        click.echo(f"{Path(c.path).name}: ok ({c.survey.id} v{c.survey.version}, {len(c.survey.questions)} questions, "
                   f"{', '.join(c.survey.languages)})")


@surveys.command("load")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def surveys_load(files) -> None:
    """Validate and store survey files; a new version is made only when the content changed."""
    from surveys.admin import load_survey_files

    store = _store()
    for f, result in _read(files, lambda paths: load_survey_files(store, paths, _now())):
        state = "new version" if result.created else "unchanged"
        click.echo(f"{f.survey.id}: {state} {result.number} (from {Path(f.path).name})")


@surveys.command("list")
def surveys_list() -> None:
    """List stored surveys with their current version and answer counts."""
    from surveys.admin import list_surveys

    rows = list_surveys(_store())
    if not rows:
        click.echo("no surveys loaded (try: chorus surveys load surveys/examples/*.yaml)")
    for r in rows:
        click.echo(f"{r.id:24} v{r.current} (label {r.label}, {r.versions} version(s))  {r.answers} answers  {r.title}")

