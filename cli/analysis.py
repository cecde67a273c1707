"""`chorus analysis ...`, `chorus themes ...` and `chorus flags ...`: staff tools for the analysis, until the
staff console exists (registered on the main `chorus` group in config/cli.py)."""
from __future__ import annotations

import sys
from datetime import datetime, timezone

import click


def _now() -> datetime:
    """The clock. A caller that runs the commands in-process may fix it: `main(obj={"now": instant})` (tests
    do, with click's CliRunner); people always get the real time."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    fixed = obj.get("now") if isinstance(obj, dict) else None
    return fixed if isinstance(fixed, datetime) else datetime.now(timezone.utc)


# Every command that takes --week means the same week when it is not given: analysis.weeks.default_week.
WEEK_HELP = "ISO week like 2026-W47 (default: the last complete week, Monday to Sunday in CHORUS_TIMEZONE)."


def _week(store, week: str | None) -> tuple[int, int]:
    from analysis.weeks import WeekError, default_week, parse_week

    if week:
        try:
            return parse_week(week)
        except WeekError as exc:
            raise click.BadParameter(str(exc), param_hint="--week") from None
    return default_week(_now(), store.settings.default_timezone)


def _store():
    from cli import _store as store

    return store()


def _known(store, survey_id=None, org_code=None):
    from cli import _known as known

    known(store, survey_id, org_code)
    return store


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: write it like 2026-11-01") from None
    return day if day.tzinfo else day.replace(tzinfo=timezone.utc)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


# ---- analysis ---------------------------------------------------------------------------------------------
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
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--fresh", is_flag=True, help="Start again even if a run with these options finished.")
def analysis_retag(since, survey_id, batch, fresh) -> None:
    """Re-tag stored free-text answers with the configured analyzer. Interrupted? Run it again with the same
    options: it resumes after the last finished batch."""
    from analysis.retag import retag

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


# ---- themes -----------------------------------------------------------------------------------------------
@click.group()
def themes() -> None:
    """Recurring words and phrases per survey and week; merge and rename them."""


@themes.command("list")
@click.option("--survey", "survey_id", required=True)
@click.option("--week", default=None, help=WEEK_HELP)
@click.option("--weeks-back", default=4, show_default=True, type=click.IntRange(0, 52))
@click.option("--limit", default=15, show_default=True)
def themes_list(survey_id, week, weeks_back, limit) -> None:
    """The week's top themes with their change against earlier weeks."""
    from analysis.theme_report import themes_for_week
    from analysis.weeks import week_label

    store = _known(_store(), survey_id)
    tz = store.settings.default_timezone
    year, number = _week(store, week)
    trends = themes_for_week(store, survey_id, year, number, tz=tz, weeks_back=weeks_back, limit=limit)
    click.echo(f"themes in {survey_id}, {week_label(year, number)} ({tz}):")
    if not trends:
        click.echo("  none yet (a theme needs at least 2 answers in the week)")
    for t in trends:
        click.echo(f"  {t.label:30} {t.count:>5} answers  last week {t.previous_count:>4}  "
                   f"{t.change:+5d}  {t.status:8} key: {t.key}")


@themes.command("merge")
@click.argument("keys", nargs=-1, required=True)
@click.option("--into", "name", required=True, help="The merged theme's name.")
@click.option("--survey", "survey_id", default=None, help="Only for this survey (default: every survey).")
@click.option("--by", "by", default=None)
def themes_merge(keys, name, survey_id, by) -> None:
    """Count themes KEYS... (as `themes list` shows them) as one theme called NAME."""
    from analysis.theme_report import ThemeError, set_alias

    try:
        done = set_alias(_known(_store(), survey_id), keys, name, survey_id, by, _now())
    except ThemeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{', '.join(done)} now count as '{name}'" + (f" in {survey_id}" if survey_id else ""))


@themes.command("rename")
@click.argument("key")
@click.argument("name")
@click.option("--survey", "survey_id", default=None, help="Only for this survey (default: every survey).")
@click.option("--by", "by", default=None)
def themes_rename(key, name, survey_id, by) -> None:
    """Show theme KEY under NAME."""
    from analysis.theme_report import ThemeError, set_alias

    try:
        set_alias(_known(_store(), survey_id), [key], name, survey_id, by, _now())
    except ThemeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"'{key}' is now shown as '{name}'" + (f" in {survey_id}" if survey_id else ""))


@themes.command("aliases")
def themes_aliases() -> None:
    """Every merge and rename in force."""
    from analysis.theme_report import list_aliases

    rows = list_aliases(_store())
    if not rows:
        click.echo("no merges or renames")
    for sid, key, name, by in rows:
        click.echo(f"{sid or '(every survey)':20} {key:30} -> {name}" + (f"  (by {by})" if by else ""))


