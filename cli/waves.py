"""`chorus waves ...`: scheduled and manual waves of a survey."""
from __future__ import annotations

import click

from cli.common import known as _known, now as _now, store as _store


def _holds(holds) -> str:
    """'20 held by quiet hours until 09:00 Europe/London (Tue 24 Nov)', one part per instant and timezone."""
    from zoneinfo import ZoneInfo

    parts = []
    for h in holds:
        local = h.until.astimezone(ZoneInfo(h.timezone))
        parts.append(f"{h.count} held by quiet hours until {local:%H:%M} {h.timezone} ({local:%a} {local.day} {local:%b})")
    return ", ".join(parts)


def _failure(reason: str, wave_id: int) -> str:
    """A failure reason, with what to do about it when that is known."""
    from config.worker import HOW_TO_CONFIGURE
    from surveys.channels import not_configured

    for name, hint in HOW_TO_CONFIGURE.items():
        if reason == not_configured(name):
            return f"{reason} in the worker ({hint}, restart it, then `chorus waves resend {wave_id}`)"
    return reason


@click.group()
def waves() -> None:
    """Scheduled and manual waves of a survey."""


@waves.command("list")
@click.option("--survey", "survey_id", default=None)
@click.option("--limit", default=20, show_default=True)
def waves_list(survey_id, limit) -> None:
    """The latest waves with their counts."""
    from surveys.waves import list_waves

    store = _store()
    _known(store, survey_id)
    rows = list_waves(store, survey_id, limit)
    if not rows:
        click.echo("no waves yet")
    for w in rows:
        c = w.counts
        click.echo(f"#{w.id:<5} {w.survey_id:20} {w.scheduled_for:%Y-%m-%d %H:%M} UTC {w.kind:9} {w.status:9} "
                   f"invited {c['invited']}, sent {c['sent']}, delivered {c['delivered']}, started {c['started']}, "
                   f"completed {c['completed']}, opted out {c['opted out']}, failed {c['failed']}")


@waves.command("show")
@click.argument("wave_id", type=int)
def waves_show(wave_id) -> None:
    """One wave: when, what, and every count."""
    from surveys.waves import WaveError, show_wave

    try:
        detail = show_wave(_store(), wave_id, _now())
    except WaveError as exc:
        raise click.ClickException(str(exc)) from None
    wave = detail.wave
    click.echo(f"wave #{wave.id}: {wave.survey_id}, {wave.kind}, {wave.status}, scheduled for "
               f"{wave.scheduled_for:%Y-%m-%d %H:%M} UTC, created {detail.created_at:%Y-%m-%d %H:%M} UTC")
    if detail.skipped:
        click.echo("left out: " + ", ".join(f"{k} {v}" for k, v in sorted(detail.skipped.items())))
    for name, value in wave.counts.items():
        click.echo(f"  {name:10} {value}")
    if detail.holds:
        click.echo(f"waiting: {_holds(detail.holds)}")
    if detail.failures:
        click.echo("failed, by reason (invitations):")
        for reason, n in detail.failures.items():
            click.echo(f"  {n:5}  {_failure(reason, wave_id)}")


@waves.command("cancel")
@click.argument("wave_id", type=int)
def waves_cancel(wave_id) -> None:
    """Cancel what has not been sent yet."""
    from surveys.waves import WaveError, cancel_wave

    try:
        n = cancel_wave(_store(), wave_id, _now())
    except WaveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wave #{wave_id} cancelled; {n} invitation(s) will not be sent")


@waves.command("send-now")
@click.argument("survey_id")
def waves_send_now(survey_id) -> None:
    """Make a wave of SURVEY_ID now, for its whole audience (quiet hours still apply per person)."""
    from config.worker import unconfigured_channels
    from surveys.waves import WaveError, send_now, wave_holds

    store, now = _store(), _now()
    _known(store, survey_id)
    try:
        result = send_now(store, survey_id, now)
    except WaveError as exc:
        raise click.ClickException(str(exc)) from None
    # People outside the survey's audience are said apart: they were never meant to be asked.
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(result.skipped.items()) if k != "audience") or "nobody"
    outside = result.skipped.get("audience", 0)
    skipped += f"), {outside} enrolled outside its audience" if outside else ")"
    holds = wave_holds(store, result.wave_id, now)
    held = sum(h.count for h in holds)
    when = f"{_holds(holds)}; " if holds else ""
    goes = ("" if not result.invited else "`chorus worker` sends them" if not held
            else "`chorus worker` sends them then" if held == result.invited else "`chorus worker` sends the rest now")
    click.echo(f"wave #{result.wave_id}: {result.invited} invited (left out: {skipped}; {when}{goes}".rstrip("; "))
    for name, n, how in unconfigured_channels(store.settings, result.by_channel):
        click.echo(f"warning: {n} invited by {name}, and no {name} channel is configured here "
                   f"({how}): a worker without one fails them", err=True)


