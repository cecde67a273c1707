"""Safeguarding flags: raised with the answer that caused them, closed only by a person.

The tagger (implemented in `analysis`, see `surveys.store.AnswerTagger`) puts `{"flag": {"categories": [...],
"rules": [...]}}` in an answer's tags when the text matches the safeguarding lexicon. `raise_flag` then stores
the flag and queues one alert per safeguarding contact in the same transaction as the answer, so an answer is
never stored without its flag and alerts, and the outbox worker sends them like any other message.

An alert carries no words of the answer and nothing that identifies the person: the organisation, the
survey, the categories and the flag number, and where to read it: the console's flag page
(PUBLIC_BASE_URL + /console/flags/ID, which asks for sign-in) when a public address is configured, and the
command `chorus flags show ID` at the server either way.

Without a safeguarding contact a flag alerts nobody, and so does a contact reached only by a channel this
installation cannot send through (`alert_channels`: email without SMTP_HOST, Telegram without the bot token):
`raise_flag` then logs a warning and tells the caller nobody was alerted (so the person is not promised a
reader), `chorus run` and `chorus flags ...` say so (`contact_warning`), and so does the digest.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NamedTuple
from datetime import datetime, timezone

from sqlalchemy import Connection, func, insert, or_, select, update

from surveys import audit
from surveys import models as m
from surveys.channels import CONTACT_CHANNELS
from surveys.engine import OutgoingMessage
from surveys.outgoing import outbound_row
from surveys.scope import Forbidden, Scope
from surveys.store import Store

log = logging.getLogger(__name__)

ALERT_NOT_BEFORE = datetime(1970, 1, 1, tzinfo=timezone.utc)


class FlagError(ValueError):
    pass


def alert_channels(settings) -> frozenset[str]:
    """The contact channels an alert can go through with these settings: email needs SMTP_HOST, Telegram the
    bot token. A worker fails an alert on any other at once (channel not configured), so a contact reached
    only that way alerts nobody."""
    return settings.configured_channels & frozenset(CONTACT_CHANNELS)


_UNREACHABLE_HINT = "email needs SMTP_HOST, Telegram needs TELEGRAM_BOT_TOKEN"


def raise_flag(db: Store, conn: Connection, answer_id: int, organisation_id: int | None, survey_id: str | None,
               hit: dict, now: datetime) -> tuple[int, int]:
    """Store a flag for `answer_id` and queue its alerts. Returns the flag id and how many safeguarding
    contacts were alerted (0: nobody was, and the person must not be told that someone will read it)."""
    categories = sorted({str(c) for c in hit.get("categories", ())})
    rules = sorted({str(r) for r in hit.get("rules", ())})
    layer = str(hit.get("layer") or "lexicon")
    score = hit.get("score")
    flag_id = conn.execute(insert(m.Flag).values(
        answer_id=answer_id, organisation_id=organisation_id, survey_id=survey_id, categories=categories,
        rules=rules, layer=layer, score=None if score is None else float(score), status="open",
        created_at=now)).inserted_primary_key[0]
    org_name = None
    if organisation_id is not None:
        org_name = conn.execute(select(m.Organisation.name).where(m.Organisation.id == organisation_id)).scalar()
    message = alert_message(db, flag_id, org_name, survey_id, categories)
    contacts = conn.execute(select(m.SafeguardingContact.channel, m.SafeguardingContact.address).where(or_(
        m.SafeguardingContact.organisation_id == organisation_id,
        m.SafeguardingContact.organisation_id.is_(None)))).all()
    reachable = {c for c in set(contacts) if c[0] in alert_channels(db.settings)}
    if not contacts:
        # No personal data here: the flag's number only.
        log.warning("safeguarding flag #%s raised, but no safeguarding contact is set for its organisation: "
                    "NOBODY IS ALERTED. Read it with `chorus flags show %s`; add a contact with "
                    "`chorus flags contacts add --email ADDRESS`", flag_id, flag_id)
    elif not reachable:
        log.warning("safeguarding flag #%s raised, but its safeguarding contacts are reached by %s, which this "
                    "installation cannot send through (%s): NOBODY IS ALERTED. Read it with `chorus flags show %s`",
                    flag_id, " and ".join(sorted({c[0] for c in contacts})), _UNREACHABLE_HINT, flag_id)
    for channel, address in sorted(set(contacts)):
        # The worker takes due rows in `not_before` order: an alert due since the epoch goes ahead of any
        # backlog on its channel (a wave of thousands of Telegram invitations must not delay it).
        conn.execute(insert(m.Message).values(outbound_row(
            message, channel=channel, to_address=address, status="pending", not_before=ALERT_NOT_BEFORE,
            purpose="alert", created_at=now)))
    return flag_id, len(reachable)


def flag_link(db: Store, flag_id: int) -> str:
    """Where a person reads the flag: the console's page (PUBLIC_BASE_URL + /console/flags/ID, which asks for
    sign-in) when the installation has a public address, else the command at the server."""
    base = (db.settings.public_base_url or "").rstrip("/")
    if base:
        return f"{base}/console/flags/{flag_id}"
    return f"chorus flags show {flag_id}"


def flags_page_link(db: Store) -> str | None:
    """The console's flag queue (PUBLIC_BASE_URL + /console/flags), None without a public address."""
    base = (db.settings.public_base_url or "").rstrip("/")
    return f"{base}/console/flags" if base else None


