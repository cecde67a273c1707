"""Encryption at rest of contact details: phone numbers, chat ids and email addresses.

With CHORUS_ENCRYPTION_KEY unset, `PLAIN` is used: values are stored exactly as before, and `cryptography`
is not even imported. With a key, each value is stored as "enc:v1:" + a Fernet token (AES-128-CBC and
HMAC-SHA256, a random IV, so equal addresses give different tokens: look people up by their keyed hash,
`contact.address_hash`, never by comparing the stored column). The prefix lets one column hold plain and
encrypted values side by side while `chorus keys rotate` works through it, and tells a reader which it has.

Where it applies: the columns typed `Sealed` in surveys.models (read and written through SQLAlchemy, the
type does it), and the few statements that bypass SQLAlchemy (surveys.hotpath, the outbox claim on
PostgreSQL), which call `db.cipher` themselves. Which cipher a column uses is the one attached to its
engine's dialect by the Store that opened it (`attach`), so a type needs no global setting.
"""
from __future__ import annotations

from typing import Any

PREFIX = "enc:v1:"


class KeyMismatch(RuntimeError):
    """A stored value cannot be decrypted with the configured keys. The message is one line for people."""


MISMATCH = ("stored contact details cannot be decrypted with CHORUS_ENCRYPTION_KEY (a wrong key, or the key "
            "they were encrypted with is missing from CHORUS_ENCRYPTION_OLD_KEYS)")
NO_KEY = ("stored contact details are encrypted but CHORUS_ENCRYPTION_KEY is not set (set it to the key they "
          "were encrypted with)")


def is_sealed(value: str | None) -> bool:
    return value is not None and value.startswith(PREFIX)


class Plain:
    """No key: values stay as they are."""

    enabled = False

    def seal(self, value: str | None) -> str | None:
        return value

    def open(self, value: str | None) -> str | None:
        if is_sealed(value):
            raise KeyMismatch(NO_KEY)
        return value


PLAIN = Plain()


class Cipher:
    """Fernet under the first of `keys` (the current one); every key of `keys` can read."""

    enabled = True

    def __init__(self, keys: tuple[str, ...] | list[str]):
        from cryptography.fernet import Fernet, InvalidToken, MultiFernet

        if not keys:
            raise ValueError("a Cipher needs at least one key")
        self._invalid = InvalidToken
        self._current = Fernet(keys[0])
        self._all = MultiFernet([Fernet(k) for k in keys])

    def seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        return PREFIX + self._current.encrypt(value.encode()).decode("ascii")

    def open(self, value: str | None) -> str | None:
        """The plain value; a value stored before encryption was turned on comes back as it is."""
        if value is None or not value.startswith(PREFIX):
            return value
        try:
            return self._all.decrypt(value[len(PREFIX):].encode("ascii")).decode()
        except self._invalid:
            raise KeyMismatch(MISMATCH) from None

    def is_current(self, value: str | None) -> bool:
        """Whether `value` needs nothing from `rotate`: empty, or encrypted under the current key."""
        if value is None:
            return True
        if not value.startswith(PREFIX):
            return False
        try:
            self._current.decrypt(value[len(PREFIX):].encode("ascii"))
            return True
        except self._invalid:
            return False

    def rotate(self, value: str | None) -> str | None:
        """`value` under the current key: plain values are encrypted, older tokens re-encrypted."""
        if value is None:
            return None
        return self.seal(self.open(value))


def cipher_for(keys: tuple[str, ...]) -> Plain | Cipher:
    return Cipher(keys) if keys else PLAIN


def generate_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


# ---- the link between a Store and the `Sealed` column type ----------------------------------------------
def attach(sql_engine: Any, cipher: Plain | Cipher) -> None:
    """Make `Sealed` columns read and written through this engine use `cipher` (None: plain, the fast path)."""
    sql_engine.dialect.chorus_cipher = cipher if cipher.enabled else None


def attached(dialect: Any) -> Cipher | None:
    return getattr(dialect, "chorus_cipher", None)
