"""Outbound SMS through the twilio REST client, with provider errors turned into typed ChannelErrors."""
from __future__ import annotations

import logging
from datetime import timedelta

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from config.settings import Settings
from sms.segments import SegmentCount, count_segments, gsm7_sanitise
from sms.status import outcome_of_code
from surveys.channels import ChannelError
from surveys.engine import OutgoingMessage
from surveys.render import render_plain

log = logging.getLogger(__name__)


def render_sms(message: OutgoingMessage) -> str:
    """The text as it goes out by SMS: numbered choices, and no character that silently forces UCS-2."""
    return gsm7_sanitise(render_plain(message))


def sms_cost(message: OutgoingMessage) -> SegmentCount:
    """What `message` costs by SMS, as sent: its segments, the encoding they go out in and its length in
    that encoding's units. Carriers bill, and Twilio rate-limits, per segment."""
    return count_segments(render_sms(message))


def sms_units(message: OutgoingMessage) -> int:
    """What a send costs against the rate limit: SMS rates are counted in segments, not messages."""
    return max(1, sms_cost(message).segments)


class SmsChannel:
    name = "sms"
    buttons = False  # choices go as a numbered list

    def __init__(self, account_sid: str, auth_token: str, messaging_service_sid: str | None = None,
                 from_number: str | None = None, status_callback_url: str | None = None,
                 api_base_url: str | None = None, timeout: float = 10.0):
        if not (messaging_service_sid or from_number):
            raise ValueError("a messaging service SID or a from-number is needed")
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if api_base_url:
            self.client.api.base_url = api_base_url.rstrip("/")
        self.messaging_service_sid = messaging_service_sid
        self.from_number = from_number
        self.status_callback_url = status_callback_url

    @classmethod
    def from_settings(cls, settings: Settings) -> "SmsChannel":
        callback = f"{settings.public_base_url}/sms/status" if settings.public_base_url else None
        return cls(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_messaging_service_sid,
                   settings.twilio_from_number, callback, settings.twilio_api_base_url)

    def units(self, message: OutgoingMessage) -> int:
        return sms_units(message)

    def send(self, address: str, message: OutgoingMessage) -> str:
        kwargs = {"to": address, "body": render_sms(message)}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if self.status_callback_url:
            kwargs["status_callback"] = self.status_callback_url
        try:
            return self.client.messages.create(**kwargs).sid
        except TwilioRestException as exc:
            raise classify(exc) from None
        except TwilioException as exc:  # connection failures, timeouts
            raise ChannelError(f"twilio: {exc}", permanent=False) from None
        except OSError as exc:
            raise ChannelError(f"network: {exc}", permanent=False) from None


    def reconcile(self, address: str, since, message: OutgoingMessage) -> str | None:
        """After a crash mid-send: did Twilio take this message? Lists what was sent to `address` since
        `since` (minus a minute for clock skew) and returns the id of one with the same body, or None."""
        body = render_sms(message)
        try:
            for sent in self.client.messages.list(to=address, date_sent_after=since - timedelta(minutes=1), limit=50):
                if sent.body == body:
                    return sent.sid
        except TwilioRestException as exc:
            raise classify(exc) from None
        except (TwilioException, OSError) as exc:
            raise ChannelError(f"twilio: {exc}", permanent=False) from None
        return None


def classify(exc: TwilioRestException) -> ChannelError:
    """What a Twilio REST error means: 429 and 5xx are worth retrying; 21610 means the person opted out at
    the carrier; 21211/21614 mean the number cannot receive SMS; other 4xx are our mistake and permanent."""
    code = str(exc.code) if exc.code is not None else None
    status = exc.status or 0
    effect = outcome_of_code(code)
    if status == 429 or status >= 500:
        retry_after = None
        return ChannelError(f"twilio {status}: {exc.msg}", permanent=False, code=code or str(status), retry_after=retry_after)
    return ChannelError(f"twilio {status} ({code}): {exc.msg}", permanent=True, code=code or str(status), effect=effect)
