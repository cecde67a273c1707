"""The digest as plain text (the email's text/plain alternative) and as Markdown.

Both lay out `render.view(d)`; neither has images, so every number a chart shows is in a table here. Plain
text wraps at 76 columns on spaces only, so a redaction token such as "[phone]" or a link is never split.
Markdown escapes every string it did not write itself (see `md`), keeping redaction tokens as they are.
"""
from __future__ import annotations

import re
import textwrap

from analysis.digest.render import Table, View, view
from analysis.redact import EMAIL, NAME, PHONE, POSTCODE, URL

WIDTH = 76


# ---- plain text ---------------------------------------------------------------------------------------
def _wrap(text: str, indent: str = "", first: str | None = None) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent if first is None else first, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) or [first or indent]


def _heading(title: str) -> list[str]:
    return ["", title.upper(), "-" * min(len(title), WIDTH)]


def _aligned(t: Table) -> list[str]:
    """A small table of short cells, left column left-aligned, numbers right-aligned."""
    rows = [t.header, *t.rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(t.header))]
    out = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        out.append("  ".join(cells).rstrip())
    return out


def _by_row(t: Table) -> list[str]:
    """A wide table as one paragraph per row ("Name: Header value, ..."), readable in any font."""
    out = []
    for i, r in enumerate(t.rows):
        body = "; ".join(f"{h.lower()} {c}" for h, c in zip(t.header[1:], r[1:]))
        out += _wrap(f"{r[0]}: {body}.", "    ", "  * " if i != t.total_row else "  = ")
    return out


def render_text(d: dict) -> str:
    v = view(d)
    out = [v.title, "=" * min(len(v.title), WIDTH)]
    if v.organisation:
        out += _wrap(f"For {v.organisation}")
    out += _wrap(f"{v.week}: {v.period}. Answers received by {v.cutoff}.")

    out += _heading("What changed this week")
    out += _wrap(" ".join(v.summary) or "Nothing to report this week.")

    out += _heading("The week in numbers")
    for s in v.headline:
        out += _wrap(f"{s.label}: {s.value}" + (f" ({s.note})" if s.note else ""), "    ", "  * ")

    out += _heading(v.trend.caption)
    out += _aligned(v.trend) if v.trend.rows else ["  No weeks to show."]

    out += _heading("Sentiment this week")
    out += _aligned(v.sentiment)
    out += [""] + _wrap(v.sentiment_line) + _wrap(v.not_tagged_line)

    for s in v.surveys:
        out += _heading(f"Survey: {s.title}")
        out += _wrap(f"People who responded: {s.responses}")
        if s.scores:
            out += ["", "Scores:"]
            for sc in s.scores:
                out += _wrap(f"\u201c{sc.prompt}\u201d {sc.headline}; {sc.detail}.", "    ", "  * ")
        if s.themes or s.also:
            out += ["", "Top themes:"]
            for t in s.themes:
                out += _wrap(f"{t.label}: {t.text}" + (f" [{t.mark}]" if t.mark else ""), "    ", "  * ")
            out += [line for a in s.also for line in _wrap(a, "    ", "  * ")]
        if s.quotes:
            out += ["", "What people said (never attributed):"]
            for q in s.quotes:
                out += [""] + _wrap(f"{q.label}:", "  ") + _wrap(f"\u201c{q.text}\u201d", "    ")
        if s.note:
            out += [""] + _wrap(s.note)

    out += _heading("You said, we did")
    if v.loop_warning:
        out += _wrap("WARNING: " + v.loop_warning) + [""]
    for line in v.loop or ["Not recorded in this digest (it was built before the action register)."]:
        out += _wrap(line, "    ", "  * ")

    out += _heading("Safeguarding")
    if v.contact_line:
        out += _wrap("WARNING: " + v.contact_line) + [""]
    out += _wrap(v.flags_text)
    if v.flags_link:
        out += [f"  {v.flags_link}"]

    for t in v.organisations:
        out += _heading(t.caption)
        out += _by_row(t)

    out += _heading("About the numbers")
    for n in v.footnotes:
        out += _wrap(n, "    ", "  * ")
    return "\n".join(out).rstrip() + "\n"