@waves.command("resend")
@click.argument("wave_id", type=int)
def waves_resend(wave_id) -> None:
    """Send again the invitations of WAVE_ID that failed because their channel was not configured."""
    from surveys.waves import WaveError, resend_unconfigured

    try:
        n = resend_unconfigured(_store(), wave_id, _now())
    except WaveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wave #{wave_id}: {n} invitation(s) put back for `chorus worker`; one without their channel "
               "fails them again" if n else f"wave #{wave_id}: no invitation failed for want of a channel")



def _when(raw: str | None, now):
    """--at as typed: ISO 8601, UTC unless it carries an offset; absent: now."""
    from datetime import datetime, timezone

    if not raw:
        return now
    try:
        at = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise click.BadParameter(f"expected a time like 2026-11-30T10:00 (UTC) or 2026-11-30T10:00+01:00, got {raw!r}",
                                 param_hint="--at") from None
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _money(amount, currency) -> str:
    return f"{amount.normalize():f} {currency}"


@waves.command("preview")
@click.argument("survey_id")
@click.option("--at", "at_text", default=None, metavar="TIME",
              help="When the wave would go: ISO 8601, UTC unless it has an offset (default: now).")
def waves_preview(survey_id, at_text) -> None:
    """Who a wave of SURVEY_ID would reach and leave out (and why), what it costs, when its last message goes.
    Nothing is made or sent."""
    from config.wiring import send_estimates
    from surveys.scope import Scope
    from surveys.wave_preview import preview_wave
    from surveys.waves import WaveError, left_out_label

    store, now = _store(), _now()
    _known(store, survey_id)
    at = _when(at_text, now)
    try:
        p = preview_wave(store, Scope.operator(), survey_id, at, now, send_estimates(store.settings))
    except WaveError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"preview of {p.survey_id} ({p.survey_title}, version {p.version}) at {p.at:%Y-%m-%d %H:%M} UTC: "
               f"reaches {_people(p.reached)}")
    if p.by_channel:
        click.echo("  by channel: " + ", ".join(f"{c} {n}" for c, n in p.by_channel.items()))
        click.echo("  by organisation: " + ", ".join(f"{o} {n}" for o, n in p.by_organisation.items()))
    left = sum(p.left_out.values())
    click.echo(f"left out: {left}" if left else "left out: nobody")
    for reason, n in p.left_out.items():
        click.echo(f"  {n:6}  {left_out_label(reason)}")
    if p.holds:
        click.echo(f"waiting: {_holds(p.holds)}")
    for s in p.sms:
        each = "/".join(str(n) for n in s.segments_each)
        click.echo(f"SMS first send, {s.language}: {_people(s.people)} x {each} segments ({', '.join(s.encodings)}) "
                   f"= {s.segments} segments")
    for c in p.costs:
        pr = c.pricing
        billed = f"{c.units} {pr.unit}s" if pr else f"{c.units} units"
        cost = (f" x {_money(pr.price, pr.currency)} = {_money(c.cost, pr.currency)}" if c.cost is not None
                else f": {pr.note}" if pr and pr.note else ": no price known")
        click.echo(f"cost, {c.channel} ({pr.provider if pr else 'unknown provider'}): {_people(c.people)}, "
                   f"{c.messages} messages, {billed}{cost}")
    if p.last_message_at is not None:
        click.echo(f"last message goes at about {p.last_message_at:%Y-%m-%d %H:%M:%S} UTC (at each channel's rate: "
                   + ", ".join(f"{c} {t:%H:%M:%S}" for c, t in p.last_by_channel.items()) + ")")
    for channel, n in p.unconfigured.items():
        click.echo(f"warning: {n} would be invited by {channel}, and no {channel} channel is configured here: "
                   "a worker without one fails them", err=True)
    click.echo(f"nothing was made; `chorus waves send-now {p.survey_id}` sends a wave now" if p.at <= now else
               "nothing was made; the clock makes scheduled waves at their time")
