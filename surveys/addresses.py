"""Addresses as each channel knows them, in one canonical form so one person is one contact."""
from __future__ import annotations

from functools import lru_cache

import phonenumbers

from surveys.channels import ADDRESS_KINDS


class InvalidAddress(ValueError):
    pass


# Ofcom keeps these UK ranges for drama and testing: they are never given to anyone, so demos, tests and
# training can use them without texting a real person. phonenumbers (rightly) calls them invalid.
FICTIONAL_PREFIXES = ("+447700900", "+441632960")  # each followed by exactly three digits


def is_fictional(e164: str) -> bool:
    return any(e164.startswith(p) and len(e164) == len(p) + 3 for p in FICTIONAL_PREFIXES)


def normalise_phone(raw: str, region: str | None = "GB", strict: bool = False) -> str:
    """E.164 (`+447700900123`). National numbers are read in `region`; anything that is not a possible
    phone number raises InvalidAddress. `strict` (numbers staff type or import) also refuses numbers no
    operator could have given out, such as 12345 or a digit short (phonenumbers' validity for the number's
    country), except Ofcom's fictional ranges (FICTIONAL_PREFIXES). Inbound messages are not strict: the
    provider has just delivered from that number, and phonenumbers' ranges can lag new allocations."""
    try:
        number = phonenumbers.parse(raw, None if raw.strip().startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise InvalidAddress("not a phone number (write it like +44 7700 900123, or 07700 900123 for the UK)") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidAddress("not a possible phone number")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if strict and not (phonenumbers.is_valid_number(number) or is_fictional(e164)):
        where = phonenumbers.region_code_for_country_code(number.country_code)
        where = "" if where in (None, "ZZ", "001") else f" in {where}"
        raise InvalidAddress(f"not a valid phone number{where} (a digit missing or too many? "
                             "write it like +44 7700 900123, or 07700 900123 for the UK)")
    return e164


@lru_cache(maxsize=50_000)  # on every inbound message; phonenumbers.parse costs about 100 µs
def normalise_address(channel: str, raw: str, region: str | None = "GB", strict: bool = False) -> str:
    """The canonical address, by the channel's address kind (surveys.channels.ADDRESS_KINDS): E.164 for a
    phone (and for free-text addresses written as phone numbers, so a terminal session can stand in for a
    phone), the chat id for a chat, the trimmed text otherwise.
    `strict`: an SMS number must be a real one (see normalise_phone); for staff input, not inbound."""
    raw = (raw or "").strip()
    if not raw:
        raise InvalidAddress("empty address")
    kind = ADDRESS_KINDS.get(channel)
    if kind == "phone" or (kind is None and raw.startswith("+")):
        return normalise_phone(raw, region, strict and kind == "phone")
    if kind == "chat id":
        if not raw.lstrip("-").isdigit():
            raise InvalidAddress("a Telegram chat id is a number")
        return raw
    if kind == "email" and ("@" not in raw or any(c.isspace() for c in raw)):
        raise InvalidAddress("not an email address")
    if len(raw) > 128:
        raise InvalidAddress("address longer than 128 characters")
    return raw
