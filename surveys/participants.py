"""Staff operations on participants, scoped by who is asking (`surveys.scope.Scope`): search, one person in
full with their consent history, import (with a preview that runs the import's own checks), erase.

A participant is a contact (one address on one channel) with its enrolments. A scope sees a participant when
it covers at least one of their organisations, and then sees only those enrolments; the address only when the
scope may see contact details. People are named by `Store.pseudonym`, never by their address.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import func, select

from surveys import admin, audit, messages
from surveys import models as m
from surveys.admin import AdminError, ImportReport
from surveys.scope import Forbidden, Scope
from surveys.store import Store

C, E, O, CE, A, F = (m.Contact.__table__, m.Enrolment.__table__, m.Organisation.__table__,
                     m.ConsentEvent.__table__, m.Answer.__table__, m.Flag.__table__)
CONSENT_STATUSES = ("pending", "given", "declined", "withdrawn")
MAX_PAGE_SIZE = 200


class ParticipantError(AdminError):
    """A participant operation that cannot be done (no such participant, a bad filter)."""


class RequestProblem(ParticipantError):
    """An erasure's request reference that cannot be kept (too long, or the person's own number in it)."""


@dataclass(frozen=True)
class ParticipantFilter:
    """What to look for. Every field is optional; `org` is a join code; `query` matches a pseudonym (P-...),
    a tag, or (for scopes that see contact details) part of an address."""
    org: str | None = None
    channel: str | None = None
    consent: str | None = None            # pending | given | declined | withdrawn
    opted_out: bool | None = None
    unreachable: bool | None = None
    tag: str | None = None
    language: str | None = None
    query: str | None = None
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class Membership:
    """One enrolment of a participant, in an organisation the scope covers."""
    organisation_id: int
    organisation_code: str
    organisation_name: str
    consent: str                 # pending | given | declined | withdrawn
    consent_quote: bool
    tags: tuple[str, ...]
    source: str                  # join | staff | import
    enrolled_at: datetime
    # What they agreed to, as last recorded: taking part, the wording version, when and on which channel.
    consent_participate: bool = False
    consent_version: str | None = None
    consent_at: datetime | None = None
    consent_channel: str | None = None


@dataclass(frozen=True)
class ConsentWording:
    """The words a person was asked to agree to, for one organisation: `version` as recorded; `texts` the
    consent and quote questions in the person's language when that version's wording is kept (the current
    one, in surveys/messages.py), else None (the page says it is not kept; nothing is invented)."""
    organisation_code: str
    version: str
    language: str
    texts: tuple[str, str] | None


@dataclass(frozen=True)
class ParticipantRow:
    id: int
    pseudonym: str
    channel: str
    language: str
    opted_out: bool
    unreachable: bool
    unreachable_reason: str | None
    address: str | None          # None when the scope may not see it (or it was dropped on refusal)
    address_shown: bool          # False: the scope may not see contact details; the page says "hidden"
    memberships: tuple[Membership, ...]
    created_at: datetime

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(sorted({t for e in self.memberships for t in e.tags}))

    @property
    def organisations(self) -> tuple[str, ...]:
        return tuple(e.organisation_code for e in self.memberships)


@dataclass(frozen=True)
class ParticipantPage:
    rows: list[ParticipantRow]
    total: int                   # participants matching the filter (all pages)
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class ConsentChange:
    organisation_code: str
    status: str
    participate: bool
    quote: bool
    version: str | None
    channel: str | None          # the channel the answer came by; None for the enrolment itself
    at: datetime
    what: str                    # "enrolled (staff)", "consent given", ...


@dataclass(frozen=True)
class ParticipantDetail:
    participant: ParticipantRow
    consent_history: list[ConsentChange]     # oldest first
    answers: int                             # answers stored (in the scope's organisations)
    open_flags: int
    wordings: tuple[ConsentWording, ...] = ()  # one per enrolment with a recorded consent version
    other_organisations: int = 0             # enrolments outside the scope (their full copy is then not ours)


def _require_rows(scope: Scope, what: str) -> None:
    scope.require(scope.sees_rows, what)


def _org_ids(conn, scope: Scope, org_code: str | None) -> list[int] | None:
    """The organisation ids to search in: the scope's (None: every one, for admin), narrowed to `org_code`."""
    if org_code is not None:
        org_id = conn.execute(select(O.c.id).where(O.c.code_key == org_code.strip().casefold())).scalar()
        if org_id is None:
            raise admin.unknown("organisation with join code", org_code, conn.execute(select(O.c.code)).scalars())
        if not scope.covers(org_id):
            raise Forbidden(f"organisation {org_code!r} is not one of yours")
        return [org_id]
    return None if scope.all_organisations else sorted(scope.organisation_ids)


