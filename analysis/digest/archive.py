"""Build, render and archive a week's digest; rebuild archived copies that quote someone erased since.

Files of one digest live in `<var>/digests/<week>/<scope>/` (scope: 'partnership' or an organisation code):
digest.json (the record), email.html with its charts (chart-*.png), email.txt, digest.md and print.html.
Everything in them is a function of the digest value, and the value a function of the data up to the cut-off,
so building the week again from the same cut-off rewrites the same bytes.

Erasure: a person's answers go at once (surveys.erasure), which cuts the `digest_quote` links of any archive
quoting them. `refresh_archives` (run by the clock every tick, in `weekly_digest`) rewrites those
archives' files from their own digest.json without the erased person's quotes, so their words leave the
archived copies while every published figure stays as it was (the figures are anonymous, and a digest
already sent must not change under its readers). A withdrawn consent to be quoted is treated the same way.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, insert, or_, select, update

from analysis.digest import render
from analysis.digest.build import Options, build
from analysis.digest.model import Digest, digest_from_dict
from analysis.redact import redact
from surveys import models as m
from surveys.store import Store

DA = m.DigestArchive.__table__
DQ = m.DigestQuote.__table__
DD = m.DigestDelivery.__table__
M = m.Message.__table__

# What an outbox row's status says about one message of a digest's sending.
_OUTCOME = {"sent": "sent", "queued": "sent", "delivered": "delivered", "read": "delivered",
            "failed": "failed", "undelivered": "failed", "cancelled": "cancelled", "unknown": "unknown",
            "pending": "waiting", "retry": "waiting", "claimed": "waiting", "sending": "waiting"}
OUTCOMES = ("delivered", "sent", "waiting", "failed", "cancelled", "unknown", "no longer recorded")


@dataclass(frozen=True)
class Archived:
    archive_id: int
    path: Path
    digest: Digest
    rebuilt: bool          # an archive for this week and scope existed and was rewritten


def share_token(secret_key: str, week: str, scope: str) -> str:
    """The unguessable part of a digest's web link: whoever has the link (the governance group it is
    posted to) can read the printable digest, which holds only protected figures and redacted quotes."""
    return hmac.new(secret_key.encode(), f"digest:{week}:{scope}".encode(), hashlib.sha256).hexdigest()[:32]


def share_path(secret_key: str, week: str, scope: str) -> str:
    return f"/digests/{week}/{scope}/{share_token(secret_key, week, scope)}"


def scope_of(org_code: str | None) -> str:
    return (org_code or "").strip().lower() or "partnership"


EMAIL_FILE = "email.eml"


def files_for(d: dict) -> dict[str, bytes]:
    """Every file of a digest, by name."""
    from analysis.digest.mime import build_body

    pngs = render.charts(d)       # drawn once, for both HTML renderings
    html, images = render.render_html_email(d, pngs=pngs)
    text = render.render_text(d)
    out = {"digest.json": (json.dumps(d, indent=2, ensure_ascii=False) + "\n").encode(),
           "email.html": html.encode(), "email.txt": text.encode(),
           # The whole email but its sender and recipients: the email channel sends it as it is.
           EMAIL_FILE: bytes(build_body(d, text, html, images)),
           "digest.md": render.render_markdown(d).encode(),
           "print.html": render.render_print_html(d, pngs=pngs).encode()}
    for cid, png in sorted(images.items()):
        out[f"chart-{cid.split('@')[0]}.png"] = png
    return out


def _write(path: Path, files: dict[str, bytes]) -> None:
    """Replace the folder's contents in one step (a half-written digest is never left behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=path.parent))
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    old = None
    if path.exists():
        old = path.with_name(f".old-{path.name}-{os.getpid()}")
        path.rename(old)
    tmp.rename(path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def archive_root(db: Store) -> Path:
    return Path(db.settings.var_dir) / "digests"


def existing(db: Store, week: str, org_code: str | None):
    with db.read() as conn:
        return conn.execute(select(DA).where(DA.c.week == week, DA.c.scope == scope_of(org_code))).first()


def build_and_archive(db: Store, opts: Options, now: datetime, out_dir: Path | None = None) -> Archived:
    """Build the digest (from the archived cut-off when the week was archived before and `opts.cutoff` is
    not given), write its files to the archive (and to `out_dir` when given), and record it."""
    from analysis.weeks import week_label

    week = week_label(opts.year, opts.week)
    prior = existing(db, week, opts.org_code)
    if opts.cutoff is None:
        opts = Options(**{**opts.__dict__, "cutoff": prior.cutoff if prior is not None else now})
    digest = build(db, opts, now)
    files = files_for(digest.to_dict())
    path = archive_root(db) / week / scope_of(opts.org_code)
    _write(path, files)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (out_dir / name).write_bytes(data)
    quoted = sorted({q.answer_id for part in digest.surveys for q in part.quotes if q.answer_id is not None})
    with db.write() as conn:
        if prior is None:
            archive_id = conn.execute(insert(DA).values(week=week, scope=scope_of(opts.org_code), cutoff=opts.cutoff,
                                                        path=str(path), built_at=now)).inserted_primary_key[0]
        else:
            archive_id = prior.id
            conn.execute(update(DA).where(DA.c.id == archive_id).values(cutoff=opts.cutoff, path=str(path),
                                                                        built_at=now))
            conn.execute(delete(DQ).where(DQ.c.archive_id == archive_id))
        if quoted:
            conn.execute(insert(DQ), [{"archive_id": archive_id, "answer_id": a} for a in quoted])
    return Archived(archive_id, path, digest, prior is not None)


def load(row) -> Archived | None:
    """An archived digest as it was built (its digest.json), None when its record is missing or unreadable."""
    path = Path(row.path)
    try:
        d = json.loads((path / "digest.json").read_text(encoding="utf-8"))
        return Archived(row.id, path, digest_from_dict(d), False)
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class ArchiveStatus:
    week: str
    scope: str
    cutoff: datetime
    path: str
    sent_at: datetime | None        # when sending was decided (queued, or not sent)
    queued: int | None              # None: decided before deliveries were recorded
    not_sent_reason: str | None
    outcomes: dict                  # of the latest sending's messages: outcome -> count (OUTCOMES)

    def delivery(self) -> str:
        """What really happened to it, in words: not sent and why, or queued to N and what became of each."""
        if self.sent_at is None:
            return "not sent yet"
        if self.not_sent_reason or self.queued == 0:
            return f"not sent: {self.not_sent_reason or 'nothing was queued'}"
        when = f"{self.sent_at:%Y-%m-%d %H:%M} UTC"
        if self.queued is None:
            return f"queued {when} (what became of it was not recorded)"
        done = ", ".join(f"{self.outcomes[k]} {k}" for k in OUTCOMES if self.outcomes.get(k))
        return f"queued to {self.queued} recipient{'s' if self.queued != 1 else ''} {when}: {done}"


def list_archives(db: Store) -> list[ArchiveStatus]:
    """Every archived digest, newest week first, with what became of its latest sending (from its outbox rows)."""
    with db.read() as conn:
        rows = conn.execute(select(DA).order_by(DA.c.week.desc(), DA.c.scope)).all()
        counts: dict = {}
        for archive_id, status, n in conn.execute(
                select(DD.c.archive_id, M.c.status, func.count()).select_from(DD.join(DA, DA.c.id == DD.c.archive_id)
                                                                              .outerjoin(M, M.c.id == DD.c.message_id))
                .where(DD.c.queued_at == DA.c.sent_at).group_by(DD.c.archive_id, M.c.status)):
            outcome = "no longer recorded" if status is None else _OUTCOME.get(status, "unknown")
            counts.setdefault(archive_id, {}).setdefault(outcome, 0)
            counts[archive_id][outcome] += int(n)
    return [ArchiveStatus(r.week, r.scope, r.cutoff, r.path, r.sent_at, r.queued, r.not_sent_reason,
                          counts.get(r.id, {})) for r in rows]


def stale_archives(db: Store) -> list:
    """Archives quoting someone erased since (a cut link) or who no longer allows quoting."""
    A, E = m.Answer.__table__, m.Enrolment.__table__
    no_longer = (select(DQ.c.archive_id).select_from(DQ.join(A, A.c.id == DQ.c.answer_id)
                                                     .join(E, E.c.id == A.c.enrolment_id))
                 .where(or_(E.c.consent_quote.is_(False), E.c.consent_status != "given")))
    with db.read() as conn:
        return conn.execute(select(DA).where(or_(
            DA.c.id.in_(select(DQ.c.archive_id).where(DQ.c.answer_id.is_(None))), DA.c.id.in_(no_longer)))
            .order_by(DA.c.id)).all()


def _still_quotable(conn, archive_id: int) -> set[str]:
    """The quote texts of an archive whose answers are still there and whose authors still allow quoting."""
    A, E = m.Answer.__table__, m.Enrolment.__table__
    rows = conn.execute(select(A.c.raw_text).select_from(DQ.join(A, A.c.id == DQ.c.answer_id)
                                                         .join(E, E.c.id == A.c.enrolment_id))
                        .where(DQ.c.archive_id == archive_id, E.c.consent_quote.is_(True),
                               E.c.consent_status == "given")).scalars().all()
    return {redact(t or "").strip() for t in rows}


def drop_gone_quotes(db: Store, row, now: datetime) -> bool:
    """Rewrite an archive's files without the quotes of people erased since (or who no longer allow quoting),
    from its own digest.json: every figure, theme and sentence stays exactly as published; only those quotes
    go, and no new quote takes their place. False when the archived record is missing (then it is built again
    from its cut-off)."""
    path = Path(row.path)
    try:
        d = json.loads((path / "digest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    with db.read() as conn:
        keep = _still_quotable(conn, row.id)
    for part in d.get("surveys", ()):
        part["quotes"] = [q for q in part.get("quotes", ()) if q.get("text") in keep]
    _write(path, files_for(d))
    A, E = m.Answer.__table__, m.Enrolment.__table__
    with db.write() as conn:
        # The digest emails of its sendings carry its text (the outbox row, and the log of what was sent).
        conn.execute(update(M).where(M.c.id.in_(select(DD.c.message_id).where(DD.c.archive_id == row.id)),
                                     M.c.channel == "email").values(text=render.render_text(d)))
        gone = select(DQ.c.id).select_from(DQ.outerjoin(A, A.c.id == DQ.c.answer_id)
                                           .outerjoin(E, E.c.id == A.c.enrolment_id)).where(
            DQ.c.archive_id == row.id,
            or_(DQ.c.answer_id.is_(None), E.c.id.is_(None), E.c.consent_quote.is_not(True),
                E.c.consent_status != "given"))
        conn.execute(delete(DQ).where(DQ.c.id.in_(gone.scalar_subquery())))
        conn.execute(update(DA).where(DA.c.id == row.id).values(built_at=now))
    return True


def refresh_archives(db: Store, now: datetime, opts_for) -> list[int]:
    """Take the words of people erased since (or who no longer allow quoting) out of every archive that quotes
    them (`drop_gone_quotes`: the published figures stay as they were); an archive whose record is missing is
    built again from its own cut-off. `opts_for(week, scope, cutoff)` gives the options (partnership name,
    timezone, link) the installation builds with. Returns the ids of the archives rewritten."""
    done = []
    for row in stale_archives(db):
        if not drop_gone_quotes(db, row, now):
            build_and_archive(db, opts_for(row.week, row.scope, row.cutoff), now)
        done.append(row.id)
    return done
