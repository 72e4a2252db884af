"""Evaluation: the metrics of an analysis + the rules table + the runner's context -> ranked
findings with what was seen, why it matters and what to do; plus the report's advice blocks."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

from ..confidence import LEVELS as CONFIDENCE_LEVELS
from ..confidence import cap, measurement_error, near_cutoff
from .context import RunnerContext
from .data import _advice_cached
from .rules import (
    FRONTAL_VIEW_METRICS,
    SEVERITY_RANK,
    SIDE_VIEW_METRICS,
    Rule,
    RulesTable,
    load_rules,
    metric_info,
)


def _fmt(value: float | None, decimals: int) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{decimals}f}"


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: Any) -> float | None:
    return float(value) if _is_num(value) else None


def cadence_target(analysis: dict[str, Any], context: RunnerContext | None = None) -> dict | None:
    """Personal step-rate target: +5-10% of the measured cadence, phrased as guidance.

    Parameters
    ----------
    analysis : dict
        ``analysis.json`` content.
    context : RunnerContext, optional
        Height and pace refine the wording.

    Returns
    -------
    dict or None
        ``current_spm``, ``low_spm``, ``high_spm`` (rounded), ``text`` and ``notes`` (list of
        str); ``None`` when cadence is missing or of low confidence.
    """
    metric = analysis.get("metrics", {}).get("cadence_spm")
    if not metric or not _is_num(metric.get("value")):
        return None
    # Running step-rate targets mean nothing for walking or for a clip that was not judged.
    if (analysis.get("activity") or {}).get("label", "running") != "running":
        return None
    if (analysis.get("assessment") or {}).get("verdict") == "not_judged":
        return None
    if metric.get("confidence", {}).get("level") == "low":
        return None
    current = float(metric["value"])
    high_factor = 1.05 if current >= 180 else 1.10
    low, high = round(current * 1.05), round(current * high_factor)
    notes: list[str] = []
    if current >= 180:
        notes.append(
            "Your step rate is already high, so keep any change small (about +5%) and mostly use "
            "the other cues."
        )
    ctx = context or RunnerContext()
    if ctx.height_cm is not None:
        if ctx.height_cm >= 185:
            notes.append(
                "Taller runners with longer legs tend to settle at a lower step rate, so start at "
                "the lower end of the target and compare with your own runs rather than averages."
            )
        elif ctx.height_cm <= 160:
            notes.append(
                "Shorter runners tend to take quicker steps, so a rate above the typical range can "
                "be perfectly natural for you."
            )
    speed = ctx.speed_m_s
    if speed is not None:
        notes.append(
            f"Step rate rises with speed; you ran at about {speed:.1f} m/s ({ctx.pace}). Re-test "
            "at the same pace so the runs can be compared."
        )
        if 2.7 <= speed <= 3.8:
            notes.append(
                "For reference, treadmill runners at 2.7-3.8 m/s took about 169-178 steps/min "
                "(values summarised with van Oeveren 2020)."
            )
    text = (
        f"Aim for about {low}-{high} steps/min (now {current:.0f}). Build up over 2-3 weeks; this "
        "is guidance, not a fixed number."
    )
    return {
        "current_spm": current,
        "low_spm": low,
        "high_spm": high,
        "text": text,
        "notes": notes,
        "source": "Heiderscheit 2011 (+5-10% step rate); Lieberman 2015",
    }


def _cues(rule: Rule, advice: dict[str, Any], target: dict | None) -> list[dict[str, str]]:
    out = []
    for cid in rule.cues:
        entry = advice["cues"][cid]
        text = entry["text"]
        if cid == "step_rate" and target is not None:
            text = f"{text} For you: {target['text']}"
        out.append({"id": cid, "title": entry["title"], "text": text})
    return out


def _exercises(ids: tuple[str, ...], advice: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for eid in ids:
        entry = advice["exercises"][eid]
        out.append(
            {
                "id": eid,
                "name": entry["name"],
                "targets": entry.get("targets", ""),
                "dose": entry["dose"],
                "progression": entry["progression"],
            }
        )
    return out


def _pain_relevant(rule: Rule, context: RunnerContext, advice: dict[str, Any]) -> list[str]:
    labels = []
    for p in context.pain:
        entry = advice["pain"][p]
        if rule.why is not None and rule.why in entry.get("relevant", []):
            labels.append(entry["label"])
    return labels


def _pain_side_note(
    rule: Rule, side: str | None, context: RunnerContext, advice: dict[str, Any]
) -> str:
    """One sentence tying a one-side finding to the side the runner said hurts."""
    if side not in ("left", "right"):
        return ""
    notes = []
    for loc, pain_side in context.pain_sides:
        entry = advice["pain"][loc]
        if pain_side not in ("left", "right") or rule.why not in entry.get("relevant", []):
            continue
        if pain_side == side:
            notes.append(f"It is the {side} side that stands out, the side of your "
                         f"{entry['label']} pain.")
        else:
            notes.append(f"It is the {side} side that stands out, not the {pain_side} side "
                         f"where your {entry['label']} hurts; compare with how each hip feels "
                         "and re-check on a later run.")
    return " ".join(notes)


def _base_finding(rule: Rule, metric: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    conf = metric.get("confidence") or {}
    return {
        "id": rule.id,
        "rule_id": rule.id,
        "kind": rule.kind,
        "title": rule.title,
        "severity": "info",
        "metric": rule.metric,
        "metric_name": info["name"],
        "unit": metric.get("unit") or info["unit"],
        "value": None,
        "side": None,
        "left": metric.get("left"),
        "right": metric.get("right"),
        "asymmetry_pct": metric.get("asymmetry_pct"),
        "typical_range": {
            "low": rule.typical_range[0],
            "high": rule.typical_range[1],
            "unit": "%" if rule.kind == "asymmetry" else (metric.get("unit") or info["unit"]),
            "source": rule.source,
        },
        "source": rule.source,
        "sourced_cutoff": rule.sourced_cutoff,
        "what_we_saw": "",
        "why_it_matters": "",
        "form_cues": [],
        "exercises": [],
        "confidence": {
            "level": conf.get("level", "medium"),
            "reasons": list(conf.get("reasons", [])),
        },
        "is_screening_cue": not rule.sourced_cutoff,
        "relevant_to_pain": [],
        "note": rule.note,
        "priority": rule.priority,
    }


def _comparison_sentence(rule: Rule) -> str:
    if rule.sourced_cutoff:
        return f"The bands come from a published cut-off ({rule.source})."
    return (
        "No published cut-off exists for this measure, so gaitcheck compares it with typical "
        "values and, over time, with your own earlier runs; it is a screening cue, not a "
        "diagnosis."
    )


def _apply_rule(
    rule: Rule,
    metric: dict[str, Any],
    table: RulesTable,
    advice: dict[str, Any],
    context: RunnerContext,
    target: dict | None,
) -> dict[str, Any] | None:
    info = metric_info(rule.metric, table)
    d = info["decimals"]
    unit = metric.get("unit") or info["unit"]
    left, right = _num(metric.get("left")), _num(metric.get("right"))
    if rule.skip_if_approximate and metric.get("approximate"):
        return None
    side: str | None
    if rule.kind == "asymmetry":
        asym = _num(metric.get("asymmetry_pct"))
        if left is None or right is None or asym is None:
            return None
        diff = abs(left - right)
        if diff <= rule.min_abs_diff:
            return None
        value = asym
        severity = rule.severity_of(value)
        worse_left = left > right if rule.direction == "high" else left < right
        side = "left" if worse_left else "right"
        shown_value = value
        saw = (
            f"{info['name']}: left {_fmt(left, d)} {unit}, right {_fmt(right, d)} {unit}, a "
            f"difference of {diff:.{d}f} {unit} ({value:.0f}% of the mean); the {side} side "
            f"stands out. Differences up to about {rule.typical_range[1]:g}% are common "
            f"({rule.source})."
        )
    else:
        value_all = _num(metric.get("value"))
        both = left is not None and right is not None
        if rule.statistic == "worst_side" and left is not None and right is not None:
            pick = max if rule.direction == "high" else min
            shown_value = pick(left, right)
            side = "both" if left == right else ("left" if shown_value == left else "right")
        elif value_all is not None:
            shown_value = value_all
            side = "both"
        else:
            return None
        severity = rule.severity_of(shown_value)
        lo, hi = rule.typical_range
        sides = f" (left {_fmt(left, d)}, right {_fmt(right, d)})" if both else ""
        where = "" if side == "both" else f" on the {side} side"
        saw = (
            f"{info['name']}{where}: {shown_value:.{d}f} {unit}{sides}; typical range "
            f"{lo:g}-{hi:g} {unit} ({rule.source})."
        )
    if severity is None:
        return None
    if unit == "% leg" and context.height_cm is not None:
        # The runner's height turns % of leg length into centimetres (gaitcheck.scale).
        from ..scale import pct_leg_to_cm

        amount = abs(left - right) if rule.kind == "asymmetry" and left is not None \
            and right is not None else shown_value
        what = "The difference is" if rule.kind == "asymmetry" else "That is"
        saw += (f" {what} about {pct_leg_to_cm(amount, context.height_cm):.0f} cm for your "
                f"height of {context.height_cm:g} cm.")
    finding = _base_finding(rule, metric, info)
    finding["value"] = round(shown_value, 3)
    finding["side"] = side
    finding["severity"] = severity
    edge = dict(rule.bands)[severity]
    span = max(abs(rule.typical_range[1] - rule.typical_range[0]), 1e-9)
    finding["exceedance"] = round(abs(shown_value - edge) / span, 3)
    finding["borderline"] = False
    level = _finding_level(rule, metric, info, finding, shown_value, left, right)
    if level == "low":
        reasons = "; ".join(finding["confidence"]["reasons"]) or "too few or unclear steps"
        finding.update(
            id=f"{rule.id}_unreliable",
            kind="unreliable",
            title=f"Could not judge {info['name'].lower()} reliably",
            severity="info",
            what_we_saw=(
                f"{saw} The measurement's confidence is low ({reasons}), so gaitcheck draws no "
                "conclusion from it. Film again (see the capture notes) before acting on it."
            ),
            why_it_matters="",
            is_screening_cue=True,
        )
        return finding
    finding["what_we_saw"] = f"{saw} {_comparison_sentence(rule)}"
    if finding.get("borderline"):
        finding["what_we_saw"] += (
            " Borderline: the value lies within the known 2D measurement error of a cut-off, so "
            "the true value may be on either side of it.")
    why = advice["why"][rule.why] if rule.why else ""
    pain_labels = _pain_relevant(rule, context, advice)
    if pain_labels:
        why = (
            f"{why} You reported pain at the {' and '.join(pain_labels)}, where this pattern "
            "is worth addressing first."
        )
    side_note = _pain_side_note(rule, side, context, advice)
    if side_note:
        why = f"{why} {side_note}"
    finding["why_it_matters"] = why.strip()
    finding["relevant_to_pain"] = pain_labels
    finding["form_cues"] = _cues(rule, advice, target)
    finding["exercises"] = _exercises(rule.exercises, advice)
    return finding


def _finding_level(
    rule: Rule, metric: dict[str, Any], info: dict[str, Any], finding: dict[str, Any],
    value: float, left: float | None, right: float | None,
) -> str:
    """Confidence of a finding: the sides it rests on, capped when it is borderline.

    A one-side finding takes that side's level; a left/right difference takes the lower of the
    two sides (both must be at least medium, or it is not judged). A value within the known 2D
    measurement error of a band edge is at most medium and called borderline.
    """
    conf = finding["confidence"]
    sides = (metric.get("confidence") or {}).get("sides") or {}
    level = str(conf["level"])
    if rule.kind == "asymmetry" and sides:
        level = min((sides.get("left", level), sides.get("right", level)),
                    key=CONFIDENCE_LEVELS.index)
        if level == "low":
            conf["reasons"].append("a left/right difference needs both sides measured with at "
                                   "least medium confidence")
    elif finding["side"] in ("left", "right") and sides:
        level = sides.get(finding["side"], level)
    unit = metric.get("unit") or info["unit"]
    error = measurement_error(rule.metric, unit, info.get("noise"))
    if rule.kind == "asymmetry":
        # The difference of two readings carries sqrt(2) times the error of one.
        borderline = (error is not None and left is not None and right is not None
                      and abs(left - right) < error * 2 ** 0.5)
    else:
        borderline = near_cutoff(value, [e for _, e in rule.bands], error)
    if borderline and error is not None:
        level = cap(level, "medium")
        finding["borderline"] = True
        conf["reasons"].append(
            f"within the known 2D measurement error (about {error:g} {unit}) of a cut-off")
    conf["level"] = level
    return level


def _mileage_finding(
    context: RunnerContext, table: RulesTable, advice: dict[str, Any]
) -> dict | None:
    change = context.weekly_mileage_change_pct
    if change is None:
        return None
    mild = float(table.context.get("mileage_change_mild_pct", 10.0))
    moderate = float(table.context.get("mileage_change_moderate_pct", 20.0))
    if change <= mild:
        return None
    severity = "moderate" if change > moderate else "mild"
    source = str(table.context.get("mileage_source", "10% rule"))
    load = advice["prevention"]["load"]
    cross = advice["prevention"]["cross_training"]
    return {
        "id": "mileage_jump",
        "rule_id": "mileage_jump",
        "kind": "context",
        "title": "Weekly distance went up quickly",
        "severity": severity,
        "metric": "weekly_mileage_change_pct",
        "metric_name": "Weekly mileage change",
        "unit": "%",
        "value": float(change),
        "side": None,
        "left": None,
        "right": None,
        "asymmetry_pct": None,
        "typical_range": {"low": None, "high": mild, "unit": "%", "source": source},
        "source": source,
        "sourced_cutoff": False,
        "what_we_saw": (
            f"You reported a {change:+.0f}% change in weekly distance; the usual guidance is at "
            f"most +{mild:g}% per week ({source})."
        ),
        "why_it_matters": advice["why"]["mileage"],
        "form_cues": [
            {"id": "load", "title": load["title"], "text": load["text"]},
            {"id": "cross_training", "title": cross["title"], "text": cross["text"]},
        ],
        "exercises": [],
        "confidence": {"level": "high", "reasons": ["reported by the runner"]},
        "is_screening_cue": True,
        "relevant_to_pain": [],
        "note": None,
        "priority": 4.0,
        "exceedance": round((change - mild) / max(mild, 1e-9), 3),
    }


def red_flags(context: RunnerContext | None) -> dict[str, Any] | None:
    """The "see a professional" block for the runner's red flags.

    Parameters
    ----------
    context : RunnerContext or None

    Returns
    -------
    dict or None
        ``title``, ``text`` and ``flags`` (list of ``{id, label, text}``); ``None`` when no
        red flag was given.
    """
    if context is None or not context.red_flags:
        return None
    advice = _advice_cached()
    block = advice["red_flag_block"]
    flags = [
        {"id": f, "label": advice["red_flags"][f]["label"], "text": advice["red_flags"][f]["text"]}
        for f in context.red_flags
    ]
    return {"title": block["title"], "text": block["text"], "flags": flags}


def _red_flag_finding(block: dict[str, Any]) -> dict[str, Any]:
    labels = "; ".join(f["label"].lower() for f in block["flags"])
    return {
        "id": "see_a_professional",
        "rule_id": "red_flags",
        "kind": "red_flag",
        "title": block["title"],
        "severity": "marked",
        "metric": None,
        "metric_name": None,
        "unit": None,
        "value": None,
        "side": None,
        "left": None,
        "right": None,
        "asymmetry_pct": None,
        "typical_range": None,
        "source": "The runner's hip-pain guide: when to seek professional help",
        "sourced_cutoff": False,
        "what_we_saw": f"You reported: {labels}.",
        "why_it_matters": block["text"],
        "form_cues": [],
        "exercises": [],
        "confidence": {"level": "high", "reasons": ["reported by the runner"]},
        "is_screening_cue": False,
        "relevant_to_pain": [],
        "note": None,
        "priority": 100.0,
        "exceedance": 0.0,
        "flags": block["flags"],
    }


def _rank_key(f: dict[str, Any]) -> tuple:
    kind_order = {"red_flag": 0, "unreliable": 2}.get(f["kind"], 1)
    return (
        kind_order,
        -SEVERITY_RANK.get(f["severity"], 0),
        -(1 if f.get("relevant_to_pain") else 0),
        -float(f.get("priority") or 0.0),
        -float(f.get("exceedance") or 0.0),
        f["id"],
    )


def evaluate(
    analysis: dict[str, Any],
    context: RunnerContext | None = None,
    rules_path: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Turn the metrics of an analysis into ranked findings.

    Parameters
    ----------
    analysis : dict
        ``analysis.json`` content (docs/analysis-format.md); only ``metrics`` is required.
    context : RunnerContext, optional
        The runner's answers: personalise the step-rate target and the "why" texts, add a
        training-load finding and the red-flag entry.
    rules_path : str or Path, optional
        A coach's rules table (see :func:`load_rules`).

    Returns
    -------
    list of dict
        JSON-serialisable findings, most important first. Keys: ``id``, ``rule_id``, ``kind``
        (threshold | asymmetry | context | unreliable | red_flag), ``title``, ``severity``
        (info | mild | moderate | marked), ``metric``, ``metric_name``, ``unit``, ``value``,
        ``side`` (left | right | both | None), ``left``, ``right``, ``asymmetry_pct``,
        ``typical_range`` ({low, high, unit, source}), ``source``, ``sourced_cutoff``,
        ``what_we_saw``, ``why_it_matters``, ``form_cues`` ([{id, title, text}]), ``exercises``
        ([{id, name, targets, dose, progression}]), ``confidence`` ({level, reasons}),
        ``is_screening_cue``, ``relevant_to_pain``, ``note``, ``priority``, ``exceedance``.
        A metric of low confidence yields at most an ``unreliable`` note of severity info.

    Raises
    ------
    ConfigError
        When the rules table is invalid.
    """
    table = load_rules(rules_path)
    advice = _advice_cached()
    ctx = context or RunnerContext()
    metrics = analysis.get("metrics") or {}
    target = cadence_target(analysis, ctx)
    findings: list[dict[str, Any]] = []
    activity = str((analysis.get("activity") or {}).get("label", "running"))
    verdict = str((analysis.get("assessment") or {}).get("verdict", "judged"))
    # A clip that was not judged raises no metric findings; a rule judges only the activity
    # its ranges were made for.
    rules = [] if verdict == "not_judged" else [r for r in table.rules if activity in r.applies_to]
    for rule in rules:
        metric = metrics.get(rule.metric)
        if not isinstance(metric, dict):
            continue
        finding = _apply_rule(rule, metric, table, advice, ctx, target)
        if finding is not None:
            findings.append(finding)
    # one "could not judge" note per metric is enough
    seen_unreliable: set[str] = set()
    kept: list[dict[str, Any]] = []
    for f in findings:
        if f["kind"] == "unreliable":
            if f["metric"] in seen_unreliable:
                continue
            seen_unreliable.add(f["metric"])
        kept.append(f)
    mileage = _mileage_finding(ctx, table, advice)
    if mileage is not None:
        kept.append(mileage)
    block = red_flags(ctx)
    if block is not None:
        kept.append(_red_flag_finding(block))
    kept.sort(key=_rank_key)
    # The red-flag entry stands outside the numbered findings (reports show it first, on its
    # own), so finding numbers are the same in the HTML, the Markdown and the terminal.
    numbered = [f for f in kept if f["kind"] != "red_flag"]
    for rank, f in enumerate(numbered, start=1):
        f["rank"] = rank
    for f in kept:
        if f["kind"] == "red_flag":
            f["rank"] = None
    return kept


