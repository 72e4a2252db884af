"""Findings engine: rules fire on analyses built to trip them and stay silent on clean ones.

``build_analysis`` makes an ``analysis.json`` dict by hand, following docs/analysis-format.md;
the report, plot and compare tests import it from here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gaitcheck.config import ReportConfig
from gaitcheck.errors import ConfigError
from gaitcheck.findings import (
    PAIN_LOCATIONS,
    RED_FLAGS,
    SEVERITIES,
    RunnerContext,
    cadence_target,
    evaluate,
    load_rules,
    parse_pace,
    red_flags,
    unmeasured_metrics,
)

UNITS = {
    "cadence_spm": "steps/min",
    "overstride_pct_leg": "% leg",
    "shank_angle_ic_deg": "deg",
    "knee_flexion_ic_deg": "deg",
    "foot_strike": "deg",
    "trunk_lean_deg": "deg",
    "vertical_oscillation_pct_leg": "% leg",
    "contact_time_ms": "ms",
    "pelvic_drop_deg": "deg",
    "hip_adduction_deg": "deg",
    "step_width_pct_hip": "% hip",
}

CLEAN_SIDE: dict[str, Any] = {
    "cadence_spm": 170.0,
    # Inside the typical ranges of the rules table (read at touchdown: overstride 0-15 % leg,
    # shin -6 to 6 deg).
    "overstride_pct_leg": 9.0,
    "shank_angle_ic_deg": 3.0,
    "knee_flexion_ic_deg": 18.0,
    "foot_strike": 12.0,
    "trunk_lean_deg": 7.0,
    "vertical_oscillation_pct_leg": 9.0,
    "contact_time_ms": 240.0,
}
CLEAN_REAR: dict[str, Any] = {
    "cadence_spm": 170.0,
    "pelvic_drop_deg": 3.8,
    "hip_adduction_deg": 11.0,
    "step_width_pct_hip": 15.0,
}
SD = {"cadence_spm": 3.0, "contact_time_ms": 8.0}


def _metric(key: str, value: Any, level: str = "high", n: int = 12) -> dict[str, Any]:
    if isinstance(value, tuple):
        left, right = float(value[0]), float(value[1])
    else:
        left = right = float(value)
    mean = (left + right) / 2
    denom = (abs(left) + abs(right)) / 2
    m: dict[str, Any] = {
        "value": mean,
        "sd": SD.get(key, 1.5),
        "n_steps": n,
        "left": left,
        "right": right,
        "asymmetry_pct": 100 * abs(left - right) / denom if denom else None,
        "unit": UNITS[key],
        "confidence": {"level": level, "reasons": [] if level == "high" else ["test reason"]},
        "definition": f"definition of {key}",
        "source": "screening cue",
        "approximate": key == "contact_time_ms",
    }
    if key == "foot_strike":
        m["shares"] = {"rearfoot": 0.9, "midfoot": 0.1, "forefoot": 0.0}
        m["pattern"] = "rearfoot"
    return m


def _curve(amplitude: float, offset: float, seed: int) -> dict[str, Any]:
    pct = np.arange(101.0)
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"unit": "deg", "percent": pct.tolist()}
    for i, side in enumerate(("left", "right")):
        mean = offset + amplitude * np.sin(2 * np.pi * (pct / 100 + 0.05 * i))
        out[side] = {
            "mean": (mean + rng.normal(0, 0.1, 101)).tolist(),
            "sd": np.full(101, 2.0).tolist(),
            "n_cycles": 6,
            "toe_off_pct": 38.0 + i,
        }
    return out


def build_analysis(
    view: str = "side-left",
    overrides: dict[str, Any] | None = None,
    levels: dict[str, str] | None = None,
    n_steps: int = 12,
    notes: list[str] | None = None,
    drop: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A hand-built analysis.json dict (docs/analysis-format.md).

    Parameters
    ----------
    view : str
        side-left | side-right | rear | front.
    overrides : dict
        Metric key -> value or (left, right).
    levels : dict
        Metric key -> confidence level.
    n_steps : int
    notes : list of str
        Capture-quality notes.
    drop : tuple of str
        Metric keys to leave out.
    """
    side = view.startswith("side")
    values = dict(CLEAN_SIDE if side else CLEAN_REAR)
    values.update(overrides or {})
    metrics = {
        k: _metric(k, v, (levels or {}).get(k, "high"), n_steps)
        for k, v in values.items()
        if k not in drop
    }
    cadence = float(metrics["cadence_spm"]["value"]) if "cadence_spm" in metrics else 170.0
    step_s = 60.0 / cadence
    rng = np.random.default_rng(1)
    steps, events = [], []
    for i in range(n_steps):
        foot = "left" if i % 2 == 0 else "right"
        t = 0.5 + i * step_s
        ic_frame = int(round(t * 30))
        row: dict[str, Any] = {
            "index": i,
            "foot": foot,
            "ic_frame": ic_frame,
            "ic_time_s": round(t, 4),
            "to_frame": ic_frame + 7,
            "to_time_s": round(t + 0.24, 4),
            "step_time_s": round(step_s, 4),
            "contact_time_ms": 240.0,
        }
        for k in UNITS:
            if k in ("cadence_spm", "contact_time_ms"):
                continue
            col = "foot_angle_ic_deg" if k == "foot_strike" else k
            if k in metrics:
                row[col] = round(float(metrics[k][foot]) + float(rng.normal(0, 0.5)), 3)
            else:
                row[col] = None
        row["foot_strike"] = "rearfoot" if side else None
        steps.append(row)
        events.append({"foot": foot, "kind": "initial_contact", "frame": ic_frame,
                       "time_s": round(t, 4)})
        events.append({"foot": foot, "kind": "toe_off", "frame": ic_frame + 7,
                       "time_s": round(t + 0.24, 4)})
    if side:
        curves = {
            "knee_flexion_deg": _curve(40, 50, 1),
            "hip_flexion_deg": _curve(25, 5, 2),
            "shank_angle_deg": _curve(20, 0, 3),
        }
    else:
        curves = {"hip_adduction_deg": _curve(6, 4, 4), "pelvic_obliquity_deg": _curve(4, 0, 5)}
    return {
        "gaitcheck_version": "0.1.0",
        "created_utc": "2026-11-25T19:00:00Z",
        "video": {
            "path": "/clips/run.mp4", "sha256": "abc", "width_px": 720, "height_px": 1280,
            "rotation_deg": 0, "fps": 30.0, "nominal_fps": 30.0, "variable_frame_rate": False,
            "n_frames": 360, "duration_s": 12.0, "pose_share": 0.99, "model": "full",
        },
        "config": {},
        "view": {"label": view, "confidence": 0.95, "source": "auto"},
        "activity": {"label": "running", "confidence": 0.9},
        "quality": {
            "near_leg": "left" if side else None,
            "swap_frames_repaired": 3,
            "gap_frames_filled": 5,
            "outliers_removed": 2,
            "camera_roll_deg": 0.8,
            "mean_visibility": {"left_leg": 0.95, "right_leg": 0.7},
            "notes": list(notes or ["The far leg is partly hidden; its values are less certain."]),
        },
        "events": events,
        "steps": steps,
        "metrics": metrics,
        "cycle_curves": curves,
    }


