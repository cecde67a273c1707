"""Waves: who is invited to a survey, when, on which channel and in which language.

A wave is a snapshot taken when it is created: the invitations are rows (one per participant per wave,
a unique constraint), each with the instant it may go out (the wave's time, or the end of quiet hours in
the contact's timezone). Scheduled waves are created by the clock for each occurrence of a survey's
schedule; the unique (survey, occurrence) constraint makes a second clock or a restart harmless, and
occurrences missed while nothing ran are caught up, or marked 'missed' when too old to be welcome.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, NamedTuple

from sqlalchemy import exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from surveys import models as m
from surveys.channels import NOT_CONFIGURED_LIKE
from surveys.conversations import end_open_conversations
from surveys.messages import CONSENT_VERSION
from surveys.definition import Survey as SurveyDefinition
from surveys.schedule import occurrences, quiet_until
from surveys.schedule_rule import parse_schedule_rule
from surveys.scope import Forbidden, Scope
from surveys.store import Store

log = logging.getLogger(__name__)
W, I, C, E, O, V, S, CV, M = (m.Wave.__table__, m.Invitation.__table__, m.Contact.__table__, m.Enrolment.__table__,
                              m.Organisation.__table__, m.SurveyVersion.__table__, m.Survey.__table__,
                              m.Conversation.__table__, m.Message.__table__)
# Outbound statuses of a message that was handed to the provider but did not reach the person.
NOT_RECEIVED = ("failed", "undelivered")
CATCH_UP = timedelta(hours=24)  # a wave missed by longer than this is recorded as missed, not sent late


class WaveError(ValueError):
    pass


@dataclass(frozen=True)
class WaveResult:
    wave_id: int
    created: bool
    invited: int
    skipped: dict
    by_channel: dict = field(default_factory=dict)  # invitations per channel (a wave just made)


@dataclass(frozen=True)
class Hold:
    """Invitations of a wave not yet due: how many, until when (UTC), in which timezone (for display)."""
    count: int
    until: datetime
    timezone: str


def create_wave(db: Store, survey_id: str, scheduled_for: datetime, now: datetime, kind: str = "scheduled",
                status: str = "open", expect: Callable[[WaveAudience], str | None] | None = None) -> WaveResult:
    """Create the wave for `survey_id` at `scheduled_for` and its invitations, or return the existing one
    (same survey and instant). Audience, fatigue and quiet hours come from the survey's current version.
    `expect` (the send preview's check) sees the audience inside the transaction; when it returns a reason,
    nothing is made and WaveError says it."""
    with db.write() as conn:
        row = conn.execute(select(S.c.current_version_id).where(S.c.id == survey_id)).first()
        if row is None or row.current_version_id is None:
            raise WaveError(f"no survey {survey_id!r} is loaded")
        version_id = row.current_version_id
        survey = db.survey_version(conn, version_id)
        existing = conn.execute(select(W.c.id).where(W.c.survey_id == survey_id, W.c.scheduled_for == scheduled_for)).scalar()
        if existing is not None:
            return WaveResult(existing, False, _count(conn, existing), {})
        try:
            with conn.begin_nested():
                wave_id = conn.execute(insert(W).values(
                    survey_id=survey_id, survey_version_id=version_id, scheduled_for=scheduled_for, kind=kind,
                    status=status, created_at=now)).inserted_primary_key[0]
        except IntegrityError:
            # Another clock created it between our look and our insert.
            existing = conn.execute(select(W.c.id).where(W.c.survey_id == survey_id, W.c.scheduled_for == scheduled_for)).scalar()
            return WaveResult(existing, False, _count(conn, existing), {})
        if status != "open":
            return WaveResult(wave_id, True, 0, {})
        found = audience(db, conn, survey, scheduled_for, now)
        changed = expect(found) if expect is not None else None
        if changed:
            raise WaveError(changed)  # leaving the transaction undoes the wave row
        rows, skipped = found.invitation_rows(now), found.skipped
        if rows:
            for chunk in range(0, len(rows), 5000):
                conn.execute(insert(I), [dict(r, wave_id=wave_id) for r in rows[chunk:chunk + 5000]])
        conn.execute(update(W).where(W.c.id == wave_id).values(skipped=dict(skipped) or None))
    log.info("wave %s of %s for %s: %d invited, skipped %s", wave_id, survey_id, scheduled_for.isoformat(),
             len(rows), dict(skipped) or "none")
    return WaveResult(wave_id, True, len(rows), dict(skipped), dict(Counter(r["channel"] for r in rows)))


def _count(conn, wave_id: int) -> int:
    return conn.execute(select(func.count()).select_from(I).where(I.c.wave_id == wave_id)).scalar()


# Why someone enrolled is not invited, in the order they are tested: the first that applies is the one
# counted (a person outside the audience is not also counted as opted out). Waves store these counts
# (`skipped`), and the send preview shows the same ones, from the same code (`audience`).
LEFT_OUT = {
    "audience": "outside the survey's audience (organisations, channels, languages, tags)",
    "opted out": "opted out (STOP)",
    "unreachable": "unreachable (the number or chat cannot receive messages)",
    "not consented": "not consented (declined, withdrawn, or joined and never answered)",
    "fatigue": "asked a survey recently (fatigue rule)",
    "busy": "in another survey now",
}


def in_reason_order(counts: dict) -> dict[str, int]:
    """Counts of `skipped` in LEFT_OUT's order (a stored JSON object keeps no order), unknown reasons last."""
    return {reason: counts[reason] for reason in LEFT_OUT if counts.get(reason)} | \
        {reason: n for reason, n in counts.items() if reason not in LEFT_OUT}


def left_out_label(reason: str) -> str:
    """The words a wave page, the preview and the CLI use for a reason in `skipped`."""
    return LEFT_OUT.get(reason, reason)


class Reached(NamedTuple):  # a NamedTuple: a wave makes tens of thousands, and it is quicker to build
    """One person a wave invites: through which enrolment (and organisation), on which channel, in which
    language, and from when (the end of quiet hours in `timezone`, or the wave's time)."""
    contact_id: int
    enrolment_id: int
    organisation_id: int
    org_name: str
    channel: str
    language: str  # the survey's language they are asked in
    contact_language: str | None
    consent_pending: bool  # their first message is the consent question (not asked yet, or an older wording)
    timezone: str
    not_before: datetime


@dataclass
class WaveAudience:
    """Who a wave of a survey at an instant reaches, and who it leaves out and why (per organisation: the
    enrolment invited, else the contact's first enrolment in the audience, else their first)."""
    reached: list[Reached]
    skipped: Counter
    skipped_by_org: dict[int, Counter]

    def invitation_rows(self, now: datetime) -> list[dict]:
        return [dict(contact_id=r.contact_id, enrolment_id=r.enrolment_id, channel=r.channel, language=r.language,
                     status="pending", not_before=r.not_before, created_at=now) for r in self.reached]


def _consent_usable(e) -> bool:
    # Consent given, or pending for people staff added (their first conversation asks for it); someone who
    # JOINed and never answered the consent question is not chased.
    return e.consent_status == "given" or (e.consent_status == "pending" and e.source in ("staff", "import"))


def audience(db: Store, conn, survey: SurveyDefinition, at: datetime, now: datetime) -> WaveAudience:
    """Everyone enrolled, sorted into the invited (one per contact: their first enrolment in the audience
    that may be asked) and the left out, with the first reason of LEFT_OUT that applies. create_wave makes
    its invitations from this and the send preview counts from it, so the two cannot disagree."""
    aud = survey.audience
    orgs = {o.casefold() for o in aud.organisations} if aud and aud.organisations else None
    channels = set(aud.channels) if aud and aud.channels else None
    languages = set(aud.languages) if aud and aud.languages else None
    wanted_tags = set(aud.tags) if aud and aud.tags else None
    q = (select(C.c.id, C.c.channel, C.c.language, C.c.timezone, C.c.address.is_(None).label("no_address"),
                C.c.opted_out_at.is_not(None).label("opted_out"),
                C.c.unreachable_at.is_not(None).label("unreachable"), E.c.id.label("enrolment_id"),
                # tags are JSON, decoded per row: read only when the audience filters by them
                (E.c.tags if wanted_tags is not None else literal(None)).label("tags"), E.c.consent_status,
                E.c.consent_version,
                E.c.source, E.c.organisation_id, O.c.name.label("org_name"), O.c.code_key,
                O.c.timezone.label("org_timezone"))
         .select_from(C.join(E, E.c.contact_id == C.c.id).join(O, O.c.id == E.c.organisation_id))
         .order_by(C.c.id, E.c.id))
    fatigued: set[int] = set()
    days = survey.schedule.fatigue_days if survey.schedule else None
    if days:
        # Asked any survey, by any organisation, within the last N days (the wave's time counts, not now):
        # a message of an invitation was handed to the provider and did not fail. An invitation cancelled,
        # failed or still held by quiet hours asked nobody anything.
        fatigued = set(conn.execute(
            select(M.c.contact_id).where(M.c.direction == "out", M.c.invitation_id.is_not(None),
                                         M.c.sent_at > at - timedelta(days=days), M.c.status.not_in(NOT_RECEIVED))
            .distinct()).scalars())
    busy = set(conn.execute(select(CV.c.contact_id).where(CV.c.status == "open")).scalars())
    quiet = db.settings.quiet_hours
    not_before: dict[str, datetime] = {}
    result = WaveAudience([], Counter(), {})

    def decide(enrolments: list) -> None:
        c = enrolments[0]
        if channels is not None and c.channel not in channels or languages is not None and c.language not in languages:
            inside = []
        else:
            inside = [e for e in enrolments if (orgs is None or e.code_key in orgs)
                      and (wanted_tags is None or wanted_tags.intersection(e.tags or ()))]
        usable = [e for e in inside if _consent_usable(e)]
        if not inside:
            reason, org = "audience", c.organisation_id
        elif c.opted_out:
            reason, org = "opted out", inside[0].organisation_id
        elif c.unreachable:
            reason, org = "unreachable", inside[0].organisation_id
        elif not usable:
            reason, org = "not consented", inside[0].organisation_id
        elif c.no_address:
            reason, org = "unreachable", usable[0].organisation_id
        elif c.id in fatigued:
            reason, org = "fatigue", usable[0].organisation_id
        elif c.id in busy:
            reason, org = "busy", usable[0].organisation_id
        else:
            e = usable[0]
            tz = c.timezone or e.org_timezone or db.settings.default_timezone
            if tz not in not_before:
                # A caught-up wave goes out now, not in the past; quiet hours apply either way.
                not_before[tz] = quiet_until(max(at, now), tz, quiet)
            language = c.language if c.language in survey.languages else survey.languages[0]
            result.reached.append(Reached(c.id, e.enrolment_id, e.organisation_id, e.org_name, c.channel, language,
                                          c.language, e.consent_status != "given" or e.consent_version not in
                                          (None, CONSENT_VERSION), tz, not_before[tz]))
            return
        result.skipped[reason] += 1
        result.skipped_by_org.setdefault(org, Counter())[reason] += 1

    group: list = []
    for r in conn.execute(q):
        if group and group[0].id != r.id:
            decide(group)
            group = []
        group.append(r)
    if group:
        decide(group)
    return result


def due_waves(db: Store, now: datetime) -> list[WaveResult]:
    """Create every scheduled wave that has come due since the survey's last wave (or since its current
    version was loaded). Occurrences older than CATCH_UP are recorded as 'missed' without invitations."""
    results = []
    with db.read() as conn:
        surveys = conn.execute(select(S.c.id, S.c.current_version_id, V.c.created_at)
                               .join(V, V.c.id == S.c.current_version_id)).all()
        last = dict(conn.execute(select(W.c.survey_id, func.max(W.c.scheduled_for)).group_by(W.c.survey_id)).all())
        definitions = {s.id: db.survey_version(conn, s.current_version_id) for s in surveys}
    for s in surveys:
        survey = definitions[s.id]
        if survey.schedule is None:
            continue
        rule = parse_schedule_rule(survey.schedule.rule)
        tz = survey.schedule.timezone or db.settings.default_timezone
        after = last.get(s.id) or s.created_at
        for at in occurrences(rule, tz, after, now, survey.schedule.start, survey.schedule.end):
            status = "missed" if now - at > CATCH_UP else "open"
            results.append(create_wave(db, s.id, at, now, status=status))
    return results


def wave_counts(db: Store, wave_id: int) -> dict[str, int]:
    """invited, sent, delivered, started, completed, opted out, failed: the numbers `chorus waves` shows."""
    return waves_counts(db, [wave_id])[wave_id]


def waves_counts(db: Store, wave_ids: list[int]) -> dict[int, dict[str, int]]:
    """wave_counts for several waves at once: the same few grouped queries however many waves there are."""
    ids = list(dict.fromkeys(wave_ids))
    per = {i: {"invited": 0, "status": {}, "conv": {}, "answered": 0, "opted_out": 0, "waiting": 0, "not_started": 0}
           for i in ids}
    with db.read() as conn:
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            mine = I.c.wave_id.in_(part)
            for w, n in conn.execute(select(I.c.wave_id, func.count()).where(mine).group_by(I.c.wave_id)):
                per[w]["invited"] = n
            for w, st, n in conn.execute(
                    select(I.c.wave_id, M.c.status, func.count(func.distinct(M.c.invitation_id)))
                    .join(I, I.c.id == M.c.invitation_id).where(mine).group_by(I.c.wave_id, M.c.status)):
                per[w]["status"][st] = n
            for w, st, n in conn.execute(
                    select(I.c.wave_id, CV.c.status, func.count()).join(I, I.c.conversation_id == CV.c.id)
                    .where(mine).group_by(I.c.wave_id, CV.c.status)):
                per[w]["conv"][st] = n
            answered = select(literal(1)).where(m.Answer.__table__.c.conversation_id == I.c.conversation_id).exists()
            for w, n in conn.execute(select(I.c.wave_id, func.count()).where(mine, answered).group_by(I.c.wave_id)):
                per[w]["answered"] = n
            for w, n in conn.execute(select(I.c.wave_id, func.count()).select_from(I).join(C, C.c.id == I.c.contact_id)
                                     .where(mine, C.c.opted_out_at.is_not(None)).group_by(I.c.wave_id)):
                per[w]["opted_out"] = n
            # Waiting, and failed before any message was made (no channel to send them through).
            for w, st, n in conn.execute(select(I.c.wave_id, I.c.status, func.count())
                                         .where(mine, I.c.status.in_(("pending", "failed")))
                                         .group_by(I.c.wave_id, I.c.status)):
                per[w]["waiting" if st == "pending" else "not_started"] = n
    return {w: _counts(p) for w, p in per.items()}


def _counts(p: dict) -> dict[str, int]:
    by_status = p["status"]
    sent = sum(n for st, n in by_status.items() if st in ("sent", "queued", "delivered", "read", "undelivered"))
    return {
        "invited": p["invited"],
        "sent": sent,
        "delivered": by_status.get("delivered", 0) + by_status.get("read", 0),
        "started": p["answered"],
        "completed": p["conv"].get("completed", 0),
        "opted out": p["opted_out"],
        "failed": by_status.get("failed", 0) + by_status.get("undelivered", 0) + p["not_started"],
        "unknown": by_status.get("unknown", 0),
        "waiting": p["waiting"],
    }


@dataclass(frozen=True)
class WaveSummary:
    """A wave as `chorus waves list` (and the console) shows it: what, when, and its counts (see wave_counts)."""
    id: int
    survey_id: str
    scheduled_for: datetime
    kind: str
    status: str
    counts: dict


@dataclass(frozen=True)
class WaveDetail:
    """One wave in full: its summary, who was left out and why, when the held invitations go, why some failed."""
    wave: WaveSummary
    created_at: datetime
    skipped: dict
    holds: list
    failures: dict


def list_waves(db: Store, survey_id: str | None = None, limit: int = 20) -> list[WaveSummary]:
    """The latest waves (of one survey, or all), newest first, each with its counts."""
    with db.read() as conn:
        q = select(W.c.id, W.c.survey_id, W.c.scheduled_for, W.c.kind, W.c.status) \
            .order_by(W.c.scheduled_for.desc()).limit(limit)
        if survey_id:
            q = q.where(W.c.survey_id == survey_id)
        rows = conn.execute(q).all()
    counts = waves_counts(db, [r.id for r in rows])
    return [WaveSummary(r.id, r.survey_id, r.scheduled_for, r.kind, r.status, counts[r.id]) for r in rows]


def show_wave(db: Store, wave_id: int, now: datetime) -> WaveDetail:
    """One wave with every count, what is held by quiet hours at `now`, and the failures by reason."""
    with db.read() as conn:
        w = conn.execute(select(W.c.id, W.c.survey_id, W.c.scheduled_for, W.c.kind, W.c.status, W.c.created_at,
                                W.c.skipped).where(W.c.id == wave_id)).first()
    if w is None:
        raise WaveError(f"no wave {wave_id}")
    summary = WaveSummary(w.id, w.survey_id, w.scheduled_for, w.kind, w.status, wave_counts(db, wave_id))
    return WaveDetail(summary, w.created_at, in_reason_order(w.skipped or {}), wave_holds(db, wave_id, now),
                      wave_failures(db, wave_id))


def wave_failures(db: Store, wave_id: int) -> dict[str, int]:
    """Why the wave's invitations failed: reason (an invitation's, or its messages' error code) -> how many
    invitations. An invitation whose messages failed for two reasons counts under each."""
    with db.read() as conn:
        failures = Counter(dict(conn.execute(
            select(I.c.reason, func.count()).where(I.c.wave_id == wave_id, I.c.status == "failed")
            .group_by(I.c.reason)).all()))
        for code, n in conn.execute(
                select(M.c.error_code, func.count(func.distinct(M.c.invitation_id)))
                .join(I, I.c.id == M.c.invitation_id)
                .where(I.c.wave_id == wave_id, M.c.status.in_(NOT_RECEIVED)).group_by(M.c.error_code)):
            failures[code or "failed"] += n
    return {reason or "failed": n for reason, n in failures.most_common()}


def _zones(conn, db: Store, where) -> dict[int, str]:
    """Invitation id -> the timezone its quiet hours follow: the contact's, else their organisation's
    (of the enrolment invited), else the installation's."""
    rows = conn.execute(select(I.c.id, C.c.timezone, O.c.timezone.label("org_timezone"))
                        .select_from(I.join(C, C.c.id == I.c.contact_id).join(E, E.c.id == I.c.enrolment_id)
                                     .join(O, O.c.id == E.c.organisation_id)).where(where)).all()
    return {r.id: r.timezone or r.org_timezone or db.settings.default_timezone for r in rows}


def wave_holds(db: Store, wave_id: int, now: datetime) -> list[Hold]:
    """The wave's invitations still waiting for a later instant (quiet hours), by instant and timezone,
    earliest first (then the most people): read from the invitations' own not-before times."""
    with db.read() as conn:
        waiting = conn.execute(select(I.c.id, I.c.not_before).where(
            I.c.wave_id == wave_id, I.c.status == "pending", I.c.not_before > now)).all()
        zones = _zones(conn, db, (I.c.wave_id == wave_id) & (I.c.status == "pending") & (I.c.not_before > now))
    held = Counter((r.not_before, zones.get(r.id, db.settings.default_timezone)) for r in waiting)
    return [Hold(n, until, tz) for (until, tz), n in sorted(held.items(), key=lambda h: (h[0][0], -h[1], h[0][1]))]


def resend_unconfigured(db: Store, wave_id: int, now: datetime) -> int:
    """Put back the invitations of an open wave that failed because no worker had their channel (see
    surveys.outbox.fail_unconfigured), to go out now, or when quiet hours end in the contact's timezone.
    A worker that still lacks the channel fails them again at once. Returns how many were put back."""
    with db.write() as conn:
        status = conn.execute(select(W.c.status).where(W.c.id == wave_id)).scalar()
        if status is None:
            raise WaveError(f"no wave {wave_id}")
        if status != "open":
            raise WaveError(f"wave {wave_id} is {status}: nothing in it can be sent again")
        failed = (I.c.wave_id == wave_id) & (I.c.status == "failed") & I.c.reason.like(NOT_CONFIGURED_LIKE)
        zones = _zones(conn, db, failed)
        quiet = db.settings.quiet_hours
        for tz in set(zones.values()):
            ids = [i for i, z in zones.items() if z == tz]
            for chunk in range(0, len(ids), 5000):
                conn.execute(update(I).where(I.c.id.in_(ids[chunk:chunk + 5000]))
                             .values(status="pending", reason=None, not_before=quiet_until(now, tz, quiet)))
    return len(zones)


def cancel_wave(db: Store, wave_id: int, now: datetime) -> int:
    """Stop a wave: invitations not yet started and their queued messages are cancelled, and so are
    invitations started whose messages had not gone yet. Returns how many invitations were cancelled;
    messages already handed to a provider (or being sent) cannot be called back."""
    with db.write() as conn:
        if conn.execute(update(W).where(W.c.id == wave_id).values(status="cancelled", cancelled_at=now)).rowcount == 0:
            raise WaveError(f"no wave {wave_id}")
        n = conn.execute(update(I).where(I.c.wave_id == wave_id, I.c.status == "pending")
                         .values(status="cancelled", reason="wave cancelled")).rowcount
        inv_ids = select(I.c.id).where(I.c.wave_id == wave_id).scalar_subquery()
        conn.execute(update(M).where(M.c.invitation_id.in_(inv_ids), M.c.status.in_(("pending", "retry")))
                     .values(status="cancelled", error_code="wave cancelled"))
        # Started, but every message was still waiting: nobody was asked anything, so the conversation
        # ends too (left open, it would count them as busy in the next wave).
        unsent = conn.execute(select(I.c.id, I.c.conversation_id).where(
            I.c.wave_id == wave_id, I.c.status == "started",
            # (by contact first: message.contact_id is indexed, message.invitation_id is not)
            ~exists().where(M.c.contact_id == I.c.contact_id, M.c.invitation_id == I.c.id,
                            M.c.status != "cancelled"))).all()
        for chunk in range(0, len(unsent), 5000):
            part = unsent[chunk:chunk + 5000]
            end_open_conversations(conn, "cancelled", now,
                                   CV.c.id.in_([u.conversation_id for u in part if u.conversation_id]))
            conn.execute(update(I).where(I.c.id.in_([u.id for u in part]))
                         .values(status="cancelled", reason="wave cancelled"))
    return n + len(unsent)


def send_now(db: Store, survey_id: str, now: datetime) -> WaveResult:
    """A wave of `survey_id` made by hand, going out now (quiet hours still apply per contact)."""
    return create_wave(db, survey_id, now, now, kind="manual")


# ---- the console's wave operations, scoped by who is asking -------------------------------------------------
# Admin and the staff of a wave's organisations act on it; a wave that reaches several organisations is acted
# on only by a scope that covers all of them (cancelling it would stop another organisation's invitations).
# Safeguarding leads and governance see no wave here (governance sees the dashboard's protected counts).
def require_waves_role(scope: Scope) -> None:
    scope.require(scope.sees_rows, "see or act on waves")


def wave_organisations(db: Store, wave_ids: list[int]) -> dict[int, frozenset[int]]:
    """Wave id -> the organisations its invitations went to (through the enrolment invited)."""
    out: dict[int, set[int]] = {w: set() for w in wave_ids}
    with db.read() as conn:
        for chunk in range(0, len(wave_ids), 500):
            for w, org in conn.execute(select(I.c.wave_id, E.c.organisation_id).distinct()
                                       .select_from(I.join(E, E.c.id == I.c.enrolment_id))
                                       .where(I.c.wave_id.in_(wave_ids[chunk:chunk + 500]))):
                out[w].add(org)
    return {w: frozenset(o) for w, o in out.items()}


def acts_on(scope: Scope, orgs: frozenset[int]) -> bool:
    return scope.all_organisations or (bool(orgs) and all(scope.covers(o) for o in orgs))


def waves_for(db: Store, scope: Scope, survey_id: str | None = None, limit: int = 20) -> list[WaveSummary]:
    """The latest waves the scope may see (admin: all; staff: those that invited someone of theirs)."""
    require_waves_role(scope)
    if scope.all_organisations:
        return list_waves(db, survey_id, limit)
    with db.read() as conn:
        q = (select(W.c.id).where(W.c.id.in_(select(I.c.wave_id).select_from(I.join(E, E.c.id == I.c.enrolment_id))
                                             .where(E.c.organisation_id.in_(sorted(scope.organisation_ids)))))
             .order_by(W.c.scheduled_for.desc()).limit(limit))
        if survey_id:
            q = q.where(W.c.survey_id == survey_id)
        ids = list(conn.execute(q).scalars())
    return list_waves_by_id(db, ids)


def list_waves_by_id(db: Store, ids: list[int]) -> list[WaveSummary]:
    if not ids:
        return []
    with db.read() as conn:
        rows = conn.execute(select(W.c.id, W.c.survey_id, W.c.scheduled_for, W.c.kind, W.c.status)
                            .where(W.c.id.in_(ids)).order_by(W.c.scheduled_for.desc())).all()
    counts = waves_counts(db, [r.id for r in rows])
    return [WaveSummary(r.id, r.survey_id, r.scheduled_for, r.kind, r.status, counts[r.id]) for r in rows]


def _require_wave(db: Store, scope: Scope, wave_id: int, act: bool) -> None:
    require_waves_role(scope)
    with db.read() as conn:
        if conn.execute(select(W.c.id).where(W.c.id == wave_id)).first() is None:
            raise WaveError(f"no wave {wave_id}")
    orgs = wave_organisations(db, [wave_id])[wave_id]
    if act and not acts_on(scope, orgs):
        raise Forbidden(f"wave {wave_id} invited people of other organisations too: a backbone admin acts on it"
                        if any(scope.covers(o) for o in orgs) else f"wave {wave_id} is not of your organisations")
    if not act and not (scope.all_organisations or any(scope.covers(o) for o in orgs)):
        raise Forbidden(f"wave {wave_id} is not of your organisations")


def wave_detail(db: Store, scope: Scope, wave_id: int, now: datetime) -> WaveDetail:
    """show_wave for a scope: every count, who was left out and why (`skipped`), holds and failures."""
    _require_wave(db, scope, wave_id, act=False)
    return show_wave(db, wave_id, now)


def cancel_wave_as(db: Store, scope: Scope, wave_id: int, now: datetime) -> int:
    _require_wave(db, scope, wave_id, act=True)
    return cancel_wave(db, wave_id, now)


def send_wave_now(db: Store, scope: Scope, survey_id: str, now: datetime) -> WaveResult:
    """send_now for a scope: staff only for a survey whose audience is within their organisations (a survey
    with no organisation in its audience reaches every organisation: an admin sends it)."""
    require_waves_role(scope)
    if not acts_on(scope, survey_organisations(db, survey_id)):
        raise Forbidden(f"survey {survey_id!r} reaches other organisations too: a backbone admin sends it")
    return send_now(db, survey_id, now)


def survey_organisations(db: Store, survey_id: str) -> frozenset[int]:
    """The organisations a wave of the survey's current version may reach: those its audience names, or
    every organisation when it names none."""
    with db.read() as conn:
        version_id = conn.execute(select(S.c.current_version_id).where(S.c.id == survey_id)).scalar()
        if version_id is None:
            raise WaveError(f"no survey {survey_id!r}")
        audience = db.survey_version(conn, version_id).audience
        q = select(O.c.id)
        if audience and audience.organisations:
            q = q.where(O.c.code_key.in_([o.casefold() for o in audience.organisations]))
        return frozenset(conn.execute(q).scalars())
