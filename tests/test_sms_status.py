"""Twilio's statuses and error codes are read in sms/status.py, into the core's neutral words: the core's
delivery module never sees a Twilio status name or error code."""
from __future__ import annotations

import inspect

import pytest

from sms.status import outcome_of_code, read_status
from surveys import delivery
from surveys.delivery import DELIVERED, FAILED_PERMANENT, OPTED_OUT, UNREACHABLE, StatusReport


@pytest.mark.parametrize("status, code, report", [
    ("accepted", None, StatusReport("accepted", 1)),
    ("queued", None, StatusReport("queued", 1)),
    ("sent", None, StatusReport("sent", 2)),
    ("delivered", None, StatusReport("delivered", 3, DELIVERED)),
    ("read", None, StatusReport("read", 4, DELIVERED)),
    ("undelivered", "30008", StatusReport("undelivered", 3, FAILED_PERMANENT)),
    ("failed", None, StatusReport("failed", 3, FAILED_PERMANENT)),
    ("failed", "21610", StatusReport("failed", 3, OPTED_OUT)),  # STOP said at the carrier
    ("undelivered", "30003", StatusReport("undelivered", 3, UNREACHABLE)),  # handset off or number gone
    ("failed", "21211", StatusReport("failed", 3, UNREACHABLE)),
    ("delivered", "21610", StatusReport("delivered", 3, DELIVERED)),  # a code on a success changes nobody
    ("partially_delivered", None, None), ("", None, None), ("DELIVERED", None, None),  # the core lower-cases first
])
def test_twilio_statuses_read_into_the_cores_words(status, code, report):
    assert read_status(status, code) == report


@pytest.mark.parametrize("code, outcome", [("21610", OPTED_OUT), ("21614", UNREACHABLE), ("30006", UNREACHABLE),
                                           ("30001", None), (None, None)])
def test_error_codes_that_say_something_about_the_person(code, outcome):
    assert outcome_of_code(code) == outcome


def test_the_cores_delivery_module_knows_no_twilio_word():
    source = inspect.getsource(delivery)
    for word in ("21610", "21211", "30003", "undelivered", "canceled", "Twilio"):
        assert word not in source, word
