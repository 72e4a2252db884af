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
    # Shin angle measured at about 8.7 deg against the 8 and 12 deg band edges: within the
    # 6 deg 2D error (Van Hooren 2023) of both.
    run = generate(duration_s=8.0, shank_angle_ic_deg=14.0, far_visibility=0.95,
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


# ---------------------------------------------------------------------------- real variants
FFMPEG_FILTERS = {
    # name: (seconds of the side clip, ffmpeg video filter)
    "upside_down": (3.0, "hflip,vflip"),  # turned 180 deg, no rotation tag
    "sideways": (3.0, "transpose=1"),  # turned 90 deg clockwise, portrait tag removed
    "frozen": (3.0, "select=eq(n\\,40),loop=89:1:0,setpts=N/30/TB"),  # one picture held
    "slowed8": (2.0, "setpts=8*PTS"),  # each frame written 8 times at 30 fps (240 fps capture)
    "two_people": (3.0, "split[a][b];[a][b]hstack"),  # the clip beside itself
}


def make_variant(src: Path, out: Path, seconds: float, vf: str) -> Path:
    """Re-encode the first ``seconds`` of ``src`` through an ffmpeg filter (30 fps, H.264)."""
    import subprocess

    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-t", str(seconds),
           "-i", str(src), "-vf", vf, "-r", "30", "-c:v", "libx264", "-crf", "20",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-threads", "1", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def variants(side_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("variants")
    return {name: make_variant(side_clip, folder / f"{name}.mp4", sec, vf)
            for name, (sec, vf) in FFMPEG_FILTERS.items()}


def analyse_clip(path: Path, **pose: Any) -> tuple[PoseSeries, dict[str, Any]]:
    from gaitcheck.config import load_config
    from gaitcheck.pose import load_or_extract

    series = load_or_extract(path, load_config(None, {"pose": pose}), progress=False)
    data = analyze_pose(series).to_dict()
    jsonschema.validate(data, SCHEMA)
    return series, data


@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize("name,turn", [("upside_down", 180), ("sideways", 270)])
def test_turned_picture_is_set_upright_before_measuring(
    variants: dict[str, Path], pose_cache: None, name: str, turn: int
) -> None:
    series, a = analyse_clip(variants[name])
    assert series.meta["turn_deg"] == turn
    assert series.frame_size == (720, 1280)  # the upright portrait picture
    assert "orientation" in codes(a) and a["assessment"]["verdict"] != "not_judged"
    # Upright again, the measures agree with the upright clip's (168.9 steps/min measured from
    # pixels; trunk lean about 2 deg on the full clip, far from the 123 deg seen upside down).
    assert a["metrics"]["cadence_spm"]["value"] == pytest.approx(168.9, abs=5.0)
    assert abs(a["metrics"]["trunk_lean_deg"]["value"]) < 10.0
    assert a["view"]["label"] == "side-left"


@needs_shared
@pytest.mark.slow
def test_frozen_picture_is_refused(variants: dict[str, Path], pose_cache: None) -> None:
    from gaitcheck.pose import load_or_extract

    series = load_or_extract(variants["frozen"], Config(), progress=False)
    assert len(series.meta["repeated_frames"]) >= series.n_frames - 2
    with pytest.raises(AnalysisError, match="No running movement found"):
        analyze_pose(series)


@needs_shared
@pytest.mark.slow
def test_slowed_clip_with_and_without_capture_fps(variants: dict[str, Path],
                                                  pose_cache: None) -> None:
    _, guessed = analyse_clip(variants["slowed8"])
    assert "slow_motion_suspected" in codes(guessed)
    assert guessed["metrics"]["cadence_spm"]["value"] == pytest.approx(168.9, abs=5.0)
    assert "high" not in levels(guessed)
    _, told = analyse_clip(variants["slowed8"], capture_fps=240.0)
    assert "slow_motion_suspected" not in codes(told)
    assert told["metrics"]["cadence_spm"]["value"] == pytest.approx(168.9, abs=5.0)
    # Each picture appears 8 times: only the real ones count, at about 30 real frames/s.
    assert "repeated_frames" in codes(told)
    assert told["video"]["fps"] == pytest.approx(30.0, rel=0.05)


@needs_shared
@pytest.mark.slow
def test_two_people_are_noted(variants: dict[str, Path], pose_cache: None) -> None:
    series, a = analyse_clip(variants["two_people"])
    assert series.meta["people_max"] == 2
    assert "multiple_people" in codes(a) and a["assessment"]["verdict"] == "partly_judged"
    assert "high" not in levels(a)


def test_capture_rate_is_read_from_phone_metadata(side_clip: Path, tmp_path: Path) -> None:
    import subprocess

    import imageio_ffmpeg

    from gaitcheck.video import capture_fps_from_tags, probe

    assert capture_fps_from_tags({"com.android.capture.fps": "240.000000"}) == 240.0
    assert capture_fps_from_tags({"com.example.capture_fps": "120"}) == 120.0
    assert capture_fps_from_tags({"encoder": "Lavf"}) is None
    tagged = tmp_path / "tagged.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-i", str(side_clip),
                    "-t", "1", "-c", "copy", "-movflags", "use_metadata_tags", "-metadata",
                    "com.android.capture.fps=240.000000", str(tagged)], check=True)
    assert probe(tagged).capture_fps_tag == 240.0
    assert probe(side_clip).capture_fps_tag is None
    from gaitcheck.pose import load_or_extract

    series = load_or_extract(tagged, Config(), progress=False)  # 30 frames: a few seconds
    assert series.meta["capture_fps_source"] == "metadata" and series.fps == 240.0
    # Frames 1/30 s apart in the file are 1/240 s apart in real time.
    assert np.diff(series.time_s).mean() == pytest.approx(1 / 240, rel=1e-3)


