"""The service functions the channel adapters call.

`handle_inbound` runs in one write transaction: find the contact (or run enrolment), load the session,
run the engine, store what happened, return the replies. The same (channel, external_id) again returns
the stored replies and stores nothing new; a concurrent duplicate loses on the unique constraint and gets
the same answer. The hot path uses Core statements, not the ORM: it runs for every message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from surveys import contacts, engine, erasure, flags, messages, mydata, outbox
from surveys import models as m
from surveys.addresses import InvalidAddress, normalise_address
from surveys.contacts import LoadedContact, conversation_state, load_by_hash, load_by_id, save_state
from surveys.conversations import ServiceError, end_conversation, insert_conversation, start_in
from surveys.engine import ConversationView, Inbound, OutgoingMessage, ConversationState, Step
from surveys.outgoing import insert_replies
from surveys.parsing import clean, match_keyword
from surveys.store import Store

_DATA_RIGHTS = ("STOP", "START", "HELP", "DELETE", "LANGUAGE", "MYDATA")
STRANGER_REPLY_INTERVAL = timedelta(hours=24)  # one explanation a day to an unknown sender, not one per message

C, E, O, V, CV, M, A = (
    m.Contact.__table__, m.Enrolment.__table__, m.Organisation.__table__, m.SurveyVersion.__table__,
    m.Conversation.__table__, m.Message.__table__, m.Answer.__table__,
)


@dataclass(frozen=True)
class InboundMessage:
    """What an adapter hands the core. `external_id` must be unique across the whole channel (Telegram
    message ids repeat between chats; edits and button presses need ids of their own)."""

    channel: str
    address: str
    external_id: str
    text: str = ""
    kind: str = "text"  # text | media | button | edit
    to: str | None = None
    ref: str | None = None  # for a button press: what it answers (a question key, 'consent', ...)
    received_at: datetime | None = None
    # Small channel details. `provider_replied`: the provider has already answered this message itself.
    extras: dict = field(default_factory=dict)


@dataclass
class Handled:
    replies: list[OutgoingMessage]
    duplicate: bool = False
    contact_id: int | None = None
    # Why the message changed nothing, when it did not (e.g. 'stale button', 'opted out'); adapters use it
    # to answer a button press politely instead of acting on it.
    ignored: str | None = None


__all__ = ["InboundMessage", "Handled", "ServiceError", "handle_inbound", "parse_join", "start_conversation",
           "start_in", "pending_prompts", "set_reachable", "tag_context"]


# ---- inbound ---------------------------------------------------------------------------------------
def handle_inbound(db: Store, msg: InboundMessage, now: datetime) -> Handled:
    try:
        with db.write() as conn:
            known = _known_message(db, conn, msg)
            if known is not None:
                return Handled(_stored_replies(db, conn, known), duplicate=True)
            handled = _handle(db, conn, msg, now)
            if msg.extras.get("provider_replied"):
                # The provider already answered (Twilio's own STOP/START/HELP handling) and would refuse
                # a second reply: record what happened, keep our replies as 'suppressed', send nothing.
                db.hot.execute(conn, "suppress_replies", _ids(db, msg))
                handled.replies = []
            return handled
    except (IntegrityError, db.dbapi_integrity_error):
        # A concurrent delivery of the same message committed first: answer as it did.
        with db.read() as conn:
            known = _known_message(db, conn, msg)
            if known is None:
                raise
            return Handled(_stored_replies(db, conn, known), duplicate=True)


def _ids(db: Store, msg: InboundMessage) -> dict:
    """The message's provider id, and what it became if its sender was erased since (a redelivery is still
    recognised: see surveys.erasure.erased_external_id)."""
    return {"channel": msg.channel, "external_id": msg.external_id,
            "erased_id": erasure.erased_external_id(db, msg.channel, msg.external_id)}


def _known_message(db: Store, conn: Connection, msg: InboundMessage) -> int | None:
    rows = db.hot.fetchall(conn, "known", _ids(db, msg))
    return rows[0][0] if rows else None


def _stored_replies(db: Store, conn: Connection, message_id: int) -> list[OutgoingMessage]:
    rows = db.hot.fetchall(conn, "replies", {"message_id": message_id})
    return [OutgoingMessage.from_row(text or "", db.hot.json_out(payload)) for text, payload in rows]


_JOIN = re.compile(r"^\s*/?join\b[\s:#-]*(\S*)\s*$", re.IGNORECASE)
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def parse_join(text: str) -> str | None:
    """'' for a bare JOIN, the code for `JOIN code`, None when the message is not a JOIN."""
    if len(text) > 80:
        return None
    found = _JOIN.match(text)
    return None if found is None else found.group(1).strip(".!")


def _handle(db: Store, conn: Connection, msg: InboundMessage, now: datetime) -> Handled:
    text = clean(msg.text or "")
    try:
        address = normalise_address(msg.channel, msg.address, db.settings.sms_default_region)
    except InvalidAddress:
        # Nobody can be enrolled at an address we cannot read (or text back): say so, keep only the id.
        h = db.address_hash(msg.channel, msg.address or "")
        return _stranger(db, conn, msg, now, h, None, reply="bad_address")
    h = db.address_hash(msg.channel, address)
    contact = load_by_hash(db, conn, msg.channel, h)
    code = parse_join(text) if msg.kind == "text" else None
    if code == "" and contact is not None and (contact.consented or contact.opted_out_at is not None):
        text = "START"  # a bare JOIN (Telegram's bare /start) from someone already taking part: as START
    elif code is not None:
        return _join(db, conn, msg, now, address, h, contact, code)
    if contact is None:
        return _stranger(db, conn, msg, now, h, address)
    if contact.unreachable_at is not None:
        # They wrote to us, so we can reach them again (an unblocked bot, a number back in service).
        contacts.record_reachability(conn, C.c.id == contact.id, True, None, now)
    if contact.address is None and contact.consented:
        # Retention removed the address of someone who had gone quiet (surveys/retention.py); they wrote to us
        # and still take part, so we keep it again. (A refusal everywhere leaves no consent: never restored.)
        contacts.save_contact(db, conn, contacts.StoredContact(contact.id, None, contact.language),
                              channel=msg.channel, address=address, address_hash=h, language=None,
                              default_language=contact.language, now=now, lift_opt_out=False)
    if msg.kind == "edit":
        return _edit(db, conn, msg, now, contact, text)

    pending = (contact.state or {}).get("pending")
    if not contact.consented and not pending and contact.opted_out_at is None and msg.kind == "text" \
            and match_keyword(text, messages.KEYWORD_ALIASES.get(contact.language)) not in _DATA_RIGHTS:
        # Declined everywhere: like a stranger, except that the keywords about their data still work.
        return _stranger(db, conn, msg, now, h, address, contact_id=contact.id, language=contact.language)

    session = conversation_state(db, conn, contact)
    st = engine.step(session, Inbound(text, msg.kind, msg.ref), now)
    return _persist(db, conn, msg, now, contact, session, st, text)


INVITATION_LINK_WINDOW = timedelta(days=7)  # an invitation answered with consent later than this is a new start


# ---- storing a step --------------------------------------------------------------------------------
def _persist(db: Store, conn: Connection, msg: InboundMessage, now: datetime, contact: LoadedContact, before: ConversationState,
             st: Step, text: str) -> Handled:
    after = st.session
    consented = contact.consented
    erased = any(isinstance(e, engine.ErasureConfirmed) for e in st.events)
    keep_text = st.keep_text and consented and not erased
    conv_id = before.conversation.id if before.conversation is not None else None
    inbound_id = _insert_inbound(db, conn, msg, now, None if erased else contact.id, None,
                                 text if keep_text else None, "received" if keep_text else "ignored",
                                 None if erased else conv_id)
    if erased:
        # Their reply ('delete_done') is their receipt: stored below, it holds no detail of theirs.
        erasure.erase_in(db, conn, contact.id, now, by=erasure.BY_THE_PERSON, message_ids=(inbound_id,))
        insert_replies(db, conn, msg.channel, st.replies, inbound_id, None, None, now)
        return Handled(st.replies)

    alerted: list[int] = []  # per flag raised by this message: how many safeguarding contacts were alerted
    for ev in st.events:
        if not consented and isinstance(ev, (engine.AnswerRecorded, engine.CommentReceived)):
            continue  # consent before data (the engine asks for consent before any question)
        if isinstance(ev, engine.AnswerRecorded):
            alerted += _insert_answer(db, conn, contact, before.conversation, conv_id, inbound_id, ev.question,
                                      ev.question_type, ev.status, ev.raw, ev.value, after.language, now)
        elif isinstance(ev, engine.CommentReceived):
            late = ev.late and before.conversation is not None
            enrolment = None if late else (before.default_enrolment or (None,))[0]
            alerted += _insert_answer(db, conn, contact, before.conversation if late else None,
                                      conv_id if late else None, inbound_id, ev.question, None,
                                      "late" if late else "comment", ev.raw, None, after.language, now,
                                      enrolment=enrolment)
            if not late:
                _link_loop_reply(conn, contact.id, inbound_id, now)
        elif isinstance(ev, engine.ConversationStarted):
            conv_id = insert_conversation(db, conn, contact.id, after, now)
            nc = after.conversation
            db.hot.execute(conn, "link_invitation", {
                "conv_id": conv_id, "contact_id": contact.id, "enrolment_id": nc.enrolment,
                "version_id": nc.version_id, "since": db.hot.time_in(now - INVITATION_LINK_WINDOW)})
        elif isinstance(ev, engine.ConversationEnded):
            end_conversation(db, conn, conv_id, ev.status, now)
        elif isinstance(ev, engine.ConsentAnswered):
            _record_consent(db, conn, ev, msg.channel, now)
            consented = consented or bool(ev.participate)
        elif isinstance(ev, engine.OptedOut):
            contacts.record_opt_out(conn, contact.id, now, renew=True)
        elif isinstance(ev, engine.OptedIn):
            contacts.record_opt_in(conn, contact.id)

    _save_conversation(db, conn, before, after, conv_id, now)
    save_state(db, conn, contact, before, after)
    support = _safeguarding_reply(db, before, after.language, watched=all(alerted)) if alerted else None
    replies = [support, *st.replies] if support is not None else list(st.replies)
    if any(isinstance(e, engine.DataRequested) for e in st.events):
        replies = _send_copy(db, conn, msg, contact, after.language, now) + replies
    insert_replies(db, conn, msg.channel, replies, inbound_id, contact.id,
                    conv_id if after.conversation is not None else None, now)
    ignored = next((e.reason for e in st.events if isinstance(e, engine.Ignored)), None)
    return Handled(replies, contact_id=contact.id, ignored=ignored)


def _send_copy(db: Store, conn, msg: InboundMessage, contact: LoadedContact, language: str,
               now: datetime) -> list[OutgoingMessage]:
    """MYDATA: their readable copy, in messages of a bounded size (surveys.mydata), through the outbox to their
    own channel (purpose 'mydata', sent after an opt-out too: the right of access outlives STOP), and the reply
    that says how many messages are coming. When their address was dropped (they declined everywhere) there is
    nowhere to queue it: the copy goes as direct replies to this message, and the address is not stored again.
    One copy a day (mydata.KEYWORD_INTERVAL)."""
    if mydata.recently_sent(conn, contact.id, now):
        return [OutgoingMessage(messages.text(language, "mydata_recent"))]
    parts = mydata.copy_messages(db, conn, contact.id, language, now, msg.channel)
    if contact.address is None:
        return [OutgoingMessage(messages.text(language, "mydata_here", count=len(parts))),
                *(OutgoingMessage(p) for p in parts)]
    for part in parts:
        outbox.queue(db, contact.channel, OutgoingMessage(part), now, contact_id=contact.id, purpose="mydata",
                     conn=conn)
    if len(parts) == 1:
        return [OutgoingMessage(messages.text(language, "mydata_coming_one"))]
    return [OutgoingMessage(messages.text(language, "mydata_coming", count=len(parts)))]


def _safeguarding_reply(db: Store, before: ConversationState, language: str, watched: bool) -> OutgoingMessage | None:
    """Said at once to someone whose answer raised a safeguarding flag: that a person will read it (only when
    `watched`: a safeguarding contact was alerted; otherwise that messages are not read straight away), and
    where help is now. SAFEGUARDING_REPLY: 'default' (Chorus's words, en/es), 'off', or the deployment's own
    text (with {org})."""
    setting = (db.settings.safeguarding_reply or "default").strip()
    if setting.lower() == "off":
        return None
    org = before.conversation.org_name if before.conversation is not None else (
        before.default_enrolment[1] if before.default_enrolment else "the team")
    if setting.lower() == "default":
        key = "safeguarding_reply" if watched else "safeguarding_reply_unwatched"
        return OutgoingMessage(messages.text(language, key, org=org))
    return OutgoingMessage(setting.replace("{org}", org))


def _insert_inbound(db: Store, conn, msg: InboundMessage, now, contact_id, address_hash, text, status, conv_id) -> int:
    return db.hot.execute(conn, "insert_message", dict(
        channel=msg.channel, direction="in", external_id=msg.external_id, contact_id=contact_id,
        address_hash=address_hash, conversation_id=conv_id, in_reply_to_id=None, kind=msg.kind, text=text,
        payload=None, status=status, error_code=None, created_at=db.hot.time_in(msg.received_at or now),
    ))


def _insert_answer(db: Store, conn, contact: LoadedContact, conv: ConversationView | None, conv_id, message_id, question,
                   qtype, status, raw, value, language, now, enrolment=None) -> list[int]:
    """Store one answer (tagged when a tagger is set). When it raised a safeguarding flag: a one-item list
    with the number of safeguarding contacts alerted; otherwise an empty list."""
    survey = conv.survey if conv else None
    num, txt = _answer_values(value)
    enrolment_id = conv.enrolment if conv else enrolment
    organisation_id = contact.organisation_of(enrolment_id)
    tags = None
    if db.tagger is not None and raw:
        tags = db.tagger.tag(raw, language, tag_context(db, conn, survey, conv_id, question, qtype, status, language))
    answer_id = db.hot.execute(conn, "insert_answer", dict(
        conversation_id=conv_id, contact_id=contact.id, enrolment_id=enrolment_id,
        organisation_id=organisation_id, survey_id=survey.id if survey else None,
        survey_version_id=conv.version_id if conv else None, message_id=message_id, question_key=question,
        question_type=qtype, status=status, raw_text=raw, value_num=num, value_text=txt, language=language,
        answered_at=db.hot.time_in(now), tags=db.hot.json_in(tags),
    ))
    if tags and tags.get("flag"):
        _, n_alerted = flags.raise_flag(db, conn, answer_id, organisation_id, survey.id if survey else None,
                                        tags["flag"], now)
        return [n_alerted]
    return []


# A comment this soon after a "you said, we did" message is a reply to it, stored on the action.
LOOP_REPLY_WINDOW = timedelta(days=14)
LM, AR = m.LoopMessage.__table__, m.ActionReply.__table__


def _link_loop_reply(conn, contact_id: int, inbound_id: int, now: datetime) -> None:
    """Link the comment just stored from `inbound_id` to the action of the person's latest "you said, we did"
    message, when that message went out within LOOP_REPLY_WINDOW (a comment, not a survey answer: nothing
    else was open)."""
    action_id = conn.execute(
        select(LM.c.action_id).join(M, M.c.id == LM.c.message_id)
        .where(LM.c.contact_id == contact_id, M.c.sent_at.is_not(None), M.c.sent_at > now - LOOP_REPLY_WINDOW)
        .order_by(M.c.sent_at.desc()).limit(1)).scalar()
    if action_id is None:
        return
    answer_id = conn.execute(select(A.c.id).where(A.c.message_id == inbound_id, A.c.status == "comment")
                             .order_by(A.c.id.desc()).limit(1)).scalar()
    if answer_id is not None:
        conn.execute(insert(AR).values(action_id=action_id, answer_id=answer_id))


def tag_context(db: Store, conn, survey, conv_id, question, qtype, status, language) -> dict:
    """What the tagger may use beside the text: whether it is free text (sentiment is only for free text;
    safeguarding reads every answer), the question asked, and the conversation's numeric answers so far,
    each as a fraction 0..1 of its scale (yes = 1, no = 0)."""
    ctx: dict = {"question": question, "survey": survey.id if survey else None,
                 "free_text": qtype in (None, "text") or status == "unparsed"}
    if survey is None or not ctx["free_text"]:
        return ctx
    try:
        q = survey.question(question) if question else None
    except KeyError:
        q = None
    if q is not None:
        prompt = q.prompt.get(language) or next(iter(q.prompt.values()), "")
        ctx["question_text"] = prompt
    if conv_id is not None:
        scores = {}
        for key, kind, value in db.hot.fetchall(conn, "conversation_numbers", {"conv_id": conv_id}):
            fraction = _fraction(survey, key, kind, value)
            if fraction is not None:
                scores[key] = fraction
        ctx["scores"] = scores
    return ctx


def _fraction(survey, key: str, kind: str, value: float) -> float | None:
    if kind == "yesno":
        return 1.0 if value else 0.0
    if kind not in ("scale", "nps"):
        return None
    try:
        q = survey.question(key)
    except KeyError:
        return None
    if q.min is None or q.max is None or q.max <= q.min:
        return None
    return max(0.0, min(1.0, (value - q.min) / (q.max - q.min)))


def _save_conversation(db: Store, conn, before: ConversationState, after: ConversationState, conv_id, now) -> None:
    conv = after.conversation
    if conv is None or conv_id is None or (conv == before.conversation and before.language == after.language):
        return
    db.hot.execute(conn, "update_conversation", {"conv_id": conv_id, "question": conv.question, "attempts": conv.attempts,
                                                 "now": db.hot.time_in(now), "language": after.language})


def _record_consent(db: Store, conn, ev: engine.ConsentAnswered, channel: str, now: datetime) -> None:
    """Update the enrolment's consent and append the change to its history."""
    rows = db.hot.fetchall(conn, "enrolment_consent", {"enrolment_id": ev.enrolment})
    if not rows:
        return
    old_status, old_participate, old_quote, contact_id = rows[0]
    participate = bool(old_participate) if ev.participate is None else ev.participate
    quote = bool(old_quote) if ev.quote is None else (ev.quote and participate)
    if ev.participate is False:
        status = "withdrawn" if old_status == "given" else "declined"
        quote = False
    elif participate:
        status = "given"
    else:
        status = old_status
    values = {"enrolment_id": ev.enrolment, "status": status, "participate": participate, "quote": quote,
              "version": messages.CONSENT_VERSION, "at": db.hot.time_in(now), "channel": channel}
    db.hot.execute(conn, "update_consent", values)
    db.hot.execute(conn, "insert_consent_event", values)
    if status in ("declined", "withdrawn"):
        _forget_address_if_unconsented(conn, contact_id)


def _forget_address_if_unconsented(conn, contact_id: int) -> None:
    """Declining keeps only the refusal: with no consent left anywhere, drop the address itself (the keyed
    hash stays, so a later JOIN finds the same contact and its refusal history)."""
    still = conn.execute(
        select(E.c.id).where(E.c.contact_id == contact_id, E.c.consent_status == "given").limit(1)
    ).first()
    if still is None:
        conn.execute(update(C).where(C.c.id == contact_id).values(address=None))


def erase_contact(db: Store, contact_id: int, now: datetime, *, by: str, request: str | None = None) -> int | None:
    """Erase a person at staff's hand (on the person's request): what a confirmed DELETE from the person does
    (`surveys.erasure.erase_in`), plus a receipt sent to them, in one write transaction. Returns the
    tombstone's id; None when there is no such contact (already erased)."""
    with db.write() as conn:
        return erasure.erase_in(db, conn, contact_id, now, by=by, request=request, receipt=True)


# ---- edits -----------------------------------------------------------------------------------------
def _edit(db: Store, conn, msg: InboundMessage, now: datetime, contact: LoadedContact, text: str) -> Handled:
    """An edited message (`ref` is the original's external id). It corrects the answer that message gave
    while that answer is still the conversation's latest; it is a fresh try when the original was not
    understood and the question is still being asked; anything else is kept as a comment."""
    session = conversation_state(db, conn, contact)
    original = conn.execute(select(M.c.id).where(M.c.channel == msg.channel, M.c.external_id == msg.ref,
                                                 M.c.contact_id == contact.id)).scalar() if msg.ref else None
    conv = session.conversation
    answer = None
    if original is not None:
        answer = conn.execute(select(A.c.id, A.c.question_key, A.c.conversation_id).where(A.c.message_id == original)
                              .order_by(A.c.id.desc()).limit(1)).first()
    if conv is not None and answer is not None and answer.conversation_id == conv.id:
        latest = conn.execute(select(func.max(A.c.id)).where(A.c.conversation_id == conv.id)).scalar()
        q = conv.survey.question(answer.question_key)
        value = engine.read_answer(q, text, (session.language, *conv.survey.languages))
        if latest == answer.id and value is not None:
            inbound_id = _insert_inbound(db, conn, msg, now, contact.id, None, text, "received", conv.id)
            num, txt = _answer_values(value)
            conn.execute(update(A).where(A.c.id == answer.id).values(
                raw_text=text, value_num=num, value_text=txt, status="answered", message_id=inbound_id))
            replies = [OutgoingMessage(messages.text(session.language, "edit_applied"))]
            insert_replies(db, conn, msg.channel, replies, inbound_id, contact.id, conv.id, now)
            return Handled(replies, contact_id=contact.id)
    last_inbound = conn.execute(select(func.max(M.c.id)).where(M.c.contact_id == contact.id, M.c.direction == "in")).scalar()
    if conv is not None and answer is None and original is not None and original == last_inbound:
        st = engine.step(session, Inbound(text, "text"), now)
        return _persist(db, conn, msg, now, contact, session, st, text)
    st = engine.Step(session, events=[engine.CommentReceived(text, late=False)])
    return _persist(db, conn, msg, now, contact, session, st, text)


def _answer_values(value) -> tuple[float | None, str | None]:
    if isinstance(value, bool):
        return (1.0 if value else 0.0), ("yes" if value else "no")
    if isinstance(value, (int, float)):
        return float(value), None
    return None, value if isinstance(value, str) else None


# ---- strangers and enrolment -----------------------------------------------------------------------
def _stranger(db: Store, conn, msg: InboundMessage, now: datetime, h: str, address: str | None,
              contact_id: int | None = None, language: str | None = None, reply: str = "join_help") -> Handled:
    """Someone we may not keep data about: keep only the external id, the time and the address hash,
    and explain how to join, at most once a day."""
    inbound_id = _insert_inbound(db, conn, msg, now, contact_id, h, None, "ignored", None)
    if db.hot.fetchall(conn, "recent_reply_to_hash", {"hash": h, "since": db.hot.time_in(now - STRANGER_REPLY_INTERVAL)}):
        return Handled([], contact_id=contact_id)
    replies = [OutgoingMessage(messages.text(language or db.settings.default_language, reply))]
    insert_replies(db, conn, msg.channel, replies, inbound_id, contact_id, None, now, address_hash=h)
    return Handled(replies, contact_id=contact_id)


@dataclass(frozen=True)
class _Org:
    id: int
    name: str
    language: str
    welcome_survey_id: str | None


def _join(db: Store, conn, msg: InboundMessage, now: datetime, address: str, h: str, contact, code: str) -> Handled:
    language = contact.language if contact is not None else db.settings.default_language
    rows = db.hot.fetchall(conn, "org_by_code", {"code": code.casefold()}) if _CODE.match(code or "") else []
    org = _Org(*rows[0]) if rows else None
    if org is None:
        key = "join_bad_code" if code else "join_help"
        inbound_id = _insert_inbound(db, conn, msg, now, contact.id if contact else None, h, None, "ignored", None)
        replies = [OutgoingMessage(messages.text(language, key, code=code.upper()))]
        insert_replies(db, conn, msg.channel, replies, inbound_id, contact.id if contact else None, None, now, address_hash=h)
        return Handled(replies, contact_id=contact.id if contact else None)

    # JOIN is an explicit request to take part: it lifts an earlier STOP and restores the address.
    existing = None if contact is None else contacts.StoredContact(contact.id, contact.address, contact.language)
    contacts.save_contact(db, conn, existing, channel=msg.channel, address=address, address_hash=h, language=None,
                          default_language=org.language, now=now, lift_opt_out=True)
    contact = load_by_hash(db, conn, msg.channel, h)
    enrolment = next((e for e in contact.enrolments if e.organisation_id == org.id), None)
    session = conversation_state(db, conn, contact)
    if enrolment is not None and enrolment.consent_status == "given":
        st = Step(session, replies=[OutgoingMessage(messages.text(session.language, "join_already", org=org.name)),
                                    *engine.reask(session)])
    else:
        if enrolment is None:
            enrolment_id = contacts.add_enrolment(db, conn, contact.id, org.id, source="join", tags=[], now=now)
        else:
            enrolment_id = enrolment.id
        then = _welcome(db, conn, org, enrolment_id) if session.conversation is None else None
        st = engine.ask_consent(session, enrolment_id, org.name, then)
    return _persist(db, conn, msg, now, contact, session, st, "")


def _welcome(db: Store, conn, org, enrolment_id: int) -> ConversationView | None:
    if not org.welcome_survey_id:
        return None
    rows = db.hot.fetchall(conn, "current_version", {"survey_id": org.welcome_survey_id})
    version_id = rows[0][0] if rows else None
    if version_id is None:
        return None
    return ConversationView(db.survey_version(conn, version_id), version_id, enrolment_id, org.name)


# ---- starting a survey -----------------------------------------------------------------------------
def start_conversation(db: Store, contact_id: int, survey_id: str, now: datetime,
                       organisation_id: int | None = None) -> list[OutgoingMessage]:
    """Invite a contact to a survey (staff, the local chat). A contact whose consent is still pending is
    asked for it first; the survey starts once it is given. Returns the messages for the caller to deliver
    (stored as 'inline'); raises ServiceError when this contact cannot be asked now."""
    with db.write() as conn:
        version_id = conn.execute(
            select(m.Survey.__table__.c.current_version_id).where(m.Survey.__table__.c.id == survey_id)
        ).scalar()
        if version_id is None:
            raise ServiceError(f"no survey {survey_id!r} is loaded")
        replies, _ = start_in(db, conn, contact_id, version_id, now, organisation_id=organisation_id)
        return replies


def pending_prompts(db: Store, contact_id: int) -> list[OutgoingMessage]:
    """What this contact was last asked and has not answered yet (to resume a conversation)."""
    with db.read() as conn:
        contact = load_by_id(db, conn, contact_id)
        return [] if contact is None else engine.reask(conversation_state(db, conn, contact))


def set_reachable(db: Store, channel: str, address: str, reachable: bool, reason: str, now: datetime) -> bool:
    """Record that an address can (no longer) be reached, e.g. a Telegram user blocked or unblocked the
    bot. Returns False when no contact has this address."""
    try:
        address = normalise_address(channel, address, db.settings.sms_default_region)
    except InvalidAddress:
        return False
    h = db.address_hash(channel, address)
    with db.write() as conn:
        return contacts.record_reachability(conn, (C.c.channel == channel) & (C.c.address_hash == h),
                                            reachable, reason, now) > 0
