"""A person's own data: everything Chorus holds about one contact, as JSON (stable keys, documented below) or
as a readable text in their language.

Three ways in, one gathering (`collect`):
- staff: `export_participant` (the CLI's `chorus participants export`, the console's "Download their data"),
  scoped like the participant page; a person's full copy goes only to a scope that covers every organisation
  they are enrolled in (like erasure), and never to governance or a safeguarding lead;
- the person: MYDATA (MISDATOS in Spanish) by message; `surveys.service` calls `copy_messages` and sends the
  text through the outbox, split into messages of at most MESSAGE_CHARS characters.
Every export leaves an audit entry 'participant.export' naming the participant by id and pseudonym: never a
contact detail or an answer's words.

What is covered: every table that refers to the person (TABLES; tests/test_mydata.py fails when a table that
refers to a contact, an enrolment, a conversation, an answer, a message, an invitation or a flag is added
without being covered here or listed in NOT_ABOUT_THEM with the reason).

JSON keys (format "chorus.mydata/1"; times are ISO 8601 in UTC):
  format, generated_at, reference (the pseudonym), not_included (what is deliberately left out, and why)
  person: channel, address (None when dropped after they declined), language, timezone, opted_out_at,
          unreachable_at, unreachable_reason, created_at, waiting_for (a question still awaiting their reply)
  enrolments[]: organisation, organisation_code, consent_status, allowed {take_part, quoted_anonymously},
          consent_version, consent_at, consent_channel, tags, source, enrolled_at,
          consent_history[] {status, take_part, quoted_anonymously, version, channel, at}
  conversations[]: id, organisation, survey_id, survey_title, survey_version, status, question, started_at,
          last_activity_at, ended_at
  answers[]: id, conversation_id, organisation, survey_id, question_key, question, your_words, value, status,
          language, answered_at, sentiment, themes (as stored with the answer: the digest counts its themes per
          week and stores none per answer, so usually empty), tags (as the machine wrote them), staff_label,
          quoted_in_digests (weeks)
  messages[]: direction, at, channel, text (None when not kept), status, purpose
  invitations[]: wave_id, survey_id, scheduled_for, status, reason, channel, language, invited_at, started_at
  flags[]: answer_id, categories, status, raised_at, closed_at, outcome, history[] {what, at}
  you_said_we_did[]: action_id, you_said, we_did, status, language, at (when it was queued for them)
  (answers[].reply_to_action: the action an answer replied to, when it was a reply to "you said, we did")
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, or_, select

from surveys import audit, messages
from surveys import models as m
from surveys.scope import Scope
from surveys.store import Store

FORMAT = "chorus.mydata/1"
FORMATS = ("json", "text")
# One limit for every channel (the core does not decide by a channel's name): 600 characters is under ten SMS
# segments even when one accented letter makes the message UCS-2 (67 characters a segment), and far under
# Telegram's 4,096.
MESSAGE_CHARS = 600
# A copy by message stops here (24,000 characters); the last message says where to ask for the rest.
MAX_MESSAGES = 40
# One copy by keyword a day: each can be tens of SMS, and a loop of MYDATA must not become a bill.
KEYWORD_INTERVAL = timedelta(hours=24)
KEYWORD_SOURCE = "keyword"     # the audit entry's source for a copy asked for by MYDATA

# Every table whose rows are about the person (directly or through one of their rows), as the export covers it.
TABLES = {
    "contact": "person", "enrolment": "enrolments", "consent_event": "enrolments[].consent_history",
    "conversation": "conversations", "answer": "answers", "answer_label": "answers[].staff_label",
    "digest_quote": "answers[].quoted_in_digests", "message": "messages", "invitation": "invitations",
    "flag": "flags", "flag_event": "flags[].history",
    "loop_message": "you_said_we_did", "action_reply": "answers[].reply_to_action",
}
# Tables that refer to one of those but hold nothing about the person, and why.
NOT_ABOUT_THEM = {
    "digest_delivery": "a digest's sending to staff: its messages go to staff, never to or about one person",
    "erasure": "an erasure's tombstone: it holds no identifier of anyone (only a link to the receipt message)",
}
# What a copy deliberately leaves out (label keys of LABELS; the JSON carries the English words).
NOT_INCLUDED = ("left_out_notes", "left_out_copies")

CO, EN, CE, CV, AN, AL, DQ, DA, ME, IN, WA, FL, FE, OR, SU, SV = (
    t.__table__ for t in (m.Contact, m.Enrolment, m.ConsentEvent, m.Conversation, m.Answer, m.AnswerLabel,
                          m.DigestQuote, m.DigestArchive, m.Message, m.Invitation, m.Wave, m.Flag, m.FlagEvent,
                          m.Organisation, m.Survey, m.SurveyVersion))


class NoSuchParticipant(LookupError):
    """No contact has this id (never was one, or erased)."""


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


# ---- gathering ----------------------------------------------------------------------------------------------
def collect(db: Store, conn: Connection, contact_id: int, now: datetime) -> dict:
    """Everything held about contact `contact_id`, as the JSON document described in the module docstring.
    Raises NoSuchParticipant. Reads only, inside the caller's transaction."""
    c = conn.execute(select(CO).where(CO.c.id == contact_id)).first()
    if c is None:
        raise NoSuchParticipant(contact_id)
    orgs = {r.id: r for r in conn.execute(select(OR.c.id, OR.c.name, OR.c.code))}
    enrolments = conn.execute(select(EN).where(EN.c.contact_id == contact_id).order_by(EN.c.id)).all()
    history: dict[int, list[dict]] = {}
    for ev in conn.execute(select(CE).where(CE.c.enrolment_id.in_([e.id for e in enrolments]))
                           .order_by(CE.c.at, CE.c.id)):
        history.setdefault(ev.enrolment_id, []).append({
            "status": ev.status, "take_part": bool(ev.participate), "quoted_anonymously": bool(ev.quote),
            "version": ev.version, "channel": ev.channel, "at": _iso(ev.at)})
    org_of_enrolment = {e.id: e.organisation_id for e in enrolments}

    def org_name(org_id: int | None) -> str | None:
        return orgs[org_id].name if org_id in orgs else None

    titles = dict(conn.execute(select(SU.c.id, SU.c.title)).all())
    conversations = conn.execute(
        select(CV, SV.c.survey_id, SV.c.number).select_from(CV.join(SV, SV.c.id == CV.c.survey_version_id))
        .where(CV.c.contact_id == contact_id).order_by(CV.c.started_at, CV.c.id)).all()
    answers = conn.execute(select(AN).where(AN.c.contact_id == contact_id).order_by(AN.c.answered_at, AN.c.id)).all()
    answer_ids = [a.id for a in answers]
    labels: dict[int, str] = {}
    for a_id, staff_label in conn.execute(select(AL.c.answer_id, AL.c.label).where(AL.c.answer_id.in_(answer_ids))
                                    .order_by(AL.c.id)):
        labels[a_id] = staff_label  # the latest counts
    quoted: dict[int, list[str]] = {}
    for a_id, week in conn.execute(select(DQ.c.answer_id, DA.c.week).select_from(DQ.join(DA, DA.c.id == DQ.c.archive_id))
                                   .where(DQ.c.answer_id.in_(answer_ids)).order_by(DA.c.week)):
        if week not in quoted.setdefault(a_id, []):
            quoted[a_id].append(week)
    # Their messages, and those kept from before they joined (a stranger's keep only the address hash and time).
    msgs = conn.execute(select(ME).where(or_(
        ME.c.contact_id == contact_id,
        and_(ME.c.contact_id.is_(None), ME.c.channel == c.channel, ME.c.address_hash == c.address_hash)))
        .order_by(ME.c.created_at, ME.c.id)).all()
    invitations = conn.execute(
        select(IN, WA.c.survey_id, WA.c.scheduled_for).select_from(IN.join(WA, WA.c.id == IN.c.wave_id))
        .where(IN.c.contact_id == contact_id).order_by(IN.c.created_at, IN.c.id)).all()
    LM, AR, AC = m.LoopMessage.__table__, m.ActionReply.__table__, m.Action.__table__
    told = conn.execute(select(LM.c.action_id, LM.c.language, LM.c.created_at, AC.c.heard, AC.c.doing, AC.c.status)
                        .join(AC, AC.c.id == LM.c.action_id).where(LM.c.contact_id == contact_id)
                        .order_by(LM.c.created_at, LM.c.id)).all()
    replied = dict(conn.execute(select(AR.c.answer_id, AR.c.action_id).where(AR.c.answer_id.in_(answer_ids))).all())
    flags = conn.execute(select(FL).where(FL.c.answer_id.in_(answer_ids)).order_by(FL.c.created_at, FL.c.id)).all()
    flag_events: dict[int, list[dict]] = {}
    for ev in conn.execute(select(FE.c.flag_id, FE.c.kind, FE.c.at).where(FE.c.flag_id.in_([f.id for f in flags]))
                           .order_by(FE.c.at, FE.c.id)):
        flag_events.setdefault(ev.flag_id, []).append({"what": ev.kind, "at": _iso(ev.at)})

    return {
        "format": FORMAT,
        "generated_at": _iso(now),
        "reference": db.pseudonym(contact_id),
        "not_included": [label("en", key) for key in NOT_INCLUDED],
        "person": {
            "channel": c.channel, "address": c.address, "language": c.language, "timezone": c.timezone,
            "opted_out_at": _iso(c.opted_out_at), "unreachable_at": _iso(c.unreachable_at),
            "unreachable_reason": c.unreachable_reason, "created_at": _iso(c.created_at),
            "waiting_for": ((c.state or {}).get("pending") or {}).get("kind"),
        },
        "enrolments": [{
            "organisation": org_name(e.organisation_id),
            "organisation_code": orgs[e.organisation_id].code if e.organisation_id in orgs else None,
            "consent_status": e.consent_status,
            "allowed": {"take_part": bool(e.consent_participate), "quoted_anonymously": bool(e.consent_quote)},
            "consent_version": e.consent_version, "consent_at": _iso(e.consent_at),
            "consent_channel": e.consent_channel, "tags": [str(t) for t in e.tags or ()], "source": e.source,
            "enrolled_at": _iso(e.created_at), "consent_history": history.get(e.id, []),
        } for e in enrolments],
        "conversations": [{
            "id": cv.id, "organisation": org_name(org_of_enrolment.get(cv.enrolment_id)), "survey_id": cv.survey_id,
            "survey_title": titles.get(cv.survey_id), "survey_version": cv.number, "status": cv.status,
            "question": cv.question, "started_at": _iso(cv.started_at), "last_activity_at": _iso(cv.last_activity_at),
            "ended_at": _iso(cv.ended_at),
        } for cv in conversations],
        "answers": [_answer(db, conn, a, org_name(a.organisation_id), labels.get(a.id), quoted.get(a.id, []),
                            c.language) | {"reply_to_action": replied.get(a.id)} for a in answers],
        "messages": [{
            "direction": x.direction, "at": _iso(x.created_at), "channel": x.channel,
            "text": _message_text(x), "status": x.status, "purpose": x.purpose,
        } for x in msgs],
        "invitations": [{
            "wave_id": i.wave_id, "survey_id": i.survey_id, "scheduled_for": _iso(i.scheduled_for),
            "status": i.status, "reason": i.reason, "channel": i.channel, "language": i.language,
            "invited_at": _iso(i.created_at), "started_at": _iso(i.started_at),
        } for i in invitations],
        "flags": [{
            "answer_id": f.answer_id, "categories": list(f.categories or ()), "status": f.status,
            "raised_at": _iso(f.created_at), "closed_at": _iso(f.closed_at), "outcome": f.outcome,
            "history": flag_events.get(f.id, []),
        } for f in flags],
        "you_said_we_did": [{
            "action_id": t.action_id, "you_said": t.heard, "we_did": t.doing, "status": t.status,
            "language": t.language, "at": _iso(t.created_at),
        } for t in told],
    }