def _check(f: ParticipantFilter) -> None:
    if f.consent is not None and f.consent not in CONSENT_STATUSES:
        raise ParticipantError(f"consent {f.consent!r}: one of {', '.join(CONSENT_STATUSES)}")
    if f.page < 1 or not 1 <= f.page_size <= MAX_PAGE_SIZE:
        raise ParticipantError(f"page from 1, page size from 1 to {MAX_PAGE_SIZE}")


def search_participants(db: Store, scope: Scope, f: ParticipantFilter) -> ParticipantPage:
    """Participants of the scope's organisations matching `f`, ordered by id, one page of them, with the total.
    Staff and admin only (a safeguarding lead reaches a person through their flag; governance sees no one)."""
    _require_rows(scope, "see participants")
    _check(f)
    with db.read() as conn:
        org_ids = _org_ids(conn, scope, f.org)
        cond = []
        if org_ids is not None:
            cond.append(E.c.organisation_id.in_(org_ids))
        if f.consent:
            cond.append(E.c.consent_status == f.consent)
        if f.channel:
            cond.append(C.c.channel == f.channel.strip().lower())
        if f.language:
            cond.append(func.lower(C.c.language) == f.language.strip().lower())
        if f.opted_out is not None:
            cond.append(C.c.opted_out_at.is_not(None) if f.opted_out else C.c.opted_out_at.is_(None))
        if f.unreachable is not None:
            cond.append(C.c.unreachable_at.is_not(None) if f.unreachable else C.c.unreachable_at.is_(None))
        rows = conn.execute(select(C.c.id, C.c.address, E.c.tags).select_from(C.join(E, E.c.contact_id == C.c.id))
                            .where(*cond).order_by(C.c.id)).all()
    # Tags are JSON lists and the text query matches pseudonyms (computed, not stored): both are filtered here,
    # on ids and a few columns only, before the page is loaded.
    tag = (f.tag or "").strip().casefold() or None
    query = (f.query or "").strip().casefold() or None
    ids: list[int] = []
    for contact_id, address, tags in rows:
        if ids and ids[-1] == contact_id:
            continue
        if tag is not None and tag not in {str(t).casefold() for t in tags or ()}:
            continue
        if query is not None and not _matches(db, scope, query, contact_id, address, tags):
            continue
        ids.append(contact_id)
    page = ids[(f.page - 1) * f.page_size: f.page * f.page_size]
    return ParticipantPage(_rows(db, scope, page), len(ids), f.page, f.page_size)


def _matches(db: Store, scope: Scope, query: str, contact_id: int, address: str | None, tags) -> bool:
    if query.startswith("p-"):
        return db.pseudonym(contact_id).casefold() == query
    if any(query in str(t).casefold() for t in tags or ()):
        return True
    if scope.sees_contact_details and address:
        digits = "".join(ch for ch in query if ch.isdigit())
        return query in address.casefold() or (len(digits) >= 4 and digits in address)
    return False


