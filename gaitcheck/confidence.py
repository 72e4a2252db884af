"""Confidence levels that mean something: per side, capped by what the camera could see.

A metric's overall level comes from :func:`gaitcheck.metrics.summary.summarise` (steps counted,
capture reasons). This module adds the per-side levels of ``confidence.sides`` and the caps:

- on a side view the far leg is partly hidden: its values are at most ``medium`` when its
  landmarks are seen with visibility below :data:`FAR_LEG_HIGH_VISIBILITY`; any leg (near,
  far, or either leg of a rear/front view) seen below :data:`FAR_LEG_MEDIUM_VISIBILITY` is
  ``low``;
- a side with fewer than :data:`MIN_SIDE_STEPS` steps is ``low``;
- an angle whose steps scatter by more than twice the 2D error is at most ``medium``;
- a camera view forced against a clearly different detected one caps every level at ``low``;
- :func:`near_cutoff` tells findings when a value lies within the known 2D error of a cut-off
  (such a finding is at most ``medium`` and called borderline).
"""

from __future__ import annotations

from typing import Any

LEVELS = ("low", "medium", "high")
# Visibility (MediaPipe's 0-1 score, mean over knee, ankle, heel, toe) of the far leg below which
# its values cannot be "high" / are "low". The shared treadmill clip's far leg scores 0.71 and
# its swing knee curve is visibly wrong; its near leg scores 0.97.
FAR_LEG_HIGH_VISIBILITY = 0.85
FAR_LEG_MEDIUM_VISIBILITY = 0.6
MIN_SIDE_STEPS = 3
# Known error of 2D joint angles from phone-video pose estimation against motion capture:
# about 5-8 deg (Van Hooren 2023); the middle of that range is used.
ANGLE_ERROR_DEG = 6.0
# Measures taken from the trunk or hips, not from one leg: the far leg's visibility does not
# limit them.
NOT_PER_LEG = ("cadence_spm", "trunk_lean_deg", "vertical_oscillation_pct_leg")


def cap(level: str, ceiling: str) -> str:
    """The lower of two levels."""
    return LEVELS[min(LEVELS.index(level), LEVELS.index(ceiling))]


def _cap_metric(m: dict[str, Any], ceiling: str, why: str) -> None:
    conf = m["confidence"]
    new = cap(conf["level"], ceiling)
    if new != conf["level"] or why not in conf["reasons"]:
        conf["reasons"].append(why)
    conf["level"] = new
    for side, lv in (conf.get("sides") or {}).items():
        conf["sides"][side] = cap(lv, ceiling)


def add_side_levels(
    metrics: dict[str, Any], near: str | None, leg_visibility: dict[str, float],
    steps_per_side: dict[str, dict[str, int]],
) -> list[str]:
    """Fill ``confidence.sides`` of every metric and cap the far leg (side views).

    Parameters
    ----------
    metrics : dict
        The ``metrics`` block, changed in place.
    near : str or None
        The leg nearer the camera on a side view; ``None`` for rear/front views.
    leg_visibility : dict
        ``{"left": v, "right": v}``: mean visibility of each leg's landmarks.
    steps_per_side : dict
        ``{metric: {"left": n, "right": n}}``: measured steps per side.

    Returns
    -------
    list of str
        The sides whose values were capped because the leg was poorly seen.
    """
    capped: set[str] = set()
    for key, m in metrics.items():
        conf = m["confidence"]
        sides: dict[str, str] = {}
        for side in ("left", "right"):
            lv = conf["level"]
            if steps_per_side.get(key, {}).get(side, 0) < MIN_SIDE_STEPS:
                lv = "low"
            vis = leg_visibility.get(side, 1.0)
            far = near is not None and side != near
            if key not in NOT_PER_LEG:
                if vis < FAR_LEG_MEDIUM_VISIBILITY:
                    lv = "low"
                    capped.add(side)
                elif far and vis < FAR_LEG_HIGH_VISIBILITY:
                    lv = cap(lv, "medium")
                    capped.add(side)
            sides[side] = lv
        conf["sides"] = sides
        if key not in NOT_PER_LEG and "low" in sides.values() and conf["level"] == "high":
            low = [s for s, v in sides.items() if v == "low"]
            conf["level"] = "medium"
            conf["reasons"].append(f"the {' and '.join(low)} side was measured with low "
                                   "confidence")
    return sorted(capped)


def cap_by_spread(metrics: dict[str, Any]) -> list[str]:
    """Cap at ``medium`` the angle metrics whose steps scatter by more than twice the 2D error.

    A step-to-step SD above ``2 * ANGLE_ERROR_DEG`` means the per-step readings disagree by more
    than the pose model's own error explains (a hidden foot, a changing pace, a wrong event),
    so their mean is not a steady trait of the runner.

    Returns
    -------
    list of str
        The metrics that were capped.
    """
    capped = []
    for key, m in metrics.items():
        sd = m.get("sd")
        if m.get("unit") != "deg" or sd is None or not sd > 2 * ANGLE_ERROR_DEG:
            continue
        _cap_metric(m, "medium", f"the steps vary a lot (SD {sd:.1f} deg, more than twice the "
                    f"{ANGLE_ERROR_DEG:g} deg 2D error)")
        capped.append(key)
    return capped


def cap_all(metrics: dict[str, Any], ceiling: str, why: str) -> None:
    """Cap every metric's (and side's) level at ``ceiling``, adding ``why`` to its reasons."""
    for m in metrics.values():
        _cap_metric(m, ceiling, why)


def measurement_error(metric: str, unit: str, noise: float | None) -> float | None:
    """The known measurement error of a metric in its own unit, or ``None`` when unknown.

    The rules table's ``noise`` (a published smallest detectable difference) when given;
    otherwise :data:`ANGLE_ERROR_DEG` for angles in degrees.
    """
    if noise is not None:
        return float(noise)
    if unit == "deg":
        return ANGLE_ERROR_DEG
    return None


def near_cutoff(value: float, edges: list[float], error: float | None) -> bool:
    """True when ``value`` lies within ``error`` of any band edge (a borderline reading)."""
    if error is None:
        return False
    return any(abs(value - e) < error for e in edges)
