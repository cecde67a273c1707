"""Twilio's messaging webhook and status callbacks, as a Flask blueprint.

Every request must carry a valid X-Twilio-Signature for the URL Twilio called. Behind a TLS-terminating
proxy the app sees http://internal-host/...; Twilio signed https://public-host/..., so the URL checked is
PUBLIC_BASE_URL plus the request's path and query when that setting is present.

Every field is checked at the edge, after the signature (a signed request may still carry anything, and
a 500 tells Twilio nothing): ids, statuses and error codes that are not the shape Twilio writes them in
are refused with 400 and one line saying which field; addresses lose control characters; the body is
cleaned by the core (`surveys.parsing.clean`, control characters out, emoji and line breaks kept), the
first thing every channel's text goes through.
"""
from __future__ import annotations

import hmac
import logging
import re
from datetime import datetime, timezone
from xml.sax.saxutils import escape
from typing import Callable

from flask import Blueprint, Response, request
from twilio.request_validator import RequestValidator

from sms.channel import render_sms
from sms.status import read_status
from surveys.delivery import record_status
from surveys.parsing import strip_controls
from surveys.service import InboundMessage, handle_inbound
from surveys.store import Store

log = logging.getLogger(__name__)
OPT_OUT_KEYWORDS = {"STOP": "STOP", "START": "START", "HELP": "HELP"}
# Twilio's message ids: two capital letters and 32 hex digits (SM..., MM...). Tests and older accounts use
# shorter ones, so any letters and digits after the prefix, up to 64 characters, are accepted.
SID = re.compile(r"[A-Z]{2}[0-9A-Za-z]{1,62}")
STATUS = re.compile(r"[A-Za-z_-]{1,32}")  # queued, sent, delivered, partially_delivered, ...
ERROR_CODE = re.compile(r"[0-9]{1,10}")  # 21610, 30003, ...
ADDRESS_LIMIT = 64  # E.164 is 16 characters; "whatsapp:+..." or a sender name is still far below this
# Characters XML 1.0 does not allow at all (C0 controls but tab, newline and carriage return; lone
# surrogates; U+FFFE and U+FFFF): a TwiML reply with one is not XML, and Twilio sends nothing.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


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

    def bad_request(what: str, why: str) -> Response:
        # Signed, so from Twilio (or someone with the auth token): say which field, never its value.
        log.warning("sms %s: refused a signed request: %s", what, why)
        return Response(f"{why}\n", status=400, mimetype="text/plain")

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
        sender, to = form.get("From"), form.get("To")
        if not sid or not sender:
            return bad_request("inbound", "MessageSid and From are required")
        if not SID.fullmatch(sid):
            return bad_request("inbound", "MessageSid is not a Twilio message id")
        if len(sender) > ADDRESS_LIMIT or len(to or "") > ADDRESS_LIMIT:
            return bad_request("inbound", "From or To is longer than any phone number or sender id")
        sender, to = strip_controls(sender), strip_controls(to) if to else to
        body = form.get("Body", "")
        media = _int(form.get("NumMedia"))
        extras = {"num_media": media, "num_segments": _int(form.get("NumSegments"))}
        opt_out = (form.get("OptOutType") or "").upper()
        if opt_out in OPT_OUT_KEYWORDS:
            # Twilio's Advanced Opt-Out already answered and would refuse ours; we still act on it.
            body, extras["provider_replied"] = OPT_OUT_KEYWORDS[opt_out], True
        kind = "media" if media and not body.strip() else "text"
        msg = InboundMessage("sms", sender, sid, body, kind=kind, to=to, received_at=clock(), extras=extras)
        result = handle_inbound(store, msg, clock())
        return Response(twiml(render_sms(r) for r in result.replies), mimetype="application/xml")

    @bp.post("/status")
    def status() -> Response:
        if not verified():
            return forbidden("status")
        form = request.form
        sid, state = form.get("MessageSid") or form.get("SmsSid"), form.get("MessageStatus") or form.get("SmsStatus")
        code = form.get("ErrorCode") or None
        if not sid or not state:
            return bad_request("status", "MessageSid and MessageStatus are required")
        if not SID.fullmatch(sid):
            return bad_request("status", "MessageSid is not a Twilio message id")
        if not STATUS.fullmatch(state):
            return bad_request("status", "MessageStatus is not a status word")
        if code is not None and not ERROR_CODE.fullmatch(code):
            return bad_request("status", "ErrorCode is not a number")
        if not record_status(store, "sms", sid, state, code, clock(), read_status):
            # 200 all the same: an error would make Twilio retry a callback we can never match.
            log.info("sms status %s for unknown message %s", state, sid)
        return Response("", status=200)

    return bp


def twiml(texts) -> str:
    """TwiML with one <Message> per text: what twilio's MessagingResponse writes, without building an
    element tree for every request. Characters XML 1.0 forbids are dropped, whatever the text's source
    (replies are cleaned before this; a survey's own wording is not)."""
    body = "".join(f"<Message>{escape(_NOT_XML.sub('', t))}</Message>" for t in texts)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>' if body else \
        '<?xml version="1.0" encoding="UTF-8"?><Response />'


def _int(value: str | None) -> int:
    """A small count (NumMedia, NumSegments); 0 for anything else."""
    try:
        number = int(value or 0)
    except ValueError:
        return 0
    return number if 0 <= number <= 100 else 0