def _message_text(row) -> str | None:
    if row.purpose == "mydata" and row.text is not None:
        return f"(a copy of your data, {len(row.text)} characters)"
    return row.text


def _answer(db: Store, conn: Connection, a, organisation: str | None, staff_label: str | None, weeks: list[str],
            language: str) -> dict:
    tags = dict(a.tags or {})
    value: object = a.value_text if a.value_text is not None else a.value_num
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return {
        "id": a.id, "conversation_id": a.conversation_id, "organisation": organisation, "survey_id": a.survey_id,
        "question_key": a.question_key, "question": _prompt(db, conn, a.survey_version_id, a.question_key, language),
        "your_words": a.raw_text, "value": value, "status": a.status, "language": a.language,
        "answered_at": _iso(a.answered_at), "sentiment": tags.get("label"),
        "themes": [str(t) for t in tags.get("themes") or ()], "tags": tags or None, "staff_label": staff_label,
        "quoted_in_digests": weeks,
    }


def _prompt(db: Store, conn: Connection, version_id: int | None, key: str | None, language: str) -> str | None:
    if version_id is None or key is None:
        return None
    try:
        q = db.survey_version(conn, version_id).question(key)
    except KeyError:
        return None
    return q.prompt.get(language) or next(iter(q.prompt.values()), None)


