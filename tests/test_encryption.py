"""Encryption at rest on both databases: with CHORUS_ENCRYPTION_KEY set no phone number, chat id or email
address is stored in clear and the service still receives and sends; rotation (interrupted, then resumed)
leaves everything readable with the new key only; a wrong key stops start-up with one line; no key stores
exactly what it always did."""
from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from config.settings import SettingsError, load_settings
from config.startup import check_ready, explain
from local.channel import LocalChannel
from surveys import admin, crypto
from surveys import models as m
from surveys.accounts import add_user
from surveys.engine import OutgoingMessage
from surveys.flags import add_safeguarding_contact, list_contacts, remove_safeguarding_contact
from surveys.keys import SEALED_COLUMNS, RotationError, check_keys, rotate
from surveys.loader import load_survey_file
from surveys.outbox import Worker, queue
from surveys.scope import Scope
from surveys.service import InboundMessage, erase_contact, handle_inbound
from surveys.store import Store

PANTRY = Path(__file__).resolve().parent / "transcripts" / "surveys" / "pantry.yaml"
PHONE, CHAT, EMAIL, LEAD, STAFF = "+447700900123", "987654321", "digest@example.org", "lead@example.org", "ana@example.org"
KEY1, KEY2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _keyed(db: Store, *keys: str) -> Store:
    """The same database seen by a process started with these keys (the first is CHORUS_ENCRYPTION_KEY)."""
    return Store(replace(db.settings, encryption_keys=tuple(keys)), sql_engine=db.sql_engine)


def _fill(db: Store, now) -> dict:
    """A participant by SMS and one by Telegram (enrolled by text), an email in the outbox, a safeguarding
    contact, a staff member with an email address."""
    admin.load_survey(db, load_survey_file(PANTRY), now)
    admin.add_organisation(db, "Riverside Pantry", "PANTRY", now, welcome_survey="pantry")
    for channel, address in (("sms", PHONE), ("telegram", CHAT)):
        for i, words in enumerate(("JOIN pantry", "yes", "no")):
            handle_inbound(db, InboundMessage(channel, address, f"{channel}-{i}", words), now)
    queue(db, "email", OutgoingMessage("the digest"), now, to_address=EMAIL, purpose="digest")
    add_safeguarding_contact(db, "PANTRY", now, email=LEAD)
    add_user(db, Scope.operator(), "ana", "Ana", "staff", ["PANTRY"], now, email=STAFF)
    with db.read() as conn:
        return dict(conn.execute(select(m.Contact.channel, m.Contact.id)).all())


def _raw_text(db: Store) -> str:
    """Every value of every column of every table, as stored."""
    out = []
    with db.sql_engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):
                out.extend(str(v) for v in row)
    return "\n".join(out)


def _stored(db: Store) -> list[str]:
    """The stored (raw) values of every encrypted column."""
    with db.sql_engine.connect() as conn:
        return [v for t, c in SEALED_COLUMNS
                for v in conn.execute(text(f"SELECT {c} FROM {t} WHERE {c} IS NOT NULL")).scalars()]


def _read_back(db: Store) -> set[str]:
    """What Chorus reads through its models."""
    with db.read() as conn:
        return {*conn.execute(select(m.Contact.address)).scalars(), *conn.execute(select(m.Message.to_address)).scalars(),
                *conn.execute(select(m.SafeguardingContact.address)).scalars(),
                *conn.execute(select(m.StaffUser.email)).scalars()} - {None}


def test_with_a_key_no_contact_detail_is_stored_in_clear_and_the_service_works(db, now):
    keyed = _keyed(db, KEY1)
    ids = _fill(keyed, now)
    raw = _raw_text(keyed)
    for secret in (PHONE, CHAT, EMAIL, LEAD, STAFF, PHONE.lstrip("+")):
        assert secret not in raw
    assert all(crypto.is_sealed(v) for v in _stored(keyed)) and len(_stored(keyed)) == 5
    assert _read_back(keyed) == {PHONE, CHAT, EMAIL, LEAD, STAFF}

    # Inbound finds the person by the keyed hash; the answer goes on.
    handled = handle_inbound(keyed, InboundMessage("sms", PHONE, "sms-3", "7"), now)
    assert handled.replies and not handled.duplicate
    # The outbox sends to the plain address, on both engines' claim paths.
    queue(keyed, "local", OutgoingMessage("hello"), now, contact_id=ids["sms"], purpose="broadcast")
    out = io.StringIO()
    Worker(keyed, {"local": LocalChannel(out=out)}, clock=lambda: now).run_once()
    assert f"[to {PHONE}] hello" in out.getvalue()
    # Staff operations compare addresses after decrypting.
    assert [c.address for c in list_contacts(keyed)] == [LEAD]
    assert add_safeguarding_contact(keyed, "PANTRY", now, email=LEAD).changed is False
    assert remove_safeguarding_contact(keyed, "PANTRY", email=LEAD).changed is True
    check_keys(keyed)


