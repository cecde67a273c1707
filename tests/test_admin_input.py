"""What staff type or import is checked before it is stored (both databases): numbers that are real numbers,
languages something is written in, ids that exist, and an import report that says what each row did."""
from pathlib import Path

import pytest
from sqlalchemy import select

from surveys import admin
from surveys import models as m
from surveys.addresses import InvalidAddress, normalise_address
from surveys.definition import Survey as SurveyDefinition
from surveys.loader import load_survey_file

ROOT = Path(__file__).resolve().parent.parent
WEEKLY = ROOT / "surveys" / "examples" / "weekly.yaml"
HEADER = "channel,address,organisation,language,tags\n"


@pytest.fixture
def org(db, now):
    admin.load_survey(db, load_survey_file(WEEKLY), now)
    admin.add_organisation(db, "Demo Partnership", "demo", now)
    return "demo"


def _contacts(db) -> list[tuple[str, str, list]]:
    with db.read() as conn:
        return sorted(conn.execute(select(m.Contact.address, m.Contact.language, m.Enrolment.tags)
                                   .join(m.Enrolment, m.Enrolment.contact_id == m.Contact.id)).all())


# ---- numbers -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["12345", "07700 9001", "+44770090110", "020 7946 012"])
def test_staff_cannot_enrol_a_number_no_operator_could_have_given_out(db, now, org, number):
    with pytest.raises(admin.AdminError, match="not a valid phone number"):
        admin.add_participant(db, "sms", number, org, now)
    assert _contacts(db) == []


@pytest.mark.parametrize("number, stored", [
    ("07911 123456", "+447911123456"),      # a real UK mobile range
    ("+1 202 555 0123", "+12025550123"),     # another country, written internationally
    ("07700 900123", "+447700900123"),       # Ofcom's drama range: fictional on purpose, so allowed
    ("01632 960001", "+441632960001"),       # Ofcom's fictional area code
])
def test_real_and_ofcom_fictional_numbers_are_enrolled(db, now, org, number, stored):
    admin.add_participant(db, "sms", number, org, now)
    assert [c[0] for c in _contacts(db)] == [stored]


def test_inbound_numbers_are_not_held_to_the_staff_rule():
    # The provider just delivered from this number; phonenumbers' tables may lag a new allocation.
    assert normalise_address("sms", "07700 901000") == "+447700901000"
    with pytest.raises(InvalidAddress):
        normalise_address("sms", "07700 901000", strict=True)


# ---- languages ---------------------------------------------------------------------------------------------
def test_a_language_nothing_is_written_in_is_refused(db, now, org):
    with pytest.raises(admin.AdminError, match=r"language 'xx': .*use one of en, es"):
        admin.add_participant(db, "sms", "07700 900001", org, now, language="xx")
    with pytest.raises(admin.AdminError, match="language 'fr'"):
        admin.add_organisation(db, "French Org", "fr-org", now, language="fr")
    admin.add_participant(db, "sms", "07700 900002", org, now, language="ES")
    assert _contacts(db) == [("+447700900002", "es", [])]


def test_a_language_a_stored_survey_declares_is_known(db, now, org):
    data = load_survey_file(WEEKLY).to_dict()
    data.update(id="weekly-fr", languages=[*data["languages"], "fr"])
    admin.load_survey(db, SurveyDefinition.from_dict(data), now)
    admin.add_participant(db, "sms", "07700 900003", org, now, language="fr")
    assert _contacts(db) == [("+447700900003", "fr", [])]


# ---- import ------------------------------------------------------------------------------------------------
def test_import_reports_created_updated_unchanged_and_rejected(db, now, org):
    first = admin.import_participants(db, HEADER + "sms,07700 900001,demo,en,youth\n"
                                                   "sms,07700 900002,demo,,\n"
                                                   "telegram,123456789,demo,es,\n", now)
    assert (first.created, first.updated, first.unchanged, first.rejected) == (3, 0, 0, 0)
    again = admin.import_participants(db, HEADER + "sms,07700 900001,demo,en,youth\n"
                                                   "sms,+447700900002,demo,,\n"
                                                   "telegram,123456789,demo,es,\n", now)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 3, 0)
    changed = admin.import_participants(db, HEADER + "sms,07700 900001,demo,es,youth;adults\n"
                                                     "sms,07700 900004,demo,,\n", now)
    assert (changed.created, changed.updated, changed.unchanged, changed.rejected) == (1, 1, 0, 0)
    assert ("+447700900001", "es", ["adults", "youth"]) in _contacts(db)


