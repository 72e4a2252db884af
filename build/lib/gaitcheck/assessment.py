"""The verdict of an analysis: judged, partly judged or not judged, with reasons and a headline.

gaitcheck is right on steady side- or rear-view running filmed upright at a known frame rate.
Outside that case it must say so instead of judging. Each reason has a stable ``code`` (for
programs and tests) and one plain ``message`` sentence (for people). The verdict is:

- ``not_judged``: a blocking reason, or none of the view's key measures reached medium
  confidence: no threshold findings are raised and the headline says the clip could not be
  judged, with how to film again;
- ``partly_judged``: caveats (walking, far leg, few steps, a corrected orientation, ...) or
  some key measures of low confidence;
- ``judged``: none of the above.

The headline never reassures ("nothing stood out") unless the view's key measures were measured
with at least medium confidence.
"""

from __future__ import annotations

from typing import Any

# code -> blocks the verdict (True) or is a caveat (False)
REASON_CODES: dict[str, bool] = {
    "activity_unknown": True,
    "view_mismatch": True,
    "key_measures_low_confidence": True,
    "walking": False,
    "slow_motion_suspected": False,
    "orientation": False,
    "repeated_frames": False,
    "few_steps": False,
    "low_visibility": False,
    "multiple_people": False,
    "truncated_video": False,
    "far_leg": False,
    # Reported through a user error (exit 2) rather than a verdict; listed for completeness.
    "no_movement": True,
}
VERDICTS = ("judged", "partly_judged", "not_judged")
# The measures a view is filmed for: without them at medium confidence nothing is judged.
KEY_MEASURES: dict[str, tuple[str, ...]] = {
    "side": ("cadence_spm", "overstride_pct_leg", "shank_angle_ic_deg", "knee_flexion_ic_deg"),
    "frontal": ("pelvic_drop_deg", "hip_adduction_deg"),
}
REFILM = (
    "Film again: camera still at hip height 3-5 m away, the whole body and both feet in frame, "
    "15-30 s of steady running, and tell gaitcheck the capture rate of slow-motion clips "
    "(--capture-fps)."
)

# What to do next, for blocking reasons that are not solved by filming again.
NEXT_STEP = {
    "view_mismatch": "Leave --view out, or set it to the view you filmed.",
    "activity_unknown": "Film 15-30 s at a steady running pace (or a steady walk).",
}


def reason(code: str, message: str) -> dict[str, str]:
    """One reason entry ``{code, message}``.

    Raises
    ------
    ValueError
        For a code not in :data:`REASON_CODES` (a programming error).
    """
    if code not in REASON_CODES:
        raise ValueError(f"unknown assessment reason code {code!r}")
    return {"code": code, "message": message}


def key_measures(view_label: str) -> tuple[str, ...]:
    """Metric keys a view is filmed for (side: overstride and friends; rear/front: hips)."""
    return KEY_MEASURES["side" if view_label.startswith("side") else "frontal"]


def _names(keys: list[str]) -> str:
    from .findings import metric_info

    return ", ".join(str(metric_info(k)["name"]).lower() for k in keys)


def assess(data: dict[str, Any], reasons: list[dict[str, str]]) -> dict[str, Any]:
    """The ``assessment`` block of ``analysis.json``.

    Parameters
    ----------
    data : dict
        ``analysis.json`` content with ``view``, ``activity`` and ``metrics`` filled in.
    reasons : list of dict
        ``{code, message}`` entries found along the analysis (see :func:`reason`).

    Returns
    -------
    dict
        ``verdict`` (one of :data:`VERDICTS`), ``reasons`` (blocking ones first),
        ``key_measures`` (``{metric: level}``) and ``headline`` (findings not yet considered;
        :func:`headline` refines it once findings exist).
    """
    found = list(reasons)
    metrics = data.get("metrics") or {}
    keys = key_measures(str(data["view"]["label"]))
    levels = {k: str(metrics[k]["confidence"]["level"]) if k in metrics else "low"
              for k in keys}
    judged_keys = [k for k, lv in levels.items() if lv != "low"]
    if not judged_keys and not any(REASON_CODES[r["code"]] for r in found):
        found.append(reason(
            "key_measures_low_confidence",
            f"None of the measures this view is filmed for ({_names(list(keys))}) could be "
            "measured with enough confidence.",
        ))
    blocking = [r for r in found if REASON_CODES[r["code"]]]
    if blocking:
        verdict = "not_judged"
    elif found or len(judged_keys) < len(keys):
        verdict = "partly_judged"
    else:
        verdict = "judged"
    ordered = blocking + [r for r in found if not REASON_CODES[r["code"]]]
    out = {"verdict": verdict, "reasons": ordered, "key_measures": levels, "headline": ""}
    out["headline"] = headline({**data, "assessment": out}, None)
    return out


def headline(data: dict[str, Any], findings: list[dict[str, Any]] | None) -> str:
    """One or two sentences that lead the report, the overlay panel and the terminal.

    Parameters
    ----------
    data : dict
        ``analysis.json`` content with ``assessment``.
    findings : list of dict, optional
        From :func:`gaitcheck.findings.evaluate`; ``None`` before findings exist.
    """
    a = data["assessment"]
    reasons = a["reasons"]
    if a["verdict"] == "not_judged":
        first = reasons[0] if reasons else {"code": "", "message": "It shows too little."}
        msg = first["message"]
        msg = msg[0].lower() + msg[1:] if msg[:2] != msg[:2].upper() else msg
        walking = (data.get("activity") or {}).get("label") == "walking"
        lead = "This clip shows walking, not running, and" if walking else "This clip"
        return f"{lead} could not be judged: {msg} {NEXT_STEP.get(first['code'], REFILM)}"
    if (data.get("activity") or {}).get("label") == "walking":
        return ("This clip shows walking, not running: the measures are shown, but running "
                "ranges and running advice were not applied.")
    levels = a.get("key_measures") or {}
    low = [k for k, lv in levels.items() if lv == "low"]
    caveat = ""
    if low:
        caveat = f" We could not judge {_names(low)} from this clip."
    if findings is None:
        return ("Measured with caveats." if a["verdict"] == "partly_judged" else "Measured.") \
            + caveat
    firm = [f for f in findings if f.get("kind") in ("threshold", "asymmetry")]
    if firm:
        tops = "; ".join(f"{f['title'].lower()} ({f['severity']})" for f in firm[:2])
        n = len(firm)
        return f"{n} thing{'s' if n > 1 else ''} stood out: {tops}.{caveat}"
    judged = [k for k, lv in levels.items() if lv != "low"]
    if low:
        # Never reassure about what was not measured.
        return (f"No measure we could judge ({_names(judged)}) was outside its typical range, "
                f"but we could not judge {_names(low)} from this clip. {REFILM}")
    return f"Nothing stood out: {_names(judged)} were within their typical ranges."
