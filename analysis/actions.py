"""The action register and "you said, we did": what staff heard, what they are doing about it, and telling the
people who said it.

An action is linked to a survey (and question), a theme, an organisation (or the partnership) and a period. Its
status is planned, in progress, done or can't do (with why); each change is an `action_event`, so the digest
reads the status an action had at its cut-off. Publishing an action queues one short message per person it
reaches, through the outbox, in their language, after quiet hours in their timezone; `loop_message` keeps that
each person hears about an action once, and `preview_publication` is the same decision without sending.

Who a publication reaches: for an action about what people raised, the people whose answers are exactly the
responses page's rows for its survey, question, theme, period and organisation (`analysis.responses`); for a
cohort, the organisation's people with a tag. Of those, left out and why (`LEFT_OUT`, first reason that
applies): opted out, unreachable, no consent in the organisation, already told about this action, or told
about another action in the last 7 days (a loop message never counts as being asked a survey, but is never
more than one a week per person).

Roles: admin for every action; staff for their organisations' actions (a partnership action, with no
organisation, is the backbone's). Everyone signed in may read the register (it holds staff's words, not
participants'); replies, which are participants' words, only a scope that covers the action's organisation.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update

from analysis.responses import ResponseFilter, answered_by
from surveys import audit, outbox
from surveys import models as m
from surveys.admin import AdminError, unknown
from surveys.engine import OutgoingMessage
from surveys.schedule import quiet_until
from surveys.scope import Forbidden, Scope
from surveys.store import Store

AC, AE, LM, AR = (m.Action.__table__, m.ActionEvent.__table__, m.LoopMessage.__table__, m.ActionReply.__table__)
C, E, O, A, M = (m.Contact.__table__, m.Enrolment.__table__, m.Organisation.__table__, m.Answer.__table__,
                 m.Message.__table__)

STATUSES = {"planned": "planned", "in_progress": "in progress", "done": "done", "cant_do": "can't do"}
AUDIENCES = {"raised": "the people who raised it", "cohort": "a cohort of the organisation's people"}
LOOP_INTERVAL = timedelta(days=7)        # at most one "you said, we did" message a week per person
MAX_MESSAGE = 480                         # three SMS segments of GSM-7: short, and cheap enough to send to many
LEFT_OUT = {
    "opted out": "opted out (STOP)",
    "unreachable": "unreachable (no number or chat that can receive messages)",
    "not consented": "not consented in the organisation",
    "already told": "already told about this action",
    "this week": "had a \u201cyou said, we did\u201d message in the last 7 days",
}


class ActionError(AdminError):
    pass


@dataclass(frozen=True)
class ActionInput:
    heard: str
    doing: str
    owner: str
    org: str | None = None                 # join code; None: the partnership's
    survey: str | None = None
    question: str | None = None
    theme: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    audience: str = "raised"
    cohort_tag: str | None = None
    message: dict | None = None            # {"en": "...", "es": "..."}
    due_on: datetime | None = None
    status: str = "planned"
    why_not: str | None = None


@dataclass(frozen=True)
class ActionView:
    id: int
    heard: str
    doing: str
    status: str
    why_not: str | None
    owner: str
    organisation_id: int | None
    org_code: str | None
    org_name: str
    survey_id: str | None
    question_key: str | None
    theme: str | None
    since: datetime | None
    until: datetime | None
    audience: str
    cohort_tag: str | None
    message: dict
    due_on: datetime | None
    done_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    published_by: str | None
    told: int                              # people a message was queued for (erased people no longer count)
    replies: int

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)


@dataclass(frozen=True)
class ActionHistory:
    at: datetime
    actor: str
    status: str | None
    note: str | None


@dataclass(frozen=True)
class Reply:
    answer_id: int
    text: str
    language: str
    at: datetime


@dataclass(frozen=True)
class ActionDetail:
    action: ActionView
    history: list[ActionHistory]
    replies: list[Reply] | None            # None: the scope may not read participants' words here
    may_edit: bool


@dataclass(frozen=True)
class Reach:
    contact_id: int
    organisation_id: int | None
    channel: str
    language: str                          # the language of the text they get
    wanted: str                            # their own language
    not_before: datetime


@dataclass
class Publication:
    """Who publishing reaches and who it leaves out (counts by reason), by language and channel."""
    action_id: int
    reached: list[Reach]
    left_out: Counter
    fallback: Counter                      # people who get another language's text, by their own language
    at: datetime

    @property
    def held(self) -> int:
        """Reached, but not before quiet hours end where they live."""
        return sum(1 for r in self.reached if r.not_before > self.at)

    def by_language(self) -> dict[str, int]:
        return dict(Counter(r.language for r in self.reached).most_common())

    def by_channel(self) -> dict[str, int]:
        return dict(Counter(r.channel for r in self.reached).most_common())


def left_out_label(reason: str) -> str:
    return LEFT_OUT.get(reason, reason)


# ---- reading ---------------------------------------------------------------------------------------------
def _views(conn, where) -> list[ActionView]:
    told = select(LM.c.action_id, func.count().label("n")).group_by(LM.c.action_id).subquery()
    replied = select(AR.c.action_id, func.count().label("n")).group_by(AR.c.action_id).subquery()
    q = (select(AC, O.c.code, O.c.name, func.coalesce(told.c.n, 0).label("told_n"),
                func.coalesce(replied.c.n, 0).label("replies_n"))
         .select_from(AC.outerjoin(O, O.c.id == AC.c.organisation_id).outerjoin(told, told.c.action_id == AC.c.id)
                      .outerjoin(replied, replied.c.action_id == AC.c.id))
         .where(*where).order_by(AC.c.id.desc()))
    return [ActionView(r.id, r.heard, r.doing, r.status, r.why_not, r.owner, r.organisation_id, r.code,
                       r.name or "the partnership", r.survey_id, r.question_key, r.theme, r.since, r.until,
                       r.audience, r.cohort_tag, r.message or {}, r.due_on, r.done_at, r.created_by, r.created_at,
                       r.updated_at, r.published_at, r.published_by, r.told_n, r.replies_n)
            for r in conn.execute(q)]


def list_actions(db: Store, scope: Scope, status: str | None = None, org: str | None = None,
                 limit: int = 200) -> list[ActionView]:
    """The register, newest first: every action (the register is the partnership's), by status or organisation."""
    where = []
    if status:
        _check_status(status)
        where.append(AC.c.status == status)
    with db.read() as conn:
        if org:
            where.append(AC.c.organisation_id == _org_id(conn, org))
        return _views(conn, where)[:limit]


def _load(conn, action_id: int) -> ActionView:
    found = _views(conn, [AC.c.id == action_id])
    if not found:
        raise ActionError(f"no action {action_id}")
    return found[0]


def may_edit(scope: Scope, action: ActionView) -> bool:
    if scope.role == "admin":
        return True
    return scope.role == "staff" and action.organisation_id is not None and scope.covers(action.organisation_id)


def _require_edit(scope: Scope, action: ActionView) -> None:
    if not may_edit(scope, action):
        if action.organisation_id is None:
            raise Forbidden("a partnership action is the backbone's: ask a backbone admin")
        raise Forbidden(f"your role ({scope.role}) may not change {action.org_name}'s actions")


def get_action(db: Store, scope: Scope, action_id: int) -> ActionDetail:
    with db.read() as conn:
        action = _load(conn, action_id)
        history = [ActionHistory(r.at, r.actor, r.status, r.note) for r in conn.execute(
            select(AE).where(AE.c.action_id == action_id).order_by(AE.c.at, AE.c.id))]
        replies = None
        if scope.sees_rows and (scope.all_organisations or action.organisation_id is not None
                                and scope.covers(action.organisation_id)):
            replies = [Reply(r.id, r.raw_text or "", r.language, r.answered_at) for r in conn.execute(
                select(A.c.id, A.c.raw_text, A.c.language, A.c.answered_at).join(AR, AR.c.answer_id == A.c.id)
                .where(AR.c.action_id == action_id).order_by(A.c.answered_at))]
    return ActionDetail(action, history, replies, may_edit(scope, action))


# ---- writing ---------------------------------------------------------------------------------------------
def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ActionError(f"status {status!r}: one of {', '.join(STATUSES)}")


def _org_id(conn, code: str) -> int:
    found = conn.execute(select(O.c.id).where(O.c.code_key == code.strip().casefold())).scalar()
    if found is None:
        raise ActionError(str(unknown("organisation with join code", code, conn.execute(select(O.c.code)).scalars())))
    return found


def _clean_message(message: dict | None) -> dict:
    out = {}
    for lang, text in (message or {}).items():
        text = " ".join((text or "").split())
        if not text:
            continue
        if len(text) > MAX_MESSAGE:
            raise ActionError(f"message ({lang}): {len(text)} characters; keep it to {MAX_MESSAGE} "
                              "(about three text messages)")
        out[lang.strip().lower()] = text
    return out


def _validate(conn, inp: ActionInput) -> dict:
    heard, doing, owner = (" ".join((v or "").split()) for v in (inp.heard, inp.doing, inp.owner))
    if not heard:
        raise ActionError("heard: say what people said (e.g. 'the waiting room is cold')")
    if not doing:
        raise ActionError("doing: say what is being done about it")
    if not owner:
        raise ActionError("owner: name the person responsible")
    _check_status(inp.status)
    if inp.status == "cant_do" and not (inp.why_not or "").strip():
        raise ActionError("why not: an action that can't be done says why")
    if inp.audience not in AUDIENCES:
        raise ActionError(f"audience {inp.audience!r}: one of {', '.join(AUDIENCES)}")
    if inp.since and inp.until and inp.since >= inp.until:
        raise ActionError("period: 'since' must come before 'until'")
    survey = (inp.survey or "").strip() or None
    if survey is not None and conn.execute(select(m.Survey.id).where(m.Survey.id == survey)).first() is None:
        raise ActionError(str(unknown("survey", survey, conn.execute(select(m.Survey.id)).scalars())))
    if inp.audience == "raised" and survey is None:
        raise ActionError("survey: an action about what people raised names the survey they said it in "
                          "(or choose a cohort)")
    question = (inp.question or "").strip() or None
    if question and survey is None:
        raise ActionError("question: name the survey it belongs to")
    org_id = _org_id(conn, inp.org) if inp.org and inp.org.strip() else None
    if inp.audience == "cohort" and org_id is None:
        raise ActionError("cohort: name the organisation whose people it is")
    return dict(heard=heard[:2000], doing=doing[:2000], owner=owner[:100], status=inp.status,
                why_not=(inp.why_not or "").strip() or None, organisation_id=org_id, survey_id=survey,
                question_key=question, theme=(" ".join((inp.theme or "").split()) or None),
                since=inp.since, until=inp.until, audience=inp.audience,
                cohort_tag=(inp.cohort_tag or "").strip() or None, message=_clean_message(inp.message) or None,
                due_on=inp.due_on)


def record_action(db: Store, scope: Scope, inp: ActionInput, now: datetime) -> ActionView:
    """Add an action to the register (admin: any organisation or the partnership; staff: their own)."""
    scope.require(scope.role in ("admin", "staff"), "record actions")
    with db.session() as s:
        conn = s.connection()
        values = _validate(conn, inp)
        if scope.role != "admin" and not scope.covers(values["organisation_id"]):
            raise Forbidden("staff record actions of their own organisation: choose it")
        action_id = conn.execute(insert(AC).values(
            **values, done_at=now if inp.status == "done" else None, created_by=scope.actor[:100],
            created_at=now, updated_at=now)).inserted_primary_key[0]
        conn.execute(insert(AE).values(action_id=action_id, at=now, actor=scope.actor[:100], status=inp.status,
                                       note=values["why_not"]))
        audit.record_as(s, scope, now, "action.record", object_type="action", object_id=action_id,
                        detail=f"status {inp.status}")
        return _load(conn, action_id)


def update_action(db: Store, scope: Scope, action_id: int, inp: ActionInput, now: datetime) -> ActionView:
    """Change what an action says, its links and its message; a status change is recorded in its history."""
    with db.session() as s:
        conn = s.connection()
        current = _load(conn, action_id)
        _require_edit(scope, current)
        values = _validate(conn, inp)
        if scope.role != "admin" and values["organisation_id"] != current.organisation_id:
            raise Forbidden("staff cannot move an action to another organisation")
        _change(s, scope, current, values, inp.status, values["why_not"], None, now)
        return _load(conn, action_id)


def set_status(db: Store, scope: Scope, action_id: int, status: str, now: datetime, *, why_not: str | None = None,
               note: str | None = None) -> ActionView:
    """Move an action on (planned, in_progress, done, cant_do with why), with an optional note."""
    _check_status(status)
    if status == "cant_do" and not (why_not or "").strip():
        raise ActionError("why not: an action that can't be done says why")
    with db.session() as s:
        conn = s.connection()
        current = _load(conn, action_id)
        _require_edit(scope, current)
        _change(s, scope, current, {}, status, (why_not or "").strip() or None, (note or "").strip() or None, now)
        return _load(conn, action_id)


def _change(s, scope: Scope, current: ActionView, values: dict, status: str, why_not: str | None,
            note: str | None, now: datetime) -> None:
    conn = s.connection()
    changed = status != current.status
    values = dict(values, status=status, updated_at=now, why_not=why_not if status == "cant_do" else None)
    if changed:
        values["done_at"] = now if status == "done" else None
    conn.execute(update(AC).where(AC.c.id == current.id).values(**values))
    if changed or note:
        conn.execute(insert(AE).values(action_id=current.id, at=now, actor=scope.actor[:100],
                                       status=status if changed else None,
                                       note="; ".join(x for x in (why_not if changed else None, note) if x) or None))
    if changed:
        audit.record_as(s, scope, now, "action.status", object_type="action", object_id=current.id,
                        detail=f"{current.status} -> {status}")


# ---- "you said, we did" ------------------------------------------------------------------------------------
def _candidates(db: Store, conn, scope: Scope, action: ActionView, now: datetime) -> dict[int, int | None]:
    """contact id -> organisation, before the rules: the people who raised it, or the cohort."""
    if action.audience == "raised":
        org = action.org_code
        f = ResponseFilter(action.survey_id, question=action.question_key, theme=action.theme, org=org,
                           since=action.since, until=action.until, page_size=1)
        # The publisher's own scope: staff reach only people whose answers they may see.
        return answered_by(db, scope, f, min(action.until or now, now))
    q = select(E.c.contact_id, E.c.tags).where(E.c.organisation_id == action.organisation_id)
    return {r.contact_id: action.organisation_id for r in conn.execute(q)
            if action.cohort_tag is None or action.cohort_tag in (r.tags or ())}


def _publication(db: Store, conn, scope: Scope, action: ActionView, now: datetime) -> Publication:
    if not action.message:
        raise ActionError("message: write the \u201cyou said, we did\u201d text before publishing")
    people = _candidates(db, conn, scope, action, now)
    pub = Publication(action.id, [], Counter(), Counter(), now)
    if not people:
        return pub
    ids = sorted(people)
    told = set(conn.execute(select(LM.c.contact_id).where(LM.c.action_id == action.id)).scalars())
    recent = set(conn.execute(select(LM.c.contact_id).where(LM.c.created_at > now - LOOP_INTERVAL)).scalars())
    contacts = {}
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk:chunk + 5000]
        for r in conn.execute(select(C.c.id, C.c.channel, C.c.address, C.c.language, C.c.timezone,
                                     C.c.opted_out_at, C.c.unreachable_at).where(C.c.id.in_(part))):
            contacts[r.id] = r
    consent: dict[int, set] = {}
    zones = dict(conn.execute(select(O.c.id, O.c.timezone)).all())
    for chunk in range(0, len(ids), 5000):
        for r in conn.execute(select(E.c.contact_id, E.c.organisation_id).where(
                E.c.contact_id.in_(ids[chunk:chunk + 5000]), E.c.consent_status == "given")):
            consent.setdefault(r.contact_id, set()).add(r.organisation_id)
    languages = list(action.message)
    quiet = db.settings.quiet_hours
    for cid in ids:
        c = contacts.get(cid)
        if c is None:          # erased between the answer and now: nobody to tell
            continue
        org = people[cid] if action.organisation_id is None else action.organisation_id
        if c.opted_out_at is not None:
            reason = "opted out"
        elif c.unreachable_at is not None or c.address is None:
            reason = "unreachable"
        elif not (consent.get(cid) and (action.organisation_id is None or action.organisation_id in consent[cid])):
            reason = "not consented"
        elif cid in told:
            reason = "already told"
        elif cid in recent:
            reason = "this week"
        else:
            language = c.language if c.language in action.message else languages[0]
            if language != c.language:
                pub.fallback[c.language] += 1
            tz = c.timezone or zones.get(org) or db.settings.default_timezone
            pub.reached.append(Reach(cid, org, c.channel, language, c.language, quiet_until(now, tz, quiet)))
            continue
        pub.left_out[reason] += 1
    return pub