# ---- the readable text --------------------------------------------------------------------------------------
# The words of the readable copy, per language (English when a language or a word is missing), as in
# surveys/messages.py.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Everything we hold about you ({ref}), on {date}",
        "you": "You",
        "channel": "Channel", "address": "Number or chat", "address_dropped": "not kept (you declined)",
        "language": "Language", "timezone": "Time zone", "joined": "First contact", "opted_out": "Stopped (STOP)",
        "unreachable": "Could not be reached", "waiting_for": "Waiting for your reply to",
        "organisations": "Organisations", "consent": "consent", "allowed": "you allowed",
        "take_part": "taking part", "quoted": "being quoted without your name", "nothing": "nothing",
        "version": "wording version", "on": "by", "tags": "tags", "source": "added by", "enrolled": "enrolled",
        "history": "Consent history",
        "conversations": "Surveys", "answers": "Your answers", "messages": "Messages",
        "invitations": "Invitations", "flags": "Flags (answers a person read for your safety)",
        "in": "you", "out": "us", "not_kept": "(text not kept)", "sentiment": "tone", "themes": "themes",
        "quoted_in": "quoted in the reports of", "none": "none",
        "not_included": "Not included",
        "left_out_notes": "staff notes on safeguarding flags and who handled them (they may name other people; "
        "ask the organisation)",
        "left_out_copies": "the text of earlier copies of this data (each would repeat the one before)",
        "truncated": "(This copy is too long for messages. Ask the organisation for the full copy.)",
        "given": "given", "pending": "not yet asked", "declined": "declined", "withdrawn": "withdrawn",
        "yes": "yes", "no": "no",
    },
    "es": {
        "title": "Todo lo que guardamos sobre ti ({ref}), a {date}",
        "you": "Tú",
        "channel": "Canal", "address": "Número o chat", "address_dropped": "no se guarda (no aceptaste)",
        "language": "Idioma", "timezone": "Zona horaria", "joined": "Primer contacto", "opted_out": "Baja (STOP)",
        "unreachable": "No se te pudo escribir", "waiting_for": "Esperando tu respuesta a",
        "organisations": "Organizaciones", "consent": "consentimiento", "allowed": "aceptaste",
        "take_part": "participar", "quoted": "que citemos tus palabras sin tu nombre", "nothing": "nada",
        "version": "versión del texto", "on": "por", "tags": "etiquetas", "source": "alta por",
        "enrolled": "alta", "history": "Historial del consentimiento",
        "conversations": "Encuestas", "answers": "Tus respuestas", "messages": "Mensajes",
        "invitations": "Invitaciones", "flags": "Avisos (respuestas que una persona leyó por tu seguridad)",
        "in": "tú", "out": "nosotros", "not_kept": "(texto no guardado)", "sentiment": "tono", "themes": "temas",
        "quoted_in": "citada en los informes de", "none": "ninguno",
        "not_included": "No incluido",
        "left_out_notes": "las notas del personal sobre los avisos y quién los atendió (pueden nombrar a otras "
        "personas; pregunta a la organización)",
        "left_out_copies": "el texto de copias anteriores de estos datos (cada una repetiría la anterior)",
        "truncated": "(Esta copia es demasiado larga para mensajes. Pide la copia completa a la organización.)",
        "given": "dado", "pending": "aún no preguntado", "declined": "rechazado", "withdrawn": "retirado",
        "yes": "sí", "no": "no",
    },
}