def prevention_advice() -> list[dict[str, str]]:
    """Training-habit advice printed in every report (``[prevention.*]`` of advice.toml)."""
    return [{"id": k, "title": v["title"], "text": v["text"]}
            for k, v in _advice_cached()["prevention"].items()]


def relief_advice() -> list[dict[str, str]]:
    """First self-care steps when the hip already hurts (``[relief.*]`` of advice.toml)."""
    return [{"id": k, **v} for k, v in _advice_cached()["relief"].items()]


def pain_notes(context: RunnerContext | None) -> list[dict[str, str]]:
    """What gaitcheck keeps an eye on for each pain location the runner reported.

    Returns
    -------
    list of dict
        ``id``, ``label`` (with the side when given, e.g. ``left outer hip``), ``side`` (or
        ``""``) and ``text``.
    """
    if context is None:
        return []
    pain = _advice_cached()["pain"]
    out = []
    for p in context.pain:
        side = context.pain_side(p) or ""
        label = pain[p]["label"] if side in ("", "both") else f"{side} {pain[p]['label']}"
        text = pain[p]["text"]
        if side in ("left", "right") and pain[p].get("side_text"):
            text = f"{text} {pain[p]['side_text'].format(side=side)}"
        out.append({"id": p, "label": label, "side": side, "text": text})
    return out