def preview_publication(db: Store, scope: Scope, action_id: int, now: datetime) -> Publication:
    """Who publishing now would reach, who it leaves out and why: the same decision `publish_action` makes."""
    with db.read() as conn:
        action = _load(conn, action_id)
        _require_edit(scope, action)
        return _publication(db, conn, scope, action, now)


def publish_action(db: Store, scope: Scope, action_id: int, now: datetime) -> Publication:
    """Queue the "you said, we did" message for everyone it reaches (each person once per action, in their
    language, after quiet hours). Publishing again later tells only people who were not told yet."""
    with db.session() as s:
        conn = s.connection()
        action = _load(conn, action_id)
        _require_edit(scope, action)
        pub = _publication(db, conn, scope, action, now)
        if not pub.reached:
            # Nothing is sent and nothing is recorded as published: say who was left out instead.
            why = ", ".join(f"{n} {left_out_label(k)}" for k, n in pub.left_out.most_common())
            raise ActionError("nobody to tell now" + (f" (left out: {why})" if why else
                                                      ": nobody matches who it tells"))
        for r in pub.reached:
            message_id = outbox.queue(db, r.channel, OutgoingMessage(action.message[r.language]), now,
                                      contact_id=r.contact_id, purpose="loop", not_before=r.not_before, conn=conn)
            conn.execute(insert(LM).values(action_id=action_id, contact_id=r.contact_id, message_id=message_id,
                                           language=r.language, not_before=r.not_before, created_at=now))
        first = action.published_at is None
        conn.execute(update(AC).where(AC.c.id == action_id).values(
            published_at=action.published_at or now, published_by=action.published_by or scope.actor[:100],
            updated_at=now))
        conn.execute(insert(AE).values(action_id=action_id, at=now, actor=scope.actor[:100], status=None,
                                       note=f"{'published' if first else 'published again'}: "
                                            f"{len(pub.reached)} told, {sum(pub.left_out.values())} left out"))
        audit.record_as(s, scope, now, "action.publish", object_type="action", object_id=action_id,
                        detail=f"{len(pub.reached)} queued")
    return pub


__all__ = ["ActionInput", "ActionView", "ActionDetail", "ActionError", "Publication", "STATUSES", "AUDIENCES",
           "LEFT_OUT", "list_actions", "get_action", "record_action", "update_action", "set_status",
           "preview_publication", "publish_action", "left_out_label", "may_edit"]