def ids(findings: list[dict[str, Any]]) -> list[str]:
    return [f["id"] for f in findings]


# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("view", ["side-left", "side-right", "rear", "front"])
def test_clean_runner_gives_no_findings(view: str) -> None:
    assert evaluate(build_analysis(view)) == []


def test_overstrider_trips_side_rules_with_expected_severity() -> None:
    a = build_analysis(
        "side-left",
        {"overstride_pct_leg": 41.0, "shank_angle_ic_deg": 9.0, "cadence_spm": 152.0,
         "knee_flexion_ic_deg": 8.0},
    )
    found = {f["id"]: f for f in evaluate(a)}
    assert found["overstride"]["severity"] == "marked"
    assert found["shank_angle_high"]["severity"] == "mild"
    assert found["cadence_low"]["severity"] == "mild"
    assert found["knee_straight_at_landing"]["severity"] == "mild"
    ranked = evaluate(a)
    assert ranked[0]["id"] == "overstride"
    assert [f["rank"] for f in ranked] == list(range(1, len(ranked) + 1))
    ov = found["overstride"]
    assert ov["side"] == "both" and ov["value"] == pytest.approx(41.0)
    assert ov["typical_range"]["source"] and ov["typical_range"]["high"] == 15.0
    assert "No published cut-off" in ov["what_we_saw"]
    assert ov["is_screening_cue"] is True
    assert {c["id"] for c in ov["form_cues"]} == {"land_under_hip", "step_rate"}
    assert all(e["dose"] and e["progression"] and e["name"] for e in ov["exercises"])
    assert "hip" in ov["why_it_matters"].lower()
    json.dumps(ranked)  # JSON-serialisable


