"""The channel boundary: the names of the channels people are reached on, one outbound operation, what the
core may ask a channel (what a message costs, whether it shows buttons), typed errors that say whether to
retry, and a registry that adapters join at process start (the outbox looks channels up by name)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # for annotations only: `chorus` reads the channel names below without loading the engine
    from surveys.engine import OutgoingMessage

# The channels a participant can be reached on: what survey files, imports and enrolment validate against.
# Their names are all the core knows of them; everything else it asks the channel (see `Channel`).
PARTICIPANT_CHANNELS = ("sms", "telegram", "local")
# The channels a safeguarding contact (a member of staff) is reached on.
CONTACT_CHANNELS = ("email", "telegram")
# The kind of address each channel reaches people at: how the core checks what staff type or import, even
# for a channel this process has not configured (so cannot ask). Anything else is free text.
ADDRESS_KINDS = {"sms": "phone", "telegram": "chat id", "email": "email"}


class ChannelError(Exception):
    """A send failed. `permanent=True` means retrying cannot help (invalid number, bot blocked).
    `effect` says what it means for the contact: 'opted_out' (they said STOP at the carrier),
    'unreachable' (the address cannot receive: invalid, not a mobile, bot blocked) or None.
    `retry_after` is the provider's requested wait in seconds, when it gave one."""

    def __init__(self, message: str, permanent: bool, code: str | None = None, effect: str | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.effect = effect
        self.retry_after = retry_after


class Channel(Protocol):
    """What the core may ask of a channel. It asks, never decides by the channel's name: what a message
    costs (`units`) and whether choices can be pressed (`buttons`) are each channel's own knowledge."""
    name: str
    buttons: bool  # choices can be shown as buttons to press (else the channel numbers them)

    def units(self, message: OutgoingMessage) -> int:
        """What sending `message` costs against the channel's rate limit (SMS: segments; others: 1)."""
        ...

    def send(self, address: str, message: OutgoingMessage) -> str:
        """Send `message`; return the provider's message id or raise ChannelError."""
        ...


def units_of(channel: Channel, message: OutgoingMessage) -> int:
    """`channel.units(message)`; 1 for a stand-in channel (a test's, a benchmark's) that only sends."""
    units = getattr(channel, "units", None)
    return units(message) if units is not None else 1


def not_configured(name: str) -> str:
    """Why something for channel `name` could not be sent: the process that sends has no such channel
    (an invitation's reason; the error of `get`)."""
    return f"no {name} channel is configured"


NOT_CONFIGURED_LIKE = "no % channel is configured"  # not_configured's reasons, as a SQL LIKE pattern

_registry: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    _registry[channel.name] = channel


def get(name: str) -> Channel:
    try:
        return _registry[name]
    except KeyError:
        raise ChannelError(not_configured(name), permanent=False) from None


def registered() -> tuple[str, ...]:
    return tuple(_registry)


def cost(name: str, message: OutgoingMessage) -> int:
    """What `message` would cost on the registered channel `name`, in its units (raises ChannelError when
    no such channel is registered)."""
    return units_of(get(name), message)


def shows_buttons(name: str) -> bool:
    """Whether the registered channel `name` shows choices as buttons (False when it is not registered)."""
    channel = _registry.get(name)
    return bool(getattr(channel, "buttons", False))