def label(language: str, key: str) -> str:
    return LABELS.get(language, LABELS["en"]).get(key) or LABELS["en"][key]


def render_text(data: dict, language: str | None = None, tz: str = "UTC") -> str:
    """The JSON document as plain text, in `language` (the person's own when None), times in `tz` (the person's
    time zone when they have one)."""
    p = data["person"]
    lang = language or p["language"] or "en"
    zone = _zone(p.get("timezone") or tz)

    def t(key: str) -> str:
        return label(lang, key)

    def when(iso: str | None) -> str:
        return "-" if not iso else datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def yn(v: bool) -> str:
        return t("yes") if v else t("no")

    out = [t("title").format(ref=data["reference"], date=when(data["generated_at"])), "", f"{t('you')}:",
           f"- {t('channel')}: {p['channel']}", f"- {t('address')}: {p['address'] or t('address_dropped')}",
           f"- {t('language')}: {messages.language_name(p['language'])}"]
    if p.get("timezone"):
        out.append(f"- {t('timezone')}: {p['timezone']}")
    out.append(f"- {t('joined')}: {when(p['created_at'])}")
    if p.get("opted_out_at"):
        out.append(f"- {t('opted_out')}: {when(p['opted_out_at'])}")
    if p.get("unreachable_at"):
        out.append(f"- {t('unreachable')}: {when(p['unreachable_at'])}")
    if p.get("waiting_for"):
        out.append(f"- {t('waiting_for')}: {p['waiting_for']}")

    out += ["", f"{t('organisations')}:"]
    for e in data["enrolments"]:
        allowed = [t(k) for k, v in (("take_part", e["allowed"]["take_part"]),
                                     ("quoted", e["allowed"]["quoted_anonymously"])) if v]
        line = (f"- {e['organisation']}: {t('consent')} {t(e['consent_status']) if e['consent_status'] in LABELS['en'] else e['consent_status']}"
                f"; {t('allowed')}: {', '.join(allowed) or t('nothing')}")
        if e["consent_version"]:
            line += f" ({t('version')} {e['consent_version']}, {when(e['consent_at'])}, {t('on')} {e['consent_channel']})"
        line += f"; {t('enrolled')} {when(e['enrolled_at'])}, {t('source')} {e['source']}"
        if e["tags"]:
            line += f"; {t('tags')}: {', '.join(e['tags'])}"
        out.append(line)
        for h in e["consent_history"]:
            out.append(f"  {when(h['at'])} {t(h['status']) if h['status'] in LABELS['en'] else h['status']}: "
                       f"{t('take_part')} {yn(h['take_part'])}, {t('quoted')} {yn(h['quoted_anonymously'])} "
                       f"({t('version')} {h['version']}, {t('on')} {h['channel']})")

    out += ["", f"{t('conversations')}:"]
    out += [f"- {when(cv['started_at'])} {cv['survey_title'] or cv['survey_id']} ({cv['organisation'] or '-'}): "
            f"{cv['status']}" + (f", {when(cv['ended_at'])}" if cv["ended_at"] else "")
            for cv in data["conversations"]] or [f"- {t('none')}"]

    out += ["", f"{t('answers')}:"]
    for a in data["answers"]:
        q = a["question"] or a["question_key"] or a["status"]
        said = a["your_words"] if a["your_words"] is not None else ("-" if a["value"] is None else str(a["value"]))
        line = f"- {when(a['answered_at'])} {q}: {said}"
        if a["your_words"] is not None and a["value"] is not None and str(a["value"]) != a["your_words"]:
            line += f" (= {a['value']})"
        extra = []
        if a["sentiment"]:
            extra.append(f"{t('sentiment')}: {a['sentiment']}")
        if a["themes"]:
            extra.append(f"{t('themes')}: {', '.join(a['themes'])}")
        if a["quoted_in_digests"]:
            extra.append(f"{t('quoted_in')} {', '.join(a['quoted_in_digests'])}")
        out.append(line + (f" [{'; '.join(extra)}]" if extra else ""))
    if not data["answers"]:
        out.append(f"- {t('none')}")

    out += ["", f"{t('invitations')}:"]
    out += [f"- {when(i['invited_at'])} {i['survey_id']}: {i['status']}" for i in data["invitations"]] \
        or [f"- {t('none')}"]
    if data["flags"]:
        out += ["", f"{t('flags')}:"]
        out += [f"- {when(f['raised_at'])} {', '.join(f['categories'])}: {f['status']}"
                + (f" {when(f['closed_at'])}" if f["closed_at"] else "") for f in data["flags"]]

    out += ["", f"{t('messages')}:"]
    for x in data["messages"]:
        who = t("in") if x["direction"] == "in" else t("out")
        out.append(f"- {when(x['at'])} {who}: {x['text'] if x['text'] is not None else t('not_kept')}")
    if not data["messages"]:
        out.append(f"- {t('none')}")
    out += ["", f"{t('not_included')}:"] + [f"- {t(key)}" for key in NOT_INCLUDED]
    return "\n".join(out) + "\n"


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return ZoneInfo("UTC")


