"""The staff operations the command line (and the console to come) present: typed results, and errors a
person can act on, with no click in sight. Each runs on SQLite and PostgreSQL (the `db` fixture)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from surveys import admin
from surveys.admin import AdminError, SurveyFilesError
from surveys.flags import ContactChoiceError, FlagError, add_safeguarding_contact, list_contacts, remove_safeguarding_contact
from surveys.store import Store

ROOT = Path(__file__).resolve().parent.parent
WEEKLY = ROOT / "surveys" / "examples" / "weekly.yaml"


def test_survey_files_load_all_or_nothing(db, now, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: broken\n")
    worse = tmp_path / "worse.yaml"
    worse.write_text("id: [\n")
    with pytest.raises(SurveyFilesError) as caught:
        admin.load_survey_files(db, [str(WEEKLY), str(bad), str(worse)], now)
    assert str(caught.value) == "some survey files are invalid; nothing was changed"
    assert len(caught.value.problems) == 2
    assert "bad.yaml" in caught.value.problems[0] and "worse.yaml" in caught.value.problems[1]
    assert admin.list_surveys(db) == []  # the valid file was not stored either
    [(f, result)] = admin.load_survey_files(db, [str(WEEKLY)], now)
    assert (f.path, f.survey.id, result.created) == (str(WEEKLY), result.survey_id, True)
    assert [s.id for s in admin.list_surveys(db)] == [f.survey.id]


def test_adding_an_organisation_again_is_fine_only_when_asked_and_only_under_its_own_name(db, now):
    first = admin.add_organisation_once(db, "Demo Partnership", "demo", now)
    assert first.created and first.code == "demo"
    with pytest.raises(AdminError, match="already used"):
        admin.add_organisation_once(db, "Demo Partnership", "demo", now)
    again = admin.add_organisation_once(db, "demo partnership ", "DEMO", now, exist_ok=True)
    assert (again.id, again.name, again.created) == (first.id, "Demo Partnership", False)
    with pytest.raises(AdminError, match="already used by another organisation"):
        admin.add_organisation_once(db, "Someone Else", "demo", now, exist_ok=True)
    with pytest.raises(AdminError, match="join code"):  # a bad code stays an error with exist_ok
        admin.add_organisation_once(db, "Bad", "no spaces", now, exist_ok=True)


def test_an_organisation_code_names_one_id_or_says_what_it_might_be(db, now):
    org = admin.add_organisation_once(db, "Riverside Pantry", "PANTRY", now)
    assert admin.organisation_id(db, "pantry") == org.id
    assert admin.organisation_id(db, None) is None
    with pytest.raises(AdminError, match="did you mean: PANTRY"):
        admin.organisation_id(db, "PANTRI")


def test_a_safeguarding_contact_is_an_email_or_a_telegram_chat_and_says_when_it_cannot_be_reached(db, now):
    admin.add_organisation_once(db, "Riverside Pantry", "PANTRY", now)
    for both_or_neither in ({}, {"email": "a@b.example", "telegram_chat": "-100"}):
        with pytest.raises(ContactChoiceError):
            add_safeguarding_contact(db, None, now, **both_or_neither)
    added = add_safeguarding_contact(db, "pantry", now, email="lead@pantry.example")
    assert (added.channel, added.address, added.changed) == ("email", "lead@pantry.example", True)
    assert added.warning.startswith("SMTP_HOST is not set: a worker without it fails email alerts at once")
    assert not add_safeguarding_contact(db, "pantry", now, email="lead@pantry.example").changed
    chat = add_safeguarding_contact(db, None, now, telegram_chat="-100123")
    assert (chat.channel, chat.organisation, chat.changed) == ("telegram", None, True)
    assert "TELEGRAM_BOT_TOKEN is not set" in chat.warning
    configured = Store(dataclasses.replace(db.settings, smtp_host="smtp.example"), sql_engine=db.sql_engine)
    assert add_safeguarding_contact(configured, None, now, email="all@partnership.example").warning is None
    with pytest.raises(AdminError, match="no organisation with join code"):
        add_safeguarding_contact(db, "nowhere", now, email="x@y.example")
    with pytest.raises(FlagError, match="not an email address"):
        add_safeguarding_contact(db, None, now, email="not an address")
    assert len(list_contacts(db)) == 3
    assert remove_safeguarding_contact(db, "PANTRY", email="lead@pantry.example").changed
    assert not remove_safeguarding_contact(db, "PANTRY", email="lead@pantry.example").changed
    assert len(list_contacts(db)) == 2


def test_checking_survey_files_gives_each_survey_its_warnings(settings, tmp_path):
    from config.wiring import survey_checks
    from surveys.checks import check_survey_files, survey_warnings
    from surveys.loader import load_survey_file

    checks = survey_checks(settings)
    [checked] = check_survey_files([str(WEEKLY)], checks)
    assert checked.survey.id == load_survey_file(WEEKLY).id
    assert checked.warnings == survey_warnings(checked.survey, checks)
    (tmp_path / "bad.yaml").write_text("id: broken\n")
    with pytest.raises(SurveyFilesError):
        check_survey_files([str(WEEKLY), str(tmp_path / "bad.yaml")], checks)


def test_survey_warnings_name_each_language_no_lexicon_reads(settings):
    """Which languages are watched comes from the configured lexicons (through the wiring): a survey in a
    language without one is warned about, one with a lexicon is not."""
    from dataclasses import replace

    from config.wiring import survey_checks
    from surveys.checks import survey_warnings
    from surveys.loader import load_survey_file

    survey = load_survey_file(WEEKLY)
    checks = survey_checks(settings)
    assert not [w for w in survey_warnings(survey, checks) if "no safeguarding lexicon" in w]
    blind = replace(checks, watched=lambda language: language != survey.languages[-1])
    [warning] = [w for w in survey_warnings(survey, blind) if "no safeguarding lexicon" in w]
    assert repr(survey.languages[-1]) in warning


def test_survey_warnings_measure_length_with_the_cost_they_are_given():
    """The SMS cost is the SMS channel's knowledge, handed in by the wiring."""
    from types import SimpleNamespace

    from sms.channel import sms_cost
    from surveys.checks import MAX_SMS_SEGMENTS, SurveyChecks, survey_warnings
    from surveys.engine import OutgoingMessage
    from surveys.loader import load_survey_file

    survey = load_survey_file(WEEKLY)
    assert not [w for w in survey_warnings(survey, SurveyChecks(lambda lang: True, sms_cost)) if "SMS segments" in w]
    costly = survey_warnings(survey, SurveyChecks(lambda lang: True, lambda message: SimpleNamespace(
        segments=MAX_SMS_SEGMENTS + 1, encoding="GSM-7", units=999)))
    texts = 2 * len(survey.languages) + len(survey.questions) * len(survey.languages)
    assert len([w for w in costly if f"{MAX_SMS_SEGMENTS + 1} SMS segments" in w]) == texts
    assert sms_cost(OutgoingMessage("hi")).segments == 1