# ---- Markdown -----------------------------------------------------------------------------------------
# Inline constructs a string could open: emphasis, code, links/images, raw HTML and autolinks, entities,
# table cells, strikethrough, maths. Redaction tokens ("[phone]") are kept as written: a bracketed word is
# only a link when followed by "(" or "[" or defined elsewhere, and a following "(" is escaped below.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~$])")
_TOKEN = re.compile("(?:" + "|".join(re.escape(t) for t in (PHONE, EMAIL, POSTCODE, NAME, URL)) + ")(?!:)")
_LINE_START = re.compile(r"^(\s*)(\d*)([#>+=.)-])")   # "# x", "- x", "> x", "1. x", "1) x" open blocks


def md(text: str, line_start: bool = False) -> str:
    """Escape a string for Markdown (CommonMark and GitHub), leaving "[phone]"-style tokens intact."""
    out, pos = [], 0
    for m in _TOKEN.finditer(text):
        out.append(_MD_SPECIAL.sub(r"\\\1", text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
        if text[pos:pos + 1] == "(":        # "[name](javascript:...)" must not become a link
            out.append("\\(")
            pos += 1
    out.append(_MD_SPECIAL.sub(r"\\\1", text[pos:]))
    s = "".join(out)
    if line_start:
        m = _LINE_START.match(s)
        if m and (not m.group(2) or m.group(3) in ".)"):
            s = s[:m.start(3)] + "\\" + s[m.start(3):]
    return s


def _md_table(t: Table) -> list[str]:
    def row(cells, bold=False):
        cells = [md(c) for c in cells]
        if bold:
            cells = [f"**{c}**" for c in cells]
        return "| " + " | ".join(cells) + " |"

    out = [row(t.header), "|" + "|".join([" --- "] + [" ---: "] * (len(t.header) - 1)) + "|"]
    out += [row(r, bold=i == t.total_row) for i, r in enumerate(t.rows)]
    return out


def _md_body(v: View) -> list[str]:
    out = [f"# {md(v.title)}", ""]
    if v.organisation:
        out += [f"For **{md(v.organisation)}**", ""]
    out += [f"**{md(v.week)}**: {md(v.period)}. Answers received by {md(v.cutoff)}.", ""]
    out += ["## What changed this week", "", md(" ".join(v.summary) or "Nothing to report this week.", True), ""]
    out += ["## The week in numbers", ""]
    out += [f"- **{md(s.label)}:** {md(s.value)}" + (f" ({md(s.note)})" if s.note else "") for s in v.headline]
    out += ["", f"## {md(v.trend.caption)}", ""]
    out += (_md_table(v.trend) if v.trend.rows else ["No weeks to show."]) + [""]
    out += ["## Sentiment this week", ""] + _md_table(v.sentiment) + [""]
    out += [md(v.sentiment_line, True), "", md(v.not_tagged_line, True), ""]
    for s in v.surveys:
        out += [f"## Survey: {md(s.title)}", "", f"People who responded: **{md(s.responses)}**", ""]
        if s.scores:
            out += ["### Scores", ""]
            out += [f"- \u201c{md(sc.prompt)}\u201d **{md(sc.headline)}**; {md(sc.detail)}." for sc in s.scores]
            out += [""]
        if s.themes or s.also:
            out += ["### Top themes", ""]
            out += [f"- **{md(t.label)}**: {md(t.text)}" + (f" *({md(t.mark)})*" if t.mark else "") for t in s.themes]
            out += [f"- {md(a)}" for a in s.also] + [""]
        if s.quotes:
            out += ["### What people said", "", "*Never attributed.*", ""]
            for q in s.quotes:
                out += [f"*{md(q.label)}:*", "", f"> \u201c{md(q.text)}\u201d", ""]
        if s.note:
            out += [md(s.note, True), ""]
    out += ["## Safeguarding", ""]
    if v.contact_line:
        out += [f"**Warning: {md(v.contact_line)}**", ""]
    out += [md(v.flags_text, True), ""]
    if v.flags_link:
        out += [f"[Open safeguarding flags](<{v.flags_link}>)", ""]
    out += ["## By organisation", ""]
    for t in v.organisations:
        out += [f"### {md(t.caption)}", ""] + _md_table(t) + [""]
    out += ["## About the numbers", ""] + [f"- {md(n)}" for n in v.footnotes]
    return out


def render_markdown(d: dict) -> str:
    return "\n".join(_md_body(view(d))).rstrip() + "\n"
