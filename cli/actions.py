"""`chorus actions ...`: the action register and "you said, we did" messages (analysis.actions)."""
from __future__ import annotations

import click

from cli.common import date as _date, now as _now, store as _store


@click.group()
def actions() -> None:
    """What you heard and what you are doing about it; tell the people who said it."""


def _scope(by: str | None):
    from dataclasses import replace

    from surveys.scope import Scope

    return replace(Scope.operator(), actor=(by or "").strip() or "operator")


def _run(fn, *args, **kwargs):
    from analysis.actions import ActionError
    from surveys.scope import Forbidden

    try:
        return fn(*args, **kwargs)
    except (ActionError, Forbidden) as exc:
        raise click.ClickException(str(exc)) from None


def _line(a) -> str:
    told = f"  told {a.told}" if a.published_at else ""
    return (f"#{a.id:<4} {a.status_label:11} {a.org_code or 'partnership':12} {a.theme or a.question_key or '-':18} "
            f"{a.doing[:60]}{told}")


@actions.command("list")
@click.option("--status", default=None, help="planned, in_progress, done or cant_do.")
@click.option("--org", "org_code", default=None)
def actions_list(status, org_code) -> None:
    """The register, newest first."""
    from analysis.actions import list_actions

    rows = _run(list_actions, _store(), _scope(None), status, org_code)
    if not rows:
        click.echo("no actions")
    for a in rows:
        click.echo(_line(a))


def _messages(pairs: tuple[str, ...]) -> dict:
    out = {}
    for pair in pairs:
        lang, sep, text = pair.partition("=")
        if not sep or not lang.strip():
            raise click.BadParameter(f"{pair!r}: write it as LANG=TEXT, e.g. en='You said ...'", param_hint="--message")
        out[lang.strip()] = text
    return out


@actions.command("add")
@click.option("--heard", required=True, help="What people said.")
@click.option("--doing", required=True, help="What is being done about it.")
@click.option("--owner", required=True, help="Who is responsible.")
@click.option("--org", "org_code", default=None, help="Join code; none: a partnership action.")
@click.option("--survey", default=None)
@click.option("--question", default=None)
@click.option("--theme", default=None)
@click.option("--since", default=None, help="Start of the period (2026-11-01).")
@click.option("--until", default=None, help="End of the period (exclusive).")
@click.option("--cohort", "cohort_tag", default=None, help="Tell a cohort (people with this tag) instead.")
@click.option("--everyone", is_flag=True, help="Tell every consenting person of the organisation (a cohort).")
@click.option("--message", "message", multiple=True, help="LANG=TEXT, once per language.")
@click.option("--due", default=None, help="Due date (2026-12-31).")
@click.option("--status", default="planned", show_default=True)
@click.option("--why-not", default=None, help="For status cant_do: why.")
@click.option("--by", default=None, help="Your name, for the history.")
def actions_add(heard, doing, owner, org_code, survey, question, theme, since, until, cohort_tag, everyone,
                message, due, status, why_not, by) -> None:
    """Record an action."""
    from analysis.actions import ActionInput, record_action

    audience = "cohort" if cohort_tag or everyone else "raised"
    inp = ActionInput(heard, doing, owner, org_code, survey, question, theme, _date(since), _date(until), audience,
                      cohort_tag, _messages(message), _date(due), status, why_not)
    a = _run(record_action, _store(), _scope(by), inp, _now())
    click.echo(f"action #{a.id} recorded ({a.status_label})")


@actions.command("show")
@click.argument("action_id", type=int)
def actions_show(action_id) -> None:
    """One action, its history and the replies it got."""
    from analysis.actions import AUDIENCES, get_action

    d = _run(get_action, _store(), _scope(None), action_id)
    a = d.action
    click.echo(_line(a))
    click.echo(f"you said: {a.heard}")
    click.echo(f"we did: {a.doing}")
    if a.why_not:
        click.echo(f"why not: {a.why_not}")
    click.echo(f"owner: {a.owner}; organisation: {a.org_name}; survey: {a.survey_id or '-'}"
               f"{' / ' + a.question_key if a.question_key else ''}; theme: {a.theme or '-'}")
    click.echo(f"tells: {AUDIENCES[a.audience]}{' tagged ' + a.cohort_tag if a.cohort_tag else ''}")
    for lang, text in a.message.items():
        click.echo(f"message ({lang}): {text}")
    click.echo(f"published: {a.published_at:%Y-%m-%d %H:%M} UTC by {a.published_by}, {a.told} told"
               if a.published_at else "published: not yet")
    for h in d.history:
        what = ", ".join(x for x in (h.status and f"status {h.status}", h.note) if x)
        click.echo(f"  {h.at:%Y-%m-%d %H:%M} {h.actor}: {what}")
    for r in d.replies or ():
        click.echo(f"  reply {r.at:%Y-%m-%d %H:%M}: {r.text!r}")


@actions.command("status")
@click.argument("action_id", type=int)
@click.argument("status")
@click.option("--why-not", default=None)
@click.option("--note", default=None)
@click.option("--by", default=None)
def actions_status(action_id, status, why_not, note, by) -> None:
    """Move an action on: planned, in_progress, done, cant_do (with --why-not)."""
    from analysis.actions import set_status

    a = _run(set_status, _store(), _scope(by), action_id, status, _now(), why_not=why_not, note=note)
    click.echo(f"action #{a.id}: {a.status_label}")


def _print_publication(p, verb: str) -> None:
    from analysis.actions import left_out_label

    click.echo(f"{verb} {len(p.reached)} {'person' if len(p.reached) == 1 else 'people'}"
               + (f" ({', '.join(f'{n} {k}' for k, n in p.by_language().items())})" if p.reached else ""))
    if p.held:
        click.echo(f"  {p.held} held until quiet hours end where they live")
    for lang, n in p.fallback.items():
        click.echo(f"  {n} whose language is {lang} get another language's text (none written in {lang})")
    for reason, n in p.left_out.most_common():
        click.echo(f"  left out: {n} {left_out_label(reason)}")


@actions.command("preview")
@click.argument("action_id", type=int)
def actions_preview(action_id) -> None:
    """Who publishing would tell now, and who it leaves out and why."""
    from analysis.actions import preview_publication

    _print_publication(_run(preview_publication, _store(), _scope(None), action_id, _now()), "would tell")


@actions.command("publish")
@click.argument("action_id", type=int)
@click.option("--by", default=None)
def actions_publish(action_id, by) -> None:
    """Send the "you said, we did" message (through the outbox: the worker sends it)."""
    from analysis.actions import publish_action

    _print_publication(_run(publish_action, _store(), _scope(by), action_id, _now()), "queued for")
