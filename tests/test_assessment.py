"""Knowing when not to judge: verdicts, activity, slow motion, stillness, far leg, forced view.

Synthetic landmark series (``gaitcheck.synthetic``, exact answers) cover the rules; the shared
clips (``../shared/videos``) show them on real footage. Pose extraction is the slow part: set
``GAITCHECK_TEST_POSE_CACHE`` to a folder (e.g. ``/work/scratch/cache``) to keep the real clips'
landmarks between sessions; without it the session's temporary cache is used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from conftest import VIDEOS, needs_shared

from gaitcheck import motion
from gaitcheck.analysis import analyze_pose
from gaitcheck.assessment import REASON_CODES, headline
from gaitcheck.config import Config
from gaitcheck.errors import AnalysisError, ConfigError
from gaitcheck.findings import RunnerContext, evaluate, load_rules
from gaitcheck.overlay import OverlayPainter
from gaitcheck.series import PoseSeries
from gaitcheck.synthetic import generate

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[1] / "gaitcheck" / "schema" /
     "analysis.schema.json").read_text()
)
RUNNING_RULES = {r.id for r in load_rules().rules}


def codes(data: dict[str, Any]) -> list[str]:
    return [r["code"] for r in data["assessment"]["reasons"]]


def levels(data: dict[str, Any]) -> set[str]:
    """Every confidence level in the metrics block (overall and per side)."""
    out = set()
    for m in data["metrics"].values():
        out.add(m["confidence"]["level"])
        out.update(m["confidence"]["sides"].values())
    return out


def stretched(series: PoseSeries, factor: float) -> PoseSeries:
    """A real-time series as a slow-motion export shows it: times ``factor`` times longer,
    frame rate of the file ``fps / factor`` (a 240 fps capture exported at 30 fps: 8)."""
    file_fps = series.fps / factor
    return series.with_arrays(time_s=series.time_s * factor, fps=file_fps,
                              meta={**series.meta, "nominal_fps": file_fps,
                                    "capture_fps": file_fps})


def repeated_rows(series: PoseSeries, k: int) -> PoseSeries:
    """Every frame written ``k`` times at the same file rate (a slowed export by repetition)."""
    rows = np.repeat(np.arange(series.n_frames), k)
    n = rows.size
    return series.with_arrays(
        xy_px=series.xy_px[rows], world_m=series.world_m[rows],
        visibility=series.visibility[rows], presence=series.presence[rows],
        time_s=np.arange(n) / series.fps, frame_index=np.arange(n),
        meta={**series.meta, "nominal_fps": series.fps, "capture_fps": series.fps},
    )


# ---------------------------------------------------------------------------- motion helpers
def test_repeated_mask_and_real_fps_of_a_24_to_30_conversion() -> None:
    # 24 -> 30 fps: 4 pictures become 5 frames, one repeated (telecine-like pattern).
    pictures = np.repeat(np.arange(48.0), [2 if i % 4 == 3 else 1 for i in range(48)])
    frames = np.stack([pictures, -pictures], axis=1)
    mask = motion.repeated_mask(frames)
    assert mask.sum() == 12 and not mask[0]
    assert motion.real_fps(mask, 30.0) == pytest.approx(24.0)
    assert motion.is_regular_pattern(mask)
    frozen = np.concatenate([np.arange(30.0), np.full(30, 29.0)])[:, None]
    fmask = motion.repeated_mask(frozen)
    assert fmask.sum() == 30 and not motion.is_regular_pattern(fmask)
    # Frames with no pose (all NaN) repeat nothing.
    assert not motion.repeated_mask(np.full((5, 3), np.nan)).any()


@pytest.mark.parametrize("view", ["side-left", "rear"])
@pytest.mark.parametrize("cadence", [150.0, 180.0])
def test_step_rate_from_the_leg_swing_spectrum(view: str, cadence: float) -> None:
    run = generate(duration_s=6.0, view=view, cadence_spm=cadence)
    spm, share = motion.step_rate_spm(run.series.xy_px, run.series.time_s)
    # Zero-padded 8x: one padded bin of a 6 s clip is 60 * 2 / 48 = 2.5 steps/min.
    assert spm == pytest.approx(cadence, abs=2.5)
    assert share > 0.9  # a noise-free periodic gait


def test_capture_rate_candidates() -> None:
    # 168 steps/min filmed at 240 fps and exported at 30: 21 steps/min in file time.
    assert [c for c, _ in motion.capture_fps_candidates(21.0, 30.0)] == [240.0]
    # 56 steps/min in file time: 112 at 60 fps, 224 at 120 -- no standard rate makes it running.
    assert motion.capture_fps_candidates(56.0, 30.0) == []


# ---------------------------------------------------------------------------- synthetic verdicts
@pytest.fixture(scope="module")
def clean_run() -> Any:
    # Near leg fully visible and far leg too: nothing to caveat.
    return generate(duration_s=8.0, far_visibility=0.95, near_visibility=0.95)


def test_a_clean_side_run_is_judged(clean_run: Any) -> None:
    a = analyze_pose(clean_run.series).to_dict()
    jsonschema.validate(a, SCHEMA)
    # Optional in the schema only so older analysis files still compare; always written now.
    assert "assessment" in a
    assert a["assessment"]["verdict"] == "judged", a["assessment"]
    assert a["assessment"]["reasons"] == []
    assert set(a["assessment"]["key_measures"].values()) == {"high"}
    findings = evaluate(a)
    head = headline(a, findings)
    firm = [f for f in findings if f["kind"] in ("threshold", "asymmetry")]
    assert head.startswith("Nothing stood out") == (not firm)
    assert ("stood out:" in head) or not firm


def test_far_leg_is_never_high_and_asymmetry_needs_both_sides() -> None:
    # Far leg seen at 0.65 (the shared clip's far leg: 0.71): medium at best.
    run = generate(duration_s=8.0, near_visibility=0.97, far_visibility=0.7)
    a = analyze_pose(run.series).to_dict()
    far = "right" if a["quality"]["near_leg"] == "left" else "left"
    assert "far_leg" in codes(a) and a["assessment"]["verdict"] == "partly_judged"
    for key in ("overstride_pct_leg", "shank_angle_ic_deg", "knee_flexion_ic_deg"):
        assert a["metrics"][key]["confidence"]["sides"][far] != "high", key
    for f in evaluate(a):
        if f["kind"] == "asymmetry" or f["side"] == far:
            assert f["confidence"]["level"] != "high", f["id"]


def test_a_value_within_the_2d_error_of_a_cut_off_is_borderline() -> None:
    # Shin angle about 12 deg (measured 10.6) against the 10 and 14 deg edges (error 6 deg).
    run = generate(duration_s=8.0, shank_angle_ic_deg=12.0, far_visibility=0.95,
                   near_visibility=0.95)
    a = analyze_pose(run.series).to_dict()
    assert a["metrics"]["shank_angle_ic_deg"]["confidence"]["level"] == "high"
    f = next(f for f in evaluate(a) if f["rule_id"] == "shank_angle_high")
    assert f["borderline"] and f["confidence"]["level"] == "medium"
    assert "Borderline" in f["what_we_saw"]


def test_forced_view_against_the_detected_one_is_not_judged(clean_run: Any) -> None:
    a = analyze_pose(clean_run.series, view="rear").to_dict()
    jsonschema.validate(a, SCHEMA)
    assert a["assessment"]["verdict"] == "not_judged"
    assert codes(a)[0] == "view_mismatch"
    assert levels(a) == {"low"}
    assert [f for f in evaluate(a) if f["kind"] != "red_flag"] == []
    assert a["assessment"]["headline"].startswith("This clip could not be judged")
    assert "Nothing stood out" not in headline(a, evaluate(a))


def test_unknown_activity_is_not_judged() -> None:
    # 140 steps/min: between walking (< 135) and running (>= 145).
    run = generate(duration_s=8.0, cadence_spm=140.0)
    a = analyze_pose(run.series).to_dict()
    assert a["activity"]["label"] == "unknown" and "activity_unknown" in codes(a)
    assert a["assessment"]["verdict"] == "not_judged"
    assert [f for f in evaluate(a) if f["kind"] != "red_flag"] == []


def test_slowed_clip_is_retimed_to_the_one_running_capture_rate() -> None:
    run = generate(duration_s=4.0, fps=240.0)
    a = analyze_pose(stretched(run.series, 8.0)).to_dict()
    assert "slow_motion_suspected" in codes(a)
    assert a["video"]["fps"] == pytest.approx(240.0)
    # Re-timed, the step rate is the real one (2 % covers event timing at 240 fps).
    assert a["metrics"]["cadence_spm"]["value"] == pytest.approx(run.truth["cadence_spm"],
                                                                 rel=0.02)
    assert "high" not in levels(a)  # a guessed capture rate is never "high"
    assert a["assessment"]["verdict"] == "partly_judged"


def test_slowed_by_repeating_frames_keeps_the_real_frames() -> None:
    # 30 fps run, each frame written 8 times at 30 fps (as in the test clip).
    run = generate(duration_s=4.0, fps=30.0)
    a = analyze_pose(repeated_rows(run.series, 8)).to_dict()
    assert {"repeated_frames", "slow_motion_suspected"} <= set(codes(a))
    assert a["video"]["fps"] == pytest.approx(30.0)  # 240 fps file rate x 1/8 real frames
    assert a["metrics"]["cadence_spm"]["value"] == pytest.approx(run.truth["cadence_spm"],
                                                                 rel=0.03)
    assert "high" not in levels(a)


def test_slowed_clip_without_a_fitting_capture_rate_exits_with_the_option() -> None:
    run = generate(duration_s=4.0, fps=90.0)
    with pytest.raises(AnalysisError, match="--capture-fps") as exc:
        analyze_pose(stretched(run.series, 3.0))  # about 56 steps/min in file time
    assert "slow motion" in str(exc.value)
    # A capture rate given by the user that still leaves an impossible step rate: same error.
    s = stretched(run.series, 3.0)
    s = s.with_arrays(meta={**s.meta, "capture_fps": 60.0, "capture_fps_source": "user"})
    with pytest.raises(AnalysisError, match="--capture-fps"):
        analyze_pose(s)


def test_still_person_is_refused_with_no_movement() -> None:
    run = generate(duration_s=6.0)
    s = run.series
    rng = np.random.default_rng(1)
    # One frame held, with 0.5 px of jitter (a pose model's rounding noise on a still image).
    xy = np.repeat(s.xy_px[:1], s.n_frames, axis=0) + rng.normal(0, 0.5, s.xy_px.shape)
    vis = np.repeat(s.visibility[:1], s.n_frames, axis=0)
    still = s.with_arrays(xy_px=xy, visibility=vis)
    with pytest.raises(AnalysisError, match="No running movement found"):
        analyze_pose(still)
    exact = s.with_arrays(xy_px=np.repeat(s.xy_px[:1], s.n_frames, axis=0), visibility=vis)
    with pytest.raises(AnalysisError, match="No running movement found"):
        analyze_pose(exact)


# ---------------------------------------------------------------------------- findings rules
def test_rules_apply_to_running_unless_they_say_walking(tmp_path: Path) -> None:
    assert all(r.applies_to == ("running",) for r in load_rules().rules)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nid = "x"\nmetric = "cadence_spm"\nkind = "threshold"\n'
                   'direction = "low"\nmild = 100.0\ntypical_range = [100.0, 120.0]\n'
                   'source = "s"\ntitle = "t"\napplies_to = ["swimming"]\n')
    with pytest.raises(ConfigError, match="applies_to"):
        load_rules(bad)
    own = tmp_path / "walk.toml"
    own.write_text('[[rules]]\nid = "walk_slow"\nmetric = "cadence_spm"\nkind = "threshold"\n'
                   'direction = "low"\nmild = 200.0\ntypical_range = [200.0, 220.0]\n'
                   'source = "coach"\ntitle = "Slow walk"\napplies_to = ["walking"]\n')
    run = generate(duration_s=6.0)
    a = analyze_pose(run.series).to_dict()
    walking = {**a, "activity": {"label": "walking", "confidence": 0.9}}
    ids = {f["id"] for f in evaluate(walking, rules_path=own)}
    assert "walk_slow" in ids and not ids & RUNNING_RULES
    assert "walk_slow" not in {f["id"] for f in evaluate(a, rules_path=own)}


# ---------------------------------------------------------------------------- overlay
def test_overlay_never_flashes_two_strikes_nor_shows_an_impossible_cadence() -> None:
    run = generate(duration_s=3.0, fps=30.0)
    analysis = analyze_pose(run.series).to_dict()
    events = [  # a left and a right contact one frame apart, then steps 0.2 s apart
        {"foot": "left", "kind": "initial_contact", "frame": 10, "time_s": 10 / 30},
        {"foot": "right", "kind": "initial_contact", "frame": 11, "time_s": 11 / 30},
    ]
    steps = [{"ic_frame": f, "ic_time_s": f / 30, "foot": "left" if i % 2 else "right"}
             for i, f in enumerate(range(12, 80, 6))]
    walk = {**analysis, "events": events, "steps": steps,
            "activity": {"label": "walking", "confidence": 0.9}}
    painter = OverlayPainter(run.series, walk, run.series.frame_size)
    j = int(np.searchsorted(painter.ic_frames, 11, side="right")) - 1
    assert painter.ic_feet[j] == "right"  # only the latest contact (right) may flash at 11
    assert np.isnan(painter.cadence_at(60))  # 300 steps/min while walking: not shown
    assert painter.verdict_line is not None and painter.verdict_line[0] == "walking"


# ---------------------------------------------------------------------------- real clips
@pytest.fixture(scope="module")
def pose_cache() -> Iterator[None]:
    """Use a persistent pose cache for this module when GAITCHECK_TEST_POSE_CACHE is set."""
    keep = os.environ.get("GAITCHECK_TEST_POSE_CACHE")
    old = os.environ.get("GAITCHECK_CACHE_DIR")
    if keep:
        os.environ["GAITCHECK_CACHE_DIR"] = keep
    yield
    if old is not None:
        os.environ["GAITCHECK_CACHE_DIR"] = old


def real(name: str, **kw: Any) -> dict[str, Any]:
    from gaitcheck.pose import load_or_extract

    series = load_or_extract(VIDEOS / name, Config(), progress=False)
    data = analyze_pose(series, **kw).to_dict()
    jsonschema.validate(data, SCHEMA)
    return data


@needs_shared
def test_walking_clip_gets_a_walking_verdict(pose_cache: None) -> None:
    a = real("walk_side_01.mp4")
    assert a["activity"]["label"] == "walking" and "walking" in codes(a)
    findings = evaluate(a)
    assert not {f["rule_id"] for f in findings} & RUNNING_RULES
    assert "walking" in headline(a, findings)


@needs_shared
def test_rear_clip_of_low_confidence_never_reassures(pose_cache: None) -> None:
    a = real("rear_overground_overlay_01.mp4")
    assert a["assessment"]["verdict"] == "not_judged"
    head = headline(a, evaluate(a, RunnerContext(pain=("outer-hip",))))
    assert "Nothing stood out" not in head and "could not be judged" in head


@needs_shared
def test_shared_side_clip_far_leg_and_forced_rear(pose_cache: None) -> None:
    a = real("side_treadmill_01.mp4")
    assert a["quality"]["near_leg"] == "left"
    assert "far_leg" in codes(a) and a["assessment"]["verdict"] == "partly_judged"
    for key in ("overstride_pct_leg", "shank_angle_ic_deg", "knee_flexion_ic_deg"):
        assert a["metrics"][key]["confidence"]["sides"]["right"] != "high"
    asym = [f for f in evaluate(a, RunnerContext(pain=("outer-hip",)))
            if f["kind"] == "asymmetry"]
    assert all(f["confidence"]["level"] != "high" for f in asym)
    forced = real("side_treadmill_01.mp4", view="rear")
    assert forced["assessment"]["verdict"] == "not_judged" and "view_mismatch" in codes(forced)
    assert levels(forced) == {"low"}


def test_every_reason_code_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "analysis-format.md").read_text()
    for code in REASON_CODES:
        assert f"`{code}`" in doc, code
