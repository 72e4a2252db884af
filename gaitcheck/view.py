"""Camera view detection: side-left, side-right, rear or front, with a confidence.

Cues, each computed per frame and voted over the frames with a pose:

- *side vs frontal*: on a side view the two hips (and shoulders) nearly overlap in x, while
  on a rear/front view they are about a hip width apart compared with the leg length;
- *facing* (side views): the toes point ahead of the heels, and the nose is ahead of the ears;
- *rear vs front*: seen from behind, the runner's left hip is on the image left; from the front
  it is on the image right. The face's visibility backs this up.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .geometry import leg_length_series
from .landmarks import (
    LEFT_ANKLE,
    LEFT_HEEL,
    LEFT_HIP,
    LEFT_KNEE,
    LEFT_SHOULDER,
    LEFT_TOE,
    NOSE,
    RIGHT_ANKLE,
    RIGHT_HEEL,
    RIGHT_HIP,
    RIGHT_KNEE,
    RIGHT_SHOULDER,
    RIGHT_TOE,
)

Array = NDArray[np.float64]

VIEWS = ("side-left", "side-right", "rear", "front")
#: Label when no frame can vote (no hips/shoulders with legs, or no feet or face to tell the
#: facing): the view is not guessed; ``analyze_pose`` asks the user to set it.
UNKNOWN = "unknown"

# Hip+shoulder width over leg length above which a frame looks frontal. On side views MediaPipe
# keeps the two hips within a few percent of leg length; from behind they are ~25-40 % apart.
_FRONTAL_WIDTH_RATIO = 0.12


@dataclass(frozen=True)
class ViewResult:
    """Detected camera view.

    Attributes
    ----------
    label : str
        One of ``VIEWS``, or ``UNKNOWN`` when no frame could vote.
    confidence : float
        Share of voting frames that agree, times the share of frames that could vote; in [0, 1].
    facing : int
        +1 runner faces image-right, -1 image-left, 0 for frontal views.
    source : str
        ``"auto"`` or ``"user"``.
    """

    label: str
    confidence: float
    facing: int
    source: str = "auto"


def facing_of(label: str) -> int:
    """Facing sign of a view label: -1 side-left, +1 side-right, 0 frontal."""
    return {"side-left": -1, "side-right": 1}.get(label, 0)


def detect_view(xy: Array, visibility: Array) -> ViewResult:
    """Detect the camera view from landmarks.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
        Image landmarks (NaN where missing).
    visibility : ndarray, shape (n_frames, 33)

    Returns
    -------
    ViewResult
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # Both legs (either may be hidden in a side view; mirroring must change nothing).
        leg = np.nanmean([leg_length_series(xy, LEFT_HIP, LEFT_KNEE, LEFT_ANKLE),
                          leg_length_series(xy, RIGHT_HIP, RIGHT_KNEE, RIGHT_ANKLE)], axis=0)
        hip_dx = xy[:, LEFT_HIP, 0] - xy[:, RIGHT_HIP, 0]
        sh_dx = xy[:, LEFT_SHOULDER, 0] - xy[:, RIGHT_SHOULDER, 0]
        width_ratio = 0.5 * (np.abs(hip_dx) + np.abs(sh_dx)) / leg
        valid = np.isfinite(width_ratio) & (leg > 0)
        if valid.sum() == 0:
            return ViewResult(UNKNOWN, 0.0, 0)
        frontal = width_ratio > _FRONTAL_WIDTH_RATIO
        share_frontal = float(frontal[valid].mean())
        coverage = float(valid.mean())

        # Majority vote: frames are frontal-looking or not, and the larger share wins.
        if share_frontal > 0.5:
            # Rear: runner's left hip/shoulder on the image left (negative dx).
            lr = np.sign(hip_dx + sh_dx)
            rear_votes = (lr < 0) & valid & frontal
            front_votes = (lr > 0) & valid & frontal
            n_votes = rear_votes.sum() + front_votes.sum()
            label = "rear" if rear_votes.sum() >= front_votes.sum() else "front"
            agree = max(rear_votes.sum(), front_votes.sum()) / max(n_votes, 1)
            return ViewResult(label, round(float(agree * share_frontal * coverage), 3), 0)

        toe_dx = np.concatenate([
            xy[:, LEFT_TOE, 0] - xy[:, LEFT_HEEL, 0], xy[:, RIGHT_TOE, 0] - xy[:, RIGHT_HEEL, 0]
        ])
        ear_mid = 0.5 * (xy[:, 7, 0] + xy[:, 8, 0])
        nose_dx = xy[:, NOSE, 0] - ear_mid
        # Feet carry more weight than the face: runners look around, feet always point ahead.
        # Half weight: the two feet cast two votes a frame and the face one, so the face alone
        # can never outvote a pair of feet that agree.
        votes = np.concatenate([np.sign(toe_dx), np.sign(nose_dx)])
        weights = np.concatenate([np.ones_like(toe_dx), 0.5 * np.ones_like(nose_dx)])
        ok = np.isfinite(votes) & (votes != 0)
        right = float((weights * (votes > 0))[ok].sum())
        left = float((weights * (votes < 0))[ok].sum())
    total = left + right
    if total == 0:
        return ViewResult(UNKNOWN, 0.0, 0)
    label = "side-right" if right > left else "side-left"
    agree = max(left, right) / total
    return ViewResult(
        label, round(float(agree * (1 - share_frontal) * coverage), 3), facing_of(label)
    )
