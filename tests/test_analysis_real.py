"""The gait core on the real shared clips (skipped when ../shared is absent)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from gaitcheck.analysis import Analysis, analyze_pose
from gaitcheck.series import PoseSeries

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "gaitcheck" / "schema" / "analysis.schema.json").read_text()
)


@pytest.fixture(scope="module")
def side_analysis(side_series: PoseSeries) -> Analysis:
    return analyze_pose(side_series)


@pytest.fixture(scope="module")
def strikes(shared_dir: Path) -> dict[str, Any]:
    return json.loads((shared_dir / "videos" / "side_treadmill_01.strikes.json").read_text())


@pytest.fixture(scope="module")
def truth(shared_dir: Path) -> dict[str, Any]:
    return json.loads((shared_dir / "videos" / "side_treadmill_01.groundtruth.json").read_text())


def test_side_clip_view_and_cadence(side_analysis: Analysis, truth: dict[str, Any]) -> None:
    d = side_analysis.to_dict()
    assert d["view"]["label"] == "side-left"
    assert d["activity"]["label"] == "running"
    cad = d["metrics"]["cadence_spm"]["value"]
    assert abs(cad - truth["cadence_spm"]["value"]) <= 1.5
    assert len(d["steps"]) >= 28
    jsonschema.validate(d, SCHEMA)


def test_side_clip_contacts_match_hand_marks(
    side_analysis: Analysis, strikes: dict[str, Any]
) -> None:
    d = side_analysis.to_dict()
    fps = strikes["fps"]
    ics = np.array(sorted(e["frame"] for e in d["events"] if e["kind"] == "initial_contact"))
    marked = np.array([s["frame"] for s in strikes["strikes"]])
    nearest = ics[np.argmin(np.abs(ics[None, :] - marked[:, None]), axis=1)]
    err_ms = (nearest - marked) * 1000.0 / fps
    # The shared clip's standing result (README of ../shared/videos): every one of the 34 marked
    # contacts found within 35 ms (a frame plus rounding at 30 fps).
    assert np.all(np.abs(err_ms) <= 35), err_ms
    assert abs(err_ms.mean()) < 15
    # No extra contacts: the marks hold every contact between the first and the last one, so
    # within half a step of that span there are exactly as many detections as marks.
    half_step = 0.5 * np.median(np.diff(np.sort(marked)))
    inside = (ics >= marked.min() - half_step) & (ics <= marked.max() + half_step)
    assert inside.sum() == len(marked)
    # Feet are labelled right: each matched detection carries the marked side.
    ic_side = {e["frame"]: e["foot"] for e in d["events"] if e["kind"] == "initial_contact"}
    pairs = zip(nearest, strikes["strikes"], err_ms, strict=True)
    sides_ok = [ic_side[int(n)] == s["side"] for n, s, e in pairs if abs(e) <= 35]
    assert np.mean(sides_ok) >= 0.9


def test_side_clip_metrics_plausible(side_analysis: Analysis, truth: dict[str, Any]) -> None:
    m = side_analysis.metrics
    lo, hi = truth["physiological_bands"]["contact_time_ms"]
    ct = m["contact_time_ms"]
    assert lo <= ct["value"] <= hi
    assert ct["approximate"] is True  # 30 fps: a frame is 33 ms, over a tenth of the contact
    assert any("30 fps" in r for r in ct["confidence"]["reasons"])
    assert m["foot_strike"]["pattern"] == "rearfoot"  # all 34 hand marks are rearfoot
    # The confidence rule applied to what is known of this clip: 34 steps (7 advised), a clear
    # side view, nothing else lowers these but the ground tilt. That tilt (a reason only above
    # 7 deg) reads 5.8-7.6 deg on this clip depending on where the pose tracker restarts
    # (measured with tracking segments of 3.5-8 s and none, issue 12): it straddles the
    # threshold, so either level is right, but the tilt must be the only reason.
    for key in ("overstride_pct_leg", "shank_angle_ic_deg", "knee_flexion_ic_deg"):
        assert m[key]["left"] is not None and m[key]["right"] is not None
        conf = m[key]["confidence"]
        tilted = [r for r in conf["reasons"] if r.startswith("ground line tilted")]
        assert conf["reasons"] == tilted and len(tilted) <= 1
        level = "medium" if tilted else "high"
        assert conf["level"] == level
        # Per side: the far (right) leg, seen at visibility 0.71, is never "high"
        # (gaitcheck.confidence); the near leg keeps the metric's level.
        assert conf["sides"] == {"left": level, "right": "medium"}
    # A heel-striking runner lands with the ankle ahead of the knee and a bent, not locked, knee.
    assert 0 < m["shank_angle_ic_deg"]["value"] < 25
    assert 0 <= m["knee_flexion_ic_deg"]["value"] < 40
    assert "pelvic_drop_deg" not in m  # a side view cannot show it
    curves = side_analysis.cycles
    assert set(curves) == {"knee_flexion_deg", "hip_flexion_deg", "shank_angle_deg"}
    knee = np.array(curves["knee_flexion_deg"]["left"]["mean"])
    assert knee.shape == (101,)
    # Swing knee flexion peaks well above the contact value.
    assert knee.max() > knee[0] + 40


def test_side_clip_overstride_matches_the_hand_marked_contacts(
    side_series: PoseSeries, side_analysis: Analysis, strikes: dict[str, Any]
) -> None:
    """Overstride per foot equals the one read at the hand-marked contact frames.

    Read with the same landmarks (cleaned, unfiltered at contact, as the analysis does) at the
    marked frames, so only contact timing can separate the two. Tolerance: half a frame of belt
    travel (the marks are whole frames, the detections sub-frame, and their mean offset is held
    under 15 ms, about half a frame); strikes.json: the belt moves about 30 px a frame.
    """
    from gaitcheck.clean import clean_series
    from gaitcheck.landmarks import LEG
    from gaitcheck.metrics.side import leg_length_px

    cleaned = clean_series(side_series)
    raw = cleaned.raw_xy_px
    leg = leg_length_px(cleaned.xy_px, "left")  # the near leg (clip README: faces left)
    tol = 0.5 * 30.0 / leg * 100
    m = side_analysis.metrics["overstride_pct_leg"]
    for side in ("left", "right"):
        f = np.array([s["frame"] for s in strikes["strikes"] if s["side"] == side])
        hipmid = 0.5 * (raw[f, 23, 0] + raw[f, 24, 0])
        at_marks = float(np.nanmean(-(raw[f, LEG[side][3], 0] - hipmid) / leg * 100))
        assert abs(m[side] - at_marks) <= tol, (side, m[side], at_marks, tol)


def test_side_clip_score_tool(side_analysis: Analysis, tmp_path: Path, shared_dir: Path) -> None:
    side_analysis.write(tmp_path)
    vids = shared_dir / "videos"
    out = subprocess.run(
        [sys.executable, str(shared_dir / "tools" / "score_events.py"),
         str(tmp_path / "analysis.json"), str(vids / "side_treadmill_01.strikes.json"),
         str(vids / "side_treadmill_01.groundtruth.json")],
        capture_output=True, text=True, check=True,
    ).stdout
    # The tool's score line, e.g. "contacts within 35 ms: 100% of 34 marked | mean offset +12 ms
    # | detected 34 | cadence 168.55 (truth 168.9, error -0.3)".
    import re

    got = re.search(r"within 35 ms: (\d+)% of (\d+) marked .* detected (\d+) .* error ([-+.\d]+)",
                    out)
    assert got, out
    assert (int(got[1]), int(got[2]), int(got[3])) == (100, 34, 34)
    # groundtruth.json: pixel-measured cadence 168.9 +- 0.5 spm; the marks give 168.8.
    assert abs(float(got[4])) <= 1.0
    steps_csv = (tmp_path / "steps.csv").read_text().splitlines()
    assert steps_csv[0].startswith("index,foot,ic_frame")
    assert len(steps_csv) - 1 == len(side_analysis.steps)


@pytest.fixture(scope="module")
def walk_series(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> PoseSeries:
    from gaitcheck.config import Config
    from gaitcheck.pose import extract_pose

    return extract_pose(shared_dir / "videos" / "walk_side_01.mp4", Config(), progress=False)


def test_walking_clip_turns_and_exits(walk_series: PoseSeries) -> None:
    d = analyze_pose(walk_series).to_dict()
    cad = d["metrics"]["cadence_spm"]["value"]
    # The clip is walking (README of ../shared/videos): gaitcheck must say so, since the running
    # metrics' typical ranges do not apply, and with a walking cadence (adults walk at roughly
    # 95-135 steps/min; gaitcheck calls anything under 135 walking).
    assert d["activity"]["label"] == "walking"
    assert 95 <= cad <= 135
    jsonschema.validate(d, SCHEMA)


def test_rear_clip_reports_frontal_metrics(shared_dir: Path) -> None:
    from gaitcheck.config import Config
    from gaitcheck.pose import extract_pose

    series = extract_pose(shared_dir / "videos" / "rear_overground_overlay_01.mp4", Config(),
                          progress=False)
    d = analyze_pose(series).to_dict()
    assert d["view"]["label"] == "rear"
    # A skeleton is drawn on every frame of this clip and the feet are small (README): contacts
    # come from the pelvis rhythm, and every value must say it is uncertain.
    assert d["quality"]["event_method"] == "frontal-pelvis"
    for key in ("pelvic_drop_deg", "hip_adduction_deg"):
        m = d["metrics"][key]
        assert m["confidence"]["level"] == "low"
        assert any("pelvis rhythm" in r for r in m["confidence"]["reasons"])
    # Physical bounds of 2D running kinematics, far outside any typical range: pelvic drop
    # beyond 15 deg or hip adduction beyond 30 deg would mean the wrong landmarks were read.
    assert abs(d["metrics"]["pelvic_drop_deg"]["value"]) <= 15
    assert -10 <= d["metrics"]["hip_adduction_deg"]["value"] <= 30
    assert "overstride_pct_leg" not in d["metrics"]
    jsonschema.validate(d, SCHEMA)
