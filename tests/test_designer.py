"""The survey designer's operations (surveys/designer.py) on both stores: drafts kept as written, checked as
`chorus surveys validate` checks files, published as new immutable versions, versions and their differences,
duplicate and import, who may edit what, and a schedule's next occurrences with the clock changes marked."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.wiring import survey_checks
from surveys import designer as ds
from surveys import models as m
from surveys.admin import load_survey_files
from surveys.loader import load_survey_text
from surveys.scope import Forbidden, Scope

ROOT = Path(__file__).resolve().parent.parent
PANTRY = ROOT / "tests" / "transcripts" / "surveys" / "pantry.yaml"
WEEKLY = ROOT / "surveys" / "examples" / "weekly.yaml"
ADMIN = Scope("admin", frozenset(), None, "Ann Admin")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def checks(settings):
    return survey_checks(settings)


@pytest.fixture
def orgs(db):
    from surveys.admin import add_organisation

    add_organisation(db, "Riverside Pantry", "river", NOW)
    add_organisation(db, "Housing Help", "housing", NOW)
    with db.session() as s:
        ids = dict(s.execute(select(m.Organisation.code, m.Organisation.id)).all())
    return {"river": Scope("staff", frozenset({ids["river"]}), None, "Rita River"),
            "housing": Scope("staff", frozenset({ids["housing"]}), None, "Hugo Housing"), "ids": ids}


def test_a_new_survey_starts_as_a_valid_draft_that_never_reaches_anyone(db, orgs, checks):
    design = ds.new_design(db, orgs["river"], "river-visit", "After your visit", NOW)
    assert design.is_draft and design.current is None and design.organisation == "Riverside Pantry"
    checked = ds.check_design(design, design.yaml_text, checks)
    assert checked.ok, checked.problems
    with db.session() as s:          # a draft is no survey: no version, nothing a wave or the service can use
        assert s.get(m.Survey, "river-visit") is None
        assert s.scalar(select(func.count()).select_from(m.SurveyVersion)) == 0
    assert [d.id for d in ds.list_designs(db, orgs["river"])] == ["river-visit"]
    assert ds.list_designs(db, orgs["housing"]) == []


def test_an_invalid_draft_is_kept_as_written_and_says_what_validate_says(db, orgs, checks, tmp_path):
    design = ds.new_design(db, orgs["river"], "river-visit", "After your visit", NOW)
    broken = design.yaml_text.replace("type: scale", "type: scael")
    checked = ds.save_draft(db, orgs["river"], "river-visit", broken, NOW, checks)
    assert not checked.ok
    assert ds.open_design(db, orgs["river"], "river-visit").yaml_text == broken      # nothing lost
    # the same words as the command line's check of the same text in a file
    (tmp_path / "river-visit.yaml").write_text(broken)
    from surveys.admin import SurveyFilesError, read_survey_files
    with pytest.raises(SurveyFilesError) as from_file:
        read_survey_files([str(tmp_path / "river-visit.yaml")])
    assert checked.lines("river-visit.yaml") == from_file.value.problems
    assert any("did you mean" in r and "scale" in r for _, r in checked.problems)
    with pytest.raises(ds.DesignError, match="cannot be published") as refused:
        ds.publish(db, orgs["river"], "river-visit", NOW, checks)
    assert "questions[0].type" in str(refused.value)


def test_an_organisations_survey_must_reach_its_own_people_only(db, orgs, checks):
    design = ds.new_design(db, orgs["river"], "river-visit", "After your visit", NOW)
    other = design.yaml_text.replace("- river", "- housing")
    checked = ds.save_draft(db, orgs["river"], "river-visit", other, NOW, checks)
    assert [p for p, _ in checked.problems] == ["audience.organisations"]
    renamed = design.yaml_text.replace("id: river-visit", "id: something-else")
    assert [p for p, _ in ds.save_draft(db, orgs["river"], "river-visit", renamed, NOW, checks).problems] == ["id"]


def test_publish_makes_a_new_immutable_version_and_open_conversations_keep_theirs(db, orgs, checks):
    design = ds.new_design(db, orgs["river"], "river-visit", "After your visit", NOW)
    first = ds.publish(db, orgs["river"], "river-visit", NOW, checks)
    assert (first.result.number, first.result.created) == (1, True)
    assert not ds.open_design(db, orgs["river"], "river-visit").is_draft
    changed = design.yaml_text.replace("How was your visit", "How was your visit today")
    ds.save_draft(db, orgs["river"], "river-visit", changed, NOW, checks)
    assert ds.publish(db, orgs["river"], "river-visit", NOW, checks).result.number == 2
    with db.session() as s:
        defs = {v.number: v.definition for v in s.scalars(select(m.SurveyVersion).where(m.SurveyVersion.survey_id == "river-visit"))}
        row = s.get(m.Survey, "river-visit")
        assert row.organisation_id == orgs["ids"]["river"]
        assert s.get(m.SurveyVersion, row.current_version_id).number == 2
    assert "today" not in str(defs[1]) and "today" in str(defs[2])     # version 1 is as it was
    views = ds.versions(db, orgs["river"], "river-visit")
    assert [(v.number, v.current, v.published_by) for v in views] == [(2, True, "Rita River"), (1, False, "Rita River")]
    diff = ds.diff_versions(db, orgs["river"], "river-visit", 1, 2)
    assert [(d.kind, d.text.strip()) for d in diff if d.kind in "+-"] == [
        ("-", "en: How was your visit, from 1 (poor) to 5 (great)?"),
        ("+", "en: How was your visit today, from 1 (poor) to 5 (great)?")]
    assert ds.diff_versions(db, orgs["river"], "river-visit", 2, 2) == []
    with pytest.raises(ds.DesignError, match="no draft to publish"):
        ds.publish(db, orgs["river"], "river-visit", NOW, checks)
    with pytest.raises(ds.DesignError, match=r"has no version 7 \(it has: 1, 2\)"):
        ds.version_yaml(db, orgs["river"], "river-visit", 7)


def test_who_may_edit_what(db, orgs, checks, settings):
    load_survey_files(db, [str(PANTRY)], NOW)          # a file: the partnership's
    river, housing = orgs["river"], orgs["housing"]
    assert ds.open_design(db, river, "pantry").editable is False          # staff read the partnership's ...
    with pytest.raises(Forbidden, match="partnership"):
        ds.save_draft(db, river, "pantry", "id: pantry", NOW, checks)     # ... but do not edit them
    assert ds.open_design(db, ADMIN, "pantry").editable is True
    ds.new_design(db, river, "river-visit", "After your visit", NOW)
    for scope in (housing, Scope("governance"), Scope("safeguarding", frozenset(orgs["ids"].values()))):
        with pytest.raises(Forbidden):
            ds.open_design(db, scope, "river-visit")
    with pytest.raises(Forbidden, match="not one of yours"):
        ds.new_design(db, river, "x-visit", "X", NOW, org_code="housing")
    with pytest.raises(ds.DesignError, match="did you mean: pantry"):
        ds.open_design(db, river, "pantyr")
    # staff duplicate the partnership's survey into their own organisation, ready to publish there
    copy = ds.duplicate(db, river, "pantry", "river-pantry", NOW)
    assert copy.organisation == "Riverside Pantry" and copy.editable
    checked = ds.check_design(copy, copy.yaml_text, checks)
    assert checked.ok, checked.problems
    assert load_survey_text(copy.yaml_text, "x.yaml").title.endswith("(copy)")
    with pytest.raises(ds.DesignError, match="already a survey 'pantry'"):
        ds.duplicate(db, ADMIN, "river-pantry", "pantry", NOW)


def test_import_makes_a_draft_and_export_loads_back(db, orgs, checks):
    text = PANTRY.read_text()
    design, checked = ds.import_yaml(db, ADMIN, text, NOW, checks)
    assert design.is_draft and checked.ok and design.organisation is None
    ds.publish(db, ADMIN, "pantry", NOW, checks)
    exported = ds.version_yaml(db, ADMIN, "pantry", 1)
    assert load_survey_text(exported, "pantry.yaml") == load_survey_text(text, "pantry.yaml")
    for bad, reason in (("- just a list", "no usable survey id"), ("id: [", "not YAML"), ("title: no id", "no usable")):
        with pytest.raises(ds.DesignError, match=reason):
            ds.import_yaml(db, ADMIN, bad, NOW, checks)


def test_next_occurrences_mark_the_clock_changes():
    survey = load_survey_text(WEEKLY.read_text(), "w.yaml")
    assert survey.schedule is not None
    after = datetime(2027, 3, 1, tzinfo=timezone.utc)
    found = ds.next_occurrences(survey, "Europe/London", after, count=8)
    assert len(found) == 8 and all(o.at > after for o in found)
    assert survey.schedule.timezone == "Europe/London"       # Mondays 10:00; summer time starts on 28 March 2027
    assert [(o.at.date().isoformat(), o.clock_change) for o in found if o.clock_change] == [
        ("2027-03-29", "summer time starts")]
    assert {(o.at.hour, o.at.minute) for o in found} == {(10, 0)}       # the same wall-clock time ...
    assert {o.at.utcoffset().total_seconds() for o in found} == {0, 3600}   # ... at two UTC offsets
