"""From an ``analysis.json`` dict to what the store keeps of it: verdict, top finding, headline
metrics (value, sides, unit, spread, confidence level)."""

from __future__ import annotations

from typing import Any

from ..store import SessionRecord

GROUP_METRICS = ("cadence_spm", "overstride_pct_leg", "shank_angle_ic_deg",
                 "knee_flexion_ic_deg", "pelvic_drop_deg", "hip_adduction_deg")
"""The metrics of the group table, in column order (the last two only from behind)."""

_SEVERITY_ORDER = ("none", "info", "mild", "moderate", "marked")


def verdict_of(data: dict[str, Any]) -> str:
    """One short verdict for a session.

    A red flag in the runner's answers -> ``see a professional``. Otherwise the analysis'
    own verdict (``assessment.verdict``: ``judged``, ``partly judged``, ``not judged``).
    Analyses written before verdicts existed get one from their findings: a moderate or
    marked finding -> ``worth working on``, a mild or informative one -> ``minor cues``, none
    -> ``no flags``.
    """
    findings = [f for f in data.get("findings") or [] if isinstance(f, dict)]
    if any(f.get("kind") == "red_flag" for f in findings):
        return "see a professional"
    own = (data.get("assessment") or {}).get("verdict")
    if isinstance(own, str) and own:
        return own.replace("_", " ")
    worst = max((_SEVERITY_ORDER.index(f["severity"]) for f in findings
                 if f.get("severity") in _SEVERITY_ORDER), default=0)
    if worst >= _SEVERITY_ORDER.index("moderate"):
        return "worth working on"
    if worst >= _SEVERITY_ORDER.index("info"):
        return "minor cues"
    return "no flags"


def headline_of(data: dict[str, Any]) -> str:
    """The analysis' verdict sentence (``assessment.headline``), or empty text."""
    return str((data.get("assessment") or {}).get("headline") or "")


def top_finding(data: dict[str, Any]) -> str | None:
    """Title of the highest-ranked finding about the running itself (a threshold,
    asymmetry or context finding; not a red flag or a measure that could not be judged)."""
    findings = [f for f in data.get("findings") or [] if isinstance(f, dict)
                and f.get("kind", "threshold") in ("threshold", "asymmetry", "context")]
    findings.sort(key=lambda f: f.get("rank", 1e9))
    return str(findings[0].get("title")) if findings else None


def headline_metrics(data: dict[str, Any]) -> dict[str, Any]:
    """Metric key -> ``{value, left, right, unit, sd, n_steps, confidence}`` (level only)."""
    out: dict[str, Any] = {}
    for key, m in (data.get("metrics") or {}).items():
        if not isinstance(m, dict):
            continue
        out[key] = {
            "value": m.get("value"), "left": m.get("left"), "right": m.get("right"),
            "unit": m.get("unit"), "sd": m.get("sd"), "n_steps": m.get("n_steps"),
            "confidence": (m.get("confidence") or {}).get("level"),
        }
    return out


def session_record(data: dict[str, Any], *, date: str, video_name: str, video_sha256: str,
                   settings_hash: str, context: dict[str, Any], notes: str = "") -> SessionRecord:
    """The store's record of one finished analysis."""
    return SessionRecord(
        date=date, video_name=video_name, video_sha256=video_sha256,
        settings_hash=settings_hash, context=context,
        view=(data.get("view") or {}).get("label"), verdict=verdict_of(data),
        top_finding=top_finding(data), metrics=headline_metrics(data), notes=notes,
        headline=headline_of(data),
    )
