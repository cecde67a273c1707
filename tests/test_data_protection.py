"""Nothing that leaves the store carries what people wrote unmasked (every column of the export, the digest in
every format, theme listings) unless `--no-redact` was asked for; and pseudonyms are stable per installation.
On both databases, with answers that went through the real service."""
from __future__ import annotations

import itertools
import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.digest.archive import files_for
from analysis.digest.build import Options, build
from analysis.redact import redact
from analysis.theme_report import themes_for_week
from analysis.weeks import week_bounds
from cli import main as chorus
from surveys import admin
from surveys.loader import load_survey_file
from surveys.service import InboundMessage, handle_inbound, start_conversation
from tests.digest_data import Data, Person
from tests.process_env import use_database

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "surveys" / "examples"
# What people really write: a name, an email, a phone number and a postcode among the feedback.
SAID = ("Hi, my name is Sarah Jones. The advice line was really helpful, please email me at "
        "sarah.jones@gmail.com or call 07700 900123, I live at SW1A 1AA.")
PERSONAL = ("sarah", "jones", "gmail", "07700", "900123", "sw1a", "1aa")
PSEUDONYM = re.compile(r"P-[A-Z2-7]{12}")
_ids = itertools.count(1)


def say(db, address, text, now):
    return handle_inbound(db, InboundMessage("local", address, f"dp-{next(_ids)}", text), now)


def person(db, address, now) -> int:
    for text in ("JOIN demo", "yes", "no"):          # take part, no quotes
        say(db, address, text, now)
    return admin.find_contact(db, "local", address)


@pytest.fixture
def store(db, now):
    for name in ("weekly.yaml", "service.yaml"):
        admin.load_survey(db, load_survey_file(EXAMPLES / name), now)
    admin.add_organisation(db, "Demo Partnership", "demo", now)
    return db


def leaks(text: str) -> list[str]:
    return [p for p in PERSONAL if p in text.lower()]


def sarah_answers_the_weekly_check_in(db, now, address="+447700900201") -> int:
    contact = person(db, address, now)
    start_conversation(db, contact, "weekly-checkin", now)
    for text in ("2", SAID, "yes", "Sarah Jones here, text me on +44 7700 900123"):   # 2: a hard week, asked why
        say(db, address, text, now)
    say(db, address, "Thanks, my name is Sarah Jones and I'm at SW1A 1AA", now + timedelta(hours=1))  # a comment
    return contact


# ---- the answers export -------------------------------------------------------------------------------
def test_no_column_of_the_export_carries_personal_details(store, now):
    sarah_answers_the_weekly_check_in(store, now)
    rows = list(admin.export_answers(store, redact=redact))
    header, body = rows[0], rows[1:]
    by_question = {r[header.index("question")]: r for r in body}
    assert set(by_question) == {"week", "what_was_hard", "support", "anything_else", ""}     # "": the comment
    for row in body:
        for column, cell in zip(header, row):
            assert not leaks(cell), (column, cell)
    hard = by_question["what_was_hard"]
    assert hard[header.index("question_type")] == "text"
    assert hard[header.index("value")] == redact(SAID)                  # the value column too, not only `text`
    for token in ("[name]", "[email]", "[phone]", "[postcode]"):
        assert token in hard[header.index("value")] and token in hard[header.index("text")]
    assert by_question["support"][header.index("value")] == "yes" and by_question["week"][header.index("value")] == "2"

    kept = list(admin.export_answers(store, redact=admin.keep_words))  # asked for: the words as written
    assert kept[1:][[r[header.index("question")] for r in kept[1:]].index("what_was_hard")][header.index("value")] == SAID


def test_the_staff_export_masks_unless_personal_details_are_kept_on_purpose(store, now):
    """The redaction default lives in the staff operation (analysis.exports), not in a front end."""
    from analysis.exports import answers_export

    sarah_answers_the_weekly_check_in(store, now)
    assert list(answers_export(store)) == list(admin.export_answers(store, redact=redact))
    assert list(answers_export(store, "weekly-checkin", keep_personal_details=True)) == \
        list(admin.export_answers(store, "weekly-checkin", redact=admin.keep_words))
    assert any(leaks(cell) for row in answers_export(store, keep_personal_details=True) for cell in row)
    assert not any(leaks(cell) for row in answers_export(store) for cell in row)