def test_a_second_row_for_the_same_number_is_rejected_and_nothing_is_imported(db, now, org):
    report = admin.import_participants(db, HEADER + "sms,07700 900001,demo,en,\n"
                                                    "sms,07700 900005,demo,xx,\n"
                                                    "sms,+44 7700 900001,demo,es,\n"
                                                    "sms,12345,demo,,\n", now)
    assert report.errors == [
        (3, "language 'xx': neither Chorus nor a loaded survey is written in it (use one of en, es; "
            "a survey declaring it adds it)"),
        (4, "same number as line 2"),
        (5, "address '12345': not a valid phone number in GB (a digit missing or too many? write it like "
            "+44 7700 900123, or 07700 900123 for the UK)"),
    ]
    assert (report.created, report.rejected, report.imported) == (1, 3, False)
    assert _contacts(db) == []  # all or nothing


# ---- ids ---------------------------------------------------------------------------------------------------
def test_unknown_ids_are_errors_with_a_did_you_mean(db, now, org):
    with pytest.raises(admin.AdminError, match=r"no survey 'weekly' \(did you mean: weekly-checkin\?\)"):
        admin.require_survey(db, "weekly")
    with pytest.raises(admin.AdminError, match=r"no survey 'nosuch' \(there are: weekly-checkin\)"):
        admin.add_organisation(db, "Other", "other", now, welcome_survey="nosuch")
    with pytest.raises(admin.AdminError, match=r"no organisation with join code 'dmo' \(did you mean: demo\?\)"):
        admin.find_organisation(db, "dmo")
    with pytest.raises(admin.AdminError, match=r"no organisation with join code 'demmo' \(did you mean: demo\?\)"):
        admin.add_participant(db, "sms", "07700 900001", "demmo", now)
    assert admin.require_survey(db, "weekly-checkin") == "weekly-checkin"


def test_an_organisation_name_is_used_once_whatever_its_case(db, now, org):
    with pytest.raises(admin.AdminError, match=r"organisation name 'demo partnership' is already used \(join code demo\)"):
        admin.add_organisation(db, "demo partnership", "demo2", now)
    for spaced in ("Demo  Partnership", " Demo Partnership ", "Demo\tPartnership"):   # the same name, spaced out
        with pytest.raises(admin.AdminError, match=r"organisation name 'Demo Partnership' is already used"):
            admin.add_organisation(db, spaced, "demo3", now)
    with db.read() as conn:
        assert conn.execute(select(m.Organisation.code)).scalars().all() == ["demo"]


def test_an_organisation_name_is_stored_with_single_spaces(db, now):
    admin.add_organisation(db, "  Riverside   Food Bank ", "food", now)
    assert admin.find_organisation(db, "food").name == "Riverside Food Bank"


def test_addresses_are_checked_by_the_kind_their_channel_names():
    """The core checks an address by its channel's address kind (surveys.channels.ADDRESS_KINDS), not by
    the channel's name: phone numbers, chat ids and email addresses; free text for the terminal."""
    from surveys.addresses import InvalidAddress, normalise_address
    from surveys.channels import ADDRESS_KINDS, CONTACT_CHANNELS, PARTICIPANT_CHANNELS

    assert set(ADDRESS_KINDS) <= set(PARTICIPANT_CHANNELS) | set(CONTACT_CHANNELS)
    assert normalise_address("sms", "07700 900123") == "+447700900123"
    assert normalise_address("local", "+44 7700 900123") == "+447700900123"   # a terminal standing in for a phone
    assert normalise_address("local", "me") == "me"
    assert normalise_address("telegram", "-100123") == "-100123"
    assert normalise_address("email", " lead@pantry.example ") == "lead@pantry.example"
    for channel, bad in (("sms", "12345x"), ("telegram", "@someone"), ("email", "lead at pantry"), ("email", "a b@c.d")):
        with pytest.raises(InvalidAddress):
            normalise_address(channel, bad, strict=True)
