"""The send preview: what a wave of a survey at an instant would do, before it is made. Nothing is written.

Who it reaches and who it leaves out come from `surveys.waves.audience`, the same function create_wave makes
its invitations from, so a preview and the wave made right after it agree. What a send costs and how fast
it goes are other rooms' knowledge (an SMS body's segments, a channel's price and rate unit): the
composition root hands them in as `SendEstimates` (config.wiring.send_estimates), as it does for
surveys.checks; without them the preview says that it did not estimate, never a guess.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Callable

from sqlalchemy import select

from surveys import engine
from surveys import models as m
from surveys.engine import OutgoingMessage
from surveys.scope import Forbidden, Scope
from surveys.store import Store
from surveys.waves import (Hold, WaveAudience, WaveError, WaveResult, acts_on, require_waves_role, audience,
                           create_wave, in_reason_order, survey_organisations)

S, O = m.Survey.__table__, m.Organisation.__table__
# A preview may be acted on for this long: after that the button asks for a fresh one rather than send
# something the person did not see.
FRESH_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class Pricing:
    """What a channel's provider charges: `price` per `unit` ('segment', 'message') in `currency`, or None
    with `note` saying why there is no figure (no price configured)."""
    provider: str
    unit: str
    price: Decimal | None
    currency: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class SendEstimates:
    """What the core must ask the channels to estimate a send. `sms_segments(message)`: what a message
    costs as sent by SMS (`.segments`, `.encoding`); `units(channel, message)`: what it costs against the
    channel's rate limit; `rates`: units per second per channel (None: no limit); `pricing` per channel."""
    sms_segments: Callable[[OutgoingMessage], object]
    units: Callable[[str, OutgoingMessage], int]
    rates: dict[str, float | None]
    pricing: dict[str, Pricing]


@dataclass(frozen=True)
class SmsLanguage:
    """The first send by SMS to the people reached in one language: how many people, the segments each
    gets (the intro and first question with its numbered choices, or the consent question for people not
    asked yet; more than one figure when organisations' names or consent differ), and the total."""
    language: str
    people: int
    segments_each: tuple[int, ...]
    segments: int
    encodings: tuple[str, ...]


@dataclass(frozen=True)
class ChannelCost:
    """One channel's share of the first send: people, messages, billed units, and the cost (None when no
    price is configured; `pricing.note` says so)."""
    channel: str
    people: int
    messages: int
    units: int
    pricing: Pricing | None
    cost: Decimal | None


@dataclass(frozen=True)
class WavePreview:
    survey_id: str
    survey_title: str
    version: int
    at: datetime          # the wave's instant
    now: datetime
    reached: int
    by_channel: dict[str, int]
    by_organisation: dict[str, int]     # organisations the scope sees, by name
    other_organisations: int            # reached in organisations the scope does not see
    left_out: dict[str, int]            # reason (surveys.waves.LEFT_OUT) -> people, every organisation
    left_out_by_organisation: dict[str, dict[str, int]]  # organisations the scope sees
    holds: list[Hold]                   # held by quiet hours beyond the wave's instant
    estimated: bool                     # False: no SendEstimates given, so no segments, costs or times
    sms: list[SmsLanguage] = field(default_factory=list)
    costs: list[ChannelCost] = field(default_factory=list)
    last_message_at: datetime | None = None
    last_by_channel: dict[str, datetime] = field(default_factory=dict)
    unconfigured: dict[str, int] = field(default_factory=dict)  # people on a channel this install cannot send
    can_send: bool = False              # the scope may make this wave (it covers the whole audience)
    why_not: str | None = None

    @property
    def fingerprint(self) -> str:
        """The counts a wave made from this preview must match ('12;audience=3;fatigue=1')."""
        return fingerprint(self.reached, self.left_out)


def fingerprint(reached: int, left_out: dict[str, int]) -> str:
    return ";".join([str(reached), *(f"{k}={v}" for k, v in sorted(left_out.items()))])


def _check_at(at: datetime, now: datetime) -> None:
    if at < now - FRESH_FOR:
        raise WaveError(f"at: {at:%Y-%m-%d %H:%M} UTC is in the past; a wave goes now or later")