def test_the_export_command_masks_by_default_and_keeps_words_only_when_asked(store, now, tmp_path, monkeypatch):
    sarah_answers_the_weekly_check_in(store, now)
    use_database(monkeypatch, store, tmp_path)
    masked = CliRunner().invoke(chorus, ["export", "answers"], catch_exceptions=False)
    assert masked.exit_code == 0 and "[email]" in masked.output
    assert not leaks(masked.output), leaks(masked.output)
    out = tmp_path / "answers.csv"
    assert CliRunner().invoke(chorus, ["export", "answers", "--out", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == masked.output
    raw = CliRunner().invoke(chorus, ["export", "answers", "--no-redact"], catch_exceptions=False)
    assert raw.exit_code == 0 and "sarah.jones@gmail.com" in raw.output


# ---- the digest and theme listings ----------------------------------------------------------------------
TZ = "Europe/London"
W47 = week_bounds(2026, 47, TZ)[0] + timedelta(days=1, hours=10)
CUTOFF = week_bounds(2026, 48, TZ)[0] + timedelta(hours=8)


def test_the_digest_in_every_format_and_the_theme_list_mask_personal_details(db):
    data = Data(db, W47 - timedelta(days=30))
    data.org("food", "Riverside Food Bank")
    data.week(W47, [Person("food", responded=True, completed=True, text=SAID, label="positive", polarity=0.6,
                           quote_ok=True) for _ in range(6)])
    digest = build(db, Options(2026, 47, TZ, cutoff=CUTOFF), CUTOFF)
    (part,) = digest.surveys
    assert part.quotes and all("[email]" in q.text for q in part.quotes)   # quotes are there, masked
    assert part.themes                                                     # and themes were counted
    for name, content in files_for(digest.to_dict()).items():
        if name.endswith(".png"):
            continue
        if name.endswith(".eml"):   # the email as sent: read every text part, decoded (images are charts)
            parts = email.message_from_bytes(content, policy=email.policy.default).walk()
            text = "\n".join(p.get_content() for p in parts if p.get_content_maintype() == "text")
        else:
            text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", content.decode())   # charts, not words
        assert not leaks(text), (name, leaks(text))
    listed = themes_for_week(db, "pantry", 2026, 47, tz=TZ)
    assert listed and not [t.label for t in listed if leaks(t.label)]


# ---- pseudonyms -----------------------------------------------------------------------------------------
def _pseudonyms(db, survey_id=None) -> dict[str, str]:
    rows = list(admin.export_answers(db, survey_id, redact=redact))
    who = rows[0].index("participant")
    return {r[0]: r[who] for r in rows[1:]}


def test_a_person_has_the_same_pseudonym_in_every_export_and_installations_differ(store, now):
    weekly = person(store, "+447700900301", now)
    start_conversation(store, weekly, "weekly-checkin", now)
    say(store, "+447700900301", "4", now)
    service = person(store, "+447700900302", now)
    start_conversation(store, service, "service-experience", now)
    say(store, "+447700900302", "9", now)
    say(store, "+447700900302", "Kind staff", now)

    everything = _pseudonyms(store)
    assert len(set(everything.values())) == 2 and all(PSEUDONYM.fullmatch(p) for p in everything.values())
    assert _pseudonyms(store) == everything                                   # the same export twice
    only_service = _pseudonyms(store, "service-experience")                   # a filtered export
    assert only_service and all(everything[a] == p for a, p in only_service.items())
    assert set(only_service.values()) == {store.pseudonym(service)}
    assert store.pseudonym(weekly) != store.pseudonym(service)

    from surveys.store import Store
    other = Store(store.settings.with_overrides(secret_key="another-installation-key-0123456789"),
                  sql_engine=store.sql_engine)
    elsewhere = _pseudonyms(other)
    assert set(elsewhere) == set(everything) and all(PSEUDONYM.fullmatch(p) for p in elsewhere.values())
    assert not set(elsewhere.values()) & set(everything.values())             # another key, other pseudonyms
