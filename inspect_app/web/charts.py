"""Geometry of the dashboard's charts, drawn as inline SVG by the templates.

Plain numbers in, coordinates out: the templates only place what is computed here.
The charts are sized in SVG units close to CSS pixels at a phone's width (400 units),
so that their text stays readable when a 390-pixel screen shows them at full width.
"""

from dataclasses import dataclass

from inspect_app.web.queries import WeekPoint

WIDTH = 400
LABEL_WIDTH = 128
VALUE_WIDTH = 92
ROW_HEIGHT = 26
BAR_HEIGHT = 14
# Labels are never cut short: a name wider than its column (市工业信息化和科技局) is
# wrapped onto more lines, the row growing to hold them. Widths in em of the 13-unit label
# font: a Chinese character is one, a Latin letter or digit about half.
LABEL_EMS = 9.0
LINE_HEIGHT = 15
# Not at the start of a line (Chinese line-breaking rules): closing brackets, punctuation.
NO_LINE_START = set("）】」』》〉、，。；：！？)]}.,;:!?%")
NO_LINE_END = set("（【「『《〈([{")


@dataclass(frozen=True)
class Bar:
    label: str
    label_lines: list[tuple[str, float]]  # (text, baseline y) of each line of the label
    y: float
    width: float
    value_text: str
    tone: str  # good / fair / poor / none: the bar's colour, by rate


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bar_area: int
    bar_height: int
    bars: list[Bar]


def _tone(value: float | None) -> str:
    if value is None:
        return "none"
    if value >= 0.9:
        return "good"
    if value >= 0.6:
        return "fair"
    return "poor"


def _ems(char: str) -> float:
    return 0.55 if ord(char) < 0x2E80 else 1.0


def wrap_label(label: str, width: float = LABEL_EMS) -> list[str]:
    """The label in lines of at most ``width`` em, every character kept, lines balanced.

    As few lines as the width allows, of about equal length: 市工业信息 / 化和科技局,
    not 市工业信息化和科技 / 局.
    """
    lines = _greedy(label, width)
    if len(lines) > 1:
        even = sum(_ems(c) for c in label) / len(lines)
        while even < width:
            balanced = _greedy(label, even)
            if len(balanced) <= len(lines):
                return balanced
            even += 0.5
    return lines


def _greedy(label: str, width: float) -> list[str]:
    lines: list[str] = []
    line, used = "", 0.0
    for char in label:
        if line and used + _ems(char) > width:
            cut = len(line)
            # Keep a closing mark with what it closes, an opening one with what it opens.
            if char in NO_LINE_START and cut > 1:
                cut -= 1
            while cut > 1 and line[cut - 1] in NO_LINE_END:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
            used = sum(_ems(c) for c in line)
        line += char
        used += _ems(char)
    if line or not lines:
        lines.append(line)
    return lines


def rate_bars(rows: list[dict]) -> BarChart:
    """Horizontal bars of the rectification rate, one per row of campaign_stats."""
    bar_area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    top = 0.0
    for row in rows:
        value = row["rectification_rate"]
        if value is None:
            text = "无问题"
        else:
            text = f"{value * 100:.0f}% ({row['rectified']}/{row['findings']})"
        lines = wrap_label(row["label"])
        height = max(ROW_HEIGHT, len(lines) * LINE_HEIGHT + 10)
        middle = top + height / 2 + 3  # the bar's centre; the label's lines around it
        bar_y = middle - BAR_HEIGHT / 2
        first = middle + 4.5 - (len(lines) - 1) * LINE_HEIGHT / 2
        bars.append(
            Bar(
                label=row["label"],
                label_lines=[
                    (line, round(first + k * LINE_HEIGHT, 1)) for k, line in enumerate(lines)
                ],
                y=round(bar_y, 1),
                width=round((value or 0) * bar_area, 1),
                value_text=text,
                tone=_tone(value),
            )
        )
        top += height
    return BarChart(
        width=WIDTH,
        height=round(max(top, ROW_HEIGHT) + 8),
        label_width=LABEL_WIDTH,
        bar_area=bar_area,
        bar_height=BAR_HEIGHT,
        bars=bars,
    )


@dataclass(frozen=True)
class TrendColumn:
    label: str | None  # the week's Monday as MM-DD, on every few columns only
    title: str
    x_found: float
    x_closed: float
    found_y: float
    found_h: float
    closed_y: float
    closed_h: float
    label_x: float


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    left: int
    maximum: int
    ticks: list[tuple[float, int]]  # (y, value) of the horizontal grid lines
    bar_width: float
    columns: list[TrendColumn]


def _nice_ceiling(value: int) -> int:
    """The smallest of 4, 8, 20, 40, 80, 200 … at or above ``value``: ticks at quarters."""
    scale = 1
    while True:
        for step in (4, 8, 20):
            if step * scale >= value:
                return step * scale
        scale *= 10


def weekly_columns(points: list[WeekPoint]) -> TrendChart:
    """Pairs of columns per week: found (amber) and closed (green)."""
    height, top, bottom, left = 190, 10, 160, 34
    maximum = _nice_ceiling(max([p.found for p in points] + [p.closed for p in points] + [1]))
    plot_height = bottom - top
    slot = (WIDTH - left - 4) / max(len(points), 1)
    bar_width = max(min(slot * 0.38, 14), 2)
    every = max(1, round(len(points) / 5))
    columns = []
    for i, point in enumerate(points):
        x = left + i * slot + (slot - 2 * bar_width) / 2
        found_h = point.found / maximum * plot_height
        closed_h = point.closed / maximum * plot_height
        columns.append(
            TrendColumn(
                label=point.monday.strftime("%m-%d") if i % every == 0 else None,
                title=f"{point.monday:%Y-%m-%d} 起一周：发现 {point.found}，销号 {point.closed}",
                x_found=round(x, 1),
                x_closed=round(x + bar_width, 1),
                found_y=round(bottom - found_h, 1),
                found_h=round(found_h, 1),
                closed_y=round(bottom - closed_h, 1),
                closed_h=round(closed_h, 1),
                label_x=round(left + i * slot + slot / 2, 1),
            )
        )
    ticks = [(round(bottom - plot_height * k / 4, 1), maximum * k // 4) for k in range(5)]
    return TrendChart(
        width=WIDTH,
        height=height,
        plot_top=top,
        plot_bottom=bottom,
        left=left,
        maximum=maximum,
        ticks=ticks,
        bar_width=round(bar_width, 1),
        columns=columns,
    )