def pain_care(context: RunnerContext | None) -> list[dict[str, Any]]:
    """Care plans for the pain locations the runner reported (``[care.*]`` of advice.toml).

    Empty when a red flag was reported: a professional should look first
    (:attr:`RunnerContext.self_treatment_allowed`).

    Returns
    -------
    list of dict
        ``id``, ``title``, ``load`` (load management), ``avoid`` (compressive positions and
        stretches), ``stages`` (list of ``{title, exercises: [{id, name, targets, dose,
        progression}]}``, easiest first) and ``source``.
    """
    if context is None or not context.self_treatment_allowed:
        return []
    advice = _advice_cached()
    out = []
    for p in context.pain:
        care = advice.get("care", {}).get(p)
        if care is None:
            continue
        stages = [{"title": st["title"], "exercises": _exercises(tuple(st["exercises"]), advice)}
                  for st in care["stages"]]
        out.append({"id": p, "title": care["title"], "load": care["load"],
                    "avoid": care["avoid"], "stages": stages, "source": care["source"]})
    return out


def prevention_exercises() -> list[dict[str, str]]:
    """Exercises the prevention habits name, with their doses."""
    advice = _advice_cached()
    ids = tuple(advice["prevention"]["strength"].get("exercises", ()))
    return _exercises(ids, advice)


def limits_statement() -> dict[str, Any]:
    """What single-camera 2D video can and cannot measure: ``{title, can, cannot}``."""
    return copy.deepcopy(_advice_cached()["limits"])


def unmeasured_metrics(analysis: dict[str, Any]) -> list[str]:
    """Metric keys the other camera view would add (what this clip could not see).

    Parameters
    ----------
    analysis : dict

    Returns
    -------
    list of str
    """
    have = set((analysis.get("metrics") or {}).keys())
    label = str((analysis.get("view") or {}).get("label", ""))
    wanted = FRONTAL_VIEW_METRICS if label.startswith("side") else SIDE_VIEW_METRICS
    return [m for m in wanted if m not in have and m != "contact_time_ms"]