def _rows(db: Store, scope: Scope, ids: list[int]) -> list[ParticipantRow]:
    if not ids:
        return []
    with db.read() as conn:
        contacts = {r.id: r for r in conn.execute(select(C).where(C.c.id.in_(ids)))}
        enrolments = conn.execute(
            select(E, O.c.code, O.c.name).select_from(E.join(O, O.c.id == E.c.organisation_id))
            .where(E.c.contact_id.in_(ids)).order_by(E.c.id)).all()
    by_contact: dict[int, list[Membership]] = {}
    for e in enrolments:
        if scope.covers(e.organisation_id):
            by_contact.setdefault(e.contact_id, []).append(Membership(
                e.organisation_id, e.code, e.name, e.consent_status, bool(e.consent_quote),
                tuple(sorted(str(t) for t in e.tags or ())), e.source, e.created_at, bool(e.consent_participate),
                e.consent_version, e.consent_at, e.consent_channel))
    out = []
    for i in ids:
        c, mine = contacts[i], tuple(by_contact.get(i, ()))
        shown = scope.sees_contact_details and bool(mine)
        out.append(ParticipantRow(c.id, db.pseudonym(c.id), c.channel, c.language, c.opted_out_at is not None,
                                  c.unreachable_at is not None, c.unreachable_reason,
                                  c.address if shown else None, shown, mine, c.created_at))
    return out


def _require_participant(db: Store, scope: Scope, contact_id: int) -> ParticipantRow:
    rows = _rows(db, scope, [contact_id]) if _exists(db, contact_id) else []
    if not rows:
        raise ParticipantError(f"no participant {contact_id}")
    if not rows[0].memberships:
        raise Forbidden("this participant is not enrolled in any of your organisations")
    return rows[0]


def _exists(db: Store, contact_id: int) -> bool:
    with db.read() as conn:
        return conn.execute(select(C.c.id).where(C.c.id == contact_id)).first() is not None


_WHAT = {"given": "consent given", "declined": "consent declined", "withdrawn": "consent withdrawn",
         "pending": "consent pending"}


def participant_detail(db: Store, scope: Scope, contact_id: int) -> ParticipantDetail:
    """One participant: their row, the consent history of their enrolments in the scope's organisations (the
    enrolment, then every change as recorded by the conversation, oldest first), and how many answers and open
    flags they have there."""
    _require_rows(scope, "see participants")
    row = _require_participant(db, scope, contact_id)
    orgs = {e.organisation_id: e for e in row.memberships}
    with db.read() as conn:
        events = conn.execute(
            select(CE, E.c.organisation_id).select_from(CE.join(E, E.c.id == CE.c.enrolment_id))
            .where(E.c.contact_id == contact_id, E.c.organisation_id.in_(list(orgs))).order_by(CE.c.at, CE.c.id)).all()
        answers = conn.execute(select(func.count()).select_from(A).where(
            A.c.contact_id == contact_id, A.c.organisation_id.in_(list(orgs)))).scalar_one()
        flags = conn.execute(select(func.count()).select_from(F.join(A, A.c.id == F.c.answer_id)).where(
            A.c.contact_id == contact_id, F.c.organisation_id.in_(list(orgs)), F.c.status == "open")).scalar_one()
        elsewhere = conn.execute(select(func.count()).select_from(E).where(
            E.c.contact_id == contact_id, E.c.organisation_id.not_in(list(orgs)))).scalar_one()
    history = [ConsentChange(e.organisation_code, "pending", False, False, None, None, e.enrolled_at,
                             f"enrolled ({e.source})") for e in row.memberships]
    for ev in events:
        history.append(ConsentChange(orgs[ev.organisation_id].organisation_code, ev.status, bool(ev.participate),
                                     bool(ev.quote), ev.version, ev.channel, ev.at,
                                     _WHAT.get(ev.status, ev.status) + (", may be quoted" if ev.quote else "")))
    history.sort(key=lambda h: h.at)
    # Every version they were asked with, per organisation: the one in force, then any earlier ones.
    names = {e.organisation_code: e.organisation_name for e in row.memberships}
    versions = [(e.organisation_code, e.consent_version) for e in row.memberships]
    versions += [(h.organisation_code, h.version) for h in reversed(history)]
    wordings = tuple(ConsentWording(code, version, row.language,
                                    messages.consent_wording(version, row.language, names[code]))
                     for code, version in dict.fromkeys(versions) if version)
    return ParticipantDetail(row, history, int(answers), int(flags), wordings, int(elsewhere))


