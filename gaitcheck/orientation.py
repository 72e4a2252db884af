"""Is the runner upright in the picture? The turn that sets a sideways or upside-down body upright.

Phones store a rotation tag that players apply; when it is missing or wrong, the runner lies on
their side or stands on their head in the decoded frames, and every angle measured against the
image vertical is meaningless. The pose model still finds the body, so the body's own axis (ankle
midpoint to shoulder midpoint) tells how the picture is turned. Pure numpy; the video room turns
the frames (``gaitcheck.video.turn_image``) before the pose model runs again.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

from .landmarks import LEFT_ANKLE, LEFT_SHOULDER, RIGHT_ANKLE, RIGHT_SHOULDER

Array = NDArray[np.float64]

# The body axis must lie within this many degrees of a quarter turn to be corrected: runners
# lean forward by up to about 15-20 deg, far from the 45 deg between two quarter turns.
MAX_OFF_AXIS_DEG = 30.0
# Mean resultant length of the per-frame axis directions (1 = all frames agree); below this
# the body axis is not steady enough to act on.
MIN_AGREEMENT = 0.7
MIN_FRAMES = 5


def body_axis_deg(xy: Array) -> tuple[float, float, int]:
    """Direction of the body axis in the picture.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
        Image landmarks (x right, y down; NaN where missing).

    Returns
    -------
    angle_deg : float
        Clockwise angle of the ankle-midpoint -> shoulder-midpoint vector from "up": 0 upright,
        90 head to the image right, 180 upside down, -90 head to the left (NaN when unknown).
    agreement : float
        Mean resultant length of the per-frame directions, in [0, 1].
    n_frames : int
        Frames that had both shoulders and both ankles.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        top = 0.5 * (xy[:, LEFT_SHOULDER] + xy[:, RIGHT_SHOULDER])
        bottom = 0.5 * (xy[:, LEFT_ANKLE] + xy[:, RIGHT_ANKLE])
        v = top - bottom
        ok = np.isfinite(v).all(axis=1) & (np.hypot(v[:, 0], v[:, 1]) > 0)
        n = int(ok.sum())
        if n == 0:
            return float("nan"), 0.0, 0
        u = v[ok] / np.hypot(v[ok, 0], v[ok, 1])[:, None]
        mean = u.mean(axis=0)
    # "Up" is -y; clockwise from up towards +x.
    return float(np.degrees(np.arctan2(mean[0], -mean[1]))), float(np.hypot(*mean)), n


def upright_turn_deg(xy: Array) -> int:
    """Clockwise turn (0, 90, 180 or 270 deg) that sets the body upright in the picture.

    0 when the body is upright already, or when its axis is unsteady, too far from a quarter
    turn, or seen in fewer than :data:`MIN_FRAMES` frames (nothing is turned on a guess).
    """
    angle, agreement, n = body_axis_deg(xy)
    if n < MIN_FRAMES or agreement < MIN_AGREEMENT or not np.isfinite(angle):
        return 0
    quarter = round(angle / 90.0)
    if abs(angle - 90.0 * quarter) > MAX_OFF_AXIS_DEG:
        return 0
    return int((-90 * quarter) % 360)
