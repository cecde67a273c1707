"""The digest as an email message, ready for the outbox's SMTP channel.

    multipart/alternative
    ├── text/plain                 render_text(d)
    └── multipart/related
        ├── text/html              render_html_email(d), images as cid:...
        └── image/png  (×2)        Content-ID <...>, Content-Disposition: inline; filename=...

No Date or Message-ID (the sender adds them when it sends), and the MIME boundaries are derived from the
content instead of chosen at random, so the same dict gives the same bytes: an archived message can be
compared with a rebuilt one.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from email.message import EmailMessage
from email.policy import SMTP

from analysis.digest.render import subject as default_subject
from analysis.digest.render_html import render_html_email
from analysis.digest.render_text import render_text


def build_mime(d: dict, *, sender: str, recipients: Iterable[str], subject: str | None = None,
               pngs: dict[str, bytes] | None = None) -> EmailMessage:
    """The digest email. `pngs`: charts already drawn by `charts(d)`, to skip drawing them again."""
    recipients = [r for r in recipients if r and r.strip()]
    if not recipients:
        raise ValueError("a digest needs at least one recipient")
    html, images = render_html_email(d, pngs=pngs)
    msg = build_body(d, render_text(d), html, images, subject=subject)
    del msg["Subject"]
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject if subject is not None else default_subject(d)
    return msg


def build_body(d: dict, text: str, html: str, images: dict[str, bytes], subject: str | None = None) -> EmailMessage:
    """The digest email with its Subject and no sender or recipient: what the archive keeps as `email.eml`,
    so the email channel only addresses it (it knows mail, not digests). `text`, `html` and `images` are the
    renderings `render_text(d)` and `render_html_email(d)` already made."""
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = subject if subject is not None else default_subject(d)
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    html_part = msg.get_payload()[1]
    for cid, png in images.items():
        name = cid.split("@", 1)[0] + ".png"
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", disposition="inline",
                              filename=name)
    html_part.set_param("type", "text/html")   # RFC 2387: the related part says what its root is

    # Deterministic boundaries: a hash of what the message carries, so no part can contain it by chance.
    seed = hashlib.sha256(json.dumps(d, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:32]
    msg.set_boundary(f"chorus-alt-{seed}")
    html_part.set_boundary(f"chorus-rel-{seed}")
    return msg