# ---- import -------------------------------------------------------------------------------------------------
def _import_orgs(scope: Scope) -> frozenset[int] | None:
    _require_rows(scope, "import participants")
    return None if scope.all_organisations else scope.organisation_ids


def preview_import(db: Store, scope: Scope, text: str, now: datetime) -> ImportReport:
    """What importing `text` would do, with every bad row explained (line, column, reason), and nothing
    written: `surveys.admin.import_participants` itself, in a transaction that is always rolled back."""
    return admin.import_participants(db, text, now, organisation_ids=_import_orgs(scope), preview=True)


def import_participants(db: Store, scope: Scope, text: str, now: datetime,
                        progress: Callable[[int], None] | None = None, source: str | None = None) -> ImportReport:
    """Import `text` (all or nothing; see `surveys.admin.import_participants`), only into the scope's
    organisations. A written import leaves an audit entry 'participants.import' with its counts (no row of the
    file); `source` is where the request came from (the console passes the client's address)."""
    report = admin.import_participants(db, text, now, progress, organisation_ids=_import_orgs(scope))
    if report.written:
        with db.session() as s:
            audit.record_as(s, scope, now, "participants.import", object_type="participant", source=source,
                            detail=f"created {report.created}, updated {report.updated}, "
                                   f"unchanged {report.unchanged}")
    return report


def add_participant(db: Store, scope: Scope, channel: str, address: str, org_code: str, now: datetime,
                    language: str | None = None, tags: tuple[str, ...] = ()) -> ParticipantRow:
    """Enrol one person on staff's word (consent pending, asked before their first survey), in one of the
    scope's organisations."""
    _require_rows(scope, "add participants")
    org = admin.find_organisation(db, org_code)
    if not scope.covers(org.id):
        raise Forbidden(f"organisation {org_code!r} is not one of yours")
    contact_id = admin.add_participant(db, channel, address, org.code, now, language, tags)
    return _rows(db, scope, [contact_id])[0]


# ---- the whole person: erasure, their own data -----------------------------------------------------------------
def require_whole_person(db: Store, scope: Scope, contact_id: int, what: str, refusal: str) -> ParticipantRow:
    """The participant, for an operation on the whole person across organisations (erasure, their copy of their
    data): staff and admin only, and only a scope that covers every organisation they are enrolled in (admin
    always); otherwise Forbidden(`refusal`). ParticipantError when there is no such participant."""
    _require_rows(scope, what)
    row = _require_participant(db, scope, contact_id)
    with db.read() as conn:
        all_orgs = set(conn.execute(select(E.c.organisation_id).where(E.c.contact_id == contact_id)).scalars())
    if not all(scope.covers(o) for o in all_orgs):
        raise Forbidden(refusal)
    return row


# ---- erasure ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Erased:
    pseudonym: str
    organisations: tuple[str, ...]
    erasure_id: int                 # the tombstone (E-<id> in the receipt)
    receipt: str                    # queued | not sent: <why>


REQUEST_MAX = 200


def _check_request(request: str | None, address: str | None) -> str | None:
    """The request reference is a pointer ("email of 3 Dec", a ticket number), kept for good on the tombstone:
    never the person's number or chat id."""
    request = " ".join((request or "").split()) or None
    if request is None:
        return None
    if len(request) > REQUEST_MAX:
        raise RequestProblem(f"request: at most {REQUEST_MAX} characters")
    digits = "".join(ch for ch in (address or "") if ch.isdigit())
    typed = "".join(ch for ch in request if ch.isdigit())
    if address and (address.casefold() in request.casefold() or (len(digits) >= 6 and digits[-6:] in typed)):
        raise RequestProblem("request: say which request it was (e.g. 'email of 3 Dec'), not the person's "
                               "number or chat id: it is kept after the erasure")
    return request


