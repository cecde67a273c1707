"""The digest's staff operations (`chorus digest build|send`, and the console to come): build a week's
digest into the archive, send it to the configured recipients, find the printable copy behind a shared
link. Errors are DigestError, with words a person can act on."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from analysis.digest.archive import Archived, archive_root, build_and_archive, share_token
from analysis.digest.deliver import options, queue_digest
from analysis.weeks import WeekError, parse_week, week_label
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
