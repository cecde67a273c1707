"""Telegram's webhook, as a Flask blueprint: `POST /telegram/<secret>`.

Telegram sends back the secret given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`; the same secret is
the last path segment, so the URL alone cannot be guessed from logs of other routes. Either one wrong: 403
and nothing is stored. A body that is not an Update Telegram could have sent (bad JSON, a legacy or
truncated payload) gets 200 and one log line: a 4xx or 5xx would make Telegram deliver it again forever.

The view is a plain (sync) Flask view: PTB's coroutines run on the channel's own event loop thread, never
on a loop made per request (Flask's `async def` views do that, and PTB's HTTP client breaks after the
first request).
"""
from __future__ import annotations

import hmac
import logging
from datetime import datetime, timezone
from typing import Callable

from flask import Blueprint, Response, request
from telegram import Update

from bot.channel import TelegramChannel
from bot.inbound import handle_update
from surveys.store import Store

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram"


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

    @bp.post("/<given>")
    def webhook(given: str) -> Response:
        if not (_same(given, secret) and _same(request.headers.get(SECRET_HEADER, ""), secret)):
            # Never log the body: it holds what someone wrote.
            log.warning("telegram webhook: rejected a request with a missing or wrong secret token from %s",
                        request.remote_addr)
            return Response("forbidden\n", status=403, mimetype="text/plain")
        data = request.get_json(force=True, silent=True)
        if not isinstance(data, dict):
            log.warning("telegram webhook: the body is not a JSON object; ignored")
            return Response("", status=200)
        try:
            update = Update.de_json(data, channel.bot)
        except Exception as exc:  # noqa: BLE001 - PTB raises TypeError, KeyError, ValueError... on bad input
            log.warning("telegram webhook: update %s is not one python-telegram-bot can read (%s: %s); ignored",
                        data.get("update_id"), type(exc).__name__, exc)
            return Response("", status=200)
        if update is None:
            log.warning("telegram webhook: an empty update; ignored")
            return Response("", status=200)
        handle_update(update, store, channel, clock())
        return Response("", status=200)

    return bp