def alert_message(db: Store, flag_id: int, org_name: str | None, survey_id: str | None,
                  categories: list[str]) -> OutgoingMessage:
    where = org_name or "no organisation"
    about = ", ".join(c.replace("_", " ") for c in categories) or "risk"
    link = flag_link(db, flag_id)
    if link.startswith("chorus "):
        read = (f"Please have a person read it today, on the Chorus server: {link} "
                "(chorus flags list shows every open flag).\n")
    else:
        read = (f"Please have a person read it today, in the staff console (sign in first): {link}\n"
                f"Or on the Chorus server: chorus flags show {flag_id}\n")
    text = (f"Chorus safeguarding flag #{flag_id}: an answer to survey '{survey_id or '-'}' ({where}) may show "
            f"a risk ({about}). {read}"
            "This alert holds no words of the answer. Once it is handled, close the flag with a note "
            f"(in the console, or: chorus flags close {flag_id} --by NAME --note TEXT)")
    return OutgoingMessage(text, subject=f"Chorus safeguarding flag #{flag_id} ({where})")


# ---- staff operations ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlagView:
    id: int
    status: str
    organisation: str | None
    survey_id: str | None
    categories: list
    rules: list
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    note: str | None
    answer_id: int | None
    answer_text: str | None  # only for `show`, never in lists or alerts
    layer: str | None = None         # lexicon | similarity (None: raised before layers were recorded)
    score: float | None = None       # similarity layer: how close the answer was to the rule's closest example
    outcome: str | None = None       # closed: concern | not_a_concern

    @property
    def why(self) -> str:
        """Which layer and rule raised it, in words for the person handling it."""
        rules = ", ".join(self.rules) or "-"
        if self.layer == "similarity":
            close = f", similarity {self.score:.2f}" if self.score is not None else ""
            return f"similarity layer: reads like the examples of {rules}{close}"
        return f"{self.layer or 'lexicon'} layer: {rules}"


def list_flags(db: Store, include_closed: bool = False, org_code: str | None = None) -> list[FlagView]:
    q = (select(m.Flag, m.Organisation.name).outerjoin(m.Organisation, m.Organisation.id == m.Flag.organisation_id)
         .order_by(m.Flag.id))
    if not include_closed:
        q = q.where(m.Flag.status == "open")
    if org_code is not None:
        q = q.where(m.Organisation.code_key == org_code.strip().lower())
    with db.session() as s:
        return [_view(f, name, None) for f, name in s.execute(q).all()]