@themes.command("unalias")
@click.argument("key")
@click.option("--survey", "survey_id", default=None)
def themes_unalias(key, survey_id) -> None:
    """Undo a merge or rename for KEY."""
    from analysis.theme_report import remove_alias

    if not remove_alias(_known(_store(), survey_id), key, survey_id):
        raise click.ClickException(f"no merge or rename for {key!r}" + (f" in {survey_id}" if survey_id else ""))
    click.echo(f"'{key}' is counted under its own name again")


# ---- safeguarding flags -----------------------------------------------------------------------------------
@click.group()
def flags() -> None:
    """Safeguarding flags: answers a person must read. Never closed automatically."""


def _flag_line(f) -> str:
    line = (f"#{f.id:<5} {f.status:6} {f.created_at:%Y-%m-%d %H:%M} UTC  {f.organisation or '(no organisation)':24} "
            f"{f.survey_id or '-':18} {', '.join(f.categories)}")
    if f.status == "closed":
        line += f"  closed {f.closed_at:%Y-%m-%d %H:%M} by {f.closed_by}"
        if f.outcome:
            line += f" ({f.outcome.replace('_', ' ')})"
    return line


def _warn_no_contact(store) -> None:
    from surveys.flags import contact_warning

    warning = contact_warning(store)
    if warning:
        click.echo(f"warning: {warning}", err=True)


@flags.command("list")
@click.option("--all", "include_closed", is_flag=True, help="Closed flags too.")
@click.option("--org", "org_code", default=None)
def flags_list(include_closed, org_code) -> None:
    """Open flags (no answer text here: `flags show ID` for that)."""
    from surveys.flags import list_flags

    store = _known(_store(), org_code=org_code)
    _warn_no_contact(store)
    rows = list_flags(store, include_closed, org_code)
    if not rows:
        click.echo("no open flags" if not include_closed else "no flags")
    for f in rows:
        click.echo(_flag_line(f))


@flags.command("show")
@click.argument("flag_id", type=int)
def flags_show(flag_id) -> None:
    """One flag with the answer's words, for the person handling it."""
    from surveys.flags import FlagError, show_flag

    store = _store()
    try:
        f = show_flag(store, flag_id)
    except FlagError as exc:
        raise click.ClickException(str(exc)) from None
    _warn_no_contact(store)
    click.echo(_flag_line(f))
    click.echo(f"why: {f.why}")
    click.echo(f"answer #{f.answer_id}: {f.answer_text!r}" if f.answer_id else "answer: erased at the person's request")
    if f.note:
        click.echo(f"note: {f.note}")


@flags.command("close")
@click.argument("flag_id", type=int)
@click.option("--by", "by", required=True)
@click.option("--note", required=True, help="What was done.")
@click.option("--not-a-concern", "not_a_concern", is_flag=True,
              help="The answer was no risk (a false alarm); without it the flag is closed as a concern.")
def flags_close(flag_id, by, note, not_a_concern) -> None:
    """Close a flag once a person has handled it, saying what was done. Closed as a concern unless
    --not-a-concern; `chorus analysis accuracy` counts both (safeguarding precision per layer and rule)."""
    from surveys.flags import FlagError, close_flag

    try:
        f = close_flag(_store(), flag_id, by, note, _now(), not_a_concern=not_a_concern)
    except FlagError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"flag #{f.id} closed by {f.closed_by} ({f.outcome.replace('_', ' ')})")


@flags.group("contacts")
def flag_contacts() -> None:
    """Who hears about a flag at once (email and/or a Telegram chat)."""


def _org_id(store, org_code):
    if org_code is None:
        return None
    from surveys.admin import AdminError, find_organisation

    try:
        return find_organisation(store, org_code).id
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None


@flag_contacts.command("add")
@click.option("--org", "org_code", default=None, help="Organisation code (default: hears about every flag).")
@click.option("--email", default=None)
@click.option("--telegram-chat", "chat", default=None, help="A Telegram chat id (negative for a group).")
def contacts_add(org_code, email, chat) -> None:
    """Add a safeguarding contact."""
    from surveys.flags import FlagError, add_contact

    if (email is None) == (chat is None):
        raise click.UsageError("give --email or --telegram-chat (one per command)")
    store = _store()
    channel, address = ("email", email) if email is not None else ("telegram", chat)
    try:
        added = add_contact(store, _org_id(store, org_code), channel, address, _now())
    except FlagError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(("added" if added else "already there") + f": {channel} {address} for {org_code or 'every organisation'}")
    if channel == "email" and not store.settings.smtp_host:
        click.echo("warning: SMTP_HOST is not set, so email alerts wait in the outbox until it is", err=True)
    if channel == "telegram" and not store.settings.telegram_enabled:
        click.echo("warning: TELEGRAM_BOT_TOKEN is not set, so Telegram alerts wait in the outbox until it is", err=True)


