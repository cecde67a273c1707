"""Twilio's messaging webhook and status callbacks, as a Flask blueprint.

Every request must carry a valid X-Twilio-Signature for the URL Twilio called. Behind a TLS-terminating
proxy the app sees http://internal-host/...; Twilio signed https://public-host/..., so the URL checked is
PUBLIC_BASE_URL plus the request's path and query when that setting is present.
"""
from __future__ import annotations

import hmac
import logging
from xml.sax.saxutils import escape
from datetime import datetime, timezone
from typing import Callable

from flask import Blueprint, Response, request
from twilio.request_validator import RequestValidator

from sms.channel import render_sms
from surveys.delivery import record_status
from surveys.service import InboundMessage, handle_inbound
from surveys.store import Store

log = logging.getLogger(__name__)
OPT_OUT_KEYWORDS = {"STOP": "STOP", "START": "START", "HELP": "HELP"}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_blueprint(store: Store, auth_token: str, public_base_url: str | None = None,
                   clock: Callable[[], datetime] = _utcnow) -> Blueprint:
    bp = Blueprint("sms", __name__, url_prefix="/sms")
    validator = RequestValidator(auth_token)

    def signed_url() -> str:
        if public_base_url:
            query = request.query_string.decode("latin-1")
            return public_base_url + request.path + (f"?{query}" if query else "")
        return request.url

    def verified() -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        url = signed_url()
        try:
            # One HMAC for the URL as called; the library's check (which also tries the URL with and
            # without its default port, three HMACs in all) only when that does not match.
            if hmac.compare_digest(validator.compute_signature(url, request.form), signature):
                return True
            return validator.validate(url, request.form, signature)
        except Exception:  # noqa: BLE001 - a malformed request is a forged one
            return False

    def forbidden(what: str) -> Response:
        # Never log the body: it may hold a phone number and whatever the person wrote.
        log.warning("sms %s: rejected a request with a missing or invalid Twilio signature from %s",
                    what, request.remote_addr)
        return Response("invalid signature\n", status=403, mimetype="text/plain")

    @bp.post("/inbound")
    def inbound() -> Response:
        if not verified():
            return forbidden("inbound")
        form = request.form
        sid = form.get("MessageSid") or form.get("SmsSid")
        sender = form.get("From")
        if not sid or not sender:
            return Response("MessageSid and From are required\n", status=400, mimetype="text/plain")
        body = form.get("Body", "")
        media = _int(form.get("NumMedia"))
        extras = {"num_media": media, "num_segments": _int(form.get("NumSegments"))}
        opt_out = (form.get("OptOutType") or "").upper()
        if opt_out in OPT_OUT_KEYWORDS:
            # Twilio's Advanced Opt-Out already answered and would refuse ours; we still act on it.
            body, extras["provider_replied"] = OPT_OUT_KEYWORDS[opt_out], True
        kind = "media" if media and not body.strip() else "text"
        msg = InboundMessage("sms", sender, sid, body, kind=kind, to=form.get("To"), received_at=clock(), extras=extras)
        result = handle_inbound(store, msg, clock())
        return Response(twiml(render_sms(r) for r in result.replies), mimetype="application/xml")

    @bp.post("/status")
    def status() -> Response:
        if not verified():
            return forbidden("status")
        form = request.form
        sid, state = form.get("MessageSid") or form.get("SmsSid"), form.get("MessageStatus") or form.get("SmsStatus")
        if not sid or not state:
            return Response("MessageSid and MessageStatus are required\n", status=400, mimetype="text/plain")
        if not record_status(store, "sms", sid, state, form.get("ErrorCode") or None, clock()):
            # 200 all the same: an error would make Twilio retry a callback we can never match.
            log.info("sms status %s for unknown message %s", state, sid)
        return Response("", status=200)

    return bp


def twiml(texts) -> str:
    """TwiML with one <Message> per text: what twilio's MessagingResponse writes, without building an
    element tree for every request."""
    body = "".join(f"<Message>{escape(t)}</Message>" for t in texts)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>' if body else \
        '<?xml version="1.0" encoding="UTF-8"?><Response />'


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
