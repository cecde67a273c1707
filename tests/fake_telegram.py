"""A local fake of the Telegram Bot API: enough of `/bot<TOKEN>/<method>` for python-telegram-bot.

It serves getMe, getUpdates (long polling over a queue the test fills), sendMessage (a Message with an
increasing message_id), editMessageReplyMarkup, editMessageText, answerCallbackQuery, setMyCommands,
setWebhook, deleteWebhook and getWebhookInfo; it records every call with the time it arrived, and it can be
told to refuse a chat the way Telegram does (blocked bot, chat not found, flood control) or to answer
getUpdates with 409 Conflict. Replies are `{"ok": true, "result": ...}`, errors
`{"ok": false, "error_code": ..., "description": ...}`, as the real server writes them.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-token_for-the-fake"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Chorus", "username": "chorus_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
# Parameters PTB sends JSON-encoded inside a form field.
_JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "link_preview_options", "entities"}

BLOCKED = (403, "Forbidden: bot was blocked by the user")
CHAT_NOT_FOUND = (400, "Bad Request: chat not found")
CONFLICT = (409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")


@dataclass
class Call:
    method: str
    params: dict
    at: float  # time.monotonic() when the request arrived
    result: object = None  # what the fake answered with (the Message for sendMessage), None for errors


@dataclass
class Failure:
    """How to refuse calls about one chat: an (HTTP status, description) pair or a flood-control wait.
    `times` is how many calls to refuse (None: every one)."""

    status: int = 429
    description: str = "Too Many Requests: retry after 1"
    retry_after: float | None = None
    times: int | None = None


@dataclass
class FakeTelegram:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    failures: dict[int, Failure] = field(default_factory=dict)  # chat id -> how to refuse it
    conflict: bool = False  # answer getUpdates with 409, as when another process is polling
    poll_cap: float = 0.5  # longest a getUpdates long poll is held open, whatever timeout the client asks
    server: ThreadingHTTPServer | None = None
    _updates: list[dict] = field(default_factory=list)
    _next_update_id: int = 1000
    _next_message_id: int = 500
    _cond: threading.Condition = field(default_factory=threading.Condition)

    # ---- what tests use --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What to pass as PTB's base_url (TELEGRAM_API_BASE_URL): the token is appended to it."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/bot"

    def push(self, update: dict) -> int:
        """Queue an update for getUpdates; an update_id is added when missing. Returns the update_id."""
        with self._cond:
            if "update_id" not in update:
                self._next_update_id += 1
                update = {"update_id": self._next_update_id, **update}
            self._updates.append(update)
            self._cond.notify_all()
            return update["update_id"]

    def of(self, method: str) -> list[dict]:
        with self._cond:
            return [c.params for c in self.calls if c.method == method]

    def messages_to(self, chat_id: int) -> list[dict]:
        """Messages sent to a chat, as the fake returned them (with message_id and reply_markup)."""
        with self._cond:
            return [c.result for c in self.calls if c.method == "sendMessage" and c.result
                    and c.result["chat"]["id"] == chat_id]

    @property
    def sent(self) -> list[dict]:
        return self.of("sendMessage")

    def clear(self) -> None:
        with self._cond:
            self.calls.clear()

    def wait_for(self, predicate, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake Telegram: condition not met in {timeout}s; calls: "
                                         f"{[c.method for c in self.calls]}")
                self._cond.wait(left)

    # ---- the server --------------------------------------------------------------------------------
    def start(self) -> "FakeTelegram":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real API; every reply has a Content-Length
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                self.do_POST()

            def do_POST(self):
                arrived = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith("/bot"):
                    return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                if not self.path.startswith(prefix):
                    return self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                method = self.path[len(prefix):].split("?", 1)[0]
                params = _params(self.headers.get("Content-Type", ""), body)
                call = Call(method, params, arrived)
                with fake._cond:
                    fake.calls.append(call)
                    fake._cond.notify_all()
                status, payload = fake._answer(method, params)
                call.result = payload.get("result")  # before replying: the client sees it only after
                self._reply(status, payload)

            def _reply(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a long poll (PTB cancels it when stopping)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-telegram",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # ---- the API -----------------------------------------------------------------------------------
    def _answer(self, method: str, params: dict) -> tuple[int, dict]:
        if method == "getMe":
            return _ok(BOT_USER)
        if method == "getUpdates":
            return self._get_updates(params)
        if method in ("setMyCommands", "setWebhook", "deleteWebhook", "answerCallbackQuery"):
            return _ok(True)
        if method == "getWebhookInfo":
            return _ok({"url": "", "has_custom_certificate": False, "pending_update_count": 0})
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            chat_id = _int(params.get("chat_id"))
            refusal = self._refusal(chat_id)
            if refusal is not None:
                return refusal
            if method == "sendMessage":
                with self._cond:
                    self._next_message_id += 1
                    message_id = self._next_message_id
                text = params.get("text", "")
            else:
                message_id, text = _int(params.get("message_id")), params.get("text", "")
            message = {"message_id": message_id, "date": int(time.time()), "from": BOT_USER,
                       "chat": {"id": chat_id, "type": "private", "first_name": "P"}, "text": text}
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            return _ok(message)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _refusal(self, chat_id: int | None) -> tuple[int, dict] | None:
        with self._cond:
            failure = self.failures.get(chat_id)
            if failure is None:
                return None
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    del self.failures[chat_id]
        body = {"ok": False, "error_code": failure.status, "description": failure.description}
        if failure.retry_after is not None:
            body["parameters"] = {"retry_after": failure.retry_after}
        return failure.status, body

    def _get_updates(self, params: dict) -> tuple[int, dict]:
        if self.conflict:
            return CONFLICT[0], {"ok": False, "error_code": CONFLICT[0], "description": CONFLICT[1]}
        offset = _int(params.get("offset")) or 0
        timeout = min(float(params.get("timeout") or 0), self.poll_cap)
        deadline = time.monotonic() + timeout
        with self._cond:
            # Asking from `offset` confirms every update before it: Telegram forgets them.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return _ok(list(self._updates))


def _ok(result) -> tuple[int, dict]:
    return 200, {"ok": True, "result": result}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _params(content_type: str, body: bytes) -> dict:
    """PTB posts form fields (JSON-encoded where the value is an object); other clients post JSON."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(body)
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        pairs = [(part.get_param("name", header="content-disposition"), part.get_content()) for part in message.iter_parts()]
    else:
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
    params = {}
    for key, value in pairs:
        if isinstance(value, bytes):
            value = value.decode()
        params[key] = json.loads(value) if key in _JSON_FIELDS and isinstance(value, str) else value
    return params