def test_step_rate_cue_is_personalised() -> None:
    a = build_analysis("side-left", {"overstride_pct_leg": 35.0, "cadence_spm": 160.0})
    ov = next(f for f in evaluate(a) if f["id"] == "overstride")
    cue = next(c for c in ov["form_cues"] if c["id"] == "step_rate")
    assert "168-176 steps/min" in cue["text"]


def test_pelvic_drop_worst_side_and_asymmetry() -> None:
    a = build_analysis("rear", {"pelvic_drop_deg": (4.0, 9.0)})
    found = {f["id"]: f for f in evaluate(a)}
    pd = found["pelvic_drop"]
    assert pd["side"] == "right" and pd["value"] == pytest.approx(9.0)
    assert pd["severity"] == "moderate"
    asym = found["pelvic_drop_asymmetry"]
    assert asym["side"] == "right" and asym["kind"] == "asymmetry"
    assert asym["severity"] == "moderate"  # 77% asymmetry, difference 5 deg > SDD 2.7


def test_asymmetry_needs_a_difference_beyond_noise() -> None:
    # 1.5 vs 3.5 deg: 80% asymmetry but only 2 deg apart (< 2.7 deg SDD)
    a = build_analysis("rear", {"pelvic_drop_deg": (1.5, 3.5)})
    assert "pelvic_drop_asymmetry" not in ids(evaluate(a))


def test_hip_adduction_and_crossover() -> None:
    a = build_analysis("rear", {"hip_adduction_deg": (19.0, 17.0), "step_width_pct_hip": -4.0})
    found = {f["id"]: f for f in evaluate(a)}
    assert found["hip_adduction_high"]["side"] == "left"
    assert found["hip_adduction_high"]["severity"] == "moderate"
    assert found["crossover"]["severity"] == "moderate"


def test_low_confidence_metric_gives_no_firm_finding() -> None:
    a = build_analysis("rear", {"pelvic_drop_deg": (4.0, 12.0)}, levels={"pelvic_drop_deg": "low"})
    found = evaluate(a)
    assert [f["id"] for f in found] == ["pelvic_drop_unreliable"]  # one note, no asymmetry
    note = found[0]
    assert note["kind"] == "unreliable" and note["severity"] == "info"
    assert note["form_cues"] == [] and note["exercises"] == []
    assert "reliably" in note["title"] and "test reason" in note["what_we_saw"]


def test_low_confidence_ranks_after_firm_findings() -> None:
    a = build_analysis(
        "side-left",
        {"overstride_pct_leg": 30.0, "knee_flexion_ic_deg": 2.0},
        levels={"knee_flexion_ic_deg": "low"},
    )
    found = evaluate(a)
    assert ids(found) == ["overstride", "knee_straight_at_landing_unreliable"]


def test_approximate_contact_time_skips_asymmetry() -> None:
    a = build_analysis("side-left", {"contact_time_ms": (220.0, 280.0)})
    assert "contact_time_asymmetry" not in ids(evaluate(a))


