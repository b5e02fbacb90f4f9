"""Charts for the performance board, rendered on the server as SVG strings: horizontal bars with segments,
markers and a reference line, sized for a wall screen, readable without colour (every bar is labelled with its
value) and described for screen readers. Hand-written rather than a charting library: the libraries either draw in the
browser (JavaScript, which the pages carry none of) or pull a plotting stack into the service for what is a few
rectangles and lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
GREEN = "#009E73"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
BLUE = "#56B4E9"
YELLOW = "#F0E442"
GREY = "#8a9ba8"
TEXT = "#f5f7fa"
MUTED = "#b8c4ce"
GRID = "#2c4356"


@dataclass(frozen=True)
class Segment:
    """A part of a bar: its value, colour and what it is (tooltip and legend)."""

    value: float
    colour: str
    name: str


@dataclass(frozen=True)
class Marker:
    """A tick across a bar at ``value`` (a p90, a target)."""

    value: float
    colour: str
    name: str


@dataclass
class Bar:
    """One row of a chart: label, stacked segments, markers and the text written after the bar."""

    label: str
    segments: Sequence[Segment] = ()
    markers: Sequence[Marker] = ()
    note: str = ""
    sublabel: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Legend:
    """A legend entry."""

    colour: str
    name: str
    shape: str = "box"


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    *,
    maximum: float,
    minimum: float = 0.0,
    legend: Sequence[Legend] = (),
    reference: tuple[float, str] | None = None,
    ticks: Sequence[float] = (),
    tick_format: str = "{:g}",
    width: int = 900,
) -> Markup:
    """A horizontal bar chart as an inline ``<svg>`` (``role="img"``, titled and described)."""
    label_width, note_width, row_height, bar_height = 360, 200, 48, 26
    top = 40 if legend else 12
    plot_left, plot_right = label_width, width - note_width
    plot_width = plot_right - plot_left
    height = top + max(len(bars), 1) * row_height + 30
    span = max(maximum - minimum, 1e-9)

    def x(value: float) -> float:
        clamped = min(max(value, minimum), maximum)
        return plot_left + (clamped - minimum) / span * plot_width

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'font-family="system-ui, sans-serif">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    legend_x = plot_left
    for entry in legend:
        if entry.shape == "line":
            parts.append(
                f'<line x1="{legend_x}" y1="14" x2="{legend_x + 18}" y2="14" stroke="{entry.colour}" stroke-width="4"/>'
            )
        else:
            parts.append(f'<rect x="{legend_x}" y="6" width="18" height="16" fill="{entry.colour}"/>')
        parts.append(f'<text x="{legend_x + 24}" y="20" fill="{MUTED}" font-size="16">{escape(entry.name)}</text>')
        legend_x += 34 + 9 * len(entry.name)
    for tick in ticks:
        tick_x = x(tick)
        parts.append(
            f'<line x1="{tick_x:.1f}" y1="{top - 4}" x2="{tick_x:.1f}" y2="{height - 26}" stroke="{GRID}" '
            f'stroke-width="1"/>'
            f'<text x="{tick_x:.1f}" y="{height - 8}" fill="{MUTED}" font-size="15" text-anchor="middle">'
            f"{escape(tick_format.format(tick))}</text>"
        )
    if not bars:
        parts.append(f'<text x="{plot_left}" y="{top + 28}" fill="{MUTED}" font-size="20">—</text>')
    for index, bar in enumerate(bars):
        row_top = top + index * row_height
        bar_top = row_top + (row_height - bar_height) / 2
        middle = row_top + row_height / 2
        parts.append(
            f'<g class="bar" data-label="{escape(bar.label)}"'
            + "".join(f' data-{escape(key)}="{escape(value)}"' for key, value in bar.extra.items())
            + ">"
        )
        label_y = middle + 7 if not bar.sublabel else middle - 2
        parts.append(
            f'<text x="{label_width - 14}" y="{label_y:.1f}" fill="{TEXT}" font-size="19" text-anchor="end" '
            f'font-weight="600"><title>{escape(bar.label)}</title>{escape(_clip(bar.label, 28))}</text>'
        )
        if bar.sublabel:
            parts.append(
                f'<text x="{label_width - 14}" y="{middle + 17:.1f}" fill="{MUTED}" font-size="15" '
                f'text-anchor="end">{escape(_clip(bar.sublabel, 38))}</text>'
            )
        start = minimum
        for segment in bar.segments:
            if segment.value <= 0:
                continue
            left, right = x(start), x(start + segment.value)
            parts.append(
                f'<rect x="{left:.1f}" y="{bar_top:.1f}" width="{max(right - left, 1.5):.1f}" height="{bar_height}" '
                f'fill="{segment.colour}"><title>{escape(segment.name)}: {segment.value:g}</title></rect>'
            )
            start += segment.value
        for marker in bar.markers:
            marker_x = x(marker.value)
            parts.append(
                f'<line x1="{marker_x:.1f}" y1="{bar_top - 6:.1f}" x2="{marker_x:.1f}" '
                f'y2="{bar_top + bar_height + 6:.1f}" stroke="{marker.colour}" stroke-width="5">'
                f"<title>{escape(marker.name)}: {marker.value:g}</title></line>"
            )
        if bar.note:
            parts.append(
                f'<text x="{plot_right + 12}" y="{middle + 7:.1f}" fill="{TEXT}" font-size="20">'
                f"{escape(bar.note)}</text>"
            )
        parts.append("</g>")
    if reference is not None:
        value, name = reference
        ref_x = x(value)
        parts.append(
            f'<line x1="{ref_x:.1f}" y1="{top - 4}" x2="{ref_x:.1f}" y2="{height - 26}" stroke="{YELLOW}" '
            f'stroke-width="3" stroke-dasharray="8 6"><title>{escape(name)}</title></line>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text is escaped above)


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
