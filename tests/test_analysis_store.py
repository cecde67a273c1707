"""Analysis over the store, on both databases: staff corrections and agreement, 'not tagged: language'
coverage, resumable re-tagging, weekly themes with staff merges and renames, and a redacted export."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from analysis import corrections, retag as retag_mod, theme_report
from analysis.redact import redact
from analysis.safeguarding import Safeguarding
from analysis.sentiment import SentimentTagger, make_analyzer
from analysis.tagger import AnswerAnalysis
from analysis.weeks import WeekError, default_week, parse_week, previous_week, week_bounds, week_of
from surveys import admin
from surveys import models as m

LONDON = "Europe/London"


_hashes = itertools.count()


def _contact(db, now) -> int:
    with db.write() as conn:
        return conn.execute(insert(m.Contact).values(channel="local", address=None, address_hash=f"h{next(_hashes)}",
                                                     language="en", state={}, created_at=now)).inserted_primary_key[0]


def _answers(db, now, texts, *, survey="pantry", tags=None, language="en", qtype="text", at=None):
    cid = _contact(db, now)
    with db.write() as conn:
        ids = []
        for i, text in enumerate(texts):
            ids.append(conn.execute(insert(m.Answer).values(
                contact_id=cid, survey_id=survey, question_key="anything", question_type=qtype, status="answered",
                raw_text=text, language=language, answered_at=(at or now) + timedelta(seconds=i),
                tags=tags(text) if callable(tags) else tags)).inserted_primary_key[0])
    return ids


TB = SentimentTagger()


def _tb(text):
    return TB.tag(text, "en", {})


# ---- corrections --------------------------------------------------------------------------------------------
def test_a_correction_is_kept_beside_the_machine_label_and_agreement_is_reported(db, now):
    ids = _answers(db, now, ["Staff were lovely", "The wait was terrible", "I came on Tuesday", "great, thanks",
                             "rude receptionist"], tags=_tb)
    assert corrections.set_label(db, ids[0], "positive", "Sam", now) == ("positive", "positive")
    assert corrections.set_label(db, ids[1], "Negative ", "Sam", now) == ("negative", "negative")
    corrections.set_label(db, ids[2], "positive", "Sam", now)           # machine said neutral
    corrections.set_label(db, ids[3], "negative", "Sam", now)           # a slip...
    corrections.set_label(db, ids[3], "positive", "Alex", now)          # ...corrected: the latest counts
    with db.read() as conn:
        assert conn.execute(select(m.Answer.tags).where(m.Answer.id == ids[2])).scalar()["label"] == "neutral"
    assert corrections.staff_labels(db) == {ids[0]: "positive", ids[1]: "negative", ids[2]: "positive",
                                            ids[3]: "positive"}
    result = corrections.accuracy(db)
    assert (result.compared, result.agreed) == (4, 3) and result.rate == 0.75
    assert result.confusion[("neutral", "positive")] == 1
    # kappa by hand: machine {pos 2, neg 1, neu 1}, people {pos 3, neg 1}: p_e = (2*3 + 1*1) / 16
    assert result.kappa() == pytest.approx((0.75 - 7 / 16) / (1 - 7 / 16))
    assert result.per_label()["positive"] == (3, 1.0, pytest.approx(2 / 3))


@pytest.mark.parametrize("answer, label, by, message", [
    (None, "happy", "Sam", "label must be one of"),
    (None, "positive", " ", "--by"),
    (999_999, "positive", "Sam", "no answer 999999"),
])
def test_bad_corrections_are_refused_with_the_reason(db, now, answer, label, by, message):
    (aid,) = _answers(db, now, ["fine"], tags=_tb)
    with pytest.raises(corrections.CorrectionError, match=message):
        corrections.set_label(db, answer or aid, label, by, now)


def test_coverage_counts_answers_not_tagged_for_their_language(db, now):
    _answers(db, now, ["great", "awful"], tags=_tb)
    _answers(db, now, ["muy bien"], tags=lambda t: TB.tag(t, "es", {}), language="es")
    cov = corrections.coverage(db)
    assert (cov.free_text, cov.not_tagged) == (3, 1) and cov.not_tagged_share == pytest.approx(1 / 3)


# ---- retag --------------------------------------------------------------------------------------------------
class Counting(AnswerAnalysis):
    """The real tagger, counting what it is asked to tag."""

    def __init__(self, *args):
        super().__init__(*args)
        self.seen: list[str] = []

    def tag(self, text, language, context):
        self.seen.append(text)
        return super().tag(text, language, context)


def test_retag_is_resumable_after_an_interruption_and_keeps_flags(db, now):
    texts = [f"answer {i}: {'great' if i % 2 else 'awful'} service" for i in range(23)]
    ids = _answers(db, now, texts, tags=_tb)
    _answers(db, now, ["5"], qtype="scale")           # not free text: never re-tagged
    with db.write() as conn:
        conn.execute(m.Answer.__table__.update().where(m.Answer.id == ids[4])
                     .values(tags={**_tb(texts[4]), "flag": {"categories": ["danger"], "rules": ["r1"]}}))
    vader = Counting(SentimentTagger(make_analyzer("vader")), Safeguarding())
    calls = []

    def interrupt(done, total):
        calls.append((done, total))
        if done >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        retag_mod.retag(db, vader, now, batch=5, progress=interrupt)
    assert calls == [(0, 23), (5, 23), (10, 23)]
    assert len(vader.seen) == 10
    progress = []
    result = retag_mod.retag(db, vader, now, batch=5, progress=lambda d, t: progress.append(d))
    assert result.resumed and result.finished and (result.done, result.total) == (23, 23)
    assert progress == [10, 15, 20, 23]
    assert sorted(vader.seen) == sorted(texts)                # each answer tagged exactly once over both runs
    with db.read() as conn:
        rows = dict(conn.execute(select(m.Answer.id, m.Answer.tags).where(m.Answer.id.in_(ids))).all())
    assert {t["analyzer"] for t in rows.values()} == {vader.analyzer_name}
    assert rows[ids[4]]["flag"] == {"categories": ["danger"], "rules": ["r1"]}
    again = retag_mod.retag(db, vader, now, batch=5)         # finished: not repeated
    assert again.run_id == result.run_id and len(vader.seen) == 23
    fresh = retag_mod.retag(db, vader, now, batch=50, fresh=True, survey_id="pantry")
    assert fresh.run_id != result.run_id and fresh.done == 23


def test_retag_since_and_survey_select_answers(db, now):
    _answers(db, now, ["old great"], tags=_tb, at=now - timedelta(days=30))
    _answers(db, now, ["new great"], tags=_tb)
    _answers(db, now, ["other survey great"], tags=_tb, survey="other")
    vader = Counting(SentimentTagger(make_analyzer("vader")))
    retag_mod.retag(db, vader, now, since=now - timedelta(days=1), survey_id="pantry")
    assert vader.seen == ["new great"]


# ---- weeks --------------------------------------------------------------------------------------------------
def test_iso_weeks_in_london_across_the_clock_change():
    assert parse_week("2026-W47") == (2026, 47) and parse_week("2026w5") == (2026, 5)
    for bad in ("2026-47", "W47", "2026-W54", ""):
        with pytest.raises(WeekError):
            parse_week(bad)
    start, end = week_bounds(2026, 44, LONDON)        # 26 Oct 2026: the Monday after the clocks go back
    assert start == datetime(2026, 10, 26, 0, 0, tzinfo=timezone.utc)
    start, end = week_bounds(2026, 43, LONDON)        # contains Sunday 25 Oct, 02:00 BST -> 01:00 GMT
    assert start == datetime(2026, 10, 18, 23, 0, tzinfo=timezone.utc) and end - start == timedelta(hours=169)
    assert week_of(datetime(2026, 10, 25, 23, 30, tzinfo=timezone.utc), LONDON) == (2026, 43)
    assert week_of(datetime(2026, 10, 26, 0, 30, tzinfo=timezone.utc), LONDON) == (2026, 44)
    assert previous_week(2026, 1) == (2025, 52) and previous_week(2026, 47, 4) == (2026, 43)


def test_the_default_week_is_the_last_complete_one_and_the_clocks_digest_week(db):
    from analysis.digest.deliver import due_week

    utc = timezone.utc
    # 23:30 UTC on Sunday 5 July 2026 is already Monday in London: week 27 is the last complete one
    assert default_week(datetime(2026, 7, 5, 23, 30, tzinfo=utc), LONDON) == (2026, 27)
    assert default_week(datetime(2026, 7, 5, 22, 30, tzinfo=utc), LONDON) == (2026, 26)
    assert default_week(datetime(2026, 1, 1, 12, 0, tzinfo=utc), LONDON) == (2025, 52)
    # the digest the clock sends at DIGEST_WHEN (Monday 08:00 by default) is the default week's, all week long
    send = datetime(2026, 7, 6, 7, 0, tzinfo=utc)             # 08:00 BST
    for now in (send, send + timedelta(days=2), send + timedelta(days=6, hours=16)):
        assert due_week(db, now) == default_week(send, LONDON) == (2026, 27), now
    assert due_week(db, send - timedelta(minutes=1)) == (2026, 26)   # not yet due: last week's digest stands


# ---- themes -------------------------------------------------------------------------------------------------
def _week_answers(db, year, week, texts):
    start, _ = week_bounds(year, week, LONDON)
    _answers(db, start, texts, at=start + timedelta(hours=12))


def test_weekly_themes_with_change_and_staff_merges(db, now):
    y, w = 2026, 47
    _week_answers(db, *previous_week(y, w), ["waiting times too long", "the food was good"])
    _week_answers(db, y, w, ["waiting times too long", "long waiting time again", "the wait was long",
                             "staff were kind", "kind staff", "really kind staff", "queue outside was huge",
                             "long queue in the rain"])
    _answers(db, now, ["long waiting time", "long waiting time"], language="es")   # another language: not counted
    trends = theme_report.themes_for_week(db, "pantry", y, w, tz=LONDON, weeks_back=2)
    by_label = {t.label: t for t in trends}
    staff = next(t for t in trends if "staff" in t.label)
    assert staff.count == 3 and staff.previous_count == 0 and staff.status == "new"
    waiting = next(t for t in trends if "wait" in t.label)
    assert waiting.count >= 2 and waiting.previous_count >= 1
    assert all(t.count >= 2 for t in trends), by_label
    queue = next(t for t in trends if "queue" in t.label)
    # staff merge the waiting and queue themes: an answer mentioning both still counts once
    theme_report.set_alias(db, [waiting.key, queue.key], "Waiting and queues", None, "Sam", now)
    merged = {t.label: t for t in theme_report.themes_for_week(db, "pantry", y, w, tz=LONDON)}
    assert "Waiting and queues" in merged
    assert merged["Waiting and queues"].count == waiting.count + queue.count
    theme_report.set_alias(db, [staff.key], "Kind staff", "pantry", None, now)
    renamed = {t.label for t in theme_report.themes_for_week(db, "pantry", y, w, tz=LONDON)}
    assert "Kind staff" in renamed
    assert ("pantry", staff.key, "Kind staff", None) in theme_report.list_aliases(db)
    assert theme_report.remove_alias(db, staff.key, "pantry") and not theme_report.remove_alias(db, staff.key, "pantry")
    with pytest.raises(theme_report.ThemeError):
        theme_report.set_alias(db, [], "x", None, None, now)
    with pytest.raises(theme_report.ThemeError):
        theme_report.set_alias(db, ["wait"], " ", None, None, now)


# ---- redacted export --------------------------------------------------------------------------------------
def test_the_export_masks_personal_details_unless_asked_not_to(db, now):
    _answers(db, now, ["Call me on 07700 900123 or mail jo@example.com, I'm at SW1A 1AA"], tags=_tb)
    rows = list(admin.export_answers(db, redact=redact))
    text = rows[1][rows[0].index("text")]
    assert "900123" not in text and "jo@example.com" not in text and "SW1A 1AA" not in text
    assert "[phone]" in text and "[email]" in text and "[postcode]" in text
    raw = list(admin.export_answers(db, redact=admin.keep_words))
    assert "07700 900123" in raw[1][raw[0].index("text")]
