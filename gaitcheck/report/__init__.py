"""Reports of an analysis: self-contained HTML, short Markdown and the PNG plots.

Entry point: :func:`write_report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..findings import RunnerContext, evaluate, load_rules, metric_info
from ..metrics.summary import METRICS
from ..plots import (
    KeyFrame,
    plot_cycle_curve,
    plot_key_frames,
    plot_left_right,
    plot_step_metric,
    step_trend,
    write_text_atomic,
)
from ..plots import curve_name as _curve_name
from .html import SECTION_IDS, render_html
from .markdown import render_markdown

__all__ = [
    "SECTION_IDS",
    "Figures",
    "key_frame_steps",
    "make_key_frames",
    "render_html",
    "render_markdown",
    "write_figures",
    "write_report",
]

# Per-step metrics worth a scatter over time (foot strike is a class, cadence a rate).
_STEP_METRICS = tuple(k for k in METRICS if k not in ("cadence_spm", "foot_strike"))


def key_frame_steps(analysis: dict[str, Any], n: int = 3) -> list[dict[str, Any]]:
    """Steps whose contact frames make the key-frame strip (side views only).

    The step with the median overstride and its neighbours in time.

    Parameters
    ----------
    analysis : dict
        ``analysis.json`` content.
    n : int
        How many steps (odd numbers centre the median step).

    Returns
    -------
    list of dict
        Rows of ``analysis["steps"]``; empty for rear/front views or without overstride values.
        The caller decodes ``row["ic_frame"]`` with ``gaitcheck.video.read_frames``.
    """
    if not str((analysis.get("view") or {}).get("label", "")).startswith("side"):
        return []
    steps = [s for s in analysis.get("steps") or [] if s.get("overstride_pct_leg") is not None]
    if not steps:
        return []
    values = np.array([s["overstride_pct_leg"] for s in steps], dtype=float)
    median_idx = int(np.argsort(values)[len(values) // 2])
    lo = max(0, min(median_idx - n // 2, len(steps) - n))
    return steps[lo : lo + n]


def make_key_frames(
    analysis: dict[str, Any],
    frames_rgb: dict[int, np.ndarray],
    landmarks_xy_px: dict[int, np.ndarray],
    n: int = 3,
) -> list[KeyFrame]:
    """Build :class:`~gaitcheck.plots.KeyFrame` objects for :func:`write_report`.

    Parameters
    ----------
    analysis : dict
        ``analysis.json`` content.
    frames_rgb : dict
        Decoded RGB frames (H, W, 3) by decode index, for the ``ic_frame`` of
        :func:`key_frame_steps`.
    landmarks_xy_px : dict
        Landmarks (33, 2) in pixels by decode index (``PoseSeries.xy_px`` rows, cleaned).
    n : int
        Number of steps.

    Returns
    -------
    list of KeyFrame
        Steps whose frame or landmarks are missing are skipped.
    """
    facing = -1 if (analysis.get("view") or {}).get("label") == "side-left" else 1
    out = []
    for step in key_frame_steps(analysis, n):
        idx = int(step["ic_frame"])
        if idx not in frames_rgb or idx not in landmarks_xy_px:
            continue
        xy = np.asarray(landmarks_xy_px[idx], dtype=float)
        left = step.get("foot") == "left"
        hip, knee, ankle, heel = (23, 25, 27, 29) if left else (24, 26, 28, 30)
        hip_mid = (xy[23] + xy[24]) / 2.0
        leg = float(np.linalg.norm(xy[hip] - xy[knee]) + np.linalg.norm(xy[knee] - xy[ankle]))
        if not np.all(np.isfinite(hip_mid)) or not np.all(np.isfinite(xy[heel])):
            continue
        label = f"{step.get('foot')} foot lands, t = {float(step.get('ic_time_s', 0.0)):.2f} s"
        out.append(
            KeyFrame(
                rgb=np.asarray(frames_rgb[idx]),
                hip_mid_xy_px=(float(hip_mid[0]), float(hip_mid[1])),
                heel_xy_px=(float(xy[heel][0]), float(xy[heel][1])),
                facing=facing,
                leg_length_px=leg if np.isfinite(leg) and leg > 0 else None,
                label=label,
                skeleton_xy_px=xy,
                value_pct_leg=float(step["overstride_pct_leg"]),
            )
        )
    return out


@dataclass(frozen=True)
class Figures:
    """The report's plot PNGs, written: paths by key and (kind, path, caption) per image."""

    paths: dict[str, Path]
    images: list[tuple[str, Path, str]]


