"""Re-tag stored answers after an analyzer change (`chorus analysis retag`).

Answers are taken in id order, in batches; each batch's new tags and the run's cursor (`retag_run.
last_answer_id`) are committed in one transaction, so an interrupted run (Ctrl-C, a crash, a deploy) resumes
exactly after the last committed batch when started again with the same options: nothing is tagged twice
and nothing is missed. A run with the same analyzer, `since` and survey that has not finished is resumed;
a finished one is not repeated (ask for `fresh=True` to start again).

Only sentiment is recomputed. A safeguarding flag already in the tags is kept as it is: flags belong to the
moment an answer arrived, and a person, not a re-tag, closes them. The stored flag is given to the tagger
(`context["flag"]`) and the label follows it as at store time: a flagged answer is never re-tagged positive
(`analysis.tagger.flagged_label`), and an answer the lexicon would flag today but did not then is tagged as
an answer without a flag.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from analysis.tagger import flagged_label
from surveys import models as m
from surveys.service import tag_context
from surveys.store import Store

A = m.Answer.__table__


@dataclass(frozen=True)
class RetagResult:
    run_id: int
    done: int          # answers re-tagged by this run, over all its sessions
    total: int
    resumed: bool
    finished: bool


def _selection(since: datetime | None, survey_id: str | None):
    cond = [m.free_text_answers()]
    if since is not None:
        cond.append(A.c.answered_at >= since)
    if survey_id:
        cond.append(A.c.survey_id == survey_id)
    return cond


def retag(db: Store, tagger, now: datetime, *, since: datetime | None = None, survey_id: str | None = None,
          batch: int = 500, fresh: bool = False, progress: Callable[[int, int], None] | None = None) -> RetagResult:
    """Re-tag the selected free-text answers with `tagger` (an AnswerTagger whose sentiment analyzer is
    `tagger.analyzer_name`). `progress(done, total)` is called after each committed batch."""
    analyzer = getattr(tagger, "analyzer_name", type(tagger).__name__)
    cond = _selection(since, survey_id)
    R = m.RetagRun
    with db.session() as s:
        run = None if fresh else s.execute(
            select(R).where(R.analyzer == analyzer, R.survey_id.is_not_distinct_from(survey_id),
                            R.since.is_not_distinct_from(since))
            .order_by(R.id.desc()).limit(1)).scalar()
        resumed = run is not None
        if run is not None and run.finished_at is not None:
            return RetagResult(run.id, run.done, run.total, True, True)
        if run is None:
            total = s.execute(select(func.count()).select_from(A).where(*cond)).scalar_one()
            run = R(analyzer=analyzer, since=since, survey_id=survey_id, last_answer_id=0, done=0, total=total,
                    started_at=now)
            s.add(run)
            s.flush()
        run_id, cursor, done, total = run.id, run.last_answer_id, run.done, run.total
    if progress:
        progress(done, total)
    while True:
        with db.write() as conn:
            rows = conn.execute(
                select(A.c.id, A.c.raw_text, A.c.language, A.c.survey_version_id, A.c.conversation_id,
                       A.c.question_key, A.c.question_type, A.c.status, A.c.tags)
                .where(A.c.id > cursor, *cond).order_by(A.c.id).limit(batch)).all()
            if not rows:
                conn.execute(update(R.__table__).where(R.__table__.c.id == run_id).values(finished_at=now))
                break
            for r in rows:
                survey = db.survey_version(conn, r.survey_version_id) if r.survey_version_id else None
                ctx = tag_context(db, conn, survey, r.conversation_id, r.question_key, r.question_type, r.status,
                                  r.language)
                stored_flag = (r.tags or {}).get("flag")
                ctx["flag"] = stored_flag
                new = dict(tagger.tag(r.raw_text, r.language, ctx) or {})
                new.pop("flag", None)
                if stored_flag:
                    new["flag"] = stored_flag
                    flagged_label(new)      # whatever tagger was given, even one that knows nothing of flags
                conn.execute(update(A).where(A.c.id == r.id).values(tags=new or None))
            cursor, done = rows[-1].id, done + len(rows)
            conn.execute(update(R.__table__).where(R.__table__.c.id == run_id)
                         .values(last_answer_id=cursor, done=done))
        if progress:
            progress(done, total)
    return RetagResult(run_id, done, total, resumed, True)
