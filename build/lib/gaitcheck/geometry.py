"""Vectorized 2D geometry on landmark arrays (image coordinates, x right, y down).

All functions broadcast over leading axes; angles are in degrees. Signs follow
``docs/conventions.md``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def angle_from_down_deg(top: Array, bottom: Array, facing: float) -> Array:
    """Angle of the segment ``top -> bottom`` from the downward image vertical.

    Parameters
    ----------
    top, bottom : ndarray, shape (..., 2)
        Segment end points in pixels.
    facing : float
        +1 when the runner faces image-right, -1 when facing image-left.

    Returns
    -------
    ndarray, shape (...)
        Degrees; positive when ``bottom`` is ahead of ``top`` in the running direction.
    """
    d = bottom - top
    return np.degrees(np.arctan2(facing * d[..., 0], d[..., 1]))


def angle_from_up_deg(bottom: Array, top: Array, facing: float) -> Array:
    """Angle of the segment ``bottom -> top`` from the upward vertical, + when ``top`` leans ahead.

    Parameters
    ----------
    bottom, top : ndarray, shape (..., 2)
    facing : float
        +1 facing image-right, -1 facing image-left.

    Returns
    -------
    ndarray, shape (...)
    """
    d = top - bottom
    return np.degrees(np.arctan2(facing * d[..., 0], -d[..., 1]))


def joint_angle_deg(a: Array, b: Array, c: Array) -> Array:
    """Unsigned angle ``a-b-c`` at vertex ``b`` in degrees (180 = straight).

    Parameters
    ----------
    a, b, c : ndarray, shape (..., 2)

    Returns
    -------
    ndarray, shape (...)
    """
    u = a - b
    v = c - b
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    dot = (u * v).sum(axis=-1)
    return np.degrees(np.abs(np.arctan2(cross, dot)))


def flexion_deg(a: Array, b: Array, c: Array) -> Array:
    """Joint flexion ``180 - angle(a, b, c)``: 0 for a straight joint.

    Parameters
    ----------
    a, b, c : ndarray, shape (..., 2)

    Returns
    -------
    ndarray, shape (...)
    """
    return 180.0 - joint_angle_deg(a, b, c)


def segment_length(a: Array, b: Array) -> Array:
    """Euclidean length of ``a -> b``; shape (...)."""
    return np.asarray(np.hypot(*(b - a).T).T)


def leg_length_series(xy: Array, hip: int, knee: int, ankle: int) -> Array:
    """Thigh plus shank length per frame, in pixels.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
    hip, knee, ankle : int
        Landmark indices of one leg.

    Returns
    -------
    ndarray, shape (n_frames,)
    """
    return segment_length(xy[:, hip], xy[:, knee]) + segment_length(xy[:, knee], xy[:, ankle])


def nearest_sample(time_s: Array, times_s: Array) -> NDArray[np.int64]:
    """Index of the sample nearest each time (ties go to the earlier sample).

    Parameters
    ----------
    time_s : ndarray, shape (n,), increasing
    times_s : ndarray, shape (m,)

    Returns
    -------
    ndarray of int, shape (m,)
    """
    times_s = np.asarray(times_s, dtype=float)
    if times_s.size == 0:
        return np.array([], dtype=np.int64)
    i = np.clip(np.searchsorted(time_s, times_s), 1, len(time_s) - 1)
    left_closer = (times_s - time_s[i - 1]) <= (time_s[i] - times_s)
    return np.where(left_closer, i - 1, i).astype(np.int64)


def foot_angle_deg(heel: Array, toe: Array, facing: float) -> Array:
    """Heel->toe angle to the image horizontal, + when the toe is above the heel.

    Parameters
    ----------
    heel, toe : ndarray, shape (..., 2)
    facing : float
        +1 facing image-right, -1 facing image-left.

    Returns
    -------
    ndarray, shape (...)
    """
    d = toe - heel
    return np.degrees(np.arctan2(-d[..., 1], facing * d[..., 0]))


def pelvic_drop_deg(stance_hip: Array, swing_hip: Array) -> Array:
    """Hip-line angle from horizontal, + when the swing-side hip is lower (larger y).

    Parameters
    ----------
    stance_hip, swing_hip : ndarray, shape (..., 2)

    Returns
    -------
    ndarray, shape (...)
    """
    d = swing_hip - stance_hip
    return np.degrees(np.arctan2(d[..., 1], np.abs(d[..., 0])))


def hip_adduction_deg(stance_hip: Array, swing_hip: Array, stance_knee: Array) -> Array:
    """Stance femur angle from the perpendicular to the hip line, + toward the midline.

    Parameters
    ----------
    stance_hip, swing_hip, stance_knee : ndarray, shape (..., 2)

    Returns
    -------
    ndarray, shape (...)
        Degrees; positive when the knee lies medial to the hip (adduction).
    """
    medial = swing_hip - stance_hip
    medial = medial / np.linalg.norm(medial, axis=-1, keepdims=True)
    # Perpendicular to the hip line pointing down the image (toward the feet).
    down = np.stack([-medial[..., 1], medial[..., 0]], axis=-1)
    down = np.where((down[..., 1] < 0)[..., None], -down, down)
    femur = stance_knee - stance_hip
    return np.degrees(
        np.arctan2((femur * medial).sum(axis=-1), (femur * down).sum(axis=-1))
    )


def interp_at(times_s: Array, time_s: Array, values: Array) -> Array:
    """Linearly interpolate ``values`` (shape (n, ...)) at ``times_s``; NaN-aware.

    Returns NaN where either neighbour is NaN or the time lies outside the series.

    Parameters
    ----------
    times_s : ndarray, shape (m,)
    time_s : ndarray, shape (n,), increasing
    values : ndarray, shape (n, ...)

    Returns
    -------
    ndarray, shape (m, ...)
    """
    times_s = np.asarray(times_s, dtype=float)
    n = time_s.shape[0]
    if n == 0 or times_s.size == 0:
        return np.full((times_s.shape[0],) + values.shape[1:], np.nan)
    i1 = np.clip(np.searchsorted(time_s, times_s, side="right"), 1, n - 1)
    i0 = i1 - 1
    span = time_s[i1] - time_s[i0]
    w = np.where(span > 0, (times_s - time_s[i0]) / np.where(span > 0, span, 1.0), 0.0)
    w = np.clip(w, 0.0, 1.0)
    shape = (-1,) + (1,) * (values.ndim - 1)
    out = values[i0] * (1 - w).reshape(shape) + values[i1] * w.reshape(shape)
    outside = (times_s < time_s[0]) | (times_s > time_s[-1])
    out[outside] = np.nan
    return np.asarray(out)