def _survey(db: Store, survey_id: str):
    with db.read() as conn:
        row = conn.execute(select(S.c.current_version_id).where(S.c.id == survey_id)).first()
        if row is None or row.current_version_id is None:
            raise WaveError(f"no survey {survey_id!r}")
        return row.current_version_id, db.survey_version(conn, row.current_version_id)


def _may_preview(scope: Scope, survey_id: str, orgs: frozenset[int]) -> None:
    """Admin: any survey; staff: a survey that may reach one of their organisations (as they see the waves
    that invited someone of theirs); safeguarding leads and governance: none."""
    require_waves_role(scope)
    if not (scope.all_organisations or any(scope.covers(o) for o in orgs)):
        raise Forbidden(f"survey {survey_id!r} does not reach your organisations")


def preview_wave(db: Store, scope: Scope, survey_id: str, at: datetime, now: datetime,
                 estimates: SendEstimates | None = None) -> WavePreview:
    """What a wave of `survey_id` at `at` would do if made at `now`: who it reaches (by channel; by
    organisation where the scope sees it), who it leaves out and why, what quiet hours hold and until when,
    the first send's SMS segments per language and its cost per provider, and when the last message goes
    at each channel's rate. Reads only."""
    _check_at(at, now)
    orgs = survey_organisations(db, survey_id)
    _may_preview(scope, survey_id, orgs)
    version_id, survey = _survey(db, survey_id)
    with db.read() as conn:
        found = audience(db, conn, survey, at, now)
        names = dict(conn.execute(select(O.c.id, O.c.name)).all())
    start = max(at, now)
    seen = [r for r in found.reached if scope.covers(r.organisation_id)]
    by_org = Counter(names[r.organisation_id] for r in seen)
    left_by_org = {names[o]: in_reason_order(c) for o, c in sorted(found.skipped_by_org.items(), key=lambda i: names[i[0]])
                   if scope.covers(o)}
    held = Counter((r.not_before, r.timezone) for r in found.reached if r.not_before > start)
    holds = [Hold(n, until, tz) for (until, tz), n in sorted(held.items(), key=lambda h: (h[0][0], -h[1], h[0][1]))]
    configured = db.settings.configured_channels
    by_channel = Counter(r.channel for r in found.reached)
    acts = acts_on(scope, orgs)
    preview = WavePreview(
        survey_id=survey_id, survey_title=survey.title, version=version_id, at=at, now=now,
        reached=len(found.reached), by_channel=dict(sorted(by_channel.items())),
        by_organisation=dict(sorted(by_org.items())), other_organisations=len(found.reached) - len(seen),
        left_out=in_reason_order(found.skipped), left_out_by_organisation=left_by_org, holds=holds,
        estimated=estimates is not None,
        unconfigured={c: n for c, n in sorted(by_channel.items()) if c not in configured},
        can_send=acts and at <= now,
        why_not=None if acts and at <= now else
        (f"survey {survey_id!r} reaches other organisations too: a backbone admin sends it" if not acts else
         "a wave at a later time is made by the clock from the survey's schedule; this preview shows what it "
         "would do if nothing changes before then"))
    if estimates is None:
        return preview
    return _estimate(db, preview, found, survey, version_id, start, estimates)


def first_send(db: Store, survey, version_id: int, language: str, org_name: str, consent_pending: bool,
               now: datetime) -> list[OutgoingMessage]:
    """The messages an invitation queues first, made by the engine itself (the pure functions the outbox
    calls through surveys.conversations.start_in): the consent question for someone not asked yet, else the
    intro and the first question."""
    session = engine.ConversationState(language=language, expiry=timedelta(hours=db.settings.conversation_expiry_hours))
    view = engine.ConversationView(survey, version_id, 0, org_name)
    step = (engine.ask_consent(session, 0, org_name, then=view) if consent_pending
            else engine.start(session, view, now))
    return step.replies


