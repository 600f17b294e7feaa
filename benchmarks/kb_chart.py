"""A dependency-free SVG chart of precision against coverage for the benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

_COLOURS = ("#1f77b4", "#aec7e8", "#d62728", "#ff9896", "#2ca02c", "#98df8a")
_W, _H, _LEFT, _TOP, _PLOT_W, _PLOT_H = 640, 400, 60, 30, 420, 320
_Y_MIN = 0.5


@dataclass(frozen=True)
class Curve:
    label: str
    points: list[tuple[float, float]]  # (coverage, precision)


def _xy(coverage: float, precision: float) -> tuple[float, float]:
    x = _LEFT + coverage * _PLOT_W
    y = _TOP + (1 - (max(precision, _Y_MIN) - _Y_MIN) / (1 - _Y_MIN)) * _PLOT_H
    return round(x, 1), round(y, 1)


def write_chart(path: Path, curves: list[Curve]) -> None:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{_W}" height="{_H}" fill="white"/>',
             f'<text x="{_LEFT}" y="18" font-size="13">KB matcher: precision of the answers '
             f'given vs. share of in-scope questions answered correctly</text>']
    for step in range(0, 11, 2):
        x, _ = _xy(step / 10, 1)
        parts.append(f'<line x1="{x}" y1="{_TOP}" x2="{x}" y2="{_TOP + _PLOT_H}" stroke="#eee"/>')
        parts.append(f'<text x="{x}" y="{_TOP + _PLOT_H + 15}" text-anchor="middle">'
                     f'{step / 10:.1f}</text>')
    for tick in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0):
        _, y = _xy(0, tick)
        colour = "#f4a" if tick == 0.95 else "#eee"
        parts.append(f'<line x1="{_LEFT}" y1="{y}" x2="{_LEFT + _PLOT_W}" y2="{y}" '
                     f'stroke="{colour}"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4}" text-anchor="end">{tick:.2f}</text>')
    parts.append(f'<text x="{_LEFT + _PLOT_W / 2}" y="{_H - 8}" text-anchor="middle">'
                 'coverage (correct answers / in-scope questions)</text>')
    parts.append(f'<text x="14" y="{_TOP + _PLOT_H / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {_TOP + _PLOT_H / 2})">precision</text>')
    for index, item in enumerate(curves):
        colour = _COLOURS[index % len(_COLOURS)]
        points = " ".join(f"{x},{y}" for x, y in (_xy(c, p) for c, p in item.points))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        legend_y = _TOP + 10 + index * 18
        parts.append(f'<line x1="{_LEFT + _PLOT_W + 15}" y1="{legend_y}" '
                     f'x2="{_LEFT + _PLOT_W + 35}" y2="{legend_y}" stroke="{colour}" '
                     'stroke-width="3"/>')
        parts.append(f'<text x="{_LEFT + _PLOT_W + 40}" y="{legend_y + 4}">'
                     f'{escape(item.label)}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