def test_a_new_wave_names_the_channels_this_installation_cannot_send_through(settings):
    from config.worker import HOW_TO_CONFIGURE, unconfigured_channels

    invited = {"sms": 3, "telegram": 2, "local": 5}
    assert unconfigured_channels(settings, invited) == [("sms", 3, HOW_TO_CONFIGURE["sms"]),
                                                        ("telegram", 2, HOW_TO_CONFIGURE["telegram"])]
    with_bot = dataclasses.replace(settings, telegram_bot_token="123:abc")
    assert [name for name, _, _ in unconfigured_channels(with_bot, invited)] == ["sms"]


def test_what_the_listing_operations_return_is_plain_typed_data(db, now):
    """A console renders these the way the CLI does: fields by name, no database session behind them."""
    from analysis.theme_report import list_aliases, set_alias

    admin.add_organisation_once(db, "Riverside Pantry", "PANTRY", now)
    org = admin.find_organisation(db, "pantry")
    assert dataclasses.is_dataclass(org) and (org.code, org.name, org.timezone) == ("PANTRY", "Riverside Pantry",
                                                                                    db.settings.default_timezone)
    assert admin.list_organisations(db) == [org]
    add_safeguarding_contact(db, "PANTRY", now, email="lead@pantry.example")
    [contact] = list_contacts(db)
    assert (contact.organisation, contact.channel, contact.address) == ("PANTRY", "email", "lead@pantry.example")
    set_alias(db, ["queue"], "Waiting", None, "Sam", now)
    [alias] = list_aliases(db)
    assert (alias.survey_id, alias.key, alias.name, alias.by) == ("", "queue", "Waiting", "Sam")
