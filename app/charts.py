"""The effectiveness report's charts, rendered on the server as SVG or PNG (matplotlib, Agg).

Charts are drawn on `matplotlib.figure.Figure` objects with the Agg canvas, never through
pyplot: no display, no global figure state, so requests can draw at the same time.

* ``trend``: each reported indicator's yearly amounts (a heat map, each row against its best
  year, cells giving the amounts);
* ``channels``: the share of each indicator's total per channel (a heat map);
* ``league``: the pairs' activity index, best first;
* ``attainment``: each target's attainment (actual / target), with the 100 % line.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from matching import EvaluationReport

__all__ = ["CHARTS", "CHART_FORMATS", "render_chart"]

#: The charts of a report.
CHARTS = ("trend", "channels", "league", "attainment")
#: Formats and their media types.
CHART_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
# Set once for the process (rc_context per call would race): SVG ids from a fixed salt, and
# text as text, not glyph paths (ten times faster to write, and searchable).
matplotlib.rcParams["svg.hashsalt"] = "counterpart"
matplotlib.rcParams["svg.fonttype"] = "none"
_WIDTH = 9.0
_DPI = 110
_BAR = "#3b6ea5"
_MISSED = "#c0504d"


def _title(report: EvaluationReport, what: str) -> str:
    span = (
        str(report.first_year)
        if report.first_year == report.last_year
        else f"{report.first_year}–{report.last_year}"
    )
    scope = "all pairs" if report.pair is None else f"{report.pair[0]}–{report.pair[1]}"
    return f"{what}, {scope}, {span}"


def _empty(figure: Figure, message: str) -> None:
    axes = figure.add_subplot()
    axes.axis("off")
    axes.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#555555")


def _amount(value: float) -> str:
    """A compact amount for a cell: 1.2 bn, 35 k, 7."""
    for size, suffix in ((1e12, " tn"), (1e9, " bn"), (1e6, " m"), (1e3, " k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _trend(figure: Figure, report: EvaluationReport) -> None:
    shown = [s for s in report.indicators if s.total > 0]
    if not shown:
        _empty(figure, "no outcomes in this range")
        return
    years = list(report.years)
    # Each row relative to its own best year, so that units do not matter; cells give amounts.
    shares = [[v / max(s.by_year) for v in s.by_year] for s in shown]
    figure.set_size_inches(_WIDTH, 0.45 * len(shown) + 2.2)
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(len(years)))
    axes.set_xticklabels([str(y) for y in years], fontsize=8)
    axes.set_yticks(range(len(shown)))
    axes.set_yticklabels([f"{s.indicator} ({s.unit})" for s in shown], fontsize=8)
    for r, summary in enumerate(shown):
        for c, value in enumerate(summary.by_year):
            if value > 0:
                colour = "white" if shares[r][c] > 0.6 else "black"
                axes.text(c, r, _amount(value), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, label="share of the indicator's best year")


def _channels(figure: Figure, report: EvaluationReport) -> None:
    shown = [s for s in report.indicators if s.total > 0]
    if not shown:
        _empty(figure, "no outcomes in this range")
        return
    channels = list(shown[0].by_channel)
    shares = [[s.by_channel[c] / s.total for c in channels] for s in shown]
    figure.set_size_inches(_WIDTH, 0.45 * len(shown) + 2.2)
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(len(channels)))
    axes.set_xticklabels(channels, rotation=30, ha="right", fontsize=8)
    axes.set_yticks(range(len(shown)))
    axes.set_yticklabels([s.indicator for s in shown], fontsize=8)
    for r, row in enumerate(shares):
        for c, value in enumerate(row):
            if value > 0:
                colour = "white" if value > 0.6 else "black"
                axes.text(c, r, f"{value:.0%}", ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, label="share of the indicator's total")


def _league(figure: Figure, report: EvaluationReport) -> None:
    if not report.league:
        _empty(figure, "no active pair in this range")
        return
    rows = list(reversed(report.league[:30]))
    figure.set_size_inches(_WIDTH, 0.32 * len(rows) + 1.4)
    axes = figure.add_subplot()
    axes.barh(
        [f"{p.rank}. {p.northeast}–{p.east}" for p in rows],
        [p.index for p in rows],
        color=_BAR,
    )
    axes.set_xlim(0, 1)
    axes.set_xlabel("activity index (share of the leading pair, averaged over indicators)")
    axes.tick_params(labelsize=8)


def _attainment(figure: Figure, report: EvaluationReport) -> None:
    if not report.attainment:
        _empty(figure, "no targets in this range")
        return
    rows = list(reversed(report.attainment[:40]))
    figure.set_size_inches(_WIDTH, 0.32 * len(rows) + 1.4)
    axes = figure.add_subplot()
    labels = [
        f"{a.target.year} {a.target.northeast}–{a.target.east} {a.target.indicator}" for a in rows
    ]
    values = [0.0 if a.ratio is None else min(a.ratio, 2.0) for a in rows]
    axes.barh(labels, values, color=[_BAR if a.met else _MISSED for a in rows])
    axes.axvline(1.0, color="black", linewidth=1)
    axes.set_xlim(0, 2)
    axes.set_xlabel("actual / target (capped at 200 %; red: not met)")
    axes.tick_params(labelsize=8)


_DRAW = {"trend": _trend, "channels": _channels, "league": _league, "attainment": _attainment}
_TITLES = {
    "trend": "Outcomes per year",
    "channels": "Outcomes by channel",
    "league": "League table of pairs",
    "attainment": "Target attainment",
}


def render_chart(report: EvaluationReport, chart: str, fmt: str) -> bytes:
    """One chart of the report as SVG or PNG bytes.

    Raises
    ------
    ValueError
        For an unknown chart or format, naming it.
    """
    if chart not in _DRAW:
        raise ValueError(f"`chart` must be one of {', '.join(CHARTS)}, got {chart!r}")
    if fmt not in CHART_FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(CHART_FORMATS)}, got {fmt!r}")
    figure = Figure(figsize=(_WIDTH, 4.0), dpi=_DPI)
    FigureCanvasAgg(figure)
    _DRAW[chart](figure, report)
    figure.suptitle(_title(report, _TITLES[chart]), fontsize=11)
    figure.tight_layout()
    buffer = io.BytesIO()
    # No creation date (and fixed SVG ids, above), so the same report draws the same bytes.
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
