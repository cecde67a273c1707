"""Erasure: a person's confirmed DELETE, or a staff erase on their request, removes them and everything they
said, in one transaction, and leaves a tombstone (`models.Erasure`) with no identifier of the person.

What goes:
- the contact (address, keyed address hash, language, state), enrolments, consent history, conversations,
  invitations, answers (with their staff sentiment labels);
- every message row to or from them, including the ones from before they joined (matched by the address
  hash): the text, the presentation payload, the address and its hash, and the link to the contact are
  cleared, and the provider's message id (a Telegram one is "<chat id>:<message id>") is replaced by a keyed
  hash of it (`erased_external_id`), so a redelivery is still recognised without keeping the chat id; their
  messages still waiting in the outbox are cancelled;
- the staff notes on the safeguarding flags their answers raised (the flag itself, its categories, status,
  outcome and who handled it stay: the record that a flag was raised and handled survives, without the
  person or the words);
- background exports that could hold their answers: a finished file is deleted and the job marked
  'erased' (the page says to export again); a running one is marked so and its file is discarded when it
  ends (`analysis.responses.run_export`). Queued ones are written later, without them.
- archived digests quoting them lose the link (`digest_quote.answer_id` is cut), which marks them stale: the
  clock (every 30 s) rewrites their files without the words, keeping the figures as published
  (`analysis.digest.archive.refresh_archives`).

A staff erasure sends the person a receipt (`messages` 'erasure_receipt', in their language) through the
outbox, to the address read before it is forgotten: that one row holds the address (`to_address`) and text
only until the worker has sent it or failed for good, then `forget_receipt` clears them like the rest. Their
own DELETE is answered at once ('delete_done'): that reply is their receipt.
"""
from __future__ import annotations

import contextlib
import os
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from surveys import messages
from surveys import models as m
from surveys.engine import OutgoingMessage
from surveys.outgoing import outbound_row

C, E, O, M, A, CV = (m.Contact.__table__, m.Enrolment.__table__, m.Organisation.__table__, m.Message.__table__,
                     m.Answer.__table__, m.Conversation.__table__)
CE, I, F, FE, J, DQ, ER = (m.ConsentEvent.__table__, m.Invitation.__table__, m.Flag.__table__,
                           m.FlagEvent.__table__, m.ExportJob.__table__, m.DigestQuote.__table__,
                           m.Erasure.__table__)

BY_THE_PERSON = "the person (DELETE)"
RECEIPT = "receipt"            # the outbox purpose of a staff erasure's receipt
EXPORT_REMOVED = "removed: it could hold the answers of someone erased since; export again"
_WAITING = ("pending", "retry", "claimed")
# While a row has one of these the worker may still send it: a receipt keeps its address and text until then.
IN_HAND = ("pending", "retry", "claimed", "sending")


def erased_external_id(db, channel: str, external_id: str) -> str:
    """What an erased person's message keeps of its provider id: a keyed hash (CHORUS_SECRET_KEY), so the same
    delivery arriving again is recognised (`surveys.service`) but the id (a Telegram chat id is part of it)
    cannot be read back."""
    return "erased:" + db.address_hash("erased-message", f"{channel}:{external_id}")


def erase_in(db, conn: Connection, contact_id: int, now: datetime, *, by: str, request: str | None = None,
             receipt: bool = False, message_ids: tuple[int, ...] = ()) -> int | None:
    """Erase the contact inside the caller's transaction; returns the tombstone's id (None: no such contact).
    `message_ids`: rows that belong to them but no longer carry their contact (their DELETE itself).
    `receipt`: queue the receipt (a staff erasure; their own DELETE is answered inline instead)."""
    contact = conn.execute(select(C).where(C.c.id == contact_id)).first()
    if contact is None:
        return None
    orgs = conn.execute(select(O.c.name).select_from(E.join(O, O.c.id == E.c.organisation_id))
                        .where(E.c.contact_id == contact_id).order_by(O.c.name)).scalars().all()
    org_ids = set(conn.execute(select(E.c.organisation_id).where(E.c.contact_id == contact_id)).scalars())
    answer_ids = select(A.c.id).where(A.c.contact_id == contact_id)
    removed: dict[str, int] = {}

    def count(table, *where) -> int:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())

    removed["answers"] = count(A, A.c.contact_id == contact_id)
    removed["digests"] = int(conn.execute(select(func.count(DQ.c.archive_id.distinct()))
                                          .where(DQ.c.answer_id.in_(answer_ids))).scalar_one())
    flag_ids = select(F.c.id).where(F.c.answer_id.in_(answer_ids))
    removed["flag_notes"] = (conn.execute(update(F).where(F.c.id.in_(flag_ids), F.c.note.is_not(None))
                                          .values(note=None)).rowcount
                             + conn.execute(update(FE).where(FE.c.flag_id.in_(flag_ids), FE.c.note.is_not(None))
                                            .values(note=None)).rowcount)
    removed["messages"] = _erase_messages(db, conn, contact, message_ids)
    removed["exports"] = _erase_exports(conn, org_ids) if removed["answers"] else 0
    conn.execute(delete(A).where(A.c.contact_id == contact_id))
    removed["invitations"] = conn.execute(delete(I).where(I.c.contact_id == contact_id)).rowcount
    removed["conversations"] = conn.execute(delete(CV).where(CV.c.contact_id == contact_id)).rowcount
    enrolment_ids = select(E.c.id).where(E.c.contact_id == contact_id).scalar_subquery()
    removed["consent_events"] = conn.execute(delete(CE).where(CE.c.enrolment_id.in_(enrolment_ids))).rowcount
    removed["enrolments"] = conn.execute(delete(E).where(E.c.contact_id == contact_id)).rowcount
    conn.execute(delete(C).where(C.c.id == contact_id))

    why_not = _no_receipt(contact) if receipt else None
    erasure_id = conn.execute(insert(ER).values(
        channel=contact.channel, at=now, by=(by or "?")[:100], request=(request or None) and request[:200],
        removed=removed, receipt=None if receipt else "replied")).inserted_primary_key[0]
    if receipt:
        if why_not:
            conn.execute(update(ER).where(ER.c.id == erasure_id).values(receipt=f"not sent: {why_not}"))
        else:
            text = messages.text(contact.language or "en", "erasure_receipt", orgs=", ".join(orgs) or "Chorus",
                                 ref=erasure_id)
            row = conn.execute(insert(M).values(outbound_row(
                OutgoingMessage(text), channel=contact.channel, to_address=contact.address, status="pending",
                not_before=now, purpose=RECEIPT, created_at=now))).inserted_primary_key[0]
            conn.execute(update(ER).where(ER.c.id == erasure_id).values(receipt="queued", receipt_message_id=row))
    return erasure_id


