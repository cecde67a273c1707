"""What Twilio says about a message, in the core's words: its status names (how far along each is) and the
error codes that say something about the person rather than the message. The core's delivery module takes
the neutral outcome (surveys.delivery: delivered, failed-permanent, failed-temporary, unreachable, opted-out)
and never sees a Twilio word or code."""
from __future__ import annotations

from surveys.delivery import DELIVERED, FAILED_PERMANENT, OPTED_OUT, UNREACHABLE, StatusReport

# How far along a message is. Twilio's callbacks can arrive out of order ('delivered' before 'sent'), and a
# late one must never move a message backwards. 'sending' and 'unknown' are also the outbox's own words for
# a message it has not heard back about.
STAGES = {"sending": 0, "accepted": 1, "queued": 1, "scheduled": 1, "sent": 2, "delivered": 3,
          "undelivered": 3, "failed": 3, "read": 4, "canceled": 3, "unknown": 0}
FINAL_FAILURES = ("failed", "undelivered")
DELIVERED_STATUSES = ("delivered", "read")
# Error codes that say something about the person, not the message.
OPTED_OUT_CODES = frozenset({"21610"})  # the recipient replied STOP at the carrier
UNREACHABLE_CODES = frozenset({"21211", "21614", "21612", "30003", "30005", "30006"})  # invalid, landline, ...


def outcome_of_code(code: str | None) -> str | None:
    """What an error code means for the contact: opted out, unreachable, or nothing (None)."""
    if code in OPTED_OUT_CODES:
        return OPTED_OUT
    if code in UNREACHABLE_CODES:
        return UNREACHABLE
    return None


def read_status(status: str, code: str | None) -> StatusReport | None:
    """A status callback's MessageStatus and ErrorCode as the core reads them; None for a status Twilio
    does not document (the core then leaves the message as it is)."""
    stage = STAGES.get(status)
    if stage is None:
        return None
    if status in FINAL_FAILURES:
        outcome = outcome_of_code(code) or FAILED_PERMANENT
    else:
        outcome = DELIVERED if status in DELIVERED_STATUSES else None
    return StatusReport(status, stage, outcome)
