"""`chorus analysis ...`: sentiment corrections, agreement, re-tagging, safeguarding precision."""
from __future__ import annotations

import sys

import click

from analysis.retag import retag
from cli.common import op_default, date as _date, known as _known, now as _now, pct as _pct, store as _store


@click.group()
def analysis() -> None:
    """Sentiment: staff corrections, agreement, re-tagging."""


@analysis.command("label")
@click.argument("answer_id", type=int)
@click.argument("label")
@click.option("--by", "by", required=True, help="Who is labelling (kept with the label).")
def analysis_label(answer_id, label, by) -> None:
    """Set a person's sentiment LABEL (positive, neutral, negative, mixed) for ANSWER_ID, kept beside the
    machine's tag."""
    from analysis.corrections import CorrectionError, set_label

    try:
        machine, new = set_label(_store(), answer_id, label, by, _now())
    except CorrectionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"answer {answer_id}: labelled {new} by {by.strip()} (machine said {machine or 'nothing'})")


@analysis.command("accuracy")
@click.option("--survey", "survey_id", default=None)
@click.option("--since", default=None, help="Only answers from this date (YYYY-MM-DD).")
def analysis_accuracy(survey_id, since) -> None:
    """Which safeguarding layers are active and their precision on reviewed flags (concern vs not a concern,
    per layer and rule); how often the machine's sentiment label agrees with the labels people set."""
    from analysis.corrections import LABELS, accuracy, coverage

    store = _known(_store(), survey_id)
    since_at = _date(since)
    _safeguarding_review(store, since_at)
    result = accuracy(store, survey_id, since_at)
    cov = coverage(store, since_at, None, survey_id)
    click.echo(f"free-text answers tagged: {cov.free_text}; not tagged (language): {cov.not_tagged} "
               f"({_pct(cov.not_tagged_share)})")
    if not result.compared:
        click.echo("no answers have both a machine label and a person's label yet "
                   "(label some with `chorus analysis label ANSWER_ID LABEL --by NAME`)")
        return
    kappa = result.kappa()
    click.echo(f"compared: {result.compared}; agreement {_pct(result.rate)}; Cohen's kappa "
               f"{'-' if kappa is None else f'{kappa:.2f}'}; analyzers: "
               + ", ".join(f"{a} ({n})" for a, n in result.analyzers.most_common()))
    corner = "machine \\ person"
    click.echo(f"{corner:18}" + "".join(f"{label:>10}" for label in LABELS))
    for a in LABELS:
        click.echo(f"{a:18}" + "".join(f"{result.confusion[(a, b)]:>10}" for b in LABELS))
    for label, (n, precision, recall) in result.per_label().items():
        click.echo(f"{label:9} people said {n:>5}; machine precision {_pct(precision):>7}, recall {_pct(recall):>7}")
    if result.not_tagged:
        click.echo(f"{result.not_tagged} labelled answers were in a language the analyzer does not read")


def _safeguarding_review(store, since_at) -> None:
    """Which safeguarding layers are active, and their precision on the flags people have closed."""
    from surveys.flags import flag_review

    sg = getattr(store.tagger, "safeguarding", None)
    click.echo(sg.describe() if sg is not None else "safeguarding: off (no tagger)")
    review = flag_review(store, since_at)
    if not review.total.reviewed:
        click.echo(f"safeguarding: no reviewed flags yet ({review.open} open); close flags with "
                   "`chorus flags close ID --by NAME --note TEXT [--not-a-concern]` to measure precision")
        return
    t = review.total
    click.echo(f"safeguarding precision on reviewed flags: {_pct(t.precision)} ({t.concern} concern, "
               f"{t.not_a_concern} not a concern; {review.open} open"
               + (f", {review.unjudged} closed before outcomes were recorded" if review.unjudged else "") + ")")
    for layer, r in review.by_layer.items():
        click.echo(f"  {layer + ' layer':38} {_pct(r.precision):>7}  ({r.concern} of {r.reviewed})")
    for (layer, rule), r in review.by_rule.items():
        click.echo(f"    {layer:10} {rule:34} {_pct(r.precision):>7}  ({r.concern} of {r.reviewed})")


@analysis.command("retag")
@click.option("--since", default=None, help="Only answers from this date (YYYY-MM-DD).")
@click.option("--survey", "survey_id", default=None)
@click.option("--batch", default=op_default(retag, "batch"), show_default=True, type=click.IntRange(1, 100_000))
@click.option("--fresh", is_flag=True, help="Start again even if a run with these options finished.")
def analysis_retag(since, survey_id, batch, fresh) -> None:
    """Re-tag stored free-text answers with the configured analyzer. Interrupted? Run it again with the same
    options: it resumes after the last finished batch."""

    store = _known(_store(), survey_id)
    since_at = _date(since)
    bar = None
    last = [0]

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label="re-tagging", file=sys.stderr)
            bar.__enter__()
        bar.update(done - last[0])
        last[0] = done

    try:
        result = retag(store, store.tagger, _now(), since=since_at, survey_id=survey_id, batch=batch, fresh=fresh,
                       progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    word = "resumed and finished" if result.resumed else "finished"
    click.echo(f"retag run #{result.run_id} {word}: {result.done} of {result.total} answers re-tagged with "
               f"{store.tagger.analyzer_name}")

