"""The digest as HTML: the email (inline CSS, `cid:` images) and a printable page (A4, images as data: URIs).

Both share one body built from `render.view(d)`: a single 600 px column of tables that narrows to a phone's
width (no media queries needed, so it also holds in clients that drop <style>), with every style inline.
With images off the email still says everything: each chart's alt text states its numbers, and the numbers
are in tables next to it. Every string goes through `html.escape` (quotes, names and labels may hold any
character); links are http(s) only.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from html import escape

from analysis.digest.charts import charts
from analysis.digest.render import Table, View, view

INK, MUTED, RULE, ACCENT, SOFT = "#1a1a1a", "#555555", "#d9d9d9", "#1f4e79", "#f3f5f8"
FONT = "Arial, Helvetica, sans-serif"
CHART_WIDTH = 560   # px in the email: the 600 px column less its padding


def e(text) -> str:
    return escape(str(text), quote=True)


@dataclass(frozen=True)
class Img:
    src: str
    alt: str


def content_ids(d: dict) -> dict[str, str]:
    """Chart name -> Content-ID (without angle brackets), stable for a week: "trend.2026-W47@chorus"."""
    week = re.sub(r"[^A-Za-z0-9-]", "", str(d.get("week") or "")) or "digest"
    return {name: f"{name}.{week}@chorus" for name in ("trend", "sentiment")}


# ---- building blocks ----------------------------------------------------------------------------------
def _row(inner: str, pad: str = "12px 14px") -> str:
    return f'<tr><td style="padding:{pad};font-family:{FONT};color:{INK};">{inner}</td></tr>\n'


def _h2(text: str) -> str:
    return (f'<h2 style="margin:8px 0 8px;font-family:{FONT};font-size:19px;line-height:1.3;color:{ACCENT};'
            f'border-bottom:2px solid {ACCENT};padding-bottom:4px;">{e(text)}</h2>')


def _h3(text: str) -> str:
    return f'<h3 style="margin:14px 0 6px;font-family:{FONT};font-size:16px;line-height:1.3;color:{INK};">{e(text)}</h3>'


def _p(html_inner: str, extra: str = "") -> str:
    return f'<p style="margin:0 0 10px;font-size:15px;line-height:1.5;{extra}">{html_inner}</p>'


def _list(items: list[str]) -> str:
    lis = "".join(f'<li style="margin:0 0 6px;">{i}</li>' for i in items)
    return f'<ul style="margin:0 0 10px;padding:0 0 0 20px;font-size:15px;line-height:1.45;">{lis}</ul>'


def _table(t: Table, first_width: str = "") -> str:
    th = (f"padding:6px 3px;border-bottom:2px solid {INK};font-size:11px;line-height:1.25;color:{MUTED};"
          "font-weight:bold;vertical-align:bottom;")
    head = "".join(f'<th scope="col" align="{"left" if i == 0 else "right"}" style="{th}text-align:'
                   f'{"left" if i == 0 else "right"};{first_width if i == 0 else ""}">{e(h)}</th>'
                   for i, h in enumerate(t.header))
    body = []
    for n, r in enumerate(t.rows):
        total = n == t.total_row
        td = (f"padding:6px 3px;border-bottom:1px solid {RULE};font-size:13px;line-height:1.3;vertical-align:top;"
              + (f"font-weight:bold;border-top:2px solid {INK};" if total else ""))
        cells = [f'<th scope="row" align="left" style="{td}text-align:left;overflow-wrap:anywhere;">{e(r[0])}</th>']
        cells += [f'<td align="right" style="{td}text-align:right;">{e(c)}</td>' for c in r[1:]]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table role="table" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'style="border-collapse:collapse;width:100%;margin:0 0 12px;font-family:{FONT};color:{INK};">'
            f'<caption style="text-align:left;font-size:14px;font-weight:bold;padding:0 0 6px;color:{INK};">'
            f'{e(t.caption)}</caption><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def _img(img: Img | None) -> str:
    if img is None:
        return ""
    return (f'<img src="{e(img.src)}" alt="{e(img.alt)}" width="{CHART_WIDTH}" '
            f'style="display:block;width:100%;max-width:{CHART_WIDTH}px;height:auto;border:0;margin:0 0 12px;'
            f'font-family:{FONT};font-size:13px;color:{MUTED};">')


def _headline(v: View) -> str:
    cells = []
    for i, s in enumerate(v.headline):
        pad = "0 6px 12px 0" if i % 2 == 0 else "0 0 12px 6px"
        cells.append(f'<td width="50%" valign="top" style="width:50%;padding:{pad};">'
                     f'<div style="background:{SOFT};padding:10px 12px;font-family:{FONT};">'
                     f'<div style="font-size:13px;color:{MUTED};line-height:1.3;">{e(s.label)}</div>'
                     f'<div style="font-size:26px;font-weight:bold;color:{INK};line-height:1.25;">{e(s.value)}</div>'
                     f'<div style="font-size:12px;color:{MUTED};line-height:1.3;">{e(s.note) or "&nbsp;"}</div>'
                     f'</div></td>')
    rows = "".join("<tr>" + "".join(cells[i:i + 2]) + "</tr>" for i in range(0, len(cells), 2))
    return (f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'style="border-collapse:collapse;width:100%;">{rows}</table>')


def _survey(s) -> str:
    out = [_h2(f"Survey: {s.title}"), _p(f"People who responded: <strong>{e(s.responses)}</strong>")]
    if s.scores:
        out.append(_h3("Scores"))
        out.append(_list([f"<strong>\u201c{e(sc.prompt)}\u201d</strong><br>{e(sc.headline)}<br>"
                          f'<span style="color:{MUTED};font-size:13px;">{e(sc.detail)}</span>' for sc in s.scores]))
    if s.themes or s.also:
        out.append(_h3("Top themes"))
        items = [f"<strong>{e(t.label)}</strong>: {e(t.text)}"
                 + (f' <span style="color:{ACCENT};font-weight:bold;">{e(t.mark)}</span>' if t.mark else "")
                 for t in s.themes]
        out.append(_list(items + [e(a) for a in s.also]))
    if s.quotes:
        out.append(_h3("What people said"))
        out.append(_p("Never attributed.", f"font-size:13px;color:{MUTED};"))
        for q in s.quotes:
            out.append(f'<div style="margin:0 0 4px;font-size:13px;color:{MUTED};">{e(q.label)}:</div>'
                       f'<blockquote dir="auto" style="margin:0 0 12px;padding:6px 12px;border-left:4px solid {ACCENT};'
                       f'background:{SOFT};font-size:15px;line-height:1.5;font-style:italic;">\u201c{e(q.text)}\u201d'
                       f'</blockquote>')
    if s.note:
        out.append(_p(e(s.note)))
    return _row("".join(out))


def _body(v: View, imgs: dict[str, Img]) -> str:
    rows = []
    head = f'<h1 style="margin:0 0 6px;font-family:{FONT};font-size:23px;line-height:1.25;color:{ACCENT};">{e(v.title)}</h1>'
    if v.organisation:
        head += _p(f"For <strong>{e(v.organisation)}</strong>")
    head += _p(f"<strong>{e(v.week)}</strong>: {e(v.period)}. Answers received by {e(v.cutoff)}.",
               f"font-size:13px;color:{MUTED};")
    rows.append(_row(head, "18px 14px 4px"))
    rows.append(_row(_h2("What changed this week") + _p(e(" ".join(v.summary) or "Nothing to report this week."))))
    rows.append(_row(_h2("The week in numbers") + _headline(v)))
    trend = _h2("Trend over 8 weeks") + _img(imgs.get("trend"))
    trend += _table(v.trend) if v.trend.rows else _p("No weeks to show.")
    rows.append(_row(trend))
    rows.append(_row(_h2("Sentiment this week") + _img(imgs.get("sentiment")) + _table(v.sentiment)
                     + _p(e(v.sentiment_line)) + _p(e(v.not_tagged_line))))
    rows += [_survey(s) for s in v.surveys]
    loop = _h2("You said, we did")
    if v.loop_warning:
        loop += _p(f"<strong>{e(v.loop_warning)}</strong>", "color:#8a1c1c;")
    loop += _list([e(line) for line in v.loop]) if v.loop else \
        _p("Not recorded in this digest (it was built before the action register).")
    rows.append(_row(loop))
    flags = _h2("Safeguarding")
    if v.contact_line:
        flags += _p(f"<strong>{e(v.contact_line)}</strong>", "color:#8a1c1c;")
    flags += _p(e(v.flags_text))
    if v.flags_link:
        flags += _p(f'<a href="{e(v.flags_link)}" style="color:{ACCENT};font-weight:bold;">'
                    "Open safeguarding flags</a>")
    rows.append(_row(flags))
    rows.append(_row(_h2("By organisation") + "".join(_table(t) for t in v.organisations)))
    notes = "".join(f'<p style="margin:0 0 8px;font-size:12px;line-height:1.45;color:{MUTED};">{e(n)}</p>'
                    for n in v.footnotes)
    rows.append(_row(_h2("About the numbers") + notes, "12px 14px 18px"))
    return (f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'style="border-collapse:collapse;width:100%;max-width:600px;background:#ffffff;">\n{"".join(rows)}</table>')


def _document(v: View, body: str, head_extra: str, body_style: str, preheader: str = "") -> str:
    pre = (f'<div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all;">'
           f"{e(preheader)}</div>\n" if preheader else "")
    return ("<!DOCTYPE html>\n"
            '<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="color-scheme" content="light">\n'
            f"<title>{e(v.title)}, {e(v.period)}</title>\n{head_extra}</head>\n"
            f'<body style="{body_style}">\n{pre}'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            'style="border-collapse:collapse;width:100%;">\n'
            f'<tr><td align="center" style="padding:12px 0;">\n{body}\n</td></tr>\n</table>\n</body>\n</html>\n')


# ---- the two documents --------------------------------------------------------------------------------
def render_html_email(d: dict, *, pngs: dict[str, bytes] | None = None) -> tuple[str, dict[str, bytes]]:
    """The email's HTML and its inline images: {content-id (no angle brackets): PNG bytes}.

    `pngs` takes charts already drawn by `charts(d)` (drawing is most of the cost); by default they are drawn.
    """
    v = view(d)
    pngs = charts(d) if pngs is None else pngs
    cids = content_ids(d)
    alts = {"trend": v.trend_alt, "sentiment": v.sentiment_alt}
    pngs = {name: png for name, png in pngs.items() if name in cids}
    imgs = {name: Img(f"cid:{cids[name]}", alts[name]) for name in pngs}
    html = _document(v, _body(v, imgs), "", f"margin:0;padding:0;background:#e9ecef;font-family:{FONT};",
                     preheader=" ".join(v.summary))
    return html, {cids[name]: png for name, png in pngs.items()}


PRINT_CSS = """<style>
@page { size: A4; margin: 16mm 14mm 18mm; @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 9pt Arial, sans-serif; color: #555; } }
@media print {
  body { background: #fff !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body > table > tbody > tr > td { padding: 0 !important; }
  table[role="presentation"] { max-width: none !important; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table[role="table"] tr, img, blockquote, caption { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: #1a1a1a !important; }
  a[href]::after { content: " (" attr(href) ")"; font-weight: normal; font-size: 9pt; }
}
</style>
"""


def render_print_html(d: dict, *, pngs: dict[str, bytes] | None = None) -> str:
    """A standalone page for board papers: A4 print CSS, charts as data: URIs, no external resources."""
    v = view(d)
    pngs = charts(d) if pngs is None else pngs
    alts = {"trend": v.trend_alt, "sentiment": v.sentiment_alt}
    imgs = {name: Img("data:image/png;base64," + base64.b64encode(png).decode("ascii"), alts[name])
            for name, png in pngs.items() if name in alts}
    return _document(v, _body(v, imgs), PRINT_CSS, f"margin:0;padding:0;background:#ffffff;font-family:{FONT};")