def test_scattered_steps_cap_an_angle_at_medium() -> None:
    from gaitcheck.confidence import ANGLE_ERROR_DEG, cap_by_spread

    def metric(sd: float, unit: str = "deg") -> dict[str, Any]:
        return {"unit": unit, "sd": sd, "confidence": {
            "level": "high", "reasons": [], "sides": {"left": "high", "right": "high"}}}

    ms = {"a": metric(2 * ANGLE_ERROR_DEG + 0.1), "b": metric(2 * ANGLE_ERROR_DEG - 0.1),
          "c": metric(50.0, unit="% leg")}
    assert cap_by_spread(ms) == ["a"]
    assert ms["a"]["confidence"]["level"] == "medium"
    assert set(ms["a"]["confidence"]["sides"].values()) == {"medium"}
    assert ms["b"]["confidence"]["level"] == ms["c"]["confidence"]["level"] == "high"


# ---------------------------------------------------------------------------- what people see
def test_terminal_leads_with_the_verdict_and_red_flags_change_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gaitcheck.cli import main

    assert main(["demo", "-o", str(tmp_path / "a"), "--no-plots"]) == 0
    plain = capsys.readouterr().out
    assert plain.startswith("VERDICT: ")
    assert "Findings, most important first:" in plain and "Capture notes:" in plain
    assert "Step rate (cadence)" in plain and "cadence_spm" not in plain
    assert "SEE A PROFESSIONAL" not in plain
    assert main(["demo", "-o", str(tmp_path / "b"), "--no-plots", "--red-flag",
                 "night-pain"]) == 0
    flagged = capsys.readouterr().out
    lines = flagged.splitlines()
    # Red flags come first, before the verdict (issue 13: red flags always first).
    assert lines[0].startswith("SEE A PROFESSIONAL")
    assert any(x.startswith("VERDICT: ") for x in lines[1:8])


def test_reports_are_titled_by_activity_and_never_reassure_when_not_judged(
    clean_run: Any,
) -> None:
    from gaitcheck.assessment import assess, reason
    from gaitcheck.report import render_html, render_markdown

    a = analyze_pose(clean_run.series).to_dict()
    walking = {**a, "activity": {"label": "walking", "confidence": 0.9}}
    walking["assessment"] = assess(walking, [reason("walking", "The step rate reads as "
                                                               "walking.")])
    f = evaluate(walking)
    html = render_html(walking, f)
    assert "gaitcheck walking gait report" in html and "running gait report" not in html
    md = render_markdown(walking, f)
    assert md.startswith("# Walking gait check") and "Step rate:" not in md
    forced = analyze_pose(clean_run.series, view="rear").to_dict()
    f = evaluate(forced)
    for text in (render_html(forced, f), render_markdown(forced, f)):
        assert "could not be judged" in text and "Nothing" not in text
    assert "What to work on" not in render_markdown(forced, f)


def test_a_skeleton_jumping_between_people_is_noted(clean_run: Any) -> None:
    s = clean_run.series
    assert motion.identity_jumps(s.xy_px, s.time_s) == 0
    # From the middle on, the pose belongs to someone 3 leg lengths to the right.
    leg = clean_run.truth["leg_length_px"]
    xy = s.xy_px.copy()
    xy[s.n_frames // 2:, :, 0] += 3 * leg
    jumped = s.with_arrays(xy_px=xy, frame_size=(s.frame_size[0] + int(3 * leg) + 1,
                                                 s.frame_size[1]))
    assert motion.identity_jumps(jumped.xy_px, jumped.time_s) == 1
    a = analyze_pose(jumped).to_dict()
    assert "multiple_people" in codes(a) and "high" not in levels(a)
