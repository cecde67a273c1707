"""The channel boundary: one outbound operation, typed errors that say whether to retry, and a registry
that adapters join at process start (the outbox looks channels up by name)."""
from __future__ import annotations

from typing import Protocol

from surveys.engine import OutgoingMessage


class ChannelError(Exception):
    """A send failed. `permanent=True` means retrying cannot help (invalid number, bot blocked)."""

    def __init__(self, message: str, permanent: bool, code: str | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class Channel(Protocol):
    name: str

    def send(self, address: str, message: OutgoingMessage) -> str:
        """Send `message`; return the provider's message id or raise ChannelError."""
        ...


_registry: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    _registry[channel.name] = channel


def get(name: str) -> Channel:
    try:
        return _registry[name]
    except KeyError:
        raise ChannelError(f"no channel {name!r} is configured", permanent=False) from None


def registered() -> tuple[str, ...]:
    return tuple(_registry)
