"""Stride-cycle curves: joint angles time-normalised to 0-100 % of each side's gait cycle."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..config import EventConfig
from ..events import Events
from ..geometry import angle_from_down_deg, flexion_deg, hip_adduction_deg, interp_at
from ..landmarks import LEG

Array = NDArray[np.float64]

PERCENT = np.linspace(0.0, 100.0, 101)


def angle_series(xy: Array, view: str, facing: int) -> dict[str, dict[str, Array]]:
    """Per-frame angle curves for each side.

    Returns
    -------
    dict curve -> side -> ndarray, shape (n_frames,)
        Side views: ``knee_flexion_deg``, ``hip_flexion_deg``, ``shank_angle_deg``.
        Frontal views: ``hip_adduction_deg``, ``pelvic_obliquity_deg``.
    """
    curves: dict[str, dict[str, Array]] = {}
    for side, other in (("left", "right"), ("right", "left")):
        hip, knee, ankle, _, _ = LEG[side]
        hip_c = LEG[other][0]
        if view.startswith("side"):
            curves.setdefault("knee_flexion_deg", {})[side] = flexion_deg(
                xy[:, hip], xy[:, knee], xy[:, ankle])
            curves.setdefault("hip_flexion_deg", {})[side] = angle_from_down_deg(
                xy[:, hip], xy[:, knee], facing)
            curves.setdefault("shank_angle_deg", {})[side] = angle_from_down_deg(
                xy[:, knee], xy[:, ankle], facing)
        else:
            curves.setdefault("hip_adduction_deg", {})[side] = hip_adduction_deg(
                xy[:, hip], xy[:, hip_c], xy[:, knee])
            d = xy[:, hip_c] - xy[:, hip]
            curves.setdefault("pelvic_obliquity_deg", {})[side] = np.degrees(
                np.arctan2(d[:, 1], np.abs(d[:, 0])))
    return curves


def cycle_curves(
    xy: Array, time_s: Array, events: Events, view: str, facing: int,
    config: EventConfig | None = None,
) -> dict[str, Any]:
    """Mean and SD of each angle curve over the strides of each side.

    A stride runs from an IC to the next IC of the same foot; strides longer than twice the
    longest plausible step (a missed contact) are skipped.

    Returns
    -------
    dict
        The ``cycle_curves`` block of ``analysis.json``.
    """
    cfg = config or EventConfig()
    series = angle_series(xy, view, facing)
    out: dict[str, Any] = {}
    for name, per_side in series.items():
        block: dict[str, Any] = {"unit": "deg", "percent": PERCENT.tolist()}
        for side, values in per_side.items():
            ic = events.ic_time_s[side]
            to = events.to_time_s[side]
            if ic.size < 2:
                block[side] = {"mean": [], "sd": [], "n_cycles": 0, "toe_off_pct": None}
                continue
            start, end = ic[:-1], ic[1:]
            ok = (end - start) <= 2 * cfg.max_step_s
            start, end, to_k = start[ok], end[ok], to[:-1][ok]
            tt = start[:, None] + (end - start)[:, None] * PERCENT[None, :] / 100.0
            curves: Array = interp_at(tt.ravel(), time_s, values).reshape(tt.shape)
            full = np.isfinite(curves).all(axis=1)
            curves = curves[full]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                to_pct = 100 * (to_k[full] - start[full]) / (end[full] - start[full])
                n_cyc = int(curves.shape[0])
                sd: list[float] = []
                if n_cyc > 1:
                    sd = _round(np.std(curves, axis=0, ddof=1))
                elif n_cyc == 1:
                    sd = [0.0] * PERCENT.size
                block[side] = {
                    "mean": _round(np.mean(curves, axis=0)) if n_cyc else [],
                    "sd": sd,
                    "n_cycles": n_cyc,
                    "toe_off_pct": float(round(np.nanmedian(to_pct), 1))
                    if np.isfinite(to_pct).any() else None,
                }
        out[name] = block
    return out


def _round(a: Array) -> list[float]:
    return [round(float(v), 3) for v in a]