@pytest.mark.parametrize("rule", load_rules().rules, ids=lambda r: r.id)
def test_every_builtin_rule_fires_beyond_its_last_band(rule: Any) -> None:
    severity, edge = rule.bands[-1]
    step = 1.0 if rule.above else -1.0
    beyond = edge + step * max(1.0, abs(edge) * 0.1)
    view = "side-left" if rule.metric in CLEAN_SIDE else "rear"
    if rule.kind == "threshold":
        a = build_analysis(view, {rule.metric: beyond})
    else:
        base = 100.0
        pair = (base * 3, base) if rule.direction == "high" else (base / 3, base)
        a = build_analysis(view, {rule.metric: pair})
        m = a["metrics"][rule.metric]
        m["asymmetry_pct"] = beyond
        m["approximate"] = False
    found = {f["id"]: f for f in evaluate(a)}
    assert rule.id in found, rule.id
    assert found[rule.id]["severity"] == severity
    assert found[rule.id]["typical_range"]["source"] == rule.source
    if rule.kind == "asymmetry":
        assert found[rule.id]["side"] == "left"


# --- coach tables ---------------------------------------------------------------------------
def test_coach_table_overrides_a_threshold(tmp_path: Path) -> None:
    a = build_analysis("rear", {"pelvic_drop_deg": 4.5})
    assert evaluate(a) == []
    table = tmp_path / "coach.toml"
    table.write_text(
        """
[[rules]]
id = "pelvic_drop"
metric = "pelvic_drop_deg"
kind = "threshold"
statistic = "worst_side"
direction = "high"
mild = 3.0
moderate = 4.0
typical_range = [2.0, 3.0]
source = "Coach's own database"
title = "Pelvic drop (coach threshold)"
why = "pelvic_drop"
cues = ["level_pelvis"]
exercises = ["side_plank"]
"""
    )
    found = evaluate(a, rules_path=table)
    assert ids(found) == ["pelvic_drop"]
    assert found[0]["severity"] == "moderate"
    assert found[0]["source"] == "Coach's own database"
    assert found[0]["title"] == "Pelvic drop (coach threshold)"
    # built-in rules still apply in merge mode
    b = build_analysis("rear", {"pelvic_drop_deg": 4.5, "step_width_pct_hip": -5.0})
    assert "crossover" in ids(evaluate(b, rules_path=table))


def test_coach_table_disable_and_replace(tmp_path: Path) -> None:
    a = build_analysis("side-left", {"overstride_pct_leg": 36.0, "cadence_spm": 150.0})
    t1 = tmp_path / "disable.toml"
    t1.write_text('disable = ["overstride"]\n')
    assert ids(evaluate(a, rules_path=t1)) == ["cadence_low"]
    t2 = tmp_path / "replace.toml"
    t2.write_text(
        """
mode = "replace"
[[rules]]
id = "my_cadence"
metric = "cadence_spm"
kind = "threshold"
direction = "low"
marked = 160.0
typical_range = [165.0, 185.0]
source = "coach"
title = "Cadence below my squad's norm"
"""
    )
    found = evaluate(a, rules_path=t2)
    assert ids(found) == ["my_cadence"]
    assert found[0]["severity"] == "marked" and found[0]["form_cues"] == []