def split_messages(text: str, limit: int = MESSAGE_CHARS, most: int = MAX_MESSAGES,
                   truncated: str = LABELS["en"]["truncated"]) -> list[str]:
    """`text` in messages of at most `limit` characters, cut between lines where it can (a long line between
    words, a long word anywhere). More than `most` messages: the first `most`, the last ending with `truncated`."""
    parts: list[str] = []
    current = ""
    for line in text.strip("\n").split("\n"):
        for piece in _pieces(line, limit):
            joined = f"{current}\n{piece}" if current else piece
            if len(joined) <= limit:
                current = joined
            else:
                parts.append(current)
                current = piece
    if current.strip():
        parts.append(current)
    parts = [p.strip("\n") for p in parts if p.strip()]
    if len(parts) > most:
        parts = parts[:most]
        room = limit - len(truncated) - 1
        parts[-1] = parts[-1][:room].rstrip() + "\n" + truncated
    return parts


def _pieces(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    pieces, current = [], ""
    for word in line.split(" "):
        while len(word) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        joined = f"{current} {word}" if current else word
        if len(joined) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces


# ---- staff: one person's copy -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Export:
    pseudonym: str
    format: str            # json | text
    body: str
    filename: str
    content_type: str


def export_participant(db: Store, scope: Scope, contact_id: int, now: datetime, fmt: str = "json",
                       source: str | None = None) -> Export:
    """Everything held about one participant, as JSON or as text in their language, for staff to give them.
    Staff and admins only; a person's full copy goes only to a scope that covers every organisation they are
    enrolled in (admin always, the command line is admin). Writes the audit entry 'participant.export' in the
    same transaction. Raises ParticipantError (no such participant) or Forbidden."""
    from surveys.participants import ParticipantError, require_whole_person

    if fmt not in FORMATS:
        raise ParticipantError(f"format {fmt!r}: one of {', '.join(FORMATS)}")
    row = require_whole_person(db, scope, contact_id, "export a person's data",
                               "this person is enrolled in other organisations too: their copy covers all of them, "
                               "so ask a backbone admin for it")
    with db.session() as s:
        conn = s.connection()
        try:
            data = collect(db, conn, contact_id, now)
        except NoSuchParticipant:
            raise ParticipantError(f"no participant {contact_id}") from None
        audit.record_as(s, scope, now, "participant.export", object_type="participant", object_id=contact_id,
                        source=source, detail=f"{row.pseudonym} ({fmt})")
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        return Export(row.pseudonym, fmt, body, f"{row.pseudonym}.json", "application/json; charset=utf-8")
    body = render_text(data, tz=db.settings.default_timezone)
    return Export(row.pseudonym, fmt, body, f"{row.pseudonym}.txt", "text/plain; charset=utf-8")


# ---- the person: MYDATA -------------------------------------------------------------------------------------
def recently_sent(conn: Connection, contact_id: int, now: datetime) -> bool:
    """Whether this person was sent a copy by keyword within KEYWORD_INTERVAL."""
    A = m.AuditEntry.__table__
    return conn.execute(select(A.c.id).where(
        A.c.action == "participant.export", A.c.object_type == "participant", A.c.object_id == str(contact_id),
        A.c.source == KEYWORD_SOURCE, A.c.at > now - KEYWORD_INTERVAL).limit(1)).first() is not None


def copy_messages(db: Store, conn: Connection, contact_id: int, language: str, now: datetime,
                  channel: str) -> list[str]:
    """The person's readable copy in their language, split into messages, with its audit entry written in the
    caller's transaction (actor 'participant', source 'keyword')."""
    data = collect(db, conn, contact_id, now)
    parts = split_messages(render_text(data, language, db.settings.default_timezone),
                           truncated=label(language, "truncated"))
    conn.execute(m.AuditEntry.__table__.insert().values(
        at=now, actor="participant", user_id=None, action="participant.export", object_type="participant",
        object_id=str(contact_id), source=KEYWORD_SOURCE,
        detail=f"{data['reference']} (MYDATA by {channel}: {len(parts)} messages)"))
    return parts


__all__ = ["FORMAT", "FORMATS", "MESSAGE_CHARS", "MAX_MESSAGES", "TABLES", "NOT_ABOUT_THEM", "Export",
           "NoSuchParticipant", "collect", "render_text", "split_messages", "export_participant", "copy_messages",
           "recently_sent"]
