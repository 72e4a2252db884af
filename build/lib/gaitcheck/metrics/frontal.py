"""Rear/front-view (frontal) per-step metrics: pelvic drop, hip adduction, step width.

Peaks are taken over each stance (IC to TO, or the first 40 % of the step when TO is missing)
on a fine time grid of the cleaned landmarks. Definitions: ``docs/conventions.md``.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

from ..geometry import hip_adduction_deg, interp_at, pelvic_drop_deg
from ..landmarks import LEG
from .steps import StepTable

Array = NDArray[np.float64]

# Stance resampled at 21 points (5 % steps: 10-15 ms of a 200-300 ms stance, finer than a 60 fps
# frame) so the peaks do not depend on where the frames fall.
_GRID = np.linspace(0.0, 1.0, 21)
# Stance end when a step has no toe-off: 40 % of the step reaches midstance (half the stance,
# 0.30-0.40 of a step at running duty factors 0.30-0.40), where pelvic drop and hip adduction
# peak, and stays clear of the swing that follows toe-off.
STANCE_END_STEP_SHARE = 0.4


def stance_end_s(steps: StepTable) -> Array:
    """TO time of each step, or IC + ``STANCE_END_STEP_SHARE`` of the step when TO is missing."""
    return np.where(np.isfinite(steps.to_time_s), steps.to_time_s,
                    steps.ic_time_s + STANCE_END_STEP_SHARE * steps.step_time_s)


def frontal_step_metrics(
    xy: Array, time_s: Array, steps: StepTable, roll_deg: float = 0.0
) -> dict[str, Array]:
    """Per-step frontal metrics.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
    time_s : ndarray, shape (n_frames,)
    steps : StepTable
    roll_deg : float
        Camera roll to remove from pelvic drop (positive = image rotated clockwise).

    Returns
    -------
    dict of str -> ndarray, shape (n_steps,)
        ``pelvic_drop_deg``, ``hip_adduction_deg``, ``step_width_pct_hip``.
    """
    n = steps.n
    out = {k: np.full(n, np.nan) for k in
           ("pelvic_drop_deg", "hip_adduction_deg", "step_width_pct_hip")}
    if n == 0:
        return out
    end = stance_end_s(steps)
    tt = steps.ic_time_s[:, None] + _GRID[None, :] * (end - steps.ic_time_s)[:, None]
    p = interp_at(tt.ravel(), time_s, xy).reshape(tt.shape + xy.shape[1:])  # (n, g, 33, 2)
    at_ic = interp_at(steps.ic_time_s, time_s, xy)
    prev_ic = np.concatenate([[np.nan], steps.ic_time_s[:-1]])
    at_prev = interp_at(np.nan_to_num(prev_ic, nan=-1e9), time_s, xy)
    for side, other in (("left", "right"), ("right", "left")):
        m = steps.foot == side
        hip_s, knee_s, _, heel_s, _ = LEG[side]
        hip_c, _, _, heel_c, _ = LEG[other]
        q = p[m]
        # The sign of roll relative to the stance side flips with which hip is on the image left.
        side_sign = np.sign(q[:, :, hip_c, 0] - q[:, :, hip_s, 0])
        drop = pelvic_drop_deg(q[:, :, hip_s], q[:, :, hip_c]) + side_sign * roll_deg
        add = hip_adduction_deg(q[:, :, hip_s], q[:, :, hip_c], q[:, :, knee_s])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out["pelvic_drop_deg"][m] = np.nanmax(drop, axis=1)
            out["hip_adduction_deg"][m] = np.nanmax(add, axis=1)
        # Step width: each heel's lateral distance from the pelvis midline toward its own side.
        a = at_ic[m]
        b = at_prev[m]
        lat_s = _lateral(a, hip_s, hip_c, heel_s)
        lat_c = _lateral(b, hip_c, hip_s, heel_c)
        hip_w = np.linalg.norm(a[:, hip_s] - a[:, hip_c], axis=-1)
        out["step_width_pct_hip"][m] = (lat_s + lat_c) / hip_w * 100
    return out


def _lateral(p: Array, own_hip: int, other_hip: int, heel: int) -> Array:
    """Signed lateral offset of ``heel`` from the pelvis midline, + toward its own hip's side."""
    mid = 0.5 * (p[:, own_hip] + p[:, other_hip])
    axis = p[:, own_hip] - p[:, other_hip]
    axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    return np.asarray(((p[:, heel] - mid) * axis).sum(axis=-1))
