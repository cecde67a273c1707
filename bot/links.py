"""Deep links that enrol a person with an organisation (`https://t.me/<bot>?start=<join code>`), and their
QR codes for posters and leaflets."""
from __future__ import annotations

import re
from dataclasses import dataclass
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


class LinkError(ValueError):
    pass


@dataclass(frozen=True)
class JoinLink:
    organisation: str  # the organisation's join code as stored
    link: str


def organisation_join_link(db, code: str, bot_username: str | None = None) -> JoinLink:
    """The Telegram link that enrols someone with the organisation whose join code is `code` (an unknown code
    is surveys.admin.AdminError, with a did-you-mean). Without `bot_username`, the bot is asked its own
    (getMe, with TELEGRAM_BOT_TOKEN); a LinkError says what to do when that cannot be done."""
    from surveys.admin import find_organisation

    org = find_organisation(db, code)
    if bot_username is None:
        bot_username = _bot_username(db.settings)
    try:
        return JoinLink(org.code, join_link(bot_username, org.code))
    except ValueError as exc:
        raise LinkError(str(exc)) from None


def _bot_username(settings) -> str:
    from bot.channel import TelegramChannel
    from surveys.channels import ChannelError

    if not settings.telegram_enabled:
        raise LinkError("TELEGRAM_BOT_TOKEN is not set: set it, or pass --bot-username NAME")
    channel = TelegramChannel.from_settings(settings)
    try:
        return channel.username()
    except ChannelError as exc:
        raise LinkError(f"could not ask Telegram for the bot's username ({exc}); "
                        "pass --bot-username NAME instead") from None
    finally:
        channel.close()
