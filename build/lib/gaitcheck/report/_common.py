"""Small helpers shared by the HTML and Markdown renderers."""

from __future__ import annotations

import math
from typing import Any

from ..findings import metric_info

SEVERITY_LABEL = {
    "info": "note",
    "mild": "mild",
    "moderate": "moderate",
    "marked": "marked",
}

SOURCES: tuple[tuple[str, str], ...] = (
    ("van Oeveren 2020", "typical step rate of recreational runners outdoors (165 ± 8 steps/min)"),
    (
        "Heiderscheit 2011",
        "a 5-10% higher step rate lowers knee and hip energy absorption and peak hip adduction",
    ),
    (
        "Lieberman 2015",
        "more strides per minute bring the landing foot closer to the hip; a "
        "relatively vertical shin at landing",
    ),
    (
        "Bramah 2018",
        "injured runners: more contralateral pelvic drop (about 3-5 deg in "
        "uninjured runners; 80% higher odds per degree), foot further ahead of the centre of mass, "
        "straighter knee and more trunk lean at landing",
    ),
    (
        "Bramah 2019",
        "runners with marked pelvic drop were selected as > 1 SD above a reference database",
    ),
    (
        "Souza 2016",
        "2D video running assessment: vertical shin reference, foot strike as a "
        "sliding scale, feet should not cross the midline",
    ),
    (
        "Dingenen 2018",
        "reliability of 2D pelvic drop and hip adduction; smallest detectable "
        "differences 2.7-2.8 and 2.3-3.8 deg; average at least 7 steps",
    ),
    ("Fellin 2010", "gait event detection in running from kinematics"),
    ("Zeni 2008", "gait event detection from the heel relative to the pelvis (walking)"),
    (
        "Young 2023",
        "phone-video pose estimation of running vs motion capture: step timing within "
        "10-14 ms on the near foot",
    ),
    ("Van Hooren 2023", "video pose estimation of running joint angles: errors of about 5-8 deg"),
)


def is_num(value: Any) -> bool:
    """True for a finite int or float (not bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def fmt(value: Any, decimals: int = 1) -> str:
    """Number with fixed decimals, or an en dash for missing values."""
    if not is_num(value):
        return "–"
    return f"{float(value):.{decimals}f}"


def metric_decimals(key: str) -> int:
    """Decimals used to show a metric."""
    return int(metric_info(key)["decimals"])


def view_label(analysis: dict[str, Any]) -> str:
    """Readable camera view, e.g. ``'side view (runner facing left)'``."""
    label = str((analysis.get("view") or {}).get("label", "unknown"))
    return {
        "side-left": "side view (runner facing image-left)",
        "side-right": "side view (runner facing image-right)",
        "rear": "rear view",
        "front": "front view",
    }.get(label, label)


def firm(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings that are neither red-flag entries nor 'could not judge' notes."""
    return [f for f in findings if f.get("kind") not in ("red_flag", "unreliable")]


def n_steps(analysis: dict[str, Any]) -> int:
    """Number of analysed steps."""
    return len(analysis.get("steps") or [])


VERDICT_LABEL = {
    "judged": "Judged",
    "partly_judged": "Partly judged",
    "not_judged": "Not judged",
}


def activity_word(analysis: dict[str, Any]) -> str:
    """``walking`` for a walking clip, else ``running`` (the report's title word)."""
    label = (analysis.get("activity") or {}).get("label")
    return "walking" if label == "walking" else "running"


def verdict_block(
    analysis: dict[str, Any], findings: list[dict[str, Any]]
) -> tuple[str, str, list[str]] | None:
    """``(headline, verdict, reason sentences)`` of the analysis, or ``None`` for an analysis
    made before verdicts existed."""
    from ..assessment import headline

    a = analysis.get("assessment")
    if not a:
        return None
    return (headline(analysis, findings), str(a["verdict"]),
            [str(r["message"]) for r in a.get("reasons") or []])
