"""Small inline SVG charts for the group and athlete pages (no files, no scripts).

:func:`strip_plot`: one metric across the group, one dot per athlete-session, the group mean
and +-1 SD shaded. :func:`trend_plot`: one metric over an athlete's sessions, each value with
its noise band.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

W_PX, H_PX = 560, 150
PAD_L, PAD_R, PAD_T, PAD_B = 48, 16, 12, 34
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    span = hi - lo or 1.0
    step = 10 ** math.floor(math.log10(span / n))
    for mult in (1, 2, 2.5, 5, 10):
        if span / (step * mult) <= n:
            step *= mult
            break
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step) + 1)]


def _range(values: Sequence[float], pad: float = 0.08) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 1.0, hi + 1.0
    margin = (hi - lo) * pad
    return lo - margin, hi + margin


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) >= 1 or v == 0 else f"{v:.2g}"


def strip_plot(points: Sequence[tuple[str, float]], unit: str, title: str) -> str:
    """Horizontal strip chart of one metric across the group.

    Parameters
    ----------
    points : sequence of (label, value)
        One per athlete-session; the label is drawn beside its dot.
    unit, title : str
    """
    values = [v for _, v in points]
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) \
        if len(values) > 1 else 0.0
    lo, hi = _range(values + [mean - sd, mean + sd])
    x0, x1 = PAD_L, W_PX - PAD_R
    h = max(H_PX, 60 + 16 * len(points))

    def x(v: float) -> float:
        return x0 + (v - lo) / (hi - lo) * (x1 - x0)

    axis_y = h - PAD_B
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W_PX} {h}" '
           f'width="{W_PX}" height="{h}" role="img" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>']
    if sd > 0:
        width = x(mean + sd) - x(mean - sd)
        out.append(f'<rect x="{x(mean - sd):.1f}" y="{PAD_T}" width="{width:.1f}" '
                   f'height="{axis_y - PAD_T}" fill="#e8eef7"/>')
    out.append(f'<line x1="{x(mean):.1f}" x2="{x(mean):.1f}" y1="{PAD_T}" y2="{axis_y}" '
               'stroke="#555" stroke-dasharray="4 3"/>')
    out.append(f'<line x1="{x0}" x2="{x1}" y1="{axis_y}" y2="{axis_y}" stroke="#333"/>')
    for t in _ticks(lo, hi):
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{axis_y}" y2="{axis_y + 4}" '
                   f'stroke="#333"/><text x="{x(t):.1f}" y="{axis_y + 16}" font-size="11" '
                   f'text-anchor="middle">{_fmt(t)}</text>')
    out.append(f'<text x="{x1}" y="{h - 4}" font-size="11" text-anchor="end">{escape(unit)}'
               '</text>')
    row_h = (axis_y - PAD_T - 8) / max(len(points), 1)
    for i, (label, v) in enumerate(points):
        y = PAD_T + 8 + row_h * (i + 0.5)
        colour = COLOURS[i % len(COLOURS)]
        anchor, dx = ("end", -7) if x(v) > (x0 + x1) / 2 else ("start", 7)
        out.append(f'<circle cx="{x(v):.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
                   f'<title>{escape(label)}: {v:.1f} {escape(unit)}</title></circle>'
                   f'<text x="{x(v) + dx:.1f}" y="{y + 4:.1f}" font-size="11" '
                   f'text-anchor="{anchor}">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def trend_plot(points: Sequence[tuple[str, float, float]], unit: str, title: str) -> str:
    """One metric over time with a noise band.

    Parameters
    ----------
    points : sequence of (ISO date, value, noise)
        Sorted by date; the band is value +- noise (same unit as value).
    unit, title : str
    """
    days = [dt.date.fromisoformat(d).toordinal() for d, _, _ in points]
    lows = [v - n for _, v, n in points]
    highs = [v + n for _, v, n in points]
    lo, hi = _range(lows + highs, pad=0.3)  # room above and below the band
    d0, d1 = min(days), max(days)
    x0, x1 = PAD_L + 20, W_PX - PAD_R - 20
    axis_y = H_PX - PAD_B

    def x(day: int) -> float:
        return (x0 + x1) / 2 if d1 == d0 else x0 + (day - d0) / (d1 - d0) * (x1 - x0)

    def y(v: float) -> float:
        return axis_y - (v - lo) / (hi - lo) * (axis_y - PAD_T)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W_PX} {H_PX}" '
           f'width="{W_PX}" height="{H_PX}" role="img" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>']
    if len(points) > 1:
        band = [f"{x(d):.1f},{y(h):.1f}" for d, h in zip(days, highs, strict=True)] + \
               [f"{x(d):.1f},{y(lo_):.1f}" for d, lo_ in reversed(list(zip(days, lows,
                                                                            strict=True)))]
        out.append(f'<polygon points="{" ".join(band)}" fill="#e8eef7"/>')
    for t in _ticks(lo, hi, 4):
        out.append(f'<line x1="{PAD_L}" x2="{W_PX - PAD_R}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                   f'stroke="#ddd"/><text x="{PAD_L - 6}" y="{y(t) + 4:.1f}" font-size="11" '
                   f'text-anchor="end">{_fmt(t)}</text>')
    out.append(f'<line x1="{PAD_L}" x2="{W_PX - PAD_R}" y1="{axis_y}" y2="{axis_y}" '
               'stroke="#333"/>')
    line = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, (_, v, _) in zip(days, points, strict=True))
    out.append(f'<polyline points="{line}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    for d, (date, v, n) in zip(days, points, strict=True):
        out.append(f'<line x1="{x(d):.1f}" x2="{x(d):.1f}" y1="{y(v - n):.1f}" '
                   f'y2="{y(v + n):.1f}" stroke="#1f77b4" stroke-opacity="0.5"/>'
                   f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="4.5" fill="#1f77b4">'
                   f'<title>{date}: {v:.1f} +- {n:.1f} {escape(unit)}</title></circle>'
                   f'<text x="{x(d):.1f}" y="{axis_y + 16}" font-size="11" '
                   f'text-anchor="middle">{date}</text>')
    out.append(f'<text x="{W_PX - PAD_R}" y="{H_PX - 4}" font-size="11" text-anchor="end">'
               f'{escape(unit)}</text></svg>')
    return "".join(out)
