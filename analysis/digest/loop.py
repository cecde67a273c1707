"""The loop in the digest and the dashboard: what was done about what people said, and whether they heard back.

`loop_figures` reads the action register as it stood at the digest's cut-off (an action's status is its last
status event up to then, so rebuilding a week gives the same figures):
- done: actions that became done this week; in_progress: actions in progress at the cut-off;
- themes: for each theme of the digest's surveys, the action that answers it (same theme, same survey or no
  survey), if any;
- waves: the waves of the last 12 weeks that invited someone, how many got a first "you said, we did" message
  (a loop message about an action on that wave's survey, to someone it invited, after the wave), the median days
  from the wave to that first message, and the waves 4 weeks old or more that got none (the warning).
These are counts of actions and waves and staff's own words: no person is in them, so no small-number rule.
`loop_lines` turns the record into the sentences every rendering shows.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import func, or_, select

from surveys import models as m

AC, AE, LM, W, I, E = (m.Action.__table__, m.ActionEvent.__table__, m.LoopMessage.__table__, m.Wave.__table__,
                       m.Invitation.__table__, m.Enrolment.__table__)
WAVE_WINDOW = timedelta(weeks=12)
WARN_AFTER = timedelta(weeks=4)


def _status_at(conn, cutoff: datetime, action_ids: list[int]) -> dict[int, str]:
    latest = (select(AE.c.action_id, func.max(AE.c.id).label("id"))
              .where(AE.c.status.is_not(None), AE.c.at <= cutoff, AE.c.action_id.in_(action_ids))
              .group_by(AE.c.action_id).subquery())
    return dict(conn.execute(select(AE.c.action_id, AE.c.status).join(latest, latest.c.id == AE.c.id)).all())


def loop_figures(conn, start: datetime, end: datetime, cutoff: datetime, org_id: int | None,
                 themes: list[tuple[str, str]]) -> dict:
    """The loop for the week [start, end) as stored by `cutoff`; `org_id` for one organisation's digest (its
    actions and the partnership's); `themes`: (survey id, theme label) pairs the digest shows."""
    where = [AC.c.created_at <= cutoff]
    if org_id is not None:
        where.append(or_(AC.c.organisation_id == org_id, AC.c.organisation_id.is_(None)))
    actions = conn.execute(select(AC.c.id, AC.c.heard, AC.c.doing, AC.c.survey_id, AC.c.theme, AC.c.organisation_id)
                           .where(*where).order_by(AC.c.id)).all()
    status = _status_at(conn, cutoff, [a.id for a in actions]) if actions else {}
    done_when = dict(conn.execute(
        select(AE.c.action_id, func.max(AE.c.at)).where(AE.c.status == "done", AE.c.at <= cutoff)
        .group_by(AE.c.action_id)).all()) if actions else {}

    def brief(a) -> dict:
        return {"id": a.id, "heard": a.heard, "doing": a.doing}

    done = [brief(a) for a in actions if status.get(a.id) == "done" and start <= done_when.get(a.id, start - timedelta(1)) < end]
    in_progress = [brief(a) for a in actions if status.get(a.id) == "in_progress"]
    answered = []
    for survey_id, label in themes:
        match = next((a for a in reversed(actions) if a.theme and a.theme.casefold() == label.casefold()
                      and a.survey_id in (None, survey_id) and status.get(a.id) != "cant_do"), None)
        answered.append({"survey_id": survey_id, "theme": label, "action_id": match.id if match else None,
                         "status": status.get(match.id) if match else None})

    wave_where = [W.c.scheduled_for >= end - WAVE_WINDOW, W.c.scheduled_for < end, W.c.scheduled_for <= cutoff,
                  W.c.status == "open", I.c.started_at.is_not(None), I.c.started_at <= cutoff]
    if org_id is not None:
        wave_where.append(E.c.organisation_id == org_id)
    waves = conn.execute(select(W.c.id, W.c.survey_id, W.c.scheduled_for).distinct()
                         .select_from(W.join(I, I.c.wave_id == W.c.id).join(E, E.c.id == I.c.enrolment_id))
                         .where(*wave_where).order_by(W.c.scheduled_for, W.c.id)).all()
    first = dict(conn.execute(
        select(I.c.wave_id, func.min(LM.c.created_at))
        .select_from(LM.join(AC, AC.c.id == LM.c.action_id).join(I, I.c.contact_id == LM.c.contact_id)
                     .join(W, W.c.id == I.c.wave_id))
        .where(I.c.wave_id.in_([w.id for w in waves]), AC.c.survey_id == W.c.survey_id,
               LM.c.created_at >= W.c.scheduled_for, LM.c.created_at <= cutoff)
        .group_by(I.c.wave_id)).all()) if waves else {}
    days = [(first[w.id] - w.scheduled_for).total_seconds() / 86400 for w in waves if w.id in first]
    overdue = [{"wave_id": w.id, "survey_id": w.survey_id, "scheduled_for": w.scheduled_for.isoformat()}
               for w in waves if w.id not in first and w.scheduled_for <= cutoff - WARN_AFTER]
    return {
        "done": done, "in_progress": in_progress, "themes": answered,
        "waves": {"count": len(waves), "with_message": len(days),
                  "share": round(len(days) / len(waves), 4) if waves else None,
                  "median_days": round(median(days), 1) if days else None, "overdue": overdue},
    }


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def loop_lines(loop: dict | None) -> tuple[list[str], str]:
    """(sentences, warning) for a digest record's loop; ([], "") for a record made before it had one."""
    if not loop:
        return [], ""
    lines = []
    done, doing = loop.get("done") or [], loop.get("in_progress") or []
    lines.append(f"Done this week: {_plural(len(done), 'action', 'actions')}"
                 + (": " + "; ".join(f"#{a['id']} {a['doing']} (you said: {a['heard']})" for a in done) if done else "."))
    lines.append(f"In progress: {_plural(len(doing), 'action', 'actions')}"
                 + (": " + "; ".join(f"#{a['id']} {a['doing']}" for a in doing) if doing else "."))
    for t in loop.get("themes") or []:
        lines.append(f"Theme \u201c{t['theme']}\u201d ({t['survey_id']}): "
                     + (f"answered by action #{t['action_id']} ({(t['status'] or 'planned').replace('_', ' ')})."
                        if t["action_id"] else "no action answers it yet."))
    w = loop.get("waves") or {}
    if w.get("count"):
        share = f"{round(100 * w['share'])}%" if w.get("share") is not None else "none"
        lines.append(f"Waves of the last 12 weeks that got a \u201cyou said, we did\u201d message: {w['with_message']} "
                     f"of {w['count']} ({share})"
                     + (f"; a median of {w['median_days']} days from the wave to its first one." if w.get("median_days")
                        is not None else "."))
    else:
        lines.append("No wave in the last 12 weeks.")
    overdue = w.get("overdue") or []
    warning = (f"{_plural(len(overdue), 'wave is', 'waves are')} 4 weeks old or more with no \u201cyou said, we did\u201d "
               "message yet: " + ", ".join(f"#{o['wave_id']} ({o['survey_id']}, {o['scheduled_for'][:10]})"
                                           for o in overdue) + ".") if overdue else ""
    return lines, warning
