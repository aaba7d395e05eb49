"""Chart geometry for the console's server-rendered SVG (no JavaScript, no CDN: the console
runs on a government intranet). Pure functions from figures to coordinates; the templates
(admin_charts.html) draw them with presentation attributes only, so the pages' CSP holds."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 760
LABEL_W = 150  # the row labels' column
RIGHT_PAD = 70  # room for the figures after the bars
ROW_H = 26
HEAD_H = 28  # a group heading's row
TOP, BOTTOM = 12, 30  # the axis labels sit below the plot


def percent(rate: float | None, digits: int = 1) -> str:
    """A rate in percent as the pages print it: 92.3%; no rate (no items) is an em dash."""
    return "—" if rate is None else f"{rate:.{digits}f}%"


@dataclass(frozen=True)
class Bar:
    """One scope's pair of bars: declared (behind, light) and verified (in front, dark);
    rates in percent, None for a scope without items."""

    label: str
    verified: float | None
    declared: float | None
    group: str | None = None
    href: str | None = None


@dataclass(frozen=True)
class BarRow:
    y: float
    label: str
    verified_w: float
    declared_w: float
    verified_text: str
    declared_text: str
    below_target: bool
    href: str | None


@dataclass(frozen=True)
class Heading:
    y: float
    text: str


@dataclass(frozen=True)
class Tick:
    at: float
    text: str


@dataclass
class BarChart:
    width: int
    height: float
    plot_x: float
    plot_w: float
    plot_top: float
    plot_bottom: float
    target_x: float
    target_text: str
    rows: list[BarRow] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)


def bar_chart(bars: list[Bar], target: float) -> BarChart:
    """Horizontal bars, 0–100% across, one row per scope, a heading row where the group
    changes (珠三角九市 / 粤东西北), and the target as a dashed line across every row."""
    plot_x, plot_w = float(LABEL_W), float(WIDTH - LABEL_W - RIGHT_PAD)
    y, group = float(TOP), None
    rows: list[BarRow] = []
    headings: list[Heading] = []
    for bar in bars:
        if bar.group and bar.group != group:
            group = bar.group
            headings.append(Heading(y + HEAD_H - 9, bar.group))
            y += HEAD_H
        verified, declared = bar.verified or 0.0, bar.declared or 0.0
        rows.append(BarRow(
            y=y, label=bar.label, verified_w=_clamp(verified) / 100 * plot_w,
            declared_w=_clamp(declared) / 100 * plot_w, verified_text=percent(bar.verified),
            declared_text=percent(bar.declared),
            below_target=bar.verified is not None and bar.verified < target, href=bar.href))
        y += ROW_H
    bottom = y + 4
    ticks = [Tick(plot_x + plot_w * step / 4, f"{step * 25}%") for step in range(5)]
    return BarChart(width=WIDTH, height=bottom + BOTTOM, plot_x=plot_x, plot_w=plot_w,
                    plot_top=float(TOP), plot_bottom=bottom,
                    target_x=plot_x + _clamp(target) / 100 * plot_w,
                    target_text=percent(target, 0), rows=rows, headings=headings, ticks=ticks)


PALETTE = ("#b3261e", "#0969da", "#1a7f37", "#8250df", "#bf8700", "#57606a")


@dataclass(frozen=True)
class Series:
    """One line of the trend chart: (month "YYYY-MM", rate in percent or None)."""

    name: str
    points: list[tuple[str, float | None]]
    kind: str = "verified"  # verified (solid) | declared (dotted)
    colour: int = 0  # index into PALETTE: a declared line shares its verified line's colour


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    month: str
    text: str


@dataclass(frozen=True)
class Line:
    name: str
    kind: str
    colour: str
    path: str  # SVG polyline points; a month without a figure breaks nothing, it is skipped
    points: list[Point]


@dataclass(frozen=True)
class TargetLine:
    at: float
    text: str


@dataclass
class LineChart:
    width: int
    height: float
    plot_x: float
    plot_w: float
    plot_top: float
    plot_bottom: float
    targets: list[TargetLine]
    lines: list[Line]
    months: list[Tick]
    levels: list[Tick]


LINE_H = 220


def line_chart(series: list[Series], targets: list[tuple[float, str]]) -> LineChart:
    """Rates (percent) by month, 0–100% up the side, each target a dashed line."""
    months = sorted({month for s in series for month, _rate in s.points})
    plot_x, plot_w = 56.0, float(WIDTH - 56 - 24)
    top, bottom = 14.0, 14.0 + LINE_H
    step = plot_w / max(1, len(months) - 1)
    x_of = {m: plot_x + (i * step if len(months) > 1 else plot_w / 2)
            for i, m in enumerate(months)}

    def y_of(rate: float) -> float:
        return bottom - _clamp(rate) / 100 * (bottom - top)

    lines = []
    for s in series:
        points = [Point(x_of[m], y_of(rate), m, percent(rate)) for m, rate in s.points
                  if rate is not None]
        path = " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)
        lines.append(Line(s.name, s.kind, PALETTE[s.colour % len(PALETTE)], path, points))
    every = max(1, len(months) // 12)  # at most about twelve month labels
    return LineChart(
        width=WIDTH, height=bottom + 34, plot_x=plot_x, plot_w=plot_w, plot_top=top,
        plot_bottom=bottom, lines=lines,
        targets=[TargetLine(y_of(rate), label) for rate, label in targets],
        months=[Tick(x_of[m], m) for i, m in enumerate(months) if i % every == 0],
        levels=[Tick(y_of(level * 25.0), f"{level * 25}%") for level in range(5)])


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    w: float
    h: float
    day: str
    count: int


@dataclass
class ColumnChart:
    width: int
    height: float
    plot_bottom: float
    columns: list[Column]
    peak: int
    labels: list[Tick]


COLUMN_H = 120


def column_chart(days: list[tuple[str, int]]) -> ColumnChart:
    """A client's daily logins: one column a day (oldest first), scaled to the busiest."""
    peak = max((count for _day, count in days), default=0)
    plot_x, plot_w, top, bottom = 40.0, float(WIDTH - 40 - 10), 10.0, 10.0 + COLUMN_H
    slot = plot_w / max(1, len(days))
    columns = []
    for i, (day, count) in enumerate(days):
        h = (count / peak) * (bottom - top) if peak else 0.0
        columns.append(Column(plot_x + i * slot + slot * 0.15, bottom - h, slot * 0.7, h, day,
                              count))
    labels = [Tick(c.x + c.w / 2, c.day[5:]) for i, c in enumerate(columns)
              if i % 5 == 0 or i == len(columns) - 1]
    return ColumnChart(WIDTH, bottom + 26, bottom, columns, peak, labels)


def _clamp(rate: float) -> float:
    return min(100.0, max(0.0, float(rate)))