def show_flag(db: Store, flag_id: int) -> FlagView:
    with db.session() as s:
        row = s.execute(select(m.Flag, m.Organisation.name)
                        .outerjoin(m.Organisation, m.Organisation.id == m.Flag.organisation_id)
                        .where(m.Flag.id == flag_id)).first()
        if row is None:
            raise FlagError(f"no flag {flag_id}")
        flag, name = row
        text = None
        if flag.answer_id is not None:
            text = s.execute(select(m.Answer.raw_text).where(m.Answer.id == flag.answer_id)).scalar()
        return _view(flag, name, text)


OUTCOMES = ("concern", "not_a_concern")


def close_flag(db: Store, flag_id: int, by: str, note: str, now: datetime, not_a_concern: bool = False) -> FlagView:
    """Close an open flag. A name and a note are required: a flag is closed by a person who says what was done.
    `not_a_concern`: the person judged the answer was no risk (a false alarm); otherwise it was a concern. The
    two feed `flag_review`, the safeguarding precision per layer and rule."""
    by, note = (by or "").strip(), (note or "").strip()
    if not by:
        raise FlagError("say who is closing the flag (--by NAME)")
    if not note:
        raise FlagError("say what was done (--note TEXT): a flag is never closed without a note")
    with db.session() as s:
        flag = s.get(m.Flag, flag_id)
        if flag is None:
            raise FlagError(f"no flag {flag_id}")
        if flag.status == "closed":
            raise FlagError(f"flag {flag_id} was already closed by {flag.closed_by} at {flag.closed_at:%Y-%m-%d %H:%M} UTC")
        s.execute(update(m.Flag).where(m.Flag.id == flag_id, m.Flag.status == "open")
                  .values(status="closed", closed_at=now, closed_by=by, note=note,
                          outcome="not_a_concern" if not_a_concern else "concern"))
        s.add(m.FlagEvent(flag_id=flag_id, kind="closed", by=by, note=note, at=now))
    return show_flag(db, flag_id)


def _view(f: m.Flag, org_name: str | None, text: str | None) -> FlagView:
    return FlagView(f.id, f.status, org_name, f.survey_id, list(f.categories or ()), list(f.rules or ()),
                    f.created_at, f.closed_at, f.closed_by, f.note, f.answer_id, text, f.layer, f.score, f.outcome)


# ---- the console's flag operations, scoped by who is asking ---------------------------------------------------
@dataclass(frozen=True)
class FlagQueueFilter:
    status: str = "open"              # open | closed | all
    org: str | None = None            # join code
    assignee: str | None = None       # only flags assigned to this person ("" : not assigned)


@dataclass(frozen=True)
class FlagQueueItem:
    """A flag in the queue: no words of the answer and nothing that identifies the person."""
    flag: FlagView
    organisation_id: int | None
    assignee: str | None
    notes: int


@dataclass(frozen=True)
class FlagEventView:
    kind: str                         # assigned | note | closed
    by: str
    assignee: str | None
    note: str | None
    at: datetime


@dataclass(frozen=True)
class PersonReach:
    """The way to reach the person who wrote a flagged answer, for the person handling the flag."""
    pseudonym: str
    channel: str
    address: str | None               # None: erased, or dropped when they declined consent
    language: str
    opted_out: bool
    unreachable: bool


@dataclass(frozen=True)
class FlagDetail:
    flag: FlagView                    # with answer_text: the answer's words
    organisation_id: int | None
    assignee: str | None
    history: list[FlagEventView]      # oldest first
    reach: PersonReach | None         # None when erased or the scope may not see contact details
    handlers: list[str] = field(default_factory=list)   # who may read it: the console's names to assign it to


def _flag_scope(scope: Scope) -> None:
    scope.require(scope.sees_flags, "see safeguarding flags")