def _no_receipt(contact) -> str | None:
    if not contact.address:
        return "no address kept (consent had been declined)"
    if contact.opted_out_at is not None:
        return "they had said STOP"
    if contact.unreachable_at is not None:
        return "their address was unreachable"
    return None


def _erase_messages(db, conn: Connection, contact, extra_ids: tuple[int, ...]) -> int:
    """Clear every message row of theirs (see the module docstring); returns how many."""
    mine = [M.c.contact_id == contact.id,
            (M.c.channel == contact.channel) & (M.c.address_hash == contact.address_hash)]
    if contact.address and not db.cipher.enabled:
        mine.append((M.c.channel == contact.channel) & (M.c.to_address == contact.address))
    elif contact.address:
        # Encrypted at rest: equal addresses have different tokens, so compare after decrypting (rows to an
        # address on a person's channel are few: receipts, MYDATA copies, a Telegram alert or digest chat).
        addressed = conn.execute(select(M.c.id, M.c.to_address).where(
            M.c.channel == contact.channel, M.c.to_address.is_not(None))).all()
        same = [r.id for r in addressed if r.to_address == contact.address]
        if same:
            mine.append(M.c.id.in_(same))
    if extra_ids:
        mine.append(M.c.id.in_(list(extra_ids)))
    where = or_(*mine)
    conn.execute(update(M).where(where, M.c.direction == "out", M.c.status.in_(_WAITING))
                 .values(status="cancelled", error_code="erased"))
    rows = conn.execute(select(M.c.id, M.c.channel, M.c.external_id).where(where)).all()
    ids = [r.id for r in rows]
    for i in range(0, len(ids), 500):
        conn.execute(update(M).where(M.c.id.in_(ids[i:i + 500])).values(
            text=None, payload=None, contact_id=None, address_hash=None, to_address=None, conversation_id=None))
    for r in rows:
        if r.external_id and not r.external_id.startswith("erased:"):
            conn.execute(update(M).where(M.c.id == r.id)
                         .values(external_id=erased_external_id(db, r.channel, r.external_id)))
    return len(ids)


def _erase_exports(conn: Connection, org_ids: set[int]) -> int:
    """Background exports that could hold their answers (run under a scope covering one of their
    organisations): a finished file is deleted, a running one discarded when it ends. Returns how many."""
    n = 0
    for job in conn.execute(select(J.c.id, J.c.role, J.c.organisation_ids, J.c.status, J.c.path)
                            .where(J.c.status.in_(("done", "running")))).all():
        if job.role != "admin" and not (set(job.organisation_ids or ()) & org_ids):
            continue
        if job.status == "done" and job.path:
            with contextlib.suppress(FileNotFoundError):   # already gone is what we wanted
                os.unlink(job.path)
        conn.execute(update(J).where(J.c.id == job.id).values(status="erased", path=None, error=EXPORT_REMOVED))
        n += 1
    return n


def forget_receipt(db, conn: Connection, message_id: int) -> None:
    """Once the worker is done with a receipt (sent, or failed for good), clear its address, text and
    provider id: nothing of the erased person is left."""
    row = conn.execute(select(M.c.channel, M.c.external_id, M.c.status, M.c.purpose).where(M.c.id == message_id)).first()
    if row is None or row.purpose != RECEIPT or row.status in IN_HAND:
        return
    external = row.external_id
    if external and not external.startswith("erased:"):
        external = erased_external_id(db, row.channel, external)
    conn.execute(update(M).where(M.c.id == message_id).values(to_address=None, text=None, payload=None,
                                                              external_id=external))


__all__ = ["BY_THE_PERSON", "RECEIPT", "IN_HAND", "EXPORT_REMOVED", "erase_in", "erased_external_id", "forget_receipt"]
