"""Addresses as each channel knows them, in one canonical form so one person is one contact."""
from __future__ import annotations

from functools import lru_cache

import phonenumbers


class InvalidAddress(ValueError):
    pass


def normalise_phone(raw: str, region: str | None = "GB") -> str:
    """E.164 (`+447700900123`). National numbers are read in `region`; anything that is not a possible
    phone number raises InvalidAddress."""
    try:
        number = phonenumbers.parse(raw, None if raw.strip().startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise InvalidAddress("not a phone number (write it like +44 7700 900123, or 07700 900123 for the UK)") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidAddress("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=50_000)  # on every inbound message; phonenumbers.parse costs about 100 µs
def normalise_address(channel: str, raw: str, region: str | None = "GB") -> str:
    """The canonical address: E.164 for SMS (and for local addresses written as phone numbers, so a
    terminal session can stand in for a phone), the chat id for Telegram, the trimmed text otherwise."""
    raw = (raw or "").strip()
    if not raw:
        raise InvalidAddress("empty address")
    if channel == "sms" or (channel == "local" and raw.startswith("+")):
        return normalise_phone(raw, region)
    if channel == "telegram":
        if not raw.lstrip("-").isdigit():
            raise InvalidAddress("a Telegram chat id is a number")
        return raw
    if len(raw) > 128:
        raise InvalidAddress("address longer than 128 characters")
    return raw
