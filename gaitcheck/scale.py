"""From the picture's units to the runner's: leg length in cm from body height, metres per pixel.

A single camera sees no distances. When the runner gives their height, the thigh + shank length
(hip to ankle) is taken as :data:`LEG_SHARE_OF_HEIGHT` of it, the sum of the thigh (0.245 H) and
shank (0.246 H) segment lengths of Winter's anthropometric table (Winter 2009); the leg measured
in pixels on the clip then gives metres per pixel. Body proportions vary between people by a few
percent, so centimetres derived this way are approximate (the report says "about").
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

from .geometry import leg_length_series
from .landmarks import LEG

LEG_SHARE_OF_HEIGHT = 0.491
"""Thigh + shank length as a share of body height (Winter 2009: 0.245 + 0.246)."""


def leg_length_cm(height_cm: float) -> float:
    """Hip-to-ankle leg length in cm for a body height in cm."""
    return LEG_SHARE_OF_HEIGHT * float(height_cm)


def pct_leg_to_cm(value_pct_leg: float, height_cm: float) -> float:
    """A distance in % of leg length, in cm for a runner of ``height_cm``."""
    return float(value_pct_leg) / 100.0 * leg_length_cm(height_cm)


def metres_per_pixel(xy_px: NDArray[np.float64], height_cm: float) -> float | None:
    """Scale of the picture from the runner's height and their leg length in pixels.

    Parameters
    ----------
    xy_px : ndarray, shape (n_frames, 33, 2)
        Landmarks in pixels.
    height_cm : float
        Body height.

    Returns
    -------
    float or None
        Metres per pixel (the longer leg's clip median, the one least foreshortened), or
        ``None`` when no leg was seen.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        legs = [float(np.nanmedian(leg_length_series(xy_px, *LEG[side][:3])))
                for side in ("left", "right")]
    legs = [v for v in legs if np.isfinite(v) and v > 0]
    if not legs:
        return None
    return leg_length_cm(height_cm) / 100.0 / max(legs)
