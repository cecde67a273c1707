"""Telegram's webhook, as a Flask blueprint: `POST /telegram/<secret>`.

Telegram sends back the secret given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`; the same secret is
the last path segment, so the URL alone cannot be guessed from logs of other routes. Either one wrong: 403
and nothing is stored. Every other body gets 200 and one log line (never with what is in it), whatever it
holds: not JSON, not UTF-8, nested too deep, larger than any update, an Update with fields of the wrong
type, or one whose handling fails. Telegram delivers an update again until it gets a 2xx and holds back
the ones behind it, so a 4xx or 5xx for a bad update would stall the bot. The one exception is a database
that cannot be reached (503): that update is not bad, and Telegram's retry is what brings it in later.

The view is a plain (sync) Flask view: PTB's coroutines run on the channel's own event loop thread, never
on a loop made per request (Flask's `async def` views do that, and PTB's HTTP client breaks after the
first request).
"""
from __future__ import annotations

import hmac
import json
import logging
from datetime import datetime, timezone
from typing import Callable

from flask import Blueprint, Response, request
from sqlalchemy.exc import OperationalError
from telegram import Update

from bot.channel import TelegramChannel
from bot.inbound import failure, handle_update
from surveys.store import Store

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram"
# An update is a few kilobytes (a message is at most 4096 characters); a body larger than this is not one,
# and is not read further.
MAX_BODY = 1024 * 1024


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def webhook_url(public_url: str, secret: str) -> str:
    """The URL to register: TELEGRAM_WEBHOOK_URL is the web app's public address (https://chorus.example.org);
    the route and secret are added unless the address already ends with them."""
    public_url = public_url.rstrip("/")
    suffix = f"{PATH}/{secret}"
    return public_url if public_url.endswith(suffix) else public_url + suffix


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def make_blueprint(store: Store, channel: TelegramChannel, secret: str,
                   clock: Callable[[], datetime] = _utcnow) -> Blueprint:
    bp = Blueprint("telegram", __name__, url_prefix=PATH)
    # The store runs its hot path on the driver's own cursors, so both SQLAlchemy's and the driver's errors.
    unavailable = (OperationalError, store.sql_engine.dialect.dbapi.OperationalError)

    @bp.post("/<given>")
    def webhook(given: str) -> Response:
        if not (_same(given, secret) and _same(request.headers.get(SECRET_HEADER, ""), secret)):
            # Never log the body: it holds what someone wrote.
            log.warning("telegram webhook: rejected a request with a missing or wrong secret token from %s",
                        request.remote_addr)
            return Response("forbidden\n", status=403, mimetype="text/plain")
        data = _read_json(request.stream.read(MAX_BODY + 1))
        if isinstance(data, str):
            log.warning("telegram webhook: %s; ignored", data)
            return Response("", status=200)
        update_id = _update_id(data)
        try:
            update = Update.de_json(data, channel.bot)
        except Exception as exc:  # noqa: BLE001 - PTB raises TypeError, KeyError, ValueError... on bad input
            # The exception's message is left out: PTB's can quote the payload.
            log.warning("telegram webhook: update %s is not one python-telegram-bot can read (%s); ignored",
                        update_id, failure(exc))
            return Response("", status=200)
        if update is None:
            log.warning("telegram webhook: an empty update; ignored")
            return Response("", status=200)
        try:
            handle_update(update, store, channel, clock())
        except unavailable as exc:
            log.error("telegram webhook: update %s not handled: the database is unavailable (%s); Telegram will "
                      "deliver it again", update_id, failure(exc))
            return Response("database unavailable\n", status=503, mimetype="text/plain")
        except Exception as exc:  # noqa: BLE001 - a 5xx would stall the bot; the cause is logged
            log.error("telegram webhook: update %s could not be handled (%s); ignored", update_id,
                      failure(exc, stack=True))
        return Response("", status=200)

    return bp


def _read_json(raw: bytes) -> dict | str:
    """The body as a JSON object, or why it is not one (for the log line, without its content)."""
    if len(raw) > MAX_BODY:
        return f"a body larger than {MAX_BODY // 1024} KiB"
    try:
        data = json.loads(raw)
    except RecursionError:
        return "JSON nested too deep"
    except ValueError:  # not JSON, not UTF-8, a number with thousands of digits
        return "the body is not JSON"
    return data if isinstance(data, dict) else "the body is not a JSON object"


def _update_id(data: dict) -> int | None:
    value = data.get("update_id")
    return value if type(value) is int else None