def _covered_flag(s, scope: Scope, flag_id: int) -> m.Flag:
    _flag_scope(scope)
    flag = s.get(m.Flag, flag_id)
    if flag is None:
        raise FlagError(f"no flag {flag_id}")
    if not scope.covers(flag.organisation_id):
        raise Forbidden(f"flag {flag_id} is not of one of your organisations")
    return flag


def _assignees(conn, flag_ids) -> dict[int, str | None]:
    FE = m.FlagEvent.__table__
    latest = select(func.max(FE.c.id)).where(FE.c.kind == "assigned", FE.c.flag_id.in_(flag_ids)).group_by(FE.c.flag_id)
    return dict(conn.execute(select(FE.c.flag_id, FE.c.assignee).where(FE.c.id.in_(latest))).all())


def flag_queue(db: Store, scope: Scope, f: FlagQueueFilter = FlagQueueFilter()) -> list[FlagQueueItem]:
    """The flags a scope handles, oldest open first: a safeguarding lead's assigned organisations, staff's own,
    every flag for admin; governance may not (it sees the count in the digest and dashboard only)."""
    _flag_scope(scope)
    if f.status not in ("open", "closed", "all"):
        raise FlagError(f"status {f.status!r}: open, closed or all")
    q = (select(m.Flag, m.Organisation.name).outerjoin(m.Organisation, m.Organisation.id == m.Flag.organisation_id)
         .order_by(m.Flag.created_at, m.Flag.id))
    if f.status != "all":
        q = q.where(m.Flag.status == f.status)
    if not scope.all_organisations:
        q = q.where(m.Flag.organisation_id.in_(sorted(scope.organisation_ids)))
    if f.org is not None:
        q = q.where(m.Organisation.code_key == f.org.strip().casefold())
    FE = m.FlagEvent.__table__
    with db.session() as s:
        rows = s.execute(q).all()
        ids = [flag.id for flag, _ in rows]
        assignees = _assignees(s.connection(), ids) if ids else {}
        notes = dict(s.execute(select(FE.c.flag_id, func.count()).where(FE.c.kind == "note", FE.c.flag_id.in_(ids))
                               .group_by(FE.c.flag_id)).all()) if ids else {}
        out = [FlagQueueItem(_view(flag, name, None), flag.organisation_id, assignees.get(flag.id), notes.get(flag.id, 0))
               for flag, name in rows]
    if f.assignee is not None:
        want = f.assignee.strip().casefold()
        out = [i for i in out if (i.assignee or "").casefold() == want]
    return out


def flag_detail(db: Store, scope: Scope, flag_id: int, viewed_at: datetime | None = None,
                source: str | None = None) -> FlagDetail:
    """One flag for the person handling it: the answer's words, its history, who it is assigned to, and the
    way to reach the person (when the scope may see contact details). `viewed_at`: a person is reading it (the
    console's flag page), so an audit entry 'flag.view' is written (no answer text), from `source`."""
    FE = m.FlagEvent.__table__
    with db.session() as s:
        flag = _covered_flag(s, scope, flag_id)
        if viewed_at is not None:
            audit.record_as(s, scope, viewed_at, "flag.view", object_type="flag", object_id=flag_id, source=source)
        org_id = flag.organisation_id
        history = [FlagEventView(e.kind, e.by, e.assignee, e.note, e.at) for e in s.execute(
            select(FE).where(FE.c.flag_id == flag_id).order_by(FE.c.at, FE.c.id)).all()]
        reach = None
        if flag.answer_id is not None and scope.sees_contact_details:
            c = s.execute(select(m.Contact).join(m.Answer, m.Answer.contact_id == m.Contact.id)
                          .where(m.Answer.id == flag.answer_id)).scalar()
            if c is not None:
                reach = PersonReach(db.pseudonym(c.id), c.channel, c.address, c.language, c.opted_out_at is not None,
                                    c.unreachable_at is not None)
        handlers = _handlers(s, org_id)
    assignee = next((e.assignee for e in reversed(history) if e.kind == "assigned"), None)
    return FlagDetail(show_flag(db, flag_id), org_id, assignee, history, reach, handlers)