def test_erasure_with_a_key_forgets_the_receipt_address_too(db, now):
    keyed = _keyed(db, KEY1)
    ids = _fill(keyed, now)
    erase_contact(keyed, ids["sms"], now, by="test")
    out = io.StringIO()
    Worker(keyed, {"local": LocalChannel(out=out), "sms": LocalChannel(out=out)}, clock=lambda: now).run_once()
    assert f"[to {PHONE}]" in out.getvalue()  # the receipt, decrypted for sending
    with keyed.read() as conn:
        assert PHONE not in set(conn.execute(select(m.Message.to_address)).scalars())
    assert PHONE not in _raw_text(keyed)


def test_without_a_key_values_are_stored_as_before(db, now):
    assert db.cipher is crypto.PLAIN and db.settings.encryption_keys == ()
    _fill(db, now)
    assert sorted(_stored(db)) == sorted([PHONE, CHAT, EMAIL, LEAD, STAFF])
    check_keys(db)


def test_rotation_interrupted_then_resumed_leaves_everything_readable_with_the_new_key_only(db, now):
    _fill(_keyed(db, KEY1), now)
    before = _stored(db)
    moving = _keyed(db, KEY2, KEY1)
    first = rotate(moving, batch=1, max_batches=2)  # interrupted: two values done
    assert first.finished is False and sum(first.rotated.values()) == 2
    # Meanwhile the service writes under the new key and still reads both.
    assert _read_back(moving) == {PHONE, CHAT, EMAIL, LEAD, STAFF}
    second = rotate(moving, batch=2)
    assert second.finished and second.current == 2 and sum(second.rotated.values()) == 3
    assert rotate(moving).rotated == {f"{t}.{c}": 0 for t, c in SEALED_COLUMNS}  # idempotent

    new_only = _keyed(db, KEY2)
    check_keys(new_only)
    assert _read_back(new_only) == {PHONE, CHAT, EMAIL, LEAD, STAFF}
    assert not set(before) & set(_stored(db))
    with pytest.raises(crypto.KeyMismatch):
        check_keys(_keyed(db, KEY1))  # the old key alone no longer reads them


def test_turning_encryption_on_is_set_the_key_then_rotate(db, now):
    _fill(db, now)
    keyed = _keyed(db, KEY1)
    assert _read_back(keyed) == {PHONE, CHAT, EMAIL, LEAD, STAFF}  # plain values read as they are
    assert rotate(keyed).finished
    assert all(crypto.is_sealed(v) for v in _stored(db)) and PHONE not in _raw_text(db)
    assert _read_back(keyed) == {PHONE, CHAT, EMAIL, LEAD, STAFF}
    with pytest.raises(RotationError, match="CHORUS_ENCRYPTION_KEY is not set"):
        rotate(_keyed(db))


def test_a_wrong_key_stops_start_up_with_one_line(db, now):
    _fill(_keyed(db, KEY1), now)
    with pytest.raises(crypto.KeyMismatch) as wrong:
        check_ready(_keyed(db, KEY2))
    line = explain(wrong.value)
    assert "CHORUS_ENCRYPTION_KEY" in line and "\n" not in line
    with pytest.raises(crypto.KeyMismatch) as unset:
        check_ready(_keyed(db))
    assert "CHORUS_ENCRYPTION_KEY is not set" in explain(unset.value)
    check_ready(_keyed(db, KEY2, KEY1))  # the right key among the old ones: starts


def test_settings_refuse_a_malformed_key_by_name(tmp_path):
    env = {"CHORUS_VAR_DIR": str(tmp_path), "CHORUS_SECRET_KEY": "x" * 20}
    assert load_settings(env={**env, "CHORUS_ENCRYPTION_KEY": KEY1, "CHORUS_ENCRYPTION_OLD_KEYS": f"{KEY2}, "},
                         dotenv=False).encryption_keys == (KEY1, KEY2)
    with pytest.raises(SettingsError, match="^CHORUS_ENCRYPTION_KEY: expected a key made by"):
        load_settings(env={**env, "CHORUS_ENCRYPTION_KEY": "not-a-key"}, dotenv=False)
    with pytest.raises(SettingsError, match="^CHORUS_ENCRYPTION_OLD_KEYS: "):
        load_settings(env={**env, "CHORUS_ENCRYPTION_KEY": KEY1, "CHORUS_ENCRYPTION_OLD_KEYS": "abc"}, dotenv=False)
    with pytest.raises(SettingsError, match="^CHORUS_ENCRYPTION_OLD_KEYS: set CHORUS_ENCRYPTION_KEY too"):
        load_settings(env={**env, "CHORUS_ENCRYPTION_OLD_KEYS": KEY2}, dotenv=False)
    assert "encryption_keys" not in repr(load_settings(env={**env, "CHORUS_ENCRYPTION_KEY": KEY1}, dotenv=False))


def test_keys_generate_prints_a_usable_key():
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, ["keys", "generate"], catch_exceptions=False)
    assert result.exit_code == 0
    key = result.stdout.strip()
    assert crypto.Cipher((key,)).open(crypto.Cipher((key,)).seal(PHONE)) == PHONE
