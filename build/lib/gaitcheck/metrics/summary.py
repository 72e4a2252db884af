"""Metric summaries: mean, SD, left/right, asymmetry and a confidence with reasons."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class MetricInfo:
    """Unit, one-sentence definition and source of a metric."""

    unit: str
    definition: str
    source: str


METRICS: dict[str, MetricInfo] = {
    "cadence_spm": MetricInfo(
        "steps/min", "Steps per minute counted between detected initial contacts, from the "
        "video's own timestamps.",
        "van Oeveren 2020 (recreational runners 165 +- 8 outdoors); Heiderscheit 2011"),
    "overstride_pct_leg": MetricInfo(
        "% leg", "Horizontal distance of the landing heel ahead of the hip midpoint at initial "
        "contact, as a percentage of leg length (+ = ahead).",
        "Bramah 2018 (heel-to-centre-of-mass distance at contact); Lieberman 2015"),
    "shank_angle_ic_deg": MetricInfo(
        "deg", "Angle of the shank (knee to ankle) from vertical at initial contact "
        "(+ = ankle ahead of the knee).", "Souza 2016; Lieberman 2015"),
    "knee_flexion_ic_deg": MetricInfo(
        "deg", "Knee bend at initial contact: 180 deg minus the hip-knee-ankle angle "
        "(0 = straight).", "Bramah 2018 (injured runners landed with a straighter knee)"),
    "foot_strike": MetricInfo(
        "deg", "Foot angle (heel to toe) to the ground at initial contact; + = toe up "
        "(rearfoot strike). Classes are a screening convention.",
        "Souza 2016 (sliding scale, no cut-offs); screening cue"),
    "trunk_lean_deg": MetricInfo(
        "deg", "Forward lean of the hip-midpoint-to-shoulder-midpoint line from vertical at "
        "midstance.", "Bramah 2018 (greater lean in injured runners)"),
    "vertical_oscillation_pct_leg": MetricInfo(
        "% leg", "Peak-to-trough rise and fall of the hip midpoint within each step, as a "
        "percentage of leg length.", "screening cue"),
    "contact_time_ms": MetricInfo(
        "ms", "Time from initial contact to toe-off (peak knee extension) of the same foot.",
        "Fellin 2010 (event methods); Young 2023 (phone video accuracy)"),
    "pelvic_drop_deg": MetricInfo(
        "deg", "Peak contralateral pelvic drop in stance: tilt of the hip line with the "
        "swing-side hip lower (+).",
        "Bramah 2018 (asymptomatic about 3-5 deg); Dingenen 2018 (2D reliability)"),
    "hip_adduction_deg": MetricInfo(
        "deg", "Peak 2D hip adduction in stance: stance thigh angle from the perpendicular to "
        "the hip line, toward the midline (+).",
        "Dingenen 2018 (2D reliability); 3D reference 13.2 +- 2.7 deg, uninjured men"),
    "step_width_pct_hip": MetricInfo(
        "% hip width", "Lateral distance between consecutive landing heels across the pelvis "
        "midline, as a percentage of hip width (negative = crossover).", "Souza 2016"),
}

SIDE_METRICS = ("cadence_spm", "overstride_pct_leg", "shank_angle_ic_deg", "knee_flexion_ic_deg",
                "foot_strike", "trunk_lean_deg", "vertical_oscillation_pct_leg",
                "contact_time_ms")
FRONTAL_METRICS = ("cadence_spm", "pelvic_drop_deg", "hip_adduction_deg", "step_width_pct_hip")


def _num(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 2)


def summarise(
    key: str,
    values: Array,
    foot: NDArray[np.str_],
    reasons: list[str],
    min_steps_confident: int,
    *,
    value: float | None = None,
    sd: float | None = None,
    per_side: dict[str, float] | None = None,
    approximate: bool = False,
) -> dict[str, Any]:
    """Summarise per-step ``values`` of one metric into the ``metrics`` entry of analysis.json.

    Parameters
    ----------
    key : str
        Metric key (one of ``METRICS``).
    values : ndarray, shape (n_steps,)
        Per-step values (NaN where not measurable).
    foot : ndarray of str, shape (n_steps,)
    reasons : list of str
        Capture-quality reasons that lower the confidence of this metric.
    min_steps_confident : int
        Fewer valid steps than this lowers the confidence.
    value, sd, per_side : optional
        Overrides for metrics not averaged per step (cadence).
    approximate : bool

    Returns
    -------
    dict
    """
    info = METRICS[key]
    ok = np.isfinite(values)
    n = int(ok.sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        v = float(np.mean(values[ok])) if value is None and n else (value if value is not None
                                                                    else np.nan)
        s = float(np.std(values[ok], ddof=1)) if sd is None and n > 1 else (sd if sd is not None
                                                                            else np.nan)
        if per_side is None:
            per_side = {side: float(np.mean(values[ok & (foot == side)]))
                        if (ok & (foot == side)).any() else np.nan for side in ("left", "right")}
    left, right = per_side["left"], per_side["right"]
    denom = 0.5 * (abs(left) + abs(right))
    asym = 100 * abs(left - right) / denom if np.isfinite(denom) and denom > 0 else np.nan
    why = list(reasons)
    if n < min_steps_confident:
        why.append(f"only {n} steps measured (at least {min_steps_confident} advised)")
    # Fewer than 3 steps cannot show a spread (an SD needs two, a left/right pair two more), so
    # such a value is always low; each independent capture-quality reason lowers one level.
    if n < 3:
        level = "low"
    elif len(why) >= 2 or any("low" in r for r in why):
        level = "low" if len(why) >= 2 else "medium"
    elif why:
        level = "medium"
    else:
        level = "high"
    if n == 0:
        level = "low"
    return {
        "value": _num(v), "sd": _num(s), "n_steps": n,
        "left": _num(left), "right": _num(right), "asymmetry_pct": _num(asym),
        "unit": info.unit,
        "confidence": {"level": level, "reasons": why},
        "definition": info.definition, "source": info.source,
        "approximate": bool(approximate),
    }
