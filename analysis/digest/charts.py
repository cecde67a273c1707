"""The digest's two charts as PNG bytes: the 8-week trend and this week's sentiment.

`charts(d)` -> {"trend": png, "sentiment": png}; a chart with nothing to plot is left out, and the renderers
then show its numbers in text only. Same dict in, same bytes out (on the same matplotlib): the Agg renderer
is deterministic, the PNG carries no Software/date chunks, the font is DejaVu Sans (shipped inside
matplotlib, never looked up on the system), DPI and sizes are fixed, and the style is matplotlib's defaults
plus ours, whatever a matplotlibrc on the machine says. pyplot is never used (no GUI backend, no global
figure registry); rcParams are global, so drawing holds a lock.

A withheld or NA point is a gap in its line (NaN), never a zero; a withheld bar is not drawn and is labelled
"fewer than 5" (small) or "withheld" (hidden by difference: never called small, which could be untrue).
"""
from __future__ import annotations

import io
import math
import threading

import matplotlib.style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from analysis.digest.render import (
    DASH,
    SENTIMENT_KEYS,
    WITHHELD,
    count,
    is_small,
    is_withheld,
    number,
    pct,
    week_short,
)

DPI = 150
WIDTH_IN = 6.4                     # 960 px; shown at 560 px in the email, sharp on phones
TREND_PX = (960, 540)
SENTIMENT_PX = (960, 390)

# Okabe-Ito colours: they stay distinct for the common colour-vision deficiencies.
INK, MUTED, GRID = "#1a1a1a", "#5f5f5f", "#dddddd"
RATE, POSITIVE, NEGATIVE = "#332288", "#0072B2", "#D55E00"
BARS = {"positive": POSITIVE, "neutral": "#8c8c8c", "negative": NEGATIVE, "mixed": "#CC79A7", "not_tagged": "#c8c8c8"}

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "text.color": INK,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "path.simplify": False,
}

_LOCK = threading.Lock()


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    # metadata None drops the "Software: matplotlib version ..." chunk; Agg writes no time chunk.
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _series(points: list[dict], key: str) -> list[float]:
    return [math.nan if number(p.get(key)) is None else float(number(p.get(key))) for p in points]


def _ceiling(values: list[float]) -> float:
    """A y-axis top that starts the scale at zero (honest) and leaves room for labels."""
    top = max((v for v in values if not math.isnan(v)), default=0.0)
    return min(1.0, max(0.1, math.ceil(top * 1.25 * 10) / 10))


def _percent_axis(ax, values: list[float]) -> None:
    ax.set_ylim(0, _ceiling(values))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def _label_last(ax, xs: list[int], ys: list[float], colour: str, dy: int = 6) -> None:
    for x, y in reversed(list(zip(xs, ys))):
        if not math.isnan(y):
            ax.annotate(pct({"value": y}), (x, y), xytext=(0, dy), textcoords="offset points", ha="center",
                        fontsize=8, color=colour, fontweight="bold")
            return


def _mark_gaps(ax, xs: list[int], points: list[dict], keys: tuple[str, ...]) -> None:
    """Say why a week has no point: "no data" (NA) or "fewer than 5" (withheld)."""
    for x, p in zip(xs, points):
        figs = [p.get(k) for k in keys]
        if all(number(f) is None for f in figs):
            withheld = [f for f in figs if is_withheld(f)]
            text = ("withheld" if any(not is_small(f) for f in withheld) else WITHHELD) if withheld else "no data"
            ax.text(x, ax.get_ylim()[1] * 0.04, text, ha="center", va="bottom", fontsize=7, color=MUTED,
                    fontstyle="italic")


def trend_figure(d: dict) -> Figure | None:
    points = list(d.get("trend") or [])
    rate, pos, neg = (_series(points, k) for k in ("response_rate", "positive_share", "negative_share"))
    if all(math.isnan(v) for v in rate + pos + neg):
        return None
    xs = list(range(len(points)))
    labels = [week_short(p.get("week")) for p in points]
    fig = Figure(figsize=(TREND_PX[0] / DPI, TREND_PX[1] / DPI), dpi=DPI, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(xs, rate, color=RATE, marker="o", markersize=4, linewidth=2)
    top.set_title("Response rate", color=INK)
    _percent_axis(top, rate)
    _label_last(top, xs, rate, RATE)
    _mark_gaps(top, xs, points, ("response_rate",))
    bottom.plot(xs, pos, color=POSITIVE, marker="o", markersize=4, linewidth=2, label="Positive")
    bottom.plot(xs, neg, color=NEGATIVE, marker="s", markersize=4, linewidth=2, linestyle="--", label="Negative")
    bottom.set_title("Sentiment: share of tagged answers", color=INK)
    _percent_axis(bottom, pos + neg)
    _label_last(bottom, xs, pos, POSITIVE)
    _label_last(bottom, xs, neg, NEGATIVE, dy=-13)
    _mark_gaps(bottom, xs, points, ("positive_share", "negative_share"))
    bottom.legend(loc="lower right", bbox_to_anchor=(1, 1.0), ncols=2, fontsize=8, borderaxespad=0.2)
    bottom.set_xticks(xs, labels)
    bottom.set_xlim(-0.5, len(xs) - 0.5)
    bottom.set_xlabel("Week starting", color=MUTED)
    return fig


def sentiment_figure(d: dict) -> Figure | None:
    s = (d.get("total") or {}).get("sentiment") or {}
    figs = [(key, label, s.get(key)) for key, label in SENTIMENT_KEYS]
    values = [number(f) for _, _, f in figs]
    if all(v is None for v in values):
        return None
    fig = Figure(figsize=(SENTIMENT_PX[0] / DPI, SENTIMENT_PX[1] / DPI), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    ys = list(range(len(figs)))[::-1]          # first category at the top
    top = max((v for v in values if v is not None), default=0) or 1
    for y, (key, label, f), v in zip(ys, figs, values):
        if v is not None:
            ax.barh(y, v, color=BARS[key], height=0.62)
        text = count(f) if v is not None else (("withheld" if not is_small(f) else WITHHELD) if is_withheld(f) else DASH)
        ax.text((v or 0) + top * 0.015, y, text, va="center", ha="left", fontsize=8.5,
                color=INK if v is not None else MUTED, fontstyle="normal" if v is not None else "italic")
    ax.set_yticks(ys, [label for _, label, _ in figs])
    ax.set_xlim(0, top * 1.22)
    ax.xaxis.set_visible(False)
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="y", length=0, labelcolor=INK)
    ax.set_title(f"Sentiment of {count(s.get('total'))} written answers this week", color=INK)
    return fig


def figures(d: dict) -> dict[str, Figure]:
    """The charts as matplotlib figures (for tests and for other outputs); only those with data."""
    with _LOCK, matplotlib.style.context(["default", STYLE]):
        out = {"trend": trend_figure(d), "sentiment": sentiment_figure(d)}
    return {k: v for k, v in out.items() if v is not None}


def charts(d: dict) -> dict[str, bytes]:
    """{"trend": png, "sentiment": png}, each only when it has something to plot."""
    with _LOCK, matplotlib.style.context(["default", STYLE]):
        out = {"trend": trend_figure(d), "sentiment": sentiment_figure(d)}
        return {k: _png(fig) for k, fig in out.items() if fig is not None}
