"""Charts drawn on the server as inline SVG: no JavaScript library, nothing from a CDN, and
nothing the console's Content-Security-Policy has to allow (presentation attributes and
classes only, no style attributes).

Each chart is an `<svg role="img">` named by its `<title>` and described by its `<desc>`;
the page puts the same figures in a table beside it, so a screen reader (or anyone who
wants the numbers) reads the table. Every text is escaped here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

WIDTH = 640
#: Rows a bar chart draws at most (the table beside it has them all).
MAX_BARS = 15
_BAR, _GAP, _LABEL = 18, 6, 190


def _frame(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" id="{escape(chart_id)}" role="img" width="{WIDTH}"'
        f' height="{height}" viewBox="0 0 {WIDTH} {height}"'
        f' aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc"'
        ' xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def _number(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value):,}"


def bars(chart_id: str, title: str, desc: str, labels: Sequence[str],
         values: Sequence[float | None], unit: str = "",
         empty: str = "No data in this period.",
         number: Callable[[float], str] = _number) -> Markup:
    """Horizontal bars, one per label (the first `MAX_BARS`), with their value written
    (`empty` when there is none, `number` the figures: the caller's language)."""
    pairs = [(str(label), float(v or 0)) for label, v in zip(labels, values, strict=True)]
    pairs = pairs[:MAX_BARS]
    top = max((v for _, v in pairs), default=0.0) or 1.0
    span = WIDTH - _LABEL - 70
    body = []
    for n, (label, value) in enumerate(pairs):
        y = 4 + n * (_BAR + _GAP)
        length = max(1.0, span * value / top) if value else 0.0
        shown = label if len(label) <= 28 else label[:27] + "…"
        body.append(
            f'<text class="label" x="{_LABEL - 6}" y="{y + 13}" text-anchor="end">'
            f"{escape(shown)}</text>"
            f'<rect class="bar" x="{_LABEL}" y="{y}" width="{length:.1f}" height="{_BAR}"/>'
            f'<text class="value" x="{_LABEL + length + 4:.1f}" y="{y + 13}">'
            f"{escape(number(value) + unit)}</text>")
    if not pairs:
        body.append(f'<text class="label" x="10" y="20">{escape(empty)}</text>')
    return _frame(chart_id, title, desc, max(30, 8 + len(pairs) * (_BAR + _GAP)), body)


def columns(chart_id: str, title: str, desc: str, labels: Sequence[str],
            values: Sequence[float], line: bool = False,
            number: Callable[[float], str] = _number) -> Markup:
    """One column per day (or a line through the days' values), first and last day named
    under the axis and the highest value beside it."""
    height, left, bottom, top_margin = 220, 50, 30, 12
    plot_w, plot_h = WIDTH - left - 10, height - bottom - top_margin
    count = max(1, len(values))
    top = max(values, default=0) or 1
    step = plot_w / count
    body = [f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{WIDTH - 10}"'
            f' y2="{height - bottom}"/>',
            f'<text class="label" x="{left - 6}" y="{top_margin + 10}" text-anchor="end">'
            f"{escape(number(top))}</text>",
            f'<text class="label" x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>']
    points = []
    for n, value in enumerate(values):
        h = plot_h * value / top
        x = left + n * step
        if line:
            points.append(f"{x + step / 2:.1f},{height - bottom - h:.1f}")
        else:
            body.append(f'<rect class="bar" x="{x + step * 0.1:.1f}" y="{height - bottom - h:.1f}"'
                        f' width="{max(1.0, step * 0.8):.1f}" height="{h:.1f}">'
                        f"<title>{escape(str(labels[n]))}: {escape(number(value))}</title></rect>")
    if points:
        body.append(f'<polyline class="line" fill="none" points="{" ".join(points)}"/>')
    if labels:
        body.append(f'<text class="label" x="{left}" y="{height - 10}">{escape(labels[0])}</text>')
        body.append(f'<text class="label" x="{WIDTH - 10}" y="{height - 10}" text-anchor="end">'
                    f"{escape(labels[-1])}</text>")
    return _frame(chart_id, title, desc, height, body)
