"""Deep links that enrol a person with an organisation (`https://t.me/<bot>?start=<join code>`), and their
QR codes for posters and leaflets."""
from __future__ import annotations

import re
from pathlib import Path

# Telegram's rule for a start parameter, which is also Chorus's rule for a join code.
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def join_link(bot_username: str, code: str) -> str:
    username = bot_username.strip().lstrip("@")
    if not re.fullmatch(r"[A-Za-z0-9_]{4,64}", username):
        raise ValueError(f"{bot_username!r} is not a Telegram bot username")
    if not _PAYLOAD.match(code):
        raise ValueError(f"{code!r} cannot be a deep-link code: 1-64 of A-Z a-z 0-9 _ -")
    return f"https://t.me/{username}?start={code}"


def write_qr(link: str, path: str | Path, scale: int = 10) -> Path:
    """A PNG QR code for `link` (error correction M: survives a crease or a smudge on a printed poster)."""
    import segno

    path = Path(path)
    segno.make(link, error="m", micro=False).save(str(path), kind="png", scale=scale, border=4)
    return path
