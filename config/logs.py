"""Logging set-up. Every record passes a filter that masks phone numbers, so a careless log line
cannot leak one."""
from __future__ import annotations

import logging
import os
import re

_PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")


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
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskPhoneNumbers())
    root.addHandler(handler)
    level = (level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    root.setLevel(level)
    if level != "DEBUG":
        # Alembic narrates every plugin it loads; the CLI says what happened in its own words.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    root._chorus_configured = True  # type: ignore[attr-defined]
