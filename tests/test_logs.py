"""No phone number ever reaches a log line; dates and counts are left alone."""
import logging

import pytest

from config.logs import MaskPhoneNumbers


@pytest.mark.parametrize("message, expected", [
    ("sent to +447700900123", "sent to +44…"),
    ("sent to +44 7700 900123.", "sent to +44…."),
    ("from 07700 900123 today", "from … today"),
    ("chat 447700900123", "chat …"),
    ("next run at 2026-11-27 19:34:53 UTC", "next run at 2026-11-27 19:34:53 UTC"),
    ("wave 12: 1500 invited", "wave 12: 1500 invited"),
])
def test_phone_numbers_are_masked(message, expected):
    record = logging.LogRecord("chorus", logging.INFO, __file__, 1, "%s", (message,), None)
    MaskPhoneNumbers().filter(record)
    assert record.getMessage() == expected
