"""The dashboard, responses, digests and waves pages through the app (SQLite; the operations have their own
tests on both databases): what each shows, the changes they make, exports of exactly the filtered rows, and
the leak check: no raw answer, contact detail or small-group quote reaches a governance viewer or another
organisation's staff in any page, fragment or export of these areas."""
from __future__ import annotations

import csv
import io
import time

import pytest
from openpyxl import load_workbook

from analysis import responses as rs
from console import responses as console_responses
from surveys import audit
from surveys.scope import Scope
from tests.console.conftest import OP, RIVER_SECRETS, csrf_token, sign_in_as

WEEK = "2026-W48"
Q = f"survey=pantry&week={WEEK}"


def client_for(app, db, who, clock):
    c = app.test_client()
    sign_in_as(c, db, who, clock())
    return c


def text(response) -> str:
    return response.get_data(as_text=True)


def test_dashboard_page_and_fragment_show_the_weeks_figures(app, sqlite_db, people, clock):
    c = client_for(app, sqlite_db, "admin", clock)
    page = text(c.get("/console/dashboard"))
    assert 'hx-trigger="every 30s, refresh"' in page and "Riverside Food Bank" in page
    assert "withheld: fewer than 5 people" in page          # river: 3 people invited
    fragment = c.get("/console/dashboard", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in text(fragment) and "Week 2026-W48" in text(fragment)
    bad = text(c.get("/console/dashboard?week=soon"))
    assert "not an ISO week" in bad and "Showing this week instead" in bad


def test_a_change_in_response_rate_reads_in_points_as_the_digest_writes_it(app, sqlite_db, people, clock):
    """River answers more in W47 than in W46: the change reads in percentage points, as the digest writes it."""
    from datetime import timedelta

    from analysis.digest.render import points
    from analysis.weeks import week_bounds
    from tests.digest_data import Data, Person

    data = Data(sqlite_db, clock() - timedelta(days=60))
    data.orgs["river"] = people["ids"]["river"]
    for week, answered in ((46, 5), (47, 8)):
        monday = week_bounds(2026, week, sqlite_db.settings.default_timezone)[0]
        data.week(monday + timedelta(days=1, hours=10), [Person("river", responded=i < answered) for i in range(10)])
    page = text(client_for(app, sqlite_db, "admin", clock).get("/console/dashboard?week=2026-W47"))
    from analysis.dashboard import dashboard

    board = dashboard(sqlite_db, OP, (2026, 47), clock())
    changes = [r.response_rate_change.value for r in (board.partnership, *board.organisations)
               if not r.response_rate_change.suppressed and r.response_rate_change.value is not None]
    assert changes and all(-100 <= v <= 100 for v in changes)       # percentage points, by definition
    for value in changes:
        assert points({"value": value}) in page                      # e.g. "+31.8 points", as the digest says
        assert f"{value * 100:+.0f} points" not in page              # the page once multiplied it by 100


def test_responses_show_protected_charts_and_the_answers_words_to_their_staff(app, sqlite_db, people, clock):
    c = client_for(app, sqlite_db, "staff", clock)
    page = text(c.get(f"/console/responses?{Q}"))
    assert "Distribution of answers" in page and "Trend by week" in page and "<svg class=\"bar\"" in page
    assert "withheld: fewer than 5 people" in page
    assert "Jane Smith" in page and "the bins at the back smell" in page
    assert "style=" not in page
    bad = text(c.get("/console/responses?survey=pantry&since=yesterday"))
    assert "write it like 2026-11-16" in bad
    unknown = text(c.get("/console/responses?survey=nope"))
    assert "nope" in unknown and "Traceback" not in unknown


def test_correcting_a_label_in_place_and_without_javascript(app, sqlite_db, people, clock):
    c = client_for(app, sqlite_db, "staff", clock)
    answer = next(r for r in rs.free_text_answers(sqlite_db, OP, rs.ResponseFilter("pantry", week=WEEK), clock()).rows
                  if "bins" in r.text)
    token = csrf_token(c, "/console/")
    url = f"/console/responses/answers/{answer.answer_id}/sentiment"
    row = c.post(url, data={"csrf_token": token, "label": "positive", "query": Q}, headers={"HX-Request": "true"})
    assert row.status_code == 200 and text(row).startswith(f'<tr id="answer-{answer.answer_id}">')
    assert "sentiment set to positive" in text(row) and '<span class="sentiment">positive</span>' in text(row)
    plain = c.post(url, data={"csrf_token": token, "label": "mixed", "query": Q})
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"/console/responses?{Q}")
    assert "sentiment set to mixed" in text(c.get(plain.headers["Location"]))
    wrong = c.post(url, data={"csrf_token": token, "label": "furious", "query": Q}, follow_redirects=True)
    assert "Traceback" not in text(wrong) and "furious" in text(wrong)


