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

    Uses the analysis' own ``verdict`` when it has one (a label or ``{"label": ...}``);
    otherwise derives it from the findings: a red flag -> ``see a professional``, a moderate or
    marked finding -> ``worth working on``, a mild or informative one -> ``minor cues``, none
    -> ``no flags``.
    """
    own = data.get("verdict")
    if isinstance(own, dict) and own.get("label"):
        return str(own["label"])
    if isinstance(own, str) and own:
        return own
    findings = [f for f in data.get("findings") or [] if isinstance(f, dict)]
    if any(f.get("kind") == "red_flag" for f in findings):
        return "see a professional"
    worst = max((_SEVERITY_ORDER.index(f["severity"]) for f in findings
                 if f.get("severity") in _SEVERITY_ORDER), default=0)
    if worst >= _SEVERITY_ORDER.index("moderate"):
        return "worth working on"
    if worst >= _SEVERITY_ORDER.index("info"):
        return "minor cues"
    return "no flags"


def top_finding(data: dict[str, Any]) -> str | None:
    """Title of the highest-ranked finding that is not a red flag, or None."""
    findings = [f for f in data.get("findings") or []
                if isinstance(f, dict) and f.get("kind") != "red_flag"]
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
    )
