"""Matplotlib figures of an analysis, written as PNG files.

Every function takes plain data (parts of ``analysis.json``, numpy arrays) and returns the path
of the PNG it wrote. Figures are drawn with the Agg canvas directly (no pyplot state, no GUI),
and files are written atomically (``.part`` then rename).
"""

from __future__ import annotations

import io
import os
import textwrap
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

SIDE_COLORS = {"left": "#1f6fb4", "right": "#d9541e"}
"""Colour of the runner's left and right side in every figure."""

DPI = 110


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via ``path.part`` and an atomic rename.

    Parameters
    ----------
    path : str or Path
        Destination; its folder is created when missing.
    data : bytes

    Returns
    -------
    Path
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process and call: two writers never share a temporary file.
    part = p.with_name(f".{p.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
    try:
        part.write_bytes(data)
        os.replace(part, p)
    finally:
        part.unlink(missing_ok=True)
    return p


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` atomically (see :func:`write_bytes_atomic`)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def _figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out_path: str | Path) -> Path:
    engine = fig.get_layout_engine()
    if engine is not None:
        # Lay out once, then save without an engine: with one, savefig draws the whole figure
        # twice (a layout pass, then the picture). Same pixels, 30 % less time (issue 12).
        engine.execute(fig)
        fig.set_layout_engine(None)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return write_bytes_atomic(out_path, buf.getvalue())


CURVE_NAMES: dict[str, str] = {
    "knee_flexion_deg": "Knee bend",
    "hip_flexion_deg": "Hip flexion (thigh ahead of vertical)",
    "shank_angle_deg": "Shin angle from vertical",
    "hip_adduction_deg": "Hip adduction (thigh inward)",
    "pelvic_obliquity_deg": "Pelvic tilt (side to side)",
}
"""User-facing names of the stride-cycle curves of ``analysis["cycle_curves"]``."""

MIN_CYCLES_FOR_SD = 3
"""A spread band needs at least this many cycles: an SD from two is not a spread."""

TREND_ALPHA = 0.05
"""Two-sided significance level a per-step trend must reach to be drawn."""


def _wrap(text: str, width: int = 60) -> str:
    """Titles and labels wrapped onto lines so they are never cut at the figure edge."""
    return textwrap.fill(text, width)


def curve_name(name: str) -> str:
    """User-facing name of a cycle curve key (``knee_flexion_deg`` -> ``Knee bend``)."""
    return CURVE_NAMES.get(name, _pretty(name).split(" (")[0])


def _pretty(name: str) -> str:
    for suffix, unit in (
        ("_deg", " (deg)"),
        ("_pct_leg", " (% leg)"),
        ("_pct_hip", " (% hip)"),
        ("_ms", " (ms)"),
        ("_spm", " (steps/min)"),
    ):
        if name.endswith(suffix):
            return name[: -len(suffix)].replace("_", " ").capitalize() + unit
    return name.replace("_", " ").capitalize()


def plot_cycle_curve(
    name: str, curve: Mapping[str, Any], out_path: str | Path, *, title: str | None = None
) -> Path:
    """Stride-cycle curve: mean ± SD band per side over 0-100 % of the cycle, toe-off marked.

    Parameters
    ----------
    name : str
        Curve key, e.g. ``"knee_flexion_deg"``.
    curve : mapping
        One entry of ``analysis["cycle_curves"]``: ``unit``, ``percent`` and per side
        ``{"mean", "sd", "n_cycles", "toe_off_pct"}`` (a side may be missing or None).
    out_path : str or Path
    title : str, optional

    Returns
    -------
    Path
    """
    fig = _figure(6.4, 3.6)
    ax = fig.add_subplot()
    pct = np.asarray(curve.get("percent", np.arange(101)), dtype=float)
    drawn = False
    few = False
    for k, side in enumerate(("left", "right")):
        data = curve.get(side)
        if not data or data.get("mean") is None:
            continue
        mean = np.asarray(data["mean"], dtype=float)
        sd = np.asarray(data.get("sd") or np.zeros_like(mean), dtype=float)
        color = SIDE_COLORS[side]
        n = data.get("n_cycles")
        label = f"{side} (n={n})" if n is not None else side
        if data.get("far_leg"):
            label += ", far leg: less reliable"
        ax.plot(pct, mean, color=color, lw=2, label=label, ls="--" if data.get("far_leg") else "-")
        if n is None or int(n) >= MIN_CYCLES_FOR_SD:
            ax.fill_between(pct, mean - sd, mean + sd, color=color, alpha=0.18, lw=0)
        else:
            few = True
        to = data.get("toe_off_pct")
        if to is not None and np.isfinite(to):
            ax.axvline(float(to), color=color, ls="--", lw=1)
            ax.annotate(
                f"toe-off {side[0].upper()}",
                (float(to), 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -12 - 12 * k),
                textcoords="offset points",
                color=color,
                fontsize=8,
            )
        drawn = True
    ax.axvline(0.0, color="0.3", lw=1)
    ax.annotate(
        "contact",
        (0.0, 0.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, 4),
        textcoords="offset points",
        color="0.3",
        fontsize=8,
    )
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of stride cycle (contact to next contact of the same foot)")
    unit = curve.get("unit", "")
    ax.set_ylabel(str(unit) or "value")
    spread = "average per side" if few else "average ± 1 SD per side"
    ax.set_title(_wrap(title or f"{curve_name(name)}: {spread}"), fontsize=11)
    ax.grid(alpha=0.3)
    if drawn:
        ax.legend(fontsize=8, loc="best")
    else:
        ax.text(0.5, 0.5, "no complete cycles", transform=ax.transAxes, ha="center")
    return _save(fig, out_path)


def _steps_table(
    steps: Sequence[Mapping[str, Any]], metric: str
) -> tuple[NDArray, NDArray, NDArray]:
    t = np.array([s.get("ic_time_s") for s in steps], dtype=float)
    v = np.array([np.nan if s.get(metric) is None else s.get(metric) for s in steps], dtype=float)
    foot = np.array([str(s.get("foot", "")) for s in steps])
    ok = np.isfinite(t) & np.isfinite(v)
    return t[ok], v[ok], foot[ok]


def step_trend(steps: Sequence[Mapping[str, Any]], metric: str) -> dict[str, float] | None:
    """Linear trend of a per-step metric over time (drift, fatigue).

    Parameters
    ----------
    steps : sequence of dict
        ``analysis["steps"]``.
    metric : str
        Per-step column, e.g. ``"overstride_pct_leg"``.

    Returns
    -------
    dict or None
        ``slope_per_min``, ``intercept``, ``change_over_clip`` (fitted end minus start) and
        ``n``; ``None`` with fewer than 4 finite values or no time spread. Also ``p_value``
        (two-sided test of a zero slope, ordinary least squares) and ``significant`` (p below
        :data:`TREND_ALPHA`). ``slope_per_min`` is a rate, not a forecast: a clip of a few
        seconds says nothing about a minute of running, so reports show only the change over
        the clip.
    """
    from scipy import stats

    t, v, _ = _steps_table(steps, metric)
    if t.size < 4 or np.ptp(t) <= 0:
        return None
    fit = stats.linregress(t, v)
    p = float(fit.pvalue) if np.isfinite(fit.pvalue) else 1.0
    return {
        "slope_per_min": float(fit.slope * 60.0),
        "intercept": float(fit.intercept),
        "change_over_clip": float(fit.slope * np.ptp(t)),
        "n": int(t.size),
        "p_value": p,
        "significant": p < TREND_ALPHA,
    }


def plot_step_metric(
    steps: Sequence[Mapping[str, Any]],
    metric: str,
    out_path: str | Path,
    *,
    name: str | None = None,
    unit: str = "",
    typical_range: tuple[float, float] | None = None,
) -> Path:
    """Per-step values over time, coloured by foot, the typical range shaded, and a linear
    trend line only when the trend is statistically significant (see :func:`step_trend`).

    Parameters
    ----------
    steps : sequence of dict
        ``analysis["steps"]`` rows (``ic_time_s``, ``foot`` and the metric column).
    metric : str
        Column to plot.
    out_path : str or Path
    name, unit : str, optional
        Title and axis label.
    typical_range : (low, high), optional
        Shaded as the typical range (from the rules table).

    Returns
    -------
    Path
    """
    t, v, foot = _steps_table(steps, metric)
    fig = _figure(6.4, 3.4)
    ax = fig.add_subplot()
    if typical_range is not None:
        lo, hi = typical_range
        ax.axhspan(lo, hi, color="#2e9d4f", alpha=0.12, lw=0, zorder=0,
                   label=f"typical range {lo:g}-{hi:g}")
    for side in ("left", "right"):
        sel = foot == side
        if sel.any():
            ax.scatter(t[sel], v[sel], s=22, color=SIDE_COLORS[side], label=side, zorder=3)
    trend = step_trend(steps, metric)
    if trend is not None and trend["significant"]:
        xs = np.array([t.min(), t.max()])
        ax.plot(
            xs,
            trend["intercept"] + trend["slope_per_min"] / 60.0 * xs,
            color="0.25",
            lw=1.5,
            ls="--",
            label=f"drift over the clip\n{trend['change_over_clip']:+.1f} {unit} "
                  f"(p = {trend['p_value']:.3f})",
        )
    label = name or _pretty(metric)
    ax.set_xlabel("time in clip (s)")
    ax.set_ylabel(unit or "value")
    ax.set_title(_wrap(f"{label}: every step"), fontsize=11)
    if t.size and typical_range is not None:
        # keep the band in view, but let the data set the scale
        lo_v, hi_v = float(np.min(v)), float(np.max(v))
        pad = 0.1 * max(hi_v - lo_v, 1e-6)
        ax.set_ylim(min(lo_v, typical_range[0]) - pad, max(hi_v, typical_range[1]) + pad)
    ax.grid(alpha=0.3)
    if t.size:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    else:
        ax.text(0.5, 0.5, "no values", transform=ax.transAxes, ha="center")
    return _save(fig, out_path)


def plot_left_right(
    metrics: Mapping[str, Mapping[str, Any]],
    out_path: str | Path,
    *,
    names: Mapping[str, str] | None = None,
) -> Path:
    """Left vs right bars, one small panel per metric that has both sides.

    Parameters
    ----------
    metrics : mapping
        ``analysis["metrics"]``.
    out_path : str or Path
    names : mapping, optional
        Display names by metric key.

    Returns
    -------
    Path
    """
    keys = [
        k
        for k, m in metrics.items()
        if isinstance(m, Mapping) and m.get("left") is not None and m.get("right") is not None
    ]
    n = max(len(keys), 1)
    cols = min(n, 4)
    rows = int(np.ceil(n / cols))
    fig = _figure(max(2.3 * cols + 0.4, 4.0), 2.5 * rows + 0.3)
    for i, key in enumerate(keys):
        m = metrics[key]
        ax = fig.add_subplot(rows, cols, i + 1)
        vals = [float(m["left"]), float(m["right"])]
        bars = ax.bar(["left", "right"], vals, color=[SIDE_COLORS["left"], SIDE_COLORS["right"]])
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
        title = (names or {}).get(key, _pretty(key).split(" (")[0])
        asym = m.get("asymmetry_pct")
        low = (m.get("confidence") or {}).get("level") == "low"
        sub = f"\nasym {asym:.0f}%" if isinstance(asym, int | float) else ""
        ax.set_title(f"{title}{sub}{' (low conf.)' if low else ''}", fontsize=9)
        ax.set_ylabel(str(m.get("unit", "")), fontsize=8)
        ax.tick_params(labelsize=8)
        ax.margins(y=0.2)
        ax.axhline(0, color="0.4", lw=0.8)
    if not keys:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no metric with both sides", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
    return _save(fig, out_path)


@dataclass(frozen=True)
class KeyFrame:
    """One decoded video frame at an initial contact, with its landmarks.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        The frame (from ``gaitcheck.video.read_frames``).
    hip_mid_xy_px : tuple of float
        Hip midpoint (landmarks 23 and 24) in pixels.
    heel_xy_px : tuple of float
        Heel of the landing foot (29 left, 30 right) in pixels.
    facing : int
        ``-1`` for side-left, ``+1`` for side-right (docs/conventions.md).
    leg_length_px : float, optional
        For the distance in % of leg length.
    label : str
        Caption, e.g. ``"left contact, t = 3.20 s"``.
    skeleton_xy_px : ndarray, shape (33, 2), optional
        All landmarks, drawn faintly when given.
    value_pct_leg : float, optional
        The overstride the analysis measured for this step (at the sub-frame contact time);
        when given it is the number written on the frame, so the figure and the report agree.
    """

    rgb: NDArray[np.uint8]
    hip_mid_xy_px: tuple[float, float]
    heel_xy_px: tuple[float, float]
    facing: int = 1
    leg_length_px: float | None = None
    label: str = ""
    skeleton_xy_px: NDArray[np.float64] | None = None
    value_pct_leg: float | None = None


_LEG_EDGES = (
    (23, 25),
    (25, 27),
    (27, 29),
    (29, 31),
    (24, 26),
    (26, 28),
    (28, 30),
    (30, 32),
    (23, 24),
    (11, 23),
    (12, 24),
    (11, 12),
)


def overstride_of(frame: KeyFrame) -> tuple[float, float | None]:
    """Signed horizontal heel distance ahead of the hip midpoint: (px, % leg or None)."""
    dx = frame.facing * (frame.heel_xy_px[0] - frame.hip_mid_xy_px[0])
    pct = None if not frame.leg_length_px else 100.0 * dx / frame.leg_length_px
    return float(dx), pct


def key_frame_text(fr: KeyFrame) -> str:
    """The distance written on a key frame: the analysis's value when the frame carries it (so
    the figure and the report say the same number), else what the frame itself shows."""
    dx, pct = overstride_of(fr)
    if fr.value_pct_leg is not None:
        pct = fr.value_pct_leg
    return f"{pct:+.0f}% of leg length" if pct is not None else f"{dx:+.0f} px"


def _leg_box(fr: KeyFrame) -> tuple[float, float, float, float]:
    """``(x0, x1, y0, y1)`` in pixels around the hips, legs and feet of a key frame."""
    h, w = fr.rgb.shape[:2]
    hx, hy = fr.hip_mid_xy_px
    fx, fy = fr.heel_xy_px
    leg = fr.leg_length_px or max(abs(fy - hy), 1.0)
    cx = (hx + fx) / 2.0
    half_w = max(abs(fx - hx) / 2.0 + 0.45 * leg, 0.75 * leg)  # room for the swinging leg
    y0, y1 = hy - 0.45 * leg, max(fy, hy + leg) + 0.2 * leg
    x0, x1 = cx - half_w, cx + half_w
    return (max(0.0, x0), min(float(w), x1), max(0.0, y0), min(float(h), y1))


def plot_key_frames(frames: Sequence[KeyFrame], out_path: str | Path) -> Path:
    """Key-frame strip: each contact frame with the overstride line drawn on it.

    A vertical line drops from the hip midpoint, a marker sits on the heel, and a horizontal
    arrow between them is labelled with the distance (px and % of leg length).

    Parameters
    ----------
    frames : sequence of KeyFrame
        Usually the contact frame of the median step and its neighbours.
    out_path : str or Path

    Returns
    -------
    Path
    """
    n = max(len(frames), 1)
    boxes = [_leg_box(fr) for fr in frames]
    aspect = 1.0
    if boxes:
        x0, x1, y0, y1 = boxes[0]
        aspect = (y1 - y0) / max(x1 - x0, 1.0)
    panel_w = 3.2
    fig = _figure(panel_w * n, panel_w * aspect + 0.5)
    for i, fr in enumerate(frames):
        ax = fig.add_subplot(1, n, i + 1)
        ax.imshow(fr.rgb)
        # The legs fill the panel (a full portrait frame is mostly ceiling).
        x0, x1, y0, y1 = boxes[i]
        ax.set_xlim(x0, x1)
        ax.set_ylim(y1, y0)
        hx, hy = fr.hip_mid_xy_px
        fx, fy = fr.heel_xy_px
        if fr.skeleton_xy_px is not None:
            sk = np.asarray(fr.skeleton_xy_px, dtype=float)
            for a, b in _LEG_EDGES:
                ax.plot(sk[[a, b], 0], sk[[a, b], 1], color="white", lw=1, alpha=0.6)
        ax.plot([hx, hx], [hy, fy], color="#ffd400", lw=2)
        ax.plot([hx], [hy], "o", color="#ffd400", ms=6)
        ax.plot([fx], [fy], "o", color="#ff3b30", ms=6)
        ax.annotate(
            "",
            xy=(fx, fy),
            xytext=(hx, fy),
            arrowprops={"arrowstyle": "<->", "color": "#ff3b30", "lw": 2},
        )
        text = key_frame_text(fr)
        ax.text(
            (hx + fx) / 2,
            fy - 0.04 * fr.rgb.shape[0],
            text,
            color="white",
            fontsize=8,
            ha="center",
            va="bottom",
            bbox={"facecolor": "black", "alpha": 0.6, "pad": 2},
        )
        ax.set_title(fr.label, fontsize=8)
        ax.set_axis_off()
    if not frames:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no key frames", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
    return _save(fig, out_path)


def plot_changes(rows: Sequence[Mapping[str, Any]], out_path: str | Path) -> Path:
    """Horizontal bars of the % change per measure between two runs (from ``compare``).

    A bar is green or red only when the change is beyond that measure's noise (its verdict is
    better or worse); changes within noise are grey. The grey band behind each bar spans the
    measure's noise in percent, and the axis spans at least ±10% so a 1% change looks small.

    Parameters
    ----------
    rows : sequence of dict
        ``compare(a, b)["rows"]``.
    out_path : str or Path

    Returns
    -------
    Path
    """
    usable = [r for r in rows if r.get("change_pct") is not None]
    fig = _figure(6.4, 0.45 * max(len(usable), 1) + 1.4)
    ax = fig.add_subplot()
    colors = {"better": "#2e9d4f", "worse": "#c8372d"}
    extent = 10.0
    for i, r in enumerate(usable):
        change = float(r["change_pct"])
        before = abs(float(r.get("before") or 0.0))
        noise = r.get("noise")
        if noise is not None and before > 0:
            band = 100.0 * float(noise) / before
            ax.barh(i, 2 * band, left=-band, height=0.8, color="0.9", zorder=0)
            extent = max(extent, min(band, 100.0))
        verdict = r.get("verdict")
        if verdict is None:  # rows without a verdict: coloured only when beyond noise
            verdict = r.get("direction") if r.get("exceeds_noise") else "within noise"
        color = colors.get(str(verdict), "#9a9a9a")
        ax.barh(i, change, height=0.5, color=color, zorder=2)
        extent = max(extent, abs(change))
    ax.set_xlim(-1.15 * extent, 1.15 * extent)
    ax.set_yticks(
        range(len(usable)), [str(r.get("name", r.get("metric"))) for r in usable], fontsize=8
    )
    ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=1)
    ax.set_xlabel("change from the first to the second run (%)")
    ax.set_title("What moved (grey band: within noise)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    if not usable:
        ax.text(0.5, 0.5, "no measures in common", ha="center", transform=ax.transAxes)
    return _save(fig, out_path)