def _handlers(s, org_id: int | None) -> list[str]:
    """The display names of the console users who may read a flag of this organisation and are not disabled:
    backbone admins, and the organisation's own staff and safeguarding leads (offered when assigning)."""
    U, UO = m.StaffUser, m.StaffUserOrganisation
    covers = U.role == "admin"
    if org_id is not None:
        covers = covers | (U.role.in_(("staff", "safeguarding"))
                           & U.id.in_(select(UO.user_id).where(UO.organisation_id == org_id)))
    return sorted(set(s.execute(select(U.display_name).where(covers, U.disabled_at.is_(None))).scalars()),
                  key=str.casefold)


def _text(value: str | None, what: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise FlagError(f"say {what}")
    if len(value) > limit:
        raise FlagError(f"{what}: at most {limit} characters")
    return value


def _actor(scope: Scope, doing: str) -> None:
    """Every entry in a flag's history names the person who made it (the console's user; `--by` on the CLI)."""
    if not (scope.actor or "").strip():
        raise FlagError(f"say who is {doing} (--by NAME)")


def assign_flag(db: Store, scope: Scope, flag_id: int, assignee: str, now: datetime) -> FlagDetail:
    """Give a flag to a person (by name, as the console lists users). Kept in its history."""
    _actor(scope, "assigning the flag")
    assignee = _text(assignee, "who it is assigned to", 100)
    with db.session() as s:
        flag = _covered_flag(s, scope, flag_id)
        if flag.status != "open":
            raise FlagError(f"flag {flag_id} is closed")
        s.add(m.FlagEvent(flag_id=flag_id, kind="assigned", by=scope.actor, assignee=assignee, at=now))
    return flag_detail(db, scope, flag_id)


def add_flag_note(db: Store, scope: Scope, flag_id: int, note: str, now: datetime) -> FlagDetail:
    """Add a note to a flag's history (what was tried, who was called), open or closed."""
    _actor(scope, "writing the note")
    note = _text(note, "what the note is (a note must not be empty)", 5000)
    with db.session() as s:
        _covered_flag(s, scope, flag_id)
        s.add(m.FlagEvent(flag_id=flag_id, kind="note", by=scope.actor, note=note, at=now))
    return flag_detail(db, scope, flag_id)


def close_flag_as(db: Store, scope: Scope, flag_id: int, note: str, now: datetime,
                  not_a_concern: bool = False) -> FlagDetail:
    """Close a flag with a note, as the scope's person (`close_flag`: the note is required, closed once)."""
    with db.session() as s:
        _covered_flag(s, scope, flag_id)
    close_flag(db, flag_id, scope.actor, note, now, not_a_concern=not_a_concern)
    return flag_detail(db, scope, flag_id)


@dataclass(frozen=True)
class Review:
    """Closed flags a person judged, for one layer or one rule: how many were a concern."""

    concern: int = 0
    not_a_concern: int = 0

    @property
    def reviewed(self) -> int:
        return self.concern + self.not_a_concern

    @property
    def precision(self) -> float | None:
        return self.concern / self.reviewed if self.reviewed else None


@dataclass(frozen=True)
class FlagReview:
    total: Review                       # every reviewed flag
    by_layer: dict[str, Review]         # "lexicon", "similarity"
    by_rule: dict[tuple[str, str], Review]   # (layer, rule id); a flag with two rules counts for each
    open: int                           # not yet closed
    unjudged: int                       # closed before outcomes were recorded


def flag_review(db: Store, since: datetime | None = None) -> FlagReview:
    """Safeguarding precision on the flags people have closed: concern vs not a concern, per layer and rule."""
    q = select(m.Flag.layer, m.Flag.rules, m.Flag.status, m.Flag.outcome)
    if since is not None:
        q = q.where(m.Flag.created_at >= since)
    counts: dict = {}

    def add(key, outcome):
        c, n = counts.get(key, (0, 0))
        counts[key] = (c + (outcome == "concern"), n + (outcome == "not_a_concern"))

    open_, unjudged = 0, 0
    with db.read() as conn:
        for layer, rules, status, outcome in conn.execute(q):
            if status != "closed":
                open_ += 1
                continue
            if outcome not in OUTCOMES:
                unjudged += 1
                continue
            layer = layer or "lexicon"
            add("total", outcome)
            add(("layer", layer), outcome)
            for rule in sorted(set(rules or ())):
                add(("rule", layer, rule), outcome)
    review = {k: Review(*v) for k, v in counts.items()}
    return FlagReview(review.get("total", Review()),
                      {k[1]: v for k, v in sorted(review.items(), key=str) if k != "total" and k[0] == "layer"},
                      {(k[1], k[2]): v for k, v in sorted(review.items(), key=str) if k != "total" and k[0] == "rule"},
                      open_, unjudged)


# ---- safeguarding contacts ----------------------------------------------------------------------------
def store_safeguarding_contact(db: Store, org_id: int | None, channel: str, address: str, now: datetime) -> bool:
    """Store a safeguarding contact (someone alerted about flags, not a participant) by organisation id,
    channel and address (org_id None: hears about every flag). False when it was already there. The staff
    operation is add_safeguarding_contact (an organisation code, email or Telegram chosen for you)."""
    channel, address = channel.strip().lower(), address.strip()
    if channel not in CONTACT_CHANNELS:
        raise FlagError(f"a safeguarding contact is reached by {' or '.join(CONTACT_CHANNELS)}, not {channel!r}")
    if channel == "email" and ("@" not in address or " " in address):
        raise FlagError(f"{address!r} is not an email address")
    if channel == "telegram" and not address.lstrip("-").isdigit():
        raise FlagError(f"{address!r} is not a Telegram chat id (a number, negative for groups)")
    with db.session() as s:
        if _find_contact(s, org_id, channel, address) is not None:
            return False
        s.add(m.SafeguardingContact(organisation_id=org_id, channel=channel, address=address, created_at=now))
    return True


class ContactChoiceError(FlagError):
    """Neither or both of an email address and a Telegram chat were given: a contact is one of them."""


@dataclass(frozen=True)
class ContactChange:
    """A safeguarding contact added or removed: `changed` False when it was already there (add) or was not
    there (remove); `warning` when its channel is not configured, so a worker would fail its alerts at once."""
    organisation: str | None  # join code, None: every organisation
    channel: str
    address: str
    changed: bool
    warning: str | None = None


def _contact_channel(email: str | None, telegram_chat: str | None) -> tuple[str, str]:
    if (email is None) == (telegram_chat is None):
        raise ContactChoiceError("give an email address or a Telegram chat, one per contact")
    return ("email", email) if email is not None else ("telegram", telegram_chat)


def _unconfigured(db: Store, channel: str) -> str | None:
    if channel == "email" and not db.settings.smtp_host:
        return ("SMTP_HOST is not set: a worker without it fails email alerts at once (channel not configured), so "
                "this contact is NOT alerted until it is set and the worker restarted")
    if channel == "telegram" and not db.settings.telegram_enabled:
        return ("TELEGRAM_BOT_TOKEN is not set: a worker without it fails Telegram alerts at once (channel not "
                "configured), so this contact is NOT alerted until it is set and the worker restarted")
    return None


def add_safeguarding_contact(db: Store, org_code: str | None, now: datetime, *, email: str | None = None,
                             telegram_chat: str | None = None) -> ContactChange:
    """Add a safeguarding contact, reached by email or in a Telegram chat, for the organisation with join
    code `org_code` (None: every organisation). Raises ContactChoiceError, FlagError, or AdminError for an
    unknown code."""
    from surveys.admin import organisation_id

    channel, address = _contact_channel(email, telegram_chat)
    added = store_safeguarding_contact(db, organisation_id(db, org_code), channel, address, now)
    return ContactChange(org_code, channel, address, added, _unconfigured(db, channel))


def remove_safeguarding_contact(db: Store, org_code: str | None, *, email: str | None = None,
                                telegram_chat: str | None = None) -> ContactChange:
    from surveys.admin import organisation_id

    channel, address = _contact_channel(email, telegram_chat)
    removed = remove_contact(db, organisation_id(db, org_code), channel, address)
    return ContactChange(org_code, channel, address, removed)


def remove_contact(db: Store, org_id: int | None, channel: str, address: str) -> bool:
    with db.session() as s:
        row = _find_contact(s, org_id, channel.strip().lower(), address.strip())
        if row is None:
            return False
        s.delete(row)
    return True


def _find_contact(s, org_id: int | None, channel: str, address: str) -> m.SafeguardingContact | None:
    """Compared after reading, not in SQL: encrypted at rest (surveys.crypto), equal addresses differ there."""
    rows = s.execute(select(m.SafeguardingContact).where(
        m.SafeguardingContact.organisation_id.is_not_distinct_from(org_id),
        m.SafeguardingContact.channel == channel)).scalars().all()
    return next((r for r in rows if r.address == address), None)


def contact_warning(db: Store) -> str | None:
    """Said at start (`chorus run`) and with the flags commands when a flag could alert nobody: no
    safeguarding contact at all, or organisations with neither their own nor one for every organisation."""
    channels = alert_channels(db.settings)
    with db.read() as conn:
        rows = conn.execute(select(m.SafeguardingContact.organisation_id, m.SafeguardingContact.channel)
                            .distinct()).all()
        covered = {org for org, channel in rows if channel in channels}
        if None in covered:
            return None
        q = select(m.Organisation.code).order_by(m.Organisation.code)
        orgs = conn.execute(q.where(m.Organisation.id.not_in(covered)) if covered else q).scalars().all()
    unreachable = f" (contacts set here cannot be reached: {_UNREACHABLE_HINT})" if len(rows) > sum(
        1 for _, channel in rows if channel in channels) else ""
    if not covered:
        if rows:
            return (f"no safeguarding contact can be reached ({_UNREACHABLE_HINT}): a safeguarding flag alerts "
                    "NOBODY. Check `chorus flags list` yourself, and configure their channel")
        return ("no safeguarding contact is set: a safeguarding flag alerts NOBODY. Check `chorus flags list` "
                "yourself, and add a contact: `chorus flags contacts add --email ADDRESS`")
    if not orgs:
        return None
    return (f"no safeguarding contact for {', '.join(orgs)}{unreachable}: a flag raised there alerts NOBODY. Add "
            "one: `chorus flags contacts add --org CODE --email ADDRESS` (or one for every organisation, without "
            "--org)")


class SafeguardingContactView(NamedTuple):
    organisation: str | None  # join code, None: hears about every organisation's flags
    channel: str
    address: str


def list_contacts(db: Store) -> list[SafeguardingContactView]:
    """(organisation code or None for partnership-wide, channel, address)."""
    with db.session() as s:
        rows = [SafeguardingContactView(*r) for r in s.execute(
            select(m.Organisation.code, m.SafeguardingContact.channel, m.SafeguardingContact.address)
            .outerjoin(m.Organisation, m.Organisation.id == m.SafeguardingContact.organisation_id)).all()]
    # Sorted here, not in SQL: the address may be encrypted at rest. Partnership-wide (no code) first.
    return sorted(rows, key=lambda r: (r.organisation is not None, r.organisation or "", r.channel, r.address))
