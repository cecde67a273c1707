"""The few statements every inbound message runs, as plain SQL on the transaction's own DBAPI cursor.

Why not SQLAlchemy Core here: on SQLite, SQLAlchemy's per-statement bookkeeping costs several times what
SQLite itself spends, and an inbound message runs six statements. These run inside the same connection
and transaction as the rest of `handle_inbound`, and write exactly what the models declare (UTC
timestamps in SQLAlchemy's SQLite format, JSON as text), so ORM code reads the rows back unchanged.
Everything else (enrolment, consent, erasure, staff tools) stays on SQLAlchemy.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from sqlalchemy import Connection

from surveys.outgoing import OUTBOUND_COLUMNS

_MESSAGE_COLUMNS = ("channel", "direction", "external_id", "contact_id", "address_hash", "conversation_id",
                    "in_reply_to_id", "kind", "text", "payload", "status", "error_code", "created_at")
_ANSWER_COLUMNS = ("conversation_id", "contact_id", "enrolment_id", "organisation_id", "survey_id",
                   "survey_version_id", "message_id", "question_key", "question_type", "status", "raw_text",
                   "value_num", "value_text", "language", "answered_at", "tags")
_CONVERSATION_COLUMNS = ("contact_id", "enrolment_id", "survey_version_id", "status", "question", "attempts",
                         "language", "started_at", "last_activity_at")


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


_SESSION = """
SELECT c.id, c.language, c.opted_out_at, c.state, c.address, c.channel,
       v.id, v.enrolment_id, v.survey_version_id, v.question, v.attempts, v.last_activity_at,
       e.id, e.consent_status, e.organisation_id, o.name, c.unreachable_at