BAD_RULE = """
[[rules]]
id = "x"
metric = "{metric}"
kind = "threshold"
direction = "{direction}"
mild = {mild}
moderate = {moderate}
typical_range = [1.0, 2.0]
source = "s"
title = "t"
cues = [{cues}]
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BAD_RULE.format(metric="speed", direction="high", mild=1, moderate=2, cues=""),
         "metric 'speed' is not one of"),
        (BAD_RULE.format(metric="cadence_spm", direction="high", mild=3, moderate=2, cues=""),
         "band edges must rise"),
        (BAD_RULE.format(metric="cadence_spm", direction="low", mild=1, moderate=2, cues=""),
         "band edges must fall"),
        (BAD_RULE.format(metric="cadence_spm", direction="up", mild=1, moderate=2, cues=""),
         "direction must be 'high' or 'low'"),
        (BAD_RULE.format(metric="cadence_spm", direction="high", mild=1, moderate=2,
                         cues='"fly"'), "cues id 'fly' is not in advice.toml"),
        (BAD_RULE.format(metric="cadence_spm", direction="high", mild='"a"', moderate=2,
                         cues=""), "'mild' must be a number"),
        ('[[rules]]\nid = "x"\nmetric = "cadence_spm"\n', "the key 'kind' is missing"),
        ("[[rules]]\nid = 'x'\n[[rules]]\nid = 'x'\n", "the key 'metric' is missing"),
        ("speed = 3\n", "unknown top-level key(s) speed"),
        ("rules = [", "is not valid TOML"),
        ('disable = ["nope"]\n', "'disable' names rule 'nope'"),
        ('mode = "both"\n', "mode must be 'merge' or 'replace'"),
        ("[metrics.cadence_spm]\nbetter = 'faster'\n", "'better' must be one of"),
    ],
)
def test_bad_coach_table_gives_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        evaluate(build_analysis(), rules_path=path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_duplicate_rule_ids_rejected(tmp_path: Path) -> None:
    one = BAD_RULE.format(metric="cadence_spm", direction="high", mild=1, moderate=2, cues="")
    path = tmp_path / "dup.toml"
    path.write_text(one + one)
    with pytest.raises(ConfigError, match="used twice: x"):
        load_rules(path)


def test_missing_coach_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_rules(tmp_path / "nope.toml")


def test_metric_overrides_merge(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text("[metrics.cadence_spm]\nnoise = 4.0\n")
    table = load_rules(path)
    assert table.metrics["cadence_spm"]["noise"] == 4.0
    assert table.metrics["cadence_spm"]["better"] == "higher"


# --- runner context -------------------------------------------------------------------------
def test_red_flag_entry_appears_exactly_with_red_flags() -> None:
    a = build_analysis("rear", {"pelvic_drop_deg": 9.0})
    assert "see_a_professional" not in ids(evaluate(a))
    assert "see_a_professional" not in ids(evaluate(a, RunnerContext(pain=("outer-hip",))))
    found = evaluate(a, RunnerContext(red_flags=("night-pain", "pop")))
    assert found[0]["id"] == "see_a_professional" and found[0]["kind"] == "red_flag"
    assert [fl["id"] for fl in found[0]["flags"]] == ["night-pain", "sudden-pain"]
    assert red_flags(None) is None and red_flags(RunnerContext()) is None


def test_radiating_pain_counts_as_red_flag() -> None:
    ctx = RunnerContext(pain=("radiating",))
    assert ctx.red_flags == ("radiating",)
    assert red_flags(ctx) is not None


@pytest.mark.parametrize("flag", RED_FLAGS)
def test_every_red_flag_is_accepted(flag: str) -> None:
    block = red_flags(RunnerContext(red_flags=(flag,)))
    assert block is not None and block["flags"][0]["label"]


def test_unknown_context_values_rejected() -> None:
    with pytest.raises(ConfigError, match="Red flag 'bad-knee' is not known"):
        RunnerContext(red_flags=("bad-knee",))
    with pytest.raises(ConfigError, match="Pain location 'knee' is not known"):
        RunnerContext(pain=("knee",))
    with pytest.raises(ConfigError, match="Height"):
        RunnerContext(height_cm=18.0)
    with pytest.raises(ConfigError, match="Pace"):
        RunnerContext(pace="fast")
    assert set(PAIN_LOCATIONS) >= {"outer-hip", "groin", "buttock", "front-hip", "radiating"}


def test_context_from_config() -> None:
    cfg = ReportConfig(height_cm=190.0, pace="5:00/km", pain=("outer-hip",),
                       weekly_mileage_change_pct=30.0, red_flags=("numbness",))
    ctx = RunnerContext.from_config(cfg)
    assert ctx.red_flags == ("numbness",) and ctx.pain == ("outer-hip",)
    assert ctx.speed_m_s == pytest.approx(1000 / 300)
    assert json.loads(json.dumps(ctx.to_dict()))["red_flags"] == ["numbness"]
    assert RunnerContext().is_empty() and not ctx.is_empty()


def test_mileage_jump_finding() -> None:
    a = build_analysis()
    assert evaluate(a, RunnerContext(weekly_mileage_change_pct=8.0)) == []
    mild = evaluate(a, RunnerContext(weekly_mileage_change_pct=15.0))
    assert ids(mild) == ["mileage_jump"] and mild[0]["severity"] == "mild"
    moderate = evaluate(a, RunnerContext(weekly_mileage_change_pct=35.0))[0]
    assert moderate["severity"] == "moderate" and "10%" in moderate["what_we_saw"]


def test_pain_location_marks_relevant_findings_and_ranks_them_first() -> None:
    a = build_analysis("rear", {"pelvic_drop_deg": 6.0, "step_width_pct_hip": 3.0})
    plain = evaluate(a)
    assert all(f["relevant_to_pain"] == [] for f in plain)
    ctx = RunnerContext(pain=("outer-hip",))
    found = evaluate(a, ctx)
    assert found[0]["relevant_to_pain"] == ["outer hip"]
    assert "outer hip" in found[0]["why_it_matters"]


def test_cadence_target_personalised() -> None:
    a = build_analysis(overrides={"cadence_spm": 160.0})
    t = cadence_target(a)
    assert t is not None and (t["low_spm"], t["high_spm"]) == (168, 176)
    tall = cadence_target(a, RunnerContext(height_cm=192, pace="3.0 m/s"))
    assert tall is not None
    joined = " ".join(tall["notes"])
    assert "Taller runners" in joined and "169-178" in joined
    fast = cadence_target(build_analysis(overrides={"cadence_spm": 186.0}))
    assert fast is not None and fast["low_spm"] == fast["high_spm"] == round(186 * 1.05)
    low = build_analysis(overrides={"cadence_spm": 150.0}, levels={"cadence_spm": "low"})
    assert cadence_target(low) is None


@pytest.mark.parametrize(
    ("text", "m_s"),
    [("5:00/km", 1000 / 300), ("5:00 min/km", 1000 / 300), ("8:00/mi", 1609.344 / 480),
     ("12 km/h", 12 / 3.6), ("3.2 m/s", 3.2), ("6 mph", 6 * 1609.344 / 3600), ("6/km", 1000 / 360)],
)
def test_parse_pace(text: str, m_s: float) -> None:
    assert parse_pace(text) == pytest.approx(m_s)


@pytest.mark.parametrize("text", ["", "fast", "5:75/km", "0:10/km", "12:00 m/s", "90 km/h"])
def test_parse_pace_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_pace(text)


def test_unmeasured_metrics_by_view() -> None:
    assert "pelvic_drop_deg" in unmeasured_metrics(build_analysis("side-left"))
    assert "overstride_pct_leg" in unmeasured_metrics(build_analysis("rear"))


def test_severities_order() -> None:
    assert SEVERITIES == ("info", "mild", "moderate", "marked")


def test_red_flag_entry_is_not_numbered() -> None:
    a = build_analysis("side-left", {"overstride_pct_leg": 38.0, "cadence_spm": 152.0})
    found = evaluate(a, RunnerContext(red_flags=("night-pain",), weekly_mileage_change_pct=30))
    flag = [f for f in found if f["kind"] == "red_flag"]
    assert len(flag) == 1 and flag[0]["rank"] is None
    ranks = [f["rank"] for f in found if f["kind"] != "red_flag"]
    assert ranks == list(range(1, len(ranks) + 1))


def test_pain_side_parsing() -> None:
    ctx = RunnerContext(pain=("outer-hip:left", "groin"))
    assert ctx.pain == ("outer-hip", "groin")
    assert ctx.pain_side("outer-hip") == "left" and ctx.pain_side("groin") is None
    assert json.loads(json.dumps(ctx.to_dict()))["pain_sides"] == {"outer-hip": "left"}
    with pytest.raises(ConfigError, match="Pain side 'up'"):
        RunnerContext(pain=("outer-hip:up",))
    with pytest.raises(ConfigError, match="outer-hip:left"):
        RunnerContext(pain=("elbow:left",))


def test_pain_care_only_without_red_flags() -> None:
    from gaitcheck.findings import pain_care

    care = pain_care(RunnerContext(pain=("outer-hip",)))
    assert [c["id"] for c in care] == ["outer-hip"]
    names = [e["name"] for st in care[0]["stages"] for e in st["exercises"]]
    assert "Side-lying hip abduction" in names and "Hip abduction hold (isometric)" in names
    assert all(e["dose"] for st in care[0]["stages"] for e in st["exercises"])
    assert pain_care(RunnerContext(pain=("outer-hip",), red_flags=("numbness",))) == []
    assert pain_care(RunnerContext(pain=("groin",))) == []
