"""`chorus export ...`: exports for staff."""
from __future__ import annotations

import csv

import click

from cli.common import known as _known, store as _store


@click.group()
def export() -> None:
    """Exports for staff."""


@export.command("answers")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--survey", "survey_id", default=None)
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default stdout).")
@click.option("--no-redact", "no_redact", is_flag=True,
              help="Keep phone numbers, emails, postcodes and names in the answers (backbone staff only; never share).")
def export_answers_cmd(fmt, survey_id, out, no_redact) -> None:
    """Export answers (participants as pseudonyms like P-7KQ2M4XR9ABC, the same in every export, never
    addresses; personal details masked in every column that holds what people wrote)."""
    from analysis.exports import answers_export

    store = _store()
    _known(store, survey_id)
    writer = csv.writer(out)
    for row in answers_export(store, survey_id, keep_personal_details=no_redact):
        writer.writerow(row)

