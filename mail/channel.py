"""Email (SMTP) as an outbox channel: alerts and digests for staff and governance go through the same
outbox as everything else, with the same retries and the same record of what was sent."""
from __future__ import annotations

import email
import smtplib
import ssl
from pathlib import Path
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

from surveys.channels import ChannelError
from surveys.engine import OutgoingMessage
from surveys.render import render_plain


class EmailChannel:
    name = "email"
    buttons = False

    def __init__(self, host: str, port: int = 587, sender: str = "chorus@localhost", username: str | None = None,
                 password: str | None = None, starttls: bool = True, timeout: float = 20.0):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout

    def units(self, message: OutgoingMessage) -> int:
        return 1

    def send(self, address: str, message: OutgoingMessage) -> str:
        if message.document:
            mail = self._document(message)
        else:
            mail = EmailMessage()
            mail["Subject"] = message.subject or "Chorus"
            mail.set_content(render_plain(message))
        mail["From"] = self.sender
        mail["To"] = address
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "chorus.local")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(f"smtp: recipient refused ({exc.recipients})", permanent=True, code="550") from None
        except smtplib.SMTPResponseException as exc:
            # 5xx: the server will never take it; 4xx: try again later.
            raise ChannelError(f"smtp {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500,
                               code=str(exc.smtp_code)) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"smtp: {exc}", permanent=False) from None
        return mail["Message-ID"]

    def _document(self, message: OutgoingMessage) -> EmailMessage:
        """A prepared email (a digest's archived `email.eml`: its parts and subject, no sender or recipient),
        sent as it is. `message.subject`, when given, replaces the document's subject."""
        try:
            mail = email.message_from_bytes(Path(message.document).read_bytes(), policy=SMTP)
        except OSError as exc:
            raise ChannelError(f"email: the document {message.document} cannot be read ({exc.strerror or exc}); "
                               "build and send it again", permanent=True) from None
        for header in ("From", "To", "Message-ID"):
            del mail[header]
        if message.subject:
            del mail["Subject"]
            mail["Subject"] = message.subject
        return mail
