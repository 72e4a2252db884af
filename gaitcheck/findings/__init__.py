"""Findings engine: metrics of ``analysis.json`` + a rules table -> ranked, actionable findings.

Thresholds live in data (``gaitcheck/data/rules.toml``), advice texts and exercise dosing in
``gaitcheck/data/advice.toml``; this module only applies them. Each finding says what was seen
(value, side, typical range and its source), why it matters for hip pain, and what to do (form
cues, strength and stability work). Low-confidence metrics never produce a firm finding.

The public entry point is :func:`evaluate`; :class:`RunnerContext` carries the runner's own
answers (height, pace, where it hurts, mileage change, red flags). See ``docs/findings.md``.

Modules: :mod:`.rules` (the rules table, validated by :mod:`gaitcheck.rules_schema`),
:mod:`.context` (the runner's answers), :mod:`.evaluation` (findings and advice blocks) and
:mod:`.data` (the packaged advice texts). Everything public is importable from here.
"""

from __future__ import annotations

from .context import (
    PAIN_LOCATIONS,
    PAIN_SIDES,
    RED_FLAGS,
    RunnerContext,
    parse_pace,
)
from .data import (
    load_advice,
)
from .evaluation import (
    cadence_target,
    evaluate,
    limits_statement,
    pain_care,
    pain_notes,
    prevention_advice,
    prevention_exercises,
    red_flags,
    relief_advice,
    unmeasured_metrics,
)
from .rules import (
    ACTIVITIES,
    FRONTAL_VIEW_METRICS,
    KNOWN_METRICS,
    SEVERITIES,
    SEVERITY_RANK,
    SIDE_VIEW_METRICS,
    Rule,
    RulesTable,
    load_rules,
    metric_info,
)

__all__ = [
    "ACTIVITIES",
    "FRONTAL_VIEW_METRICS",
    "KNOWN_METRICS",
    "PAIN_LOCATIONS",
    "PAIN_SIDES",
    "RED_FLAGS",
    "Rule",
    "RulesTable",
    "RunnerContext",
    "SEVERITIES",
    "SEVERITY_RANK",
    "SIDE_VIEW_METRICS",
    "cadence_target",
    "evaluate",
    "limits_statement",
    "load_advice",
    "load_rules",
    "metric_info",
    "pain_care",
    "pain_notes",
    "parse_pace",
    "prevention_advice",
    "prevention_exercises",
    "red_flags",
    "relief_advice",
    "unmeasured_metrics",
]