def _estimate(db: Store, preview: WavePreview, found: WaveAudience, survey, version_id: int, start: datetime,
              est: SendEstimates) -> WavePreview:
    made: dict[tuple, tuple[int, int, int, tuple[str, ...]]] = {}   # (channel, lang, org, pending) -> figures

    def figures(channel: str, language: str, org: str, pending: bool):
        key = (channel, language, org, pending)
        if key not in made:
            sent = first_send(db, survey, version_id, language, org, pending, start)
            segs = [est.sms_segments(msg) for msg in sent] if channel == "sms" else []
            made[key] = (len(sent), sum(est.units(channel, msg) for msg in sent),
                         sum(s.segments for s in segs), tuple(sorted({s.encoding for s in segs})))
        return made[key]

    per_channel: dict[str, list[int]] = {}                    # channel -> [people, messages, units]
    sms: dict[str, dict] = {}
    queue: dict[str, list[tuple[datetime, int]]] = {}        # channel -> (not before, units) per person
    for r in found.reached:
        language = r.contact_language or db.settings.default_language
        messages, units, segments, encodings = figures(r.channel, language, r.org_name, r.consent_pending)
        totals = per_channel.setdefault(r.channel, [0, 0, 0])
        totals[0] += 1
        totals[1] += messages
        totals[2] += units
        queue.setdefault(r.channel, []).append((max(r.not_before, start), units))
        if r.channel == "sms":
            s = sms.setdefault(r.language, {"people": 0, "each": set(), "segments": 0, "enc": set()})
            s["people"] += 1
            s["each"].add(segments)
            s["segments"] += segments
            s["enc"].update(encodings)
    costs = []
    for channel, (people, messages, units) in sorted(per_channel.items()):
        pricing = est.pricing.get(channel)
        cost = pricing.price * units if pricing is not None and pricing.price is not None else None
        costs.append(ChannelCost(channel, people, messages, units, pricing, cost))
    last = {channel: _last_at(rows, est.rates.get(channel)) for channel, rows in sorted(queue.items())}
    return replace(preview, costs=costs, last_by_channel=last, last_message_at=max(last.values()) if last else None,
                   sms=[SmsLanguage(lang, s["people"], tuple(sorted(s["each"])), s["segments"], tuple(sorted(s["enc"])))
                        for lang, s in sorted(sms.items())])


def _last_at(rows: list[tuple[datetime, int]], rate: float | None) -> datetime:
    """When the last of `rows` (each: not before, units) goes, sent in order at `rate` units a second from
    each one's time (none: all at once when due). Only the channel's own limit is counted: the worker's
    polling and the provider's queue add seconds, not minutes."""
    rows = sorted(rows)
    if not rate:
        return rows[-1][0]
    clock = rows[0][0]
    for when, units in rows:
        # The last message goes when the units before it are spent: the start of its own slot.
        clock = max(clock, when)
        last_go = clock
        clock += timedelta(seconds=units / rate)
    return last_go.replace(microsecond=0)


def send_previewed_wave(db: Store, scope: Scope, survey_id: str, at: datetime, now: datetime,
                        expect: str) -> WaveResult:
    """Make the wave a preview showed: at the preview's instant (a wave sent now, kind 'manual'), only
    when the scope may send it, the preview is at most FRESH_FOR old, and the audience is still what the
    preview counted (checked inside the transaction that makes it). Otherwise WaveError says what changed,
    and nothing is made. `expect` is the preview's `fingerprint`."""
    require_waves_role(scope)
    orgs = survey_organisations(db, survey_id)
    if not acts_on(scope, orgs):
        raise Forbidden(f"survey {survey_id!r} reaches other organisations too: a backbone admin sends it")
    if at > now:
        raise WaveError("a wave at a later time is made by the clock from the survey's schedule")
    if now - at > FRESH_FOR:
        raise WaveError(f"this preview is {int((now - at).total_seconds() // 60)} minutes old: preview again "
                        "before sending")

    def same(found: WaveAudience) -> str | None:
        if fingerprint(len(found.reached), in_reason_order(found.skipped)) == expect:
            return None
        return (f"the audience changed since the preview: it now reaches {len(found.reached)} "
                f"(the preview said {expect.split(';')[0]}); nothing was sent, check the new preview")

    return create_wave(db, survey_id, at, now, kind="manual", expect=same)
