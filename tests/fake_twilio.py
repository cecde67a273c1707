"""A local fake of Twilio's REST API: enough of POST /2010-04-01/Accounts/{sid}/Messages.json for the real
twilio client. It records every request and can answer with any error, per destination number."""
from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

ERROR_MESSAGES = {
    21610: "Attempt to send to unsubscribed recipient",
    21211: "Invalid 'To' Phone Number",
    21614: "'To' number is not a valid mobile number",
    20429: "Too Many Requests",
    30001: "Queue overflow",
}


@dataclass
class Recorded:
    path: str
    form: dict
    auth: str | None


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0" * 32
    requests: list[Recorded] = field(default_factory=list)
    # destination number -> (HTTP status, Twilio error code); applied to every send to that number
    errors: dict[str, tuple[int, int]] = field(default_factory=dict)
    created: list[dict] = field(default_factory=list)  # the messages it accepted, as Message JSON
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def sent(self) -> list[dict]:
        return [r.form for r in self.requests if r.path.endswith("/Messages.json")]

    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API does: no new connection per message
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                # Message list (what `messages.list(to=...)` asks), for reconciling after a crash.
                from urllib.parse import parse_qs, urlsplit

                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.requests.append(Recorded(self.path, query, self.headers.get("Authorization")))
                if parts.path != f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json":
                    return self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                found = [msg for msg in list(fake.created) if msg["to"] == query.get("To", msg["to"])]
                self._reply(200, {"messages": found, "next_page_uri": None, "page": 0, "page_size": 50,
                                  "uri": parts.path, "first_page_uri": parts.path, "previous_page_uri": None})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:
                    # The client died mid-request: a real server never sees a message, and neither do we.
                    self.close_connection = True
                    return
                form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
                fake.requests.append(Recorded(self.path, form, self.headers.get("Authorization")))
                expected = f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
                if self.path != expected:
                    return self._reply(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
                to = form.get("To", "")
                if to in fake.errors:
                    status, code = fake.errors[to]
                    return self._reply(status, {"code": code, "message": ERROR_MESSAGES.get(code, "error"),
                                                "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})
                sid = "SM" + uuid.uuid4().hex
                body = {
                    "sid": sid, "account_sid": fake.account_sid, "to": to, "from": form.get("From"),
                    "messaging_service_sid": form.get("MessagingServiceSid"), "body": form.get("Body"),
                    "status": "queued", "num_segments": "1", "direction": "outbound-api",
                    "api_version": "2010-04-01", "date_created": "Mon, 23 Nov 2026 10:00:00 +0000",
                    "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{sid}.json",
                }
                fake.created.append(body)
                self._reply(201, body)

            def _reply(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