def _rows(data: bytes, fmt: str) -> list[list[str]]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8"))))
    ws = load_workbook(io.BytesIO(data)).active
    return [[c if c is not None else "" for c in row] for row in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_holds_exactly_the_filtered_rows_masked_and_is_audited(app, sqlite_db, people, clock, fmt):
    c = client_for(app, sqlite_db, "staff", clock)
    token = csrf_token(c, "/console/")
    query = f"{Q}&sentiment=negative"
    got = c.post("/console/responses/export", data={"csrf_token": token, "query": query, "format": fmt})
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    rows = _rows(got.data, fmt)
    f = rs.ResponseFilter("pantry", week=WEEK, sentiment="negative")
    scope = Scope("staff", frozenset({people["ids"]["river"]}), people["accounts"]["staff"].id, "staff")
    expected = list(rs.export_rows(sqlite_db, scope, f, clock()))
    assert [[str(x) for x in r] for r in rows] == [[str(x) for x in r] for r in expected]
    assert len(rows) - 1 == len(rs.export_ids(sqlite_db, OP, f, clock()))
    flat = " ".join(str(x) for r in rows for x in r)
    assert "07700 900123" not in flat and "i dont want to be here anymore" not in flat
    entries = audit.list_entries(sqlite_db, OP, action="export")
    assert entries and entries[0].actor == "staff" and "rows" in (entries[0].detail or "")
    assert all("bins" not in (e.detail or "") for e in entries)


def test_a_large_export_runs_in_the_background_with_progress_then_downloads(app, sqlite_db, people, clock, monkeypatch):
    monkeypatch.setattr(console_responses, "BACKGROUND_OVER", 1)
    c = client_for(app, sqlite_db, "staff", clock)
    token = csrf_token(c, "/console/")
    started = c.post("/console/responses/export", data={"csrf_token": token, "query": Q, "format": "csv"})
    assert started.status_code == 302 and "/console/exports/" in started.headers["Location"]
    status_url = started.headers["Location"]
    for _ in range(100):
        fragment = text(c.get(status_url, headers={"HX-Request": "true"}))
        if "done" in fragment:
            break
        assert "hx-trigger=\"every 1s\"" in fragment
        time.sleep(0.1)
    assert "<progress" in fragment and "Download" in fragment
    got = c.get(status_url + "/download")
    assert got.status_code == 200
    assert len(_rows(got.data, "csv")) - 1 == len(rs.export_ids(sqlite_db, OP, rs.ResponseFilter("pantry", week=WEEK), clock()))
    assert [e.action for e in audit.list_entries(sqlite_db, OP, action="export")][:2] == ["export.download", "export.start"]


def test_digests_preview_is_sandboxed_and_the_send_says_to_whom(app, sqlite_db, people, clock):
    c = client_for(app, sqlite_db, "admin", clock)
    page = c.get("/console/digests")
    assert '<iframe class="digest-preview"' in text(page) and " sandbox " in text(page)
    preview = c.get(f"/console/digests/preview?week={WEEK}")
    assert preview.status_code == 200 and "sandbox" in preview.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    form = text(c.get(f"/console/digests/send?week={WEEK}"))
    assert "Nobody is set to receive digests" in form     # the test settings configure no recipient
    token = csrf_token(c, "/console/")
    sent = c.post(f"/console/digests/send?week={WEEK}", data={"csrf_token": token}, follow_redirects=True)
    assert "nobody to send it to" in text(sent).lower()
    assert c.get(f"/console/digests/{WEEK}/partnership").status_code == 200
    assert c.get("/console/digests/2020-W01/partnership").status_code == 404


def test_waves_list_show_cancel_and_send(app, sqlite_db, people, clock):
    c = client_for(app, sqlite_db, "staff", clock)
    wave = people["ids"]["wave_id"]
    assert f"/console/waves/{wave}" in text(c.get("/console/waves"))
    shown = text(c.get(f"/console/waves/{wave}"))
    assert "Left out, and why" in shown and "Cancel this wave" in shown
    assert "cannot be undone" in text(c.get(f"/console/waves/{wave}/cancel"))
    token = csrf_token(c, "/console/")
    done = c.post(f"/console/waves/{wave}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert f"Wave {wave} is cancelled" in text(done) and "cancelled" in text(done)
    refused = c.post("/console/waves/send", data={"csrf_token": token, "survey": "pantry"})
    assert refused.status_code == 403 and "a backbone admin sends it" in text(refused)
    admin = client_for(app, sqlite_db, "admin", clock)
    sent = admin.post("/console/waves/send", data={"csrf_token": csrf_token(admin, "/console/"), "survey": "pantry"},
                      follow_redirects=True)
    assert "people invited" in text(sent) and "Left out, and why" in text(sent)
    assert "no survey" in text(admin.post("/console/waves/send", data={"csrf_token": csrf_token(admin, "/console/"),
                                                                       "survey": "nope"}, follow_redirects=True)).lower()


LEAK_PAGES = ["/console/dashboard", "/console/dashboard?week=2026-W48", f"/console/responses?{Q}",
              f"/console/responses?{Q}&org=river", "/console/responses?survey=pantry",
              f"/console/digests?week={WEEK}", f"/console/digests/preview?week={WEEK}",
              f"/console/digests/preview?week={WEEK}&org=river", "/console/digests/{week}/partnership",
              "/console/waves", "/console/waves/{wave_id}"]


@pytest.mark.parametrize("who", ["governance", "other_org_staff"])
def test_no_raw_answer_contact_detail_or_small_group_quote_leaks(app, sqlite_db, people, clock, who):
    c = client_for(app, sqlite_db, who, clock)
    seen = []
    for path in LEAK_PAGES:
        url = path.format(**people["ids"])
        for headers in ({}, {"HX-Request": "true"}):
            seen.append((url, text(c.get(url, headers=headers))))
    if who == "other_org_staff":
        token = csrf_token(c, "/console/")
        for fmt in ("csv", "xlsx"):
            for query in (Q, Q + "&org=river"):
                got = c.post("/console/responses/export", data={"csrf_token": token, "query": query, "format": fmt,
                                                                "keep": "1"}, follow_redirects=True)
                body = got.data if fmt == "csv" or got.mimetype.startswith("text/") else \
                    " ".join(str(x) for r in _rows(got.data, fmt) for x in r).encode()
                seen.append((f"export {fmt} {query}", body.decode("utf-8", "replace")))
    for where, body in seen:
        for secret in RIVER_SECRETS:
            assert secret.lower() not in body.lower(), f"{who} saw {secret!r} in {where}"
