"""The digest's staff operations (`chorus digest build|send`, and the console to come): build a week's
digest into the archive, send it to the configured recipients, find the printable copy behind a shared
link. Errors are DigestError, with words a person can act on."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from analysis.digest.archive import ArchiveStatus, Archived, archive_root, build_and_archive, list_archives, scope_of, share_token
from analysis.digest.deliver import options, queue_digest
from analysis.digest.model import Digest
from analysis.weeks import WeekError, parse_week, week_label
from surveys.scope import Forbidden, Scope
from surveys.store import Store

NOBODY = "nobody to send it to: set DIGEST_RECIPIENTS (and/or DIGEST_TELEGRAM_CHAT)"


class DigestError(ValueError):
    pass


@dataclass(frozen=True)
class SentDigest:
    """What `send_digest` did: the archived digest, how many messages it queued (0: it was queued before and
    `again` was not given), and a warning when its email cannot leave yet."""
    archived: Archived
    queued: int
    warning: str | None = None


def build_digest(db: Store, year: int, week: int, org_code: str | None, now: datetime, *,
                 cutoff: datetime | None = None, out_dir: Path | None = None) -> Archived:
    """Build (or rebuild) the digest of ISO week `year`-W`week` for one organisation (None: the partnership)
    and archive it; also write every format to `out_dir` when given."""
    try:
        return build_and_archive(db, options(db, year, week, org_code, cutoff), now, out_dir)
    except ValueError as exc:
        raise DigestError(str(exc)) from None


def send_digest(db: Store, year: int, week: int, org_code: str | None, now: datetime, *,
                again: bool = False) -> SentDigest:
    """Build the digest if needed and queue it to DIGEST_RECIPIENTS and DIGEST_TELEGRAM_CHAT. With nobody
    configured to receive it, a DigestError before anything is built."""
    s = db.settings
    if not s.digest_recipients and not s.digest_telegram_chat:
        raise DigestError(NOBODY)
    archived = build_digest(db, year, week, org_code, now)
    queued = queue_digest(db, archived, now, again=again)
    warnings = []
    if s.digest_recipients and not s.smtp_host:
        warnings.append("SMTP_HOST is not set: a worker without it fails it at once (channel not configured); "
                        "set it, restart the worker, then `chorus digest send --again`")
    if s.digest_telegram_chat and not s.telegram_enabled:
        warnings.append("TELEGRAM_BOT_TOKEN is not set: a worker without it fails it at once (channel not "
                        "configured); set it, restart the worker, then `chorus digest send --again`")
    return SentDigest(archived, queued, "\nwarning: ".join(warnings) or None)


def printable_digest(db: Store, week: str, scope: str, token: str) -> bytes | None:
    """The archived printable HTML behind a shared link (/digests/<week>/<scope>/<token>), or None for a
    wrong token, week or scope, or a digest not archived: the caller cannot tell which, on purpose."""
    try:
        week = week_label(*parse_week(week))
    except WeekError:
        return None
    if not scope.replace("-", "").replace("_", "").isalnum() or len(scope) > 64:
        return None
    if not hmac.compare_digest(token, share_token(db.settings.secret_key, week, scope)):
        return None
    path = Path(archive_root(db)) / week / scope / "print.html"
    return path.read_bytes() if path.is_file() else None


# ---- the console's digest operations, scoped by who is asking ------------------------------------------------
# Every role reads digests (they hold only protected figures and redacted quotes from groups of 5 or more): the
# partnership's always, an organisation's when the scope covers it (admin and governance: every one). Only a
# backbone admin sends one.
@dataclass(frozen=True)
class DigestPreview:
    """This week's digest, built without archiving or sending: the value and its printable page."""
    digest: Digest
    printable_html: str


@dataclass(frozen=True)
class DigestSendResult:
    week: str
    scope: str                        # 'partnership' or an organisation code
    queued: int                       # messages queued (0: queued before and `again` not given)
    recipients: list[str]             # who it goes to: email addresses, "telegram chat N"
    warning: str | None


def _reads(scope: Scope, db: Store, archive_scope: str) -> bool:
    if archive_scope == "partnership" or scope.role in ("admin", "governance"):
        return True
    from surveys.admin import AdminError, find_organisation

    try:
        return scope.covers(find_organisation(db, archive_scope).id)
    except AdminError:
        return False


def digest_archive(db: Store, scope: Scope) -> list[ArchiveStatus]:
    """The archived digests the scope may read, newest week first, with what became of each sending."""
    return [a for a in list_archives(db) if _reads(scope, db, a.scope)]


def preview_digest(db: Store, scope: Scope, year: int, week: int, org_code: str | None, now: datetime) -> DigestPreview:
    """Build the week's digest as it stands at `now` (nothing archived, nothing sent)."""
    from analysis.digest import render
    from analysis.digest.build import build

    if not _reads(scope, db, scope_of(org_code)):
        raise Forbidden("this organisation's digest is not yours to read")
    try:
        digest = build(db, options(db, year, week, org_code, now), now)
    except ValueError as exc:
        raise DigestError(str(exc)) from None
    d = digest.to_dict()
    return DigestPreview(digest, render.render_print_html(d, pngs=render.charts(d)))


def recipients(db: Store) -> list[str]:
    s = db.settings
    return list(s.digest_recipients) + ([f"telegram chat {s.digest_telegram_chat}"] if s.digest_telegram_chat else [])


def send_digest_now(db: Store, scope: Scope, year: int, week: int, org_code: str | None, now: datetime, *,
                    again: bool = False) -> DigestSendResult:
    """Build, archive and queue the week's digest to its recipients (backbone admin only)."""
    scope.require(scope.role == "admin", "send a digest")
    sent = send_digest(db, year, week, org_code, now, again=again)
    return DigestSendResult(sent.archived.digest.week, scope_of(org_code), sent.queued, recipients(db), sent.warning)


def printable_page(db: Store, scope: Scope, week: str, archive_scope: str) -> bytes | None:
    """The archived printable page of a digest the scope may read (None when not archived)."""
    try:
        week = week_label(*parse_week(week))
    except WeekError:
        return None
    archive_scope = (archive_scope or "").strip().lower()
    if not archive_scope.replace("-", "").replace("_", "").isalnum() or len(archive_scope) > 64:
        return None
    if not _reads(scope, db, archive_scope):
        raise Forbidden("this organisation's digest is not yours to read")
    path = Path(archive_root(db)) / week / archive_scope / "print.html"
    return path.read_bytes() if path.is_file() else None
