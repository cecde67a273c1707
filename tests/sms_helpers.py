"""Shared pieces for the SMS tests: an app with Twilio configured, signed requests, and a fake clock."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from config.app import create_app
from surveys.store import Store

ROOT = Path(__file__).resolve().parent.parent
TWILIO_DATA = ROOT.parent / "shared" / "data" / "channels" / "twilio"
TOKEN = "twilio-test-auth-token"
ACCOUNT = "AC" + "0" * 32
OUR_NUMBER = "+447700900000"


class Clock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **kw):
        self.now += timedelta(**kw)


def sms_app(db: Store, clock, public_base_url: str | None = None, api_base_url: str | None = None):
    settings = db.settings.with_overrides(
        twilio_account_sid=ACCOUNT, twilio_auth_token=TOKEN, twilio_from_number=OUR_NUMBER,
        public_base_url=public_base_url, twilio_api_base_url=api_base_url,
    )
    store = Store(settings, sql_engine=db.sql_engine)
    app = create_app(settings, store, clock)
    app.testing = True
    return app, store


def sign(url: str, params, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, MultiDict(params))


class Twilio:
    """Posts webhooks the way Twilio does: form-encoded, signed for the URL it called."""

    def __init__(self, client, base: str = "http://localhost"):
        self.client, self.base = client, base
        self.seq = 0

    def inbound(self, body: str, sender: str = "+447700900123", sid: str | None = None, **extra):
        self.seq += 1
        params = {"MessageSid": sid or f"SM{self.seq:032d}", "AccountSid": ACCOUNT, "From": sender,
                  "To": OUR_NUMBER, "Body": body, "NumMedia": "0", **extra}
        return self.post("/sms/inbound", params)

    def post(self, path: str, params, signature: str | None = None, url: str | None = None, raw: bytes | None = None,
             headers: dict | None = None):
        items = list(params.items()) if isinstance(params, dict) else list(params)
        signature = signature if signature is not None else sign(url or self.base + path, items)
        data = raw if raw is not None else urlencode(items).encode()
        hdrs = {"X-Twilio-Signature": signature} if signature != "" else {}
        hdrs.update(headers or {})
        return self.client.post(path, data=data, headers=hdrs, content_type="application/x-www-form-urlencoded")


def twiml_messages(response) -> list[str]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return [m.text or "" for m in root.findall("Message")]
