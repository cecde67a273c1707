"""'What changed this week': a short plain-language paragraph written from the numbers by fixed rules.

Rules, in order (each gives at most one sentence; withheld figures are never put into words):
1. people who answered of the people invited, and the response rate, with the change in points when last
   week's rate is known (and the invitations, when some people had more than one); when a figure is
   withheld, which one and why (fewer than 5, or to protect small numbers elsewhere);
2. sentiment: the positive and negative shares, and the negative share's change against last week;
3. the theme that rose most (or a new one) across surveys, with its count against last week;
4. the largest move in a score (mean or NPS) where last week's value lies outside this week's 95% interval
   (none when no score moved that clearly);
5. open safeguarding flags, as "fewer than 5" when the count is withheld, and what "open" means; and, loudly,
   when no safeguarding contact is set (a flag then alerts nobody);
6. when nothing could be said (a quiet week): say so.
"""
from __future__ import annotations

from analysis.digest.model import DIFFERENCE, Digest, Figure, no_contact_text


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _known(*figs: Figure) -> bool:
    return all(f.value is not None for f in figs)


def summarise(d: Digest) -> list[str]:
    out: list[str] = []
    t = d.total
    invited, responded = t.people_invited, t.people_responded
    if _known(responded, invited, t.response_rate):
        s = f"{responded.value} of the {invited.value} people invited this week answered ({_pct(t.response_rate.value)})"
        if _known(t.response_rate_change):
            change = t.response_rate_change.value
            s += (", about the same as last week" if abs(change) < 1 else
                  f", {'up' if change > 0 else 'down'} {abs(change):.0f} points on last week")
        s += "."
        if _known(t.invitations_sent) and t.invitations_sent.value > invited.value:
            s += f" They were sent {t.invitations_sent.value} invitations in all: some people had more than one."
        out.append(s)
    elif invited.suppressed:
        out.append("Fewer than 5 people were invited this week, so the response rate is withheld."
                   if invited.reason != DIFFERENCE else
                   "The number of people invited this week is withheld to protect small numbers elsewhere, "
                   "and so is the response rate.")
    elif responded.suppressed and _known(invited):
        out.append(f"Fewer than 5 of the {invited.value} people invited this week answered, so the response rate "
                   "is withheld." if responded.reason != DIFFERENCE else
                   f"{invited.value} people were invited this week; how many answered is withheld to protect small "
                   "numbers elsewhere, and so is the response rate.")
    elif t.response_rate.suppressed:
        out.append("The response rate is withheld this week: it rests on fewer than 5 people.")
    sent = t.sentiment
    if _known(sent.positive_share, sent.negative_share):
        s = (f"Of the comments people wrote, {_pct(sent.positive_share.value)} were positive and "
             f"{_pct(sent.negative_share.value)} negative")
        last = d.trend[-2] if len(d.trend) >= 2 else None
        if last is not None and _known(last.negative_share):
            diff = sent.negative_share.value - last.negative_share.value
            if abs(diff) >= 0.05:
                s += f" (negative {'up' if diff > 0 else 'down'} from {_pct(last.negative_share.value)} last week)"
        out.append(s + ".")
    best = None
    for part in d.surveys:
        for theme in part.themes:
            if theme.status not in ("rising", "new") or theme.count.value is None:
                continue
            prev = theme.previous.value if theme.previous.value is not None else 0
            rise = theme.count.value - prev
            if best is None or rise > best[0]:
                best = (rise, theme, part)
    if best is not None:
        _, theme, part = best
        if theme.status == "new":
            out.append(f"A new theme in {part.title}: '{theme.label}' ({theme.count.value} answers).")
        elif theme.previous.value is not None:
            out.append(f"'{theme.label}' came up more in {part.title}: {theme.count.value} answers, "
                       f"up from {theme.previous.value} last week.")
        else:
            out.append(f"'{theme.label}' came up more in {part.title} ({theme.count.value} answers).")
    moves = []
    for part in d.surveys:
        for sc in part.scores:
            if _known(sc.value, sc.previous, sc.ci_low, sc.ci_high) and (
                    sc.previous.value < sc.ci_low.value or sc.previous.value > sc.ci_high.value):
                span = sc.scale_max - sc.scale_min if sc.kind == "scale" else 200
                moves.append((abs(sc.value.value - sc.previous.value) / span, sc, part))
    if moves:
        _, sc, part = max(moves, key=lambda m: (m[0], m[1].question))
        what = "NPS" if sc.kind == "nps" else "the average answer to"
        direction = "rose" if sc.value.value > sc.previous.value else "fell"
        subject = f"{what} '{sc.prompt}'" if sc.kind == "scale" else f"the {what} for '{sc.prompt}'"
        out.append(f"In {part.title}, {subject} {direction} from {sc.previous.value:g} to {sc.value.value:g}.")
    waiting = "open: not yet closed by a person who read them"
    if d.open_flags.suppressed:
        out.append(f"Fewer than 5 safeguarding flags are {waiting}.")
    elif d.open_flags.value:
        out.append(f"{d.open_flags.value} safeguarding flag{'s are' if d.open_flags.value != 1 else ' is'} "
                   f"{waiting if d.open_flags.value != 1 else 'open: not yet closed by a person who read it'}.")
    if not d.safeguarding_contact:
        out.append(no_contact_text(d.organisation is not None))
    if not out:
        out.append("A quiet week: no invitations or answers to report.")
    return out