def write_figures(
    analysis: dict[str, Any],
    out_dir: str | Path,
    *,
    key_frames: Sequence[KeyFrame] | None = None,
    rules_path: str | Path | None = None,
    plots: bool = True,
) -> Figures:
    """Write the report's plot PNGs into ``out_dir/plots/`` (nothing when ``plots`` is False).

    Separate from :func:`write_report` so that a caller can draw them while something else
    runs (``api.write_outputs`` draws them while the overlay video encodes). Parameters as
    for :func:`write_report`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    images: list[tuple[str, Path, str]] = []
    if plots:
        plot_dir = out / "plots"
        for name, curve in (analysis.get("cycle_curves") or {}).items():
            p = plot_cycle_curve(name, curve, plot_dir / f"cycle_{name}.png")
            paths[f"plot_cycle_{name}"] = p
            images.append(
                (
                    "cycle",
                    p,
                    f"{_curve_name(name)} through one stride, from landing to the next landing of "
                    "the same foot: the line is the average per side, the shading ±1 standard "
                    "deviation across strides (shown only with 3 strides or more); dashed "
                    "vertical lines mark when the foot leaves the ground.",
                )
            )
        steps = analysis.get("steps") or []
        metrics = analysis.get("metrics") or {}
        activity = str((analysis.get("activity") or {}).get("label", "running"))
        typical: dict[str, tuple[float, float]] = {}
        for rule in load_rules(rules_path).rules:
            if rule.kind == "threshold" and activity in rule.applies_to:
                typical.setdefault(rule.metric, rule.typical_range)
        for key in _STEP_METRICS:
            if key not in metrics or not any(s.get(key) is not None for s in steps):
                continue
            info = metric_info(key)
            unit = str(metrics[key].get("unit", info["unit"]))
            p = plot_step_metric(
                steps,
                key,
                plot_dir / f"steps_{key}.png",
                name=info["name"],
                unit=unit,
                typical_range=typical.get(key),
            )
            paths[f"plot_steps_{key}"] = p
            trend = step_trend(steps, key)
            band = " The green band is the typical range." if key in typical else ""
            if trend is not None and trend["significant"]:
                drift = (f" The dashed line is a statistically significant drift over the clip "
                         f"({trend['change_over_clip']:+.1f} {unit} from first to last step, "
                         f"p = {trend['p_value']:.3f}).")
            else:
                drift = (" No significant drift over the clip (a trend is drawn only when a "
                         "test of the slope gives p < 0.05).")
            images.append(("steps", p, f"{info['name']} at every step, left and right foot."
                           f"{band}{drift}"))
        if any(
            isinstance(m, dict) and m.get("left") is not None and m.get("right") is not None
            for m in metrics.values()
        ):
            names = {k: metric_info(k)["name"] for k in metrics}
            p = plot_left_right(metrics, plot_dir / "left_right.png", names=names)
            paths["plot_left_right"] = p
            images.append(("left_right", p, "Left and right means per metric."))
        if key_frames:
            p = plot_key_frames(key_frames, plot_dir / "key_frames.png")
            paths["plot_key_frames"] = p
            images.append(
                (
                    "key_frames",
                    p,
                    "Landing frames: the yellow line drops from the hip "
                    "midpoint, the red arrow shows how far the heel lands ahead of it.",
                )
            )
    return Figures(paths, images)


def write_report(
    analysis: dict[str, Any],
    out_dir: str | Path,
    *,
    findings: list[dict[str, Any]] | None = None,
    context: RunnerContext | None = None,
    key_frames: Sequence[KeyFrame] | None = None,
    rules_path: str | Path | None = None,
    plots: bool = True,
    overlay: str | Path | None = None,
    figures: Figures | None = None,
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and the plot PNGs into ``out_dir``.

    Parameters
    ----------
    analysis : dict
        ``analysis.json`` content (docs/analysis-format.md).
    out_dir : str or Path
        Created when missing. PNGs go to ``out_dir/plots/``.
    findings : list of dict, optional
        Ranked findings; computed with :func:`gaitcheck.findings.evaluate` when omitted. The
        ``analysis`` dict is not modified (the caller stores findings in analysis.json).
    context : RunnerContext, optional
        Runner's answers (red flags, pain, height, pace, mileage change).
    key_frames : sequence of KeyFrame, optional
        Contact frames for the overstride strip (see :func:`make_key_frames`).
    rules_path : str or Path, optional
        Coach's rules table, used only when ``findings`` is omitted.
    plots : bool
        False skips all figures (faster; the report says no plots were made).
    overlay : str or Path, optional
        The annotated video written into ``out_dir`` (``overlay.mp4``): report.html shows it as
        a ``<video>`` linked by its file name, with ``overlay_poster.jpg`` beside it (when
        present) embedded as the poster.
    figures : Figures, optional
        Plots already written by :func:`write_figures` (then ``key_frames`` and ``plots`` are
        not used again).

    Returns
    -------
    dict of str to Path
        ``html``, ``md`` and one ``plot_<name>`` entry per PNG. Every file is written
        atomically (``.part`` then rename).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if findings is None:
        findings = evaluate(analysis, context, rules_path)
    if figures is None:
        figures = write_figures(analysis, out, key_frames=key_frames, rules_path=rules_path,
                                plots=plots)
    paths = dict(figures.paths)
    images = list(figures.images)
    video = None
    if overlay is not None:
        poster = Path(overlay).with_name("overlay_poster.jpg")
        video = (Path(overlay).name, poster if poster.is_file() else None)
    html = render_html(analysis, findings, context, images, video=video)
    paths["html"] = write_text_atomic(out / "report.html", html)
    paths["md"] = write_text_atomic(out / "report.md", render_markdown(analysis, findings, context))
    return paths