@flag_contacts.command("remove")
@click.option("--org", "org_code", default=None)
@click.option("--email", default=None)
@click.option("--telegram-chat", "chat", default=None)
def contacts_remove(org_code, email, chat) -> None:
    from surveys.flags import remove_contact

    if (email is None) == (chat is None):
        raise click.UsageError("give --email or --telegram-chat")
    store = _store()
    channel, address = ("email", email) if email is not None else ("telegram", chat)
    if not remove_contact(store, _org_id(store, org_code), channel, address):
        raise click.ClickException("no such safeguarding contact")
    click.echo(f"removed: {channel} {address}")


@flag_contacts.command("list")
def contacts_list() -> None:
    from surveys.flags import list_contacts

    rows = list_contacts(_store())
    if not rows:
        click.echo("no safeguarding contacts: flags are raised but nobody is alerted "
                   "(add one with `chorus flags contacts add --email ...`)")
    for code, channel, address in rows:
        click.echo(f"{code or '(every organisation)':24} {channel:9} {address}")


# ---- digest -----------------------------------------------------------------------------------------------
@click.group()
def digest() -> None:
    """The weekly user-voice digest for governance."""


def _build(store, week, org_code, cutoff, out):
    from pathlib import Path

    from analysis.digest.archive import build_and_archive
    from analysis.digest.deliver import options

    _known(store, org_code=org_code)
    year, number = _week(store, week)
    try:
        return build_and_archive(store, options(store, year, number, org_code, _date(cutoff)), _now(),
                                 Path(out) if out else None)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@digest.command("build")
@click.option("--week", default=None, help=WEEK_HELP)
@click.option("--org", "org_code", default=None, help="One organisation's digest (default: the partnership).")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Also write every format here.")
@click.option("--cutoff", default=None, help="Data cut-off (ISO time; default: the archived one, else now).")
def digest_build(week, org_code, out, cutoff) -> None:
    """Build (or rebuild) a week's digest: HTML email, printable HTML, Markdown and JSON, archived."""
    store = _store()
    archived = _build(store, week, org_code, cutoff, out)
    d = archived.digest
    click.echo(f"digest {d.week} ({d.organisation or 'partnership'}), data up to {d.cutoff}: "
               f"{'rebuilt' if archived.rebuilt else 'built'} in {archived.path}" + (f" and {out}" if out else ""))
    for line in d.summary:
        click.echo(f"  {line}")


@digest.command("send")
@click.option("--week", default=None, help=WEEK_HELP)
@click.option("--org", "org_code", default=None)
@click.option("--again", is_flag=True, help="Send even if this week's digest was sent before.")
def digest_send(week, org_code, again) -> None:
    """Build the digest if needed and queue it to DIGEST_RECIPIENTS (and DIGEST_TELEGRAM_CHAT)."""
    from analysis.digest.deliver import queue_digest

    store = _store()
    if not store.settings.digest_recipients and not store.settings.digest_telegram_chat:
        raise click.ClickException("nobody to send it to: set DIGEST_RECIPIENTS (and/or DIGEST_TELEGRAM_CHAT)")
    archived = _build(store, week, org_code, None, None)
    n = queue_digest(store, archived, _now(), again=again)
    if n == 0:
        click.echo(f"digest {archived.digest.week} was queued before; --again to send it again "
                   "(`chorus digest list` shows what became of it)")
    else:
        click.echo(f"digest {archived.digest.week} queued to {n} recipient(s); the worker sends it")
    if store.settings.digest_recipients and not store.settings.smtp_host:
        click.echo("warning: SMTP_HOST is not set, so the email waits in the outbox until it is", err=True)


@digest.command("list")
def digest_list() -> None:
    """Archived digests, and what really happened to each: not sent and why, or queued to N recipients and
    how many of those messages went, failed or still wait in the outbox."""
    from analysis.digest.archive import list_archives

    rows = list_archives(_store())
    if not rows:
        click.echo("no digests yet (chorus digest build)")
    for r in rows:
        click.echo(f"{r.week} {r.scope:16} data up to {r.cutoff:%Y-%m-%d %H:%M} UTC  {r.path}")
        click.echo(f"    {r.delivery()}")


COMMANDS = (analysis, themes, flags, digest)