def erase_participant(db: Store, scope: Scope, contact_id: int, now: datetime, source: str | None = None,
                      request: str | None = None) -> Erased:
    """Erase a person and everything they said (`surveys.erasure.erase_in`, as their own DELETE does) and send
    them a receipt. Erasure is of the whole person, across organisations, so a scope may do it only when it
    covers every organisation they are enrolled in (admin always). `request`: which request it answers (kept
    on the tombstone with who did it). The audit entry 'participant.erase' names the tombstone, not the
    person, and commits in the same transaction."""
    from surveys.erasure import erase_in

    row = require_whole_person(db, scope, contact_id, "erase participants",
                               "this person is enrolled in other organisations too: ask a backbone admin to erase them")
    with db.read() as conn:
        address = conn.execute(select(C.c.address).where(C.c.id == contact_id)).scalar()
    request = _check_request(request, address)
    with db.session() as s:
        erasure_id = erase_in(db, s.connection(), contact_id, now, by=scope.actor, request=request, receipt=True)
        if erasure_id is None:
            raise ParticipantError(f"no participant {contact_id}")
        receipt = s.connection().execute(select(m.Erasure.receipt).where(m.Erasure.id == erasure_id)).scalar()
        audit.record_as(s, scope, now, "participant.erase", object_type="erasure", object_id=erasure_id,
                        source=source, detail=f"organisations: {', '.join(row.organisations)}")
    return Erased(row.pseudonym, row.organisations, erasure_id, receipt or "")


@dataclass(frozen=True)
class Tombstone:
    id: int
    at: datetime
    channel: str
    by: str
    request: str | None
    removed: dict
    receipt: str                    # in words: what became of the receipt, or why none was sent


_RECEIPT_OUTCOME = {"sent": "sent", "queued": "sent", "delivered": "delivered", "read": "delivered",
                    "failed": "could not be sent", "undelivered": "could not be delivered",
                    "cancelled": "cancelled", "unknown": "outcome unknown", "pending": "waiting to be sent",
                    "retry": "waiting to be sent (retrying)", "claimed": "being sent", "sending": "being sent"}


def list_erasures(db: Store, scope: Scope, limit: int = 200) -> list[Tombstone]:
    """Every erasure's tombstone, newest first (admins only): when, by whom, on what request, what was removed,
    and what became of the receipt."""
    scope.require(scope.role == "admin", "see erasures")
    ER, M = m.Erasure.__table__, m.Message.__table__
    with db.read() as conn:
        rows = conn.execute(select(ER, M.c.status.label("receipt_status"))
                            .select_from(ER.outerjoin(M, M.c.id == ER.c.receipt_message_id))
                            .order_by(ER.c.at.desc(), ER.c.id.desc()).limit(max(1, min(limit, 1000)))).all()
    out = []
    for r in rows:
        receipt = r.receipt or "not recorded"
        if receipt == "queued":
            receipt = _RECEIPT_OUTCOME.get(r.receipt_status or "", "queued (what became of it is no longer recorded)")
        elif receipt == "replied":
            receipt = "answered at once (their DELETE)"
        out.append(Tombstone(r.id, r.at, r.channel, r.by or "(not recorded)", r.request, dict(r.removed or {}),
                             receipt))
    return out


__all__ = ["ParticipantFilter", "ParticipantRow", "ParticipantPage", "ParticipantDetail", "ConsentChange",
           "Membership", "ConsentWording", "Erased", "ParticipantError", "RequestProblem", "search_participants",
           "participant_detail", "preview_import", "import_participants", "add_participant", "erase_participant",
           "require_whole_person", "Tombstone", "list_erasures"]
