"""Side-view (sagittal) per-step metrics: overstriding and its companions.

Definitions and signs: ``docs/conventions.md``. All values are taken at the sub-frame event
times by linear interpolation of the cleaned landmarks, so they do not jump with frame rounding.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

from ..geometry import (
    angle_from_down_deg,
    angle_from_up_deg,
    flexion_deg,
    foot_angle_deg,
    interp_at,
    leg_length_series,
)
from ..landmarks import LEFT_HIP, LEFT_SHOULDER, LEG, RIGHT_HIP, RIGHT_SHOULDER
from .steps import StepTable

Array = NDArray[np.float64]

# Foot strike class edges on the foot angle at contact (deg). Souza 2016 describes a sliding
# scale without cut-offs; these edges are gaitcheck's screening convention.
REARFOOT_MIN_DEG = 8.0
FOREFOOT_MAX_DEG = -5.0
# Midstance when a step has no toe-off: half a stance, i.e. the duty factor times the two steps
# of a stride; at a running duty factor of 0.35 (0.30-0.40 typical) that is 0.35 of a step.
MIDSTANCE_STEP_SHARE = 0.35
# Vertical oscillation: the hip path is resampled at 21 points a step (5 % steps, 15-20 ms at
# running step times, finer than a 30 fps frame) so the range does not depend on frame timing.
_BOB_GRID = np.linspace(0.0, 1.0, 21)


def leg_length_px(xy: Array, near_leg: str) -> float:
    """Median over the clip of thigh + shank length of ``near_leg`` in pixels."""
    hip, knee, ankle, _, _ = LEG[near_leg]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmedian(leg_length_series(xy, hip, knee, ankle)))


def body_proportions(xy: Array, near_leg: str) -> dict[str, float | None]:
    """Segment-length ratios of the body in the picture (clip medians), to tell people apart.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
        Cleaned landmarks in pixels.
    near_leg : str
        Leg whose segments are measured (the near leg in side views).

    Returns
    -------
    dict
        ``leg_length_px`` (thigh + shank), ``shank_to_thigh`` (knee-ankle / hip-knee) and
        ``trunk_to_leg`` (shoulder-mid to hip-mid / leg); ``None`` where not measurable.
        Ratios do not depend on the distance to the camera, so two clips of one person filmed
        from the same view give similar values.
    """
    hip, knee, ankle, _, _ = LEG[near_leg]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        thigh = float(np.nanmedian(np.linalg.norm(xy[:, hip] - xy[:, knee], axis=-1)))
        shank = float(np.nanmedian(np.linalg.norm(xy[:, knee] - xy[:, ankle], axis=-1)))
        trunk = float(np.nanmedian(np.linalg.norm(
            (xy[:, 11] + xy[:, 12]) / 2 - (xy[:, 23] + xy[:, 24]) / 2, axis=-1)))

    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 4) if np.isfinite(a) and np.isfinite(b) and b > 0 else None

    leg = thigh + shank
    return {"leg_length_px": round(leg, 2) if np.isfinite(leg) else None,
            "shank_to_thigh": ratio(shank, thigh), "trunk_to_leg": ratio(trunk, leg)}


def strike_class(foot_angle: Array) -> NDArray[np.str_]:
    """Rearfoot / midfoot / forefoot per step from the foot angle at IC (deg); '' for NaN."""
    out = np.where(foot_angle > REARFOOT_MIN_DEG, "rearfoot",
                   np.where(foot_angle < FOREFOOT_MAX_DEG, "forefoot", "midfoot"))
    return np.where(np.isfinite(foot_angle), out, "")


def side_step_metrics(
    xy: Array, time_s: Array, steps: StepTable, facing: int, leg_px: float,
    xy_at_contact: Array | None = None,
) -> dict[str, Array]:
    """Per-step sagittal metrics.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
        Cleaned landmarks.
    time_s : ndarray, shape (n_frames,)
    steps : StepTable
    facing : int
        +1 facing image-right, -1 image-left.
    leg_px : float
        Leg length in pixels (normaliser).
    xy_at_contact : ndarray, shape (n_frames, 33, 2), optional
        Landmarks to read the contact values from. Contact is an abrupt event: a low-pass
        filter blends the landing pose with the frames after it (the knee bends at ~500 deg/s
        right after contact), so the unfiltered, outlier-cleaned landmarks are preferred there.
        Defaults to ``xy``.

    Returns
    -------
    dict of str -> ndarray, shape (n_steps,)
        ``overstride_pct_leg``, ``shank_angle_ic_deg``, ``knee_flexion_ic_deg``,
        ``foot_angle_ic_deg``, ``trunk_lean_deg``, ``vertical_oscillation_pct_leg``,
        ``contact_time_ms``.
    """
    n = steps.n
    out = {k: np.full(n, np.nan) for k in (
        "overstride_pct_leg", "shank_angle_ic_deg", "knee_flexion_ic_deg", "foot_angle_ic_deg",
        "trunk_lean_deg", "vertical_oscillation_pct_leg", "contact_time_ms")}
    if n == 0:
        return out
    at_ic = interp_at(steps.ic_time_s, time_s, xy if xy_at_contact is None else xy_at_contact)
    hipmid = 0.5 * (at_ic[:, LEFT_HIP] + at_ic[:, RIGHT_HIP])
    for side in ("left", "right"):
        m = steps.foot == side
        hip, knee, ankle, heel, toe = LEG[side]
        p = at_ic[m]
        out["overstride_pct_leg"][m] = facing * (p[:, heel, 0] - hipmid[m, 0]) / leg_px * 100
        out["shank_angle_ic_deg"][m] = angle_from_down_deg(p[:, knee], p[:, ankle], facing)
        out["knee_flexion_ic_deg"][m] = flexion_deg(p[:, hip], p[:, knee], p[:, ankle])
        out["foot_angle_ic_deg"][m] = foot_angle_deg(p[:, heel], p[:, toe], facing)

    # Midstance: halfway between IC and TO (or MIDSTANCE_STEP_SHARE when TO is missing).
    mid_t = np.where(np.isfinite(steps.to_time_s), 0.5 * (steps.ic_time_s + steps.to_time_s),
                     steps.ic_time_s + MIDSTANCE_STEP_SHARE * steps.step_time_s)
    at_mid = interp_at(mid_t, time_s, xy)
    hm = 0.5 * (at_mid[:, LEFT_HIP] + at_mid[:, RIGHT_HIP])
    sm = 0.5 * (at_mid[:, LEFT_SHOULDER] + at_mid[:, RIGHT_SHOULDER])
    out["trunk_lean_deg"] = angle_from_up_deg(hm, sm, facing)

    # Vertical oscillation: range of the hip-midpoint height within each step, on a fine grid.
    tt = steps.ic_time_s[:, None] + _BOB_GRID[None, :] * steps.step_time_s[:, None]
    hip_y = 0.5 * (xy[:, LEFT_HIP, 1] + xy[:, RIGHT_HIP, 1])
    yy = interp_at(tt.ravel(), time_s, hip_y).reshape(tt.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bob_px = np.max(yy, axis=1) - np.min(yy, axis=1)
        out["vertical_oscillation_pct_leg"] = bob_px / leg_px * 100
    out["contact_time_ms"] = (steps.to_time_s - steps.ic_time_s) * 1000.0
    return out
