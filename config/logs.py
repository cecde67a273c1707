"""Logging set-up. Every record passes a filter that masks phone numbers, so a careless log line
cannot leak one."""
from __future__ import annotations

import logging
import os
import re

from config.settings import parse_log_level

# International numbers (+44 7700 900123), national mobiles (07700 900123) and long digit runs; not
# dates and times, which a looser pattern would also eat.
_PHONE = re.compile(r"\+\d[\d\s().-]{7,}\d|\b0\d{3,4}\s?\d{3}\s?\d{3,4}\b|\b\d{10,15}\b")


class MaskPhoneNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _PHONE.sub(lambda m: m.group(0)[:3] + "…" if m.group(0).startswith("+") else "…", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str | None = None) -> None:
    root = logging.getLogger()
    if getattr(root, "_chorus_configured", False):
        return
    # Checked before anything is set up: logging itself would raise a bare ValueError on LOG_LEVEL=verbose.
    level = parse_log_level(level or os.environ.get("LOG_LEVEL"))
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPhoneNumbers())
    root.addHandler(handler)
    root.setLevel(level)
    if level != "DEBUG":
        # Alembic narrates every plugin it loads; the CLI says what happened in its own words.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per tick otherwise
    root._chorus_configured = True  # type: ignore[attr-defined]
