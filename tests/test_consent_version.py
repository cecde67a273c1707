"""A new consent wording asks again before the next survey (both databases): someone who agreed to an older
version is asked with the current wording first, their yes records the new version (and a history row) and
the survey follows; a no withdraws their consent; someone on the current version goes straight to the survey."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update

from surveys import admin, messages
from surveys import models as m
from surveys.loader import load_survey_file
from surveys.outbox import start_due_invitations
from surveys.service import InboundMessage, handle_inbound
from surveys.waves import create_wave
from tests.digest_data import PANTRY

NOW = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)          # a Tuesday, outside quiet hours


def _people(db, versions: dict[str, str | None]) -> dict[str, int]:
    admin.load_survey(db, load_survey_file(PANTRY), NOW)
    admin.add_organisation(db, "Riverside Pantry", "pantry", NOW)
    ids = {}
    for address, version in versions.items():
        ids[address] = admin.add_participant(db, "local", address, "pantry", NOW)
        with db.write() as conn:
            conn.execute(update(m.Enrolment).where(m.Enrolment.contact_id == ids[address]).values(
                consent_status="given", consent_participate=True, consent_version=version, consent_at=NOW))
    return ids


def _first_queued(db, contact_id) -> str:
    with db.read() as conn:
        return conn.execute(select(m.Message.text).where(m.Message.contact_id == contact_id, m.Message.direction == "out")
                            .order_by(m.Message.id)).scalars().first()


def test_an_older_consent_is_asked_again_before_the_next_survey(db):
    ids = _people(db, {"+447700900501": "2025-01.1", "+447700900502": messages.CONSENT_VERSION,
                       "+447700900503": "2025-01.1"})
    made = create_wave(db, "pantry", NOW, NOW, kind="manual")
    assert made.invited == 3
    start_due_invitations(db, NOW, 100)
    asked = messages.text("en", "consent_ask", org="Riverside Pantry")[:40]
    assert _first_queued(db, ids["+447700900501"]).startswith(asked)
    assert not _first_queued(db, ids["+447700900502"]).startswith(asked)      # the current wording: the survey

    handle_inbound(db, InboundMessage("local", "+447700900501", "yes-1", "yes"), NOW)
    # The same two questions as a first consent: taking part, then being quoted; then the survey.
    replies = handle_inbound(db, InboundMessage("local", "+447700900501", "yes-2", "no"), NOW).replies
    with db.read() as conn:
        e = conn.execute(select(m.Enrolment.__table__).where(m.Enrolment.contact_id == ids["+447700900501"])).one()
        history = conn.execute(select(m.ConsentEvent.version).where(m.ConsentEvent.enrolment_id == e.id)).scalars().all()
        started = conn.execute(select(m.Conversation.id).where(m.Conversation.contact_id == ids["+447700900501"],
                                                               m.Conversation.status == "open")).first()
    assert e.consent_version == messages.CONSENT_VERSION and e.consent_status == "given"
    assert messages.CONSENT_VERSION in history
    assert started is not None and len(replies) >= 1        # the survey follows their yes

    handle_inbound(db, InboundMessage("local", "+447700900503", "no-1", "no"), NOW)
    with db.read() as conn:
        status = conn.execute(select(m.Enrolment.consent_status).where(
            m.Enrolment.contact_id == ids["+447700900503"])).scalar_one()
    assert status == "withdrawn"          # they had agreed before: a no now withdraws it


def test_the_send_preview_counts_the_consent_question_for_an_older_wording(db):
    from surveys.waves import audience

    _people(db, {"+447700900511": "2025-01.1", "+447700900512": messages.CONSENT_VERSION})
    with db.read() as conn:
        version = conn.execute(select(m.Survey.current_version_id).where(m.Survey.id == "pantry")).scalar()
        found = audience(db, conn, db.survey_version(conn, version), NOW, NOW)
    assert sorted(r.consent_pending for r in found.reached) == [False, True]
