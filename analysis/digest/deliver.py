"""Send a built digest: by email to the governance list and, when configured, a short summary to a Telegram
group (a chat: the summary is neutral, the channel lays it out); both through the outbox, so they are retried and recorded like every other message. And the weekly
job the clock runs: build last week's digest at the configured day and time, archive it, send it, once.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update

from analysis.digest.archive import (
    DA,
    DD,
    EMAIL_FILE,
    Archived,
    build_and_archive,
    existing,
    load as archive_load,
    refresh_archives,
    scope_of,
    share_path,
)
from analysis.digest.build import Options
from analysis.weeks import default_week, parse_week, previous_week, week_label
from surveys.engine import OutgoingMessage
from surveys.flags import flags_page_link
from surveys.outbox import queue
from surveys.store import Store


def options(db: Store, year: int, week: int, org_code: str | None = None, cutoff: datetime | None = None) -> Options:
    s = db.settings
    # The console's flag queue when the installation has a public address (the page asks for sign-in);
    # without one, staff use `chorus flags list` / `show ID` (the digest says so either way).
    return Options(year, week, s.default_timezone, cutoff, org_code, s.partnership_name, flags_page_link(db))


def subject(d: dict) -> str:
    who = d["total"]["name"] if d.get("organisation") else d["partnership"]
    return f"User voice this week: {who}, {d['week']}"


def digest_link(db: Store, d: dict) -> str | None:
    base = (db.settings.public_base_url or "").rstrip("/")
    if not base:
        return None
    return base + share_path(db.settings.secret_key, d["week"], scope_of(d.get("organisation")))


def short_summary(d: dict, link: str | None) -> OutgoingMessage:
    """The digest in a few lines, for a chat: its title, its first three points (one per line) and where
    to read it all (None without a public address: then only the governance email list has it). The
    channel that sends it lays it out (see bot/render.py)."""
    return OutgoingMessage("\n".join(d["summary"][:3]), style="summary", subject=subject(d), link=link)


NO_RECIPIENTS = "no recipients (DIGEST_RECIPIENTS and DIGEST_TELEGRAM_CHAT are not set)"


def queue_digest(db: Store, archived: Archived, now: datetime, *, again: bool = False) -> int:
    """Queue the digest to every recipient, and record what happened: the messages queued (each linked to
    its outbox row, so `digest list` can say whether it went), or that nothing was sent and why. Returns how
    many messages were queued (0 when it was queued before, unless `again`, or when there is nobody to send
    it to)."""
    row = existing(db, archived.digest.week, archived.digest.organisation)
    if row is not None and row.sent_at is not None and row.queued != 0 and not again:
        return 0       # queued before (or sent before delivery was recorded, when `queued` is unknown)
    d = archived.digest.to_dict()
    from analysis.digest import render

    text = render.render_text(d)
    with db.write() as conn:
        queued = []
        for address in db.settings.digest_recipients:
            queued.append(("email", queue(
                db, "email", OutgoingMessage(text, subject=subject(d), document=str(archived.path / EMAIL_FILE)),
                now, to_address=address, purpose="digest", conn=conn)))
        if db.settings.digest_telegram_chat:
            queued.append(("telegram", queue(db, "telegram", short_summary(d, digest_link(db, d)),
                                             now, to_address=db.settings.digest_telegram_chat, purpose="digest",
                                             conn=conn)))
        if queued:
            conn.execute(insert(DD), [{"archive_id": archived.archive_id, "message_id": message_id, "channel": channel,
                                       "queued_at": now} for channel, message_id in queued])
        conn.execute(update(DA).where(DA.c.id == archived.archive_id).values(
            sent_at=now, queued=len(queued), not_sent_reason=None if queued else NO_RECIPIENTS))
    return len(queued)


def due_week(db: Store, now: datetime) -> tuple[int, int]:
    """The ISO week whose digest is due at `now`: the default week (`analysis.weeks.default_week`, the last
    complete week) as it was at the latest configured send time. From the send time on, that is the week
    every command means by default."""
    zone = ZoneInfo(db.settings.default_timezone)
    local = now.astimezone(zone)
    weekday, at = db.settings.digest_when
    monday = local.date() - timedelta(days=local.weekday())
    send = datetime.combine(monday + timedelta(days=weekday), at, zone)
    if send > local:
        send -= timedelta(days=7)
    return default_week(send, db.settings.default_timezone)


CATCH_UP_WEEKS = 8   # after a long outage, at most this many missed weeks are built and sent, oldest first


def weekly_digest(db: Store, now: datetime) -> dict:
    """The clock's job: rebuild archives that quote someone erased since; build, archive and send last week's
    digest once it is due (once: a restart after downtime sends it late, never twice). Weeks missed while
    nothing ran since the last digest are sent too, oldest first (at most CATCH_UP_WEEKS); a new
    installation starts with the latest due week only."""
    def opts_for(week, scope, cutoff):
        year, number = parse_week(week)
        return options(db, year, number, None if scope == "partnership" else scope, cutoff)

    refreshed = refresh_archives(db, now, opts_for)
    due = due_week(db, now)
    with db.read() as conn:
        latest = conn.execute(select(func.max(DA.c.week)).where(DA.c.scope == "partnership",
                                                                DA.c.sent_at.is_not(None))).scalar()
    weeks = [due]
    if latest is not None:
        weeks = []
        for n in range(CATCH_UP_WEEKS):
            week = previous_week(*due, n)
            if week_label(*week) <= latest:
                break
            weeks.append(week)
        weeks.reverse()
    sent, built = 0, []
    for year, week in weeks:
        row = existing(db, week_label(year, week), None)
        if row is not None and row.sent_at is not None:
            continue
        # Built before (a preview, or an earlier tick): send it as archived. Rebuilding from its cut-off would
        # give the same bytes, except after an erasure, whose people must not change figures already built.
        archived = archive_load(row) if row is not None else None
        if archived is None:
            archived = build_and_archive(db, options(db, year, week, cutoff=row.cutoff if row is not None else now),
                                         now)
        sent += queue_digest(db, archived, now)
        built.append(archived.digest.week)
    out = {"refreshed": len(refreshed), "sent": sent}
    if built:
        out["week"] = built[-1]
        out["weeks"] = built
    return out


__all__ = ["options", "queue_digest", "weekly_digest", "due_week", "scope_of"]
