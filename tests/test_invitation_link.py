"""An invitation that has to ask for consent first is still the invitation the survey answers: when the
person says yes and the survey starts, the conversation is linked to it (so wave counts, reminders and the
digest count them as responding). On both databases."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from surveys import admin
from surveys import models as m
from surveys.loader import load_survey_file
from surveys.outbox import start_due_invitations
from surveys.service import InboundMessage, handle_inbound
from surveys.waves import create_wave, wave_counts
from tests.test_flags import PANTRY


def test_a_consent_first_invitation_is_linked_to_the_survey_it_starts(db, now):
    admin.load_survey(db, load_survey_file(PANTRY), now)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now)
    pending = admin.add_participant(db, "local", "+447700900321", "PANTRY", now)     # staff-added: consent pending
    wave = create_wave(db, "pantry", now, now)
    assert wave.invited == 1
    start_due_invitations(db, now, 10)
    with db.read() as conn:
        assert conn.execute(select(m.Invitation.conversation_id).where(m.Invitation.contact_id == pending)).scalar() is None
    later = now + timedelta(minutes=10)
    for i, text in enumerate(("yes", "no", "4")):      # consent, no quotes, then the first answer
        handle_inbound(db, InboundMessage("local", "+447700900321", f"link-{i}", text), later)
    with db.read() as conn:
        conv = conn.execute(select(m.Invitation.conversation_id).where(m.Invitation.contact_id == pending)).scalar()
        assert conv is not None
        assert conn.execute(select(m.Conversation.survey_version_id).where(m.Conversation.id == conv)).scalar() \
            == conn.execute(select(m.Wave.survey_version_id).where(m.Wave.id == wave.wave_id)).scalar()
    assert wave_counts(db, wave.wave_id)["started"] == 1