FROM contact c
LEFT OUTER JOIN conversation v ON v.contact_id = c.id AND v.status = 'open'
LEFT OUTER JOIN enrolment e ON e.contact_id = c.id
LEFT OUTER JOIN organisation o ON o.id = e.organisation_id
WHERE {where}
ORDER BY e.id
"""

STATEMENTS = {
    # Two equality lookups, not `external_id IN (a, b)`: PostgreSQL plans the IN form about twice as slowly
    # here (benchmarks/inbound.py: 280 against 450 messages/s).
    "known": "SELECT id FROM message WHERE channel = :channel AND external_id = :external_id "
    "UNION ALL SELECT id FROM message WHERE channel = :channel AND external_id = :erased_id",
    "replies": "SELECT text, payload FROM message WHERE in_reply_to_id = :message_id AND status <> 'suppressed' "
    "ORDER BY id",
    "suppress_replies": "UPDATE message SET status = 'suppressed' WHERE in_reply_to_id = "
    "(SELECT id FROM message WHERE channel = :channel AND external_id IN (:external_id, :erased_id))",
    "session_by_hash": _SESSION.format(where="c.channel = :channel AND c.address_hash = :hash"),
    "session_by_id": _SESSION.format(where="c.id = :contact_id"),
    "insert_message": _insert("message", _MESSAGE_COLUMNS),
    # Replies: built by surveys.outgoing.outbound_row, which fills exactly these columns.
    "insert_outbound": _insert("message", OUTBOUND_COLUMNS),
    "insert_answer": _insert("answer", _ANSWER_COLUMNS),
    "insert_conversation": _insert("conversation", _CONVERSATION_COLUMNS),
    "update_conversation": "UPDATE conversation SET question = :question, attempts = :attempts, "
    "last_activity_at = :now, language = :language WHERE id = :conv_id",
    "end_conversation": "UPDATE conversation SET status = :status, ended_at = :now, last_activity_at = :now "
    "WHERE id = :conv_id",
}
STATEMENTS.update({
    "contact_state": "UPDATE contact SET state = :state, language = :language WHERE id = :contact_id",
    "enrolment_consent": "SELECT consent_status, consent_participate, consent_quote, contact_id FROM enrolment "
    "WHERE id = :enrolment_id",
    "update_consent": "UPDATE enrolment SET consent_status = :status, consent_participate = :participate, "
    "consent_quote = :quote, consent_version = :version, consent_at = :at, consent_channel = :channel "
    "WHERE id = :enrolment_id",
    "insert_consent_event": _insert("consent_event", ("enrolment_id", "status", "participate", "quote", "version",
                                                      "channel", "at")),
})
# Enrolment by text: once per person, but a wave of JOINs after a poster goes up is still a burst.
STATEMENTS.update({
    "org_by_code": "SELECT id, name, language, welcome_survey_id FROM organisation WHERE code_key = :code",
    "insert_contact": _insert("contact", ("channel", "address", "address_hash", "language", "state", "created_at")),
    "rejoin_contact": "UPDATE contact SET opted_out_at = NULL, address = :address WHERE id = :contact_id",
    "insert_enrolment": _insert("enrolment", ("contact_id", "organisation_id", "consent_status", "consent_participate",
                                              "consent_quote", "source", "tags", "created_at")),
    "current_version": "SELECT current_version_id FROM survey WHERE id = :survey_id",
    "conversation_numbers": "SELECT question_key, question_type, value_num FROM answer WHERE conversation_id = :conv_id "
    "AND status = 'answered' AND value_num IS NOT NULL ORDER BY id",
    # A wave's invitation that had to ask for consent first: the survey starts on the reply, so the
    # conversation is linked to the invitation here (wave counts, reminders and the digest follow the link).
    "link_invitation": "UPDATE invitation SET conversation_id = :conv_id WHERE contact_id = :contact_id "
    "AND enrolment_id = :enrolment_id AND status = 'started' AND conversation_id IS NULL AND started_at >= :since "
    "AND wave_id IN (SELECT id FROM wave WHERE survey_version_id = :version_id)",
    "recent_reply_to_hash": "SELECT id FROM message WHERE address_hash = :hash AND direction = 'out' "
    "AND created_at > :since LIMIT 1",
})
_RETURNING = ("insert_message", "insert_answer", "insert_conversation", "insert_consent_event", "insert_contact",
              "insert_enrolment")
_NAMED = re.compile(r":(\w+)")


class HotPath:
    """Dialect-specific SQL text and value conversion, built once per Store."""

    def __init__(self, dialect: str):
        self.sqlite = dialect == "sqlite"
        if self.sqlite:
            self.sql = dict(STATEMENTS)
        else:
            # psycopg takes %(name)s; RETURNING gives the new id in the same round trip.
            self.sql = {k: _NAMED.sub(r"%(\1)s", v) + (" RETURNING id" if k in _RETURNING else "")
                        for k, v in STATEMENTS.items()}

    # ---- values ----------------------------------------------------------------------------------
    def time_in(self, value: datetime | None):
        if value is None or not self.sqlite:
            return value
        # SQLAlchemy's SQLite DateTime storage format, naive UTC (see surveys.models.UTCDateTime).
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")

    def time_out(self, value) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
        return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)

    @staticmethod
    def json_in(value) -> str | None:
        return None if value is None else json.dumps(value)

    @staticmethod
    def json_out(value):
        return json.loads(value) if isinstance(value, str) else value

    # ---- execution -------------------------------------------------------------------------------
    def _cursor(self, conn: Connection):
        return conn.connection.dbapi_connection.cursor()

    def fetchall(self, conn: Connection, name: str, params: dict) -> list[tuple]:
        cur = self._cursor(conn)
        try:
            cur.execute(self.sql[name], params)
            return cur.fetchall()
        finally:
            cur.close()

    def execute(self, conn: Connection, name: str, params: dict) -> int | None:
        """Run one statement; for inserts, return the new row's id."""
        cur = self._cursor(conn)
        try:
            cur.execute(self.sql[name], params)
            if name in _RETURNING:
                return cur.lastrowid if self.sqlite else cur.fetchone()[0]
            return None
        finally:
            cur.close()

    def executemany(self, conn: Connection, name: str, rows: list[dict]) -> None:
        cur = self._cursor(conn)
        try:
            cur.executemany(self.sql[name], rows)
        finally:
            cur.close()
