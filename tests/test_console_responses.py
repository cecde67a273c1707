"""Responses as the console shows them (analysis.responses), scoped, on both databases."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import update

from analysis import responses as rs
from surveys import models as m
from surveys.scope import Forbidden, Scope
from tests.console_data import partnership, staff

W47 = rs.ResponseFilter("pantry", week="2026-W47")
PHONE, NAME = "07700 900123", "Jane Smith"


@pytest.fixture
def data(db, now):
    return partnership(db, now)


def _q(summary, key):
    return next(q for q in summary.questions if q.question == key)


def test_the_summary_is_protected_like_the_digest_for_every_scope_that_may_see_it(db, now, data):
    for scope in (Scope.operator(), Scope("governance"), staff(data, "HOUSING")):
        s = rs.response_summary(db, scope, W47, now)
        visit = _q(s, "visit")
        assert visit.total.value == 8 and visit.mean.value == 3.75
        # 1 x 2, 2 x 3, 3 x 4, 2 x 5: every value is a group under 5, withheld and saying so
        assert [(c.value, c.count.value, c.count.reason) for c in visit.distribution] == [
            ("2", None, "small"), ("3", None, "small"), ("4", None, "small"), ("5", None, "small")]
        assert [(p.week, p.count.value) for p in visit.trend] == [("2026-W47", 8)]
    housing = rs.response_summary(db, Scope("governance"), rs.ResponseFilter("pantry", week="2026-W47", org="HOUSING"), now)
    visit = _q(housing, "visit")
    assert visit.total.suppressed and visit.mean.suppressed and visit.mean.reason == "small"
    with pytest.raises(Forbidden):
        rs.response_summary(db, staff(data, "PANTRY", "safeguarding"), W47, now)
    eight = rs.response_summary(db, Scope.operator(), rs.ResponseFilter("pantry"), now)
    assert len(_q(eight, "visit").trend) == 8 and _q(eight, "visit").total.value == 13


def test_free_text_is_raw_for_the_organisations_staff_and_redacted_quotable_and_grouped_for_governance(db, now, data):
    everything = rs.free_text_answers(db, Scope.operator(), W47, now)
    assert everything.total == 8
    housing = rs.free_text_answers(db, staff(data, "HOUSING"), W47, now)
    assert housing.total == 2 and any(NAME in r.text and PHONE in r.text for r in housing.rows)
    assert all(r.organisation == "HOUSING" and r.participant.startswith("P-") for r in housing.rows)
    with pytest.raises(Forbidden):
        rs.free_text_answers(db, staff(data, "HOUSING"), rs.ResponseFilter("pantry", week="2026-W47", org="PANTRY"), now)
    gov = rs.free_text_answers(db, Scope("governance"), W47, now)
    assert gov.total == 5 and gov.withheld is None           # PANTRY's quotable, unflagged answers only
    assert all(not r.flagged and r.participant is None and r.organisation == "PANTRY" for r in gov.rows)
    assert "i dont want to be here anymore" not in {r.text for r in gov.rows}
    small = rs.free_text_answers(db, Scope("governance"), rs.ResponseFilter("pantry", week="2026-W47", org="HOUSING"), now)
    assert small.rows == [] and "fewer than 5" in small.withheld
    with pytest.raises(Forbidden):
        rs.free_text_answers(db, staff(data, "PANTRY", "safeguarding"), W47, now)


def test_filters_by_sentiment_flag_theme_and_completion(db, now, data):
    op = Scope.operator()

    def texts(**kw):
        return rs.free_text_answers(db, op, rs.ResponseFilter("pantry", **{"week": "2026-W47", **kw}), now)

    assert texts(sentiment="negative").total == 5
    assert [r.text for r in texts(flagged=True).rows] == ["i dont want to be here anymore"]
    assert texts(completed=True).total == 6 and texts(completed=False).total == 2
    assert texts(channel="sms").total == 0
    two_weeks = rs.ResponseFilter("pantry", since=now - timedelta(days=14), until=now, theme="waiting times")
    themed = rs.free_text_answers(db, op, two_weeks, now)
    assert themed.total == 9 and all("waiting times" in r.themes for r in themed.rows)
    # a score matches a text filter through its conversation: the visits of those who wrote negatively
    negative = rs.response_summary(db, op, rs.ResponseFilter("pantry", week="2026-W47", sentiment="negative"), now)
    assert _q(negative, "visit").total.value == 5
    with pytest.raises(rs.ResponseError):
        rs.free_text_answers(db, op, rs.ResponseFilter("pantry", sentiment="cross"), now)
    with pytest.raises(rs.ResponseError, match="no survey"):
        rs.free_text_answers(db, op, rs.ResponseFilter("pantri"), now)


def test_a_correction_and_a_theme_decision_are_made_by_the_scopes_allowed(db, now, data):
    housing_row = rs.free_text_answers(db, staff(data, "HOUSING"), W47, now).rows[0]
    with pytest.raises(Forbidden):
        rs.correct_sentiment(db, staff(data, "PANTRY"), housing_row.answer_id, "positive", now)
    with pytest.raises(Forbidden):
        rs.correct_sentiment(db, Scope("governance"), housing_row.answer_id, "positive", now)
    done = rs.correct_sentiment(db, staff(data, "HOUSING"), housing_row.answer_id, "positive", now)
    assert done.label == "positive"
    again = rs.free_text_answers(db, staff(data, "HOUSING"), W47, now + timedelta(seconds=1))
    corrected = next(r for r in again.rows if r.answer_id == housing_row.answer_id)
    assert corrected.sentiment == "positive" and corrected.corrected
    with pytest.raises(Forbidden):
        rs.merge_themes(db, Scope("governance"), ["wait time"], "Waiting", None, now)
    decision = rs.rename_theme(db, staff(data, "PANTRY"), "wait time", "Waiting", "pantry", now)
    assert (decision.keys, decision.name, decision.survey) == (["wait time"], "Waiting", "pantry")


def test_exports_hold_exactly_the_filtered_rows_masked_unless_kept(db, now, data):
    f = rs.ResponseFilter("pantry", week="2026-W47", org="HOUSING")
    scope = staff(data, "HOUSING")
    out = io.BytesIO()
    n = rs.export_responses(db, scope, f, "csv", out, now)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode())))
    assert rows[0] == list(rs.EXPORT_COLUMNS) and n == len(rows) - 1
    assert sorted(int(r[0]) for r in rows[1:]) == rs.export_ids(db, scope, f, now)
    assert {r[2] for r in rows[1:]} == {"HOUSING"}
    assert PHONE not in out.getvalue().decode() and NAME not in out.getvalue().decode()
    kept = io.BytesIO()
    rs.export_responses(db, scope, f, "csv", kept, now, keep_personal_details=True)
    assert PHONE in kept.getvalue().decode()
    with pytest.raises(Forbidden):
        rs.export_responses(db, Scope("governance"), W47, "csv", io.BytesIO(), now)
    with pytest.raises(Forbidden):
        rs.export_responses(db, staff(data, "PANTRY"), f, "csv", io.BytesIO(), now)
    everything = io.BytesIO()
    rs.export_responses(db, Scope.operator(), W47, "csv", everything, now)
    assert "[withheld: safeguarding flag #" in everything.getvalue().decode()
    assert "i dont want to be here anymore" not in everything.getvalue().decode()


def test_xlsx_keeps_every_cell_as_text(db, now, data):
    from openpyxl import load_workbook

    with db.write() as conn:   # a reply a spreadsheet would run as a formula
        conn.execute(update(m.Answer).where(m.Answer.raw_text == "fresh veg was brilliant this week")
                     .values(raw_text="=HYPERLINK(\"http://x\")", value_text="=HYPERLINK(\"http://x\")"))
    out = io.BytesIO()
    n = rs.export_responses(db, Scope.operator(), W47, "xlsx", out, now)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    values = list(sheet.values)
    assert list(values[0]) == list(rs.EXPORT_COLUMNS) and len(values) == n + 1
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type == "s" for c in cells if c.value is not None)
    assert any(c.value == '=HYPERLINK("http://x")' for c in cells)
    text = io.BytesIO()
    rs.export_responses(db, Scope.operator(), W47, "csv", text, now)
    assert "'=HYPERLINK" in text.getvalue().decode()


def test_a_background_export_reports_progress_and_belongs_to_whoever_asked(db, now, data):
    alice = staff(data, "PANTRY")
    job = rs.start_export(db, alice, rs.ResponseFilter("pantry"), "xlsx", now)
    assert (job.status, job.percent, job.filename) == ("queued", 0, None)
    with pytest.raises(Forbidden):
        rs.export_status(db, Scope("staff", alice.organisation_ids, 99, "mallory"), job.id)
    finished = rs.run_export(db, job.id, now)
    assert (finished.status, finished.percent, finished.done, finished.total) == ("done", 100, 28, 28)
    path = rs.export_file(db, alice, job.id)
    assert path.name == finished.filename and path.stat().st_size > 0
    assert rs.run_export(db, job.id, now).status == "done"          # run once
    with pytest.raises(rs.ResponseError):
        rs.start_export(db, alice, rs.ResponseFilter("pantry"), "pdf", now)
    failed = rs.run_export(db, rs.start_export(db, alice, rs.ResponseFilter("nope"), "csv", now).id, now)
    assert failed.status == "failed" and "no survey" in failed.error
