"""Gait events (``gaitcheck.events``) against the synthetic runner's exact contacts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gaitcheck.analysis import analyze_pose
from gaitcheck.clean import clean_series, pulldown_repeats
from gaitcheck.events import Events, _rhythm_check, detect_frontal_events, detect_side_events
from gaitcheck.metrics.steps import build_steps, cadence_spm
from gaitcheck.series import PoseSeries
from gaitcheck.synthetic import SyntheticRun, generate

SIDES = ("left", "right")


def _side_events(run: SyntheticRun) -> Events:
    """Side events exactly as ``analyze_pose`` calls them (with the event-sharp landmarks)."""
    cleaned = clean_series(run.series)
    return detect_side_events(cleaned.xy_px, run.series.time_s, run.params.facing,
                              xy_sharp=cleaned.event_xy_px)


def _nearest_offsets(truth: np.ndarray, detected: np.ndarray) -> np.ndarray:
    """Detected minus nearest true time, seconds."""
    j = np.abs(detected[:, None] - truth[None, :]).argmin(axis=1)
    return np.asarray(detected - truth[j])


def _all_true_to(run: SyntheticRun, side: str) -> np.ndarray:
    """Every toe-off of the model, also those just after the clip (IC + contact time)."""
    return np.asarray(run.truth["ic_times_s"][side] + run.params.contact_time_s)


def _runs(treadmill: bool, fps: float) -> SyntheticRun:
    return generate(fps=fps, treadmill=treadmill, duration_s=6.0 if treadmill else 3.0,
                    noise_px=0.5, seed=5)


CASES = [(tm, fps) for tm in (True, False) for fps in (30.0, 60.0, 120.0)]
IDS = [f"{'treadmill' if tm else 'overground'}-{fps:g}fps" for tm, fps in CASES]


@pytest.mark.parametrize(("treadmill", "fps"), CASES, ids=IDS)
def test_side_ic_count_matches_truth(treadmill: bool, fps: float) -> None:
    run = _runs(treadmill, fps)
    ev = _side_events(run)
    # The model's heel still falls at 0.7 m/s when it stops moving forward (5 ms before
    # touchdown on a treadmill; overground its speed halves just before touchdown): a foot still
    # falling at the stop takes the retraction path, treadmill or overground.
    assert ev.method == "side-retraction"
    for side in SIDES:
        truth = run.truth["ic_times_s"][side]
        det = ev.ic_time_s[side]
        assert abs(det.size - truth.size) <= 1, side
        # a missing contact may only be the first or last one of the clip
        t = run.series.time_s
        inner = truth[(truth > t[0] + 0.25) & (truth < t[-1] - 0.25)]
        assert np.min(np.abs(inner[:, None] - det[None, :]), axis=1).max() < 0.06, side


@pytest.mark.parametrize(("treadmill", "fps"), CASES, ids=IDS)
def test_side_ic_timing(treadmill: bool, fps: float) -> None:
    """Every IC within one frame period + 20 ms of the true contact (first touch of the heel)."""
    run = _runs(treadmill, fps)
    ev = _side_events(run)
    tol = 1.0 / fps + 0.020
    for side in SIDES:
        off = _nearest_offsets(run.truth["ic_times_s"][side], ev.ic_time_s[side])
        assert np.abs(off).max() <= tol, (
            f"{side}: IC offsets {np.round(1000 * off, 1).tolist()} ms, tolerance "
            f"{1000 * tol:.1f} ms"
        )


@pytest.mark.parametrize(("treadmill", "fps"), CASES, ids=IDS)
def test_side_toe_off_timing(treadmill: bool, fps: float) -> None:
    """Every reported TO is within 40 ms of a true toe-off; most ICs get one."""
    run = _runs(treadmill, fps)
    ev = _side_events(run)
    for side in SIDES:
        to = ev.to_time_s[side]
        found = to[np.isfinite(to)]
        assert found.size >= ev.ic_time_s[side].size - 1
        off = _nearest_offsets(_all_true_to(run, side), found)
        assert np.abs(off).max() <= 0.040, (
            f"{side}: TO offsets {np.round(1000 * off, 1).tolist()} ms"
        )


@pytest.mark.parametrize("treadmill", [True, False])
def test_ground_velocity_and_frames(treadmill: bool) -> None:
    run = _runs(treadmill, 60.0)
    ev = _side_events(run)
    belt_px_s = run.truth["speed_mps"] * run.truth["px_per_m"]
    if treadmill:
        # the belt carries the stance foot backward at the running speed
        assert ev.ground_velocity_px_s == pytest.approx(-belt_px_s, rel=0.1)
    else:
        assert abs(ev.ground_velocity_px_s) < 0.05 * belt_px_s
    t = run.series.time_s
    for side in SIDES:
        np.testing.assert_array_less(np.abs(t[ev.ic_frame[side]] - ev.ic_time_s[side]),
                                     0.5 / 60.0 + 1e-9)


def test_side_events_mirror_invariant() -> None:
    """A side-right runner and its mirror image (side-left) give the same event times."""
    run = generate(view="side-right", duration_s=6.0, noise_px=0.5, seed=2)
    ev = _side_events(run)
    m = run.mirrored(swap_labels=False)
    cleaned = clean_series(m.series)
    ev_m = detect_side_events(cleaned.xy_px, m.series.time_s, -1, xy_sharp=cleaned.event_xy_px)
    for side in SIDES:
        np.testing.assert_allclose(ev_m.ic_time_s[side], ev.ic_time_s[side], atol=1e-6)


def test_dropout_hole_in_the_middle_keeps_events_on_both_sides() -> None:
    run = generate(fps=60.0, duration_s=8.0, noise_px=0.5, seed=3)
    series = run.series
    t = series.time_s
    hole = (t >= 3.5) & (t < 4.3)  # 0.8 s without a pose: longer than any fillable gap
    xy = series.xy_px.copy()
    vis = series.visibility.copy()
    xy[hole] = np.nan
    vis[hole] = 0.0
    holed = series.with_arrays(xy_px=xy, visibility=vis)
    cleaned = clean_series(holed)
    assert np.isnan(cleaned.xy_px[hole]).all()
    ev = detect_side_events(cleaned.xy_px, t, -1, xy_sharp=cleaned.event_xy_px)
    for side in SIDES:
        truth = run.truth["ic_times_s"][side]
        det = ev.ic_time_s[side]
        assert not ((det > 3.5) & (det < 4.3)).any()  # nothing invented in the hole
        for lo, hi in ((0.3, 3.3), (4.5, 7.7)):
            want = truth[(truth > lo) & (truth < hi)]
            got = det[(det > lo - 0.1) & (det < hi + 0.1)]
            assert got.size >= want.size >= 3, (side, lo, hi)
            assert np.abs(_nearest_offsets(truth, got)).max() < 0.06
    steps = build_steps(ev)
    assert steps.valid.sum() >= 14  # the steps across the hole are the only ones lost


@pytest.mark.parametrize("view", ["rear", "front"])
@pytest.mark.parametrize("fps", [30.0, 60.0, 120.0])
def test_frontal_events(view: str, fps: float) -> None:
    run = generate(view=view, fps=fps, duration_s=6.0, noise_px=0.5, seed=1)
    cleaned = clean_series(run.series)
    ev = detect_frontal_events(cleaned.xy_px, run.series.time_s, xy_sharp=cleaned.event_xy_px)
    assert ev.method == "frontal-vertical"
    tol = 1.0 / fps + 0.020
    for side in SIDES:
        truth = run.truth["ic_times_s"][side]
        det = ev.ic_time_s[side]
        assert abs(det.size - truth.size) <= 1, side
        off = _nearest_offsets(truth, det)
        assert np.abs(off).max() <= tol, np.round(1000 * off, 1).tolist()
        to = ev.to_time_s[side]
        found = to[np.isfinite(to)]
        assert found.size >= det.size - 1
        assert np.abs(_nearest_offsets(_all_true_to(run, side), found)).max() <= 0.040
    steps = build_steps(ev)
    # The reported cadence (steps over elapsed time): a per-foot timing bias cancels in it.
    assert cadence_spm(steps)[0] == pytest.approx(170.0, rel=0.01)


@pytest.mark.parametrize("approach_s", [0.03, 0.05, 0.07])
def test_frontal_contacts_hold_across_the_approach_window(
    approach_s: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The basis of ``FRONTAL_APPROACH_S`` (0.05 s): from 0.03 to 0.07 s every rear/front
    contact stays within the frontal promise, max(1.5 frames, 30 ms), at 30-240 fps, on
    runners with up to 1.5 px of landmark noise."""
    from gaitcheck import events

    monkeypatch.setattr(events, "FRONTAL_APPROACH_S", approach_s)
    for fps in (30.0, 60.0, 120.0, 240.0):
        for view, noise, seed in (("rear", 1.5, 4), ("front", 1.0, 8)):
            run = generate(view=view, fps=fps, duration_s=6.0, noise_px=noise, seed=seed,
                           cadence_spm=175.0, duty_factor=0.33)
            cleaned = clean_series(run.series)
            ev = detect_frontal_events(cleaned.xy_px, run.series.time_s,
                                       xy_sharp=cleaned.event_xy_px)
            t = run.series.time_s
            for side in SIDES:
                truth = run.truth["ic_times_s"][side]
                inner = truth[(truth > t[0] + 0.3) & (truth < t[-1] - 0.3)]
                err = np.abs(inner[:, None] - ev.ic_time_s[side][None, :]).min(axis=1)
                assert err.max() <= max(1.5 / fps, 0.030), (fps, view, side, err.max())


# --- Real series with hand-marked contacts (../shared/landmarks) ---------------------------------

LANDMARKS = Path(__file__).resolve().parents[1].parent / "shared" / "landmarks"
REAL_SERIES = ("treadmill_runner_a_1", "treadmill_runner_a_2", "treadmill_runner_d_1",
               "treadmill_runner_d_2")


def _real(name: str) -> tuple[dict, dict]:
    """(analysis dict, hand marks) of one shared series; skips when the series is absent."""
    pose = LANDMARKS / f"{name}.pose.npz"
    if not pose.is_file():
        pytest.skip(f"{pose} not available")
    analysis = json.loads(analyze_pose(PoseSeries.load(pose)).to_json())
    marks = json.loads((LANDMARKS / f"{name}.strikes.json").read_text())
    return analysis, marks


@pytest.mark.parametrize("name", REAL_SERIES)
def test_real_contacts_match_hand_marks(name: str) -> None:
    """Contacts of runners whose feet retract before landing, scored like score_events.py.

    Basis: the hand marks (frame the shoe reaches belt level, README in ../shared/landmarks) and
    the scoring tolerance of 35 ms; issue 7 asks >= 90 % within it on every clip, |mean offset|
    <= 10 ms, no extra or missed contacts and cadence within 1 step/min of the marks.
    """
    analysis, marks = _real(name)
    fps = float(marks["fps"])
    ics = np.array(sorted(e["frame"] for e in analysis["events"]
                          if e["kind"] == "initial_contact"))
    marked = np.array([m["frame"] for m in marks["strikes"]])
    err_ms = (ics[np.abs(ics[None, :] - marked[:, None]).argmin(axis=1)] - marked) * 1000 / fps
    assert np.mean(np.abs(err_ms) <= 35) >= 0.90, err_ms.tolist()
    assert abs(err_ms.mean()) <= 10, err_ms.tolist()
    # The marks cover every contact the video shows (edges excluded only where unconfirmable).
    assert ics.size == marked.size
    cadence = analysis["metrics"]["cadence_spm"]["value"]
    assert abs(cadence - marks["cadence_spm"]) <= 1.0
    assert analysis["quality"]["event_method"] == "side-retraction"


def test_shared_clip_is_not_taken_for_retraction(side_series: PoseSeries) -> None:
    """On the shared clip the shoe stops moving forward at belt level (its marking notes): the
    clip keeps the stop rule, whose 34/34 score test_analysis_real checks."""
    analysis = json.loads(analyze_pose(side_series).to_json())
    assert analysis["quality"]["event_method"] == "side-horizontal"
    assert analysis["quality"]["contacts_dropped"] == 0


def test_pulldown_repeats_on_real_telecine() -> None:
    """Runner A's clips are 24 fps footage in 30 fps files, every 5th frame a repeat (marking
    notes: frames 5, 10, 15, ...); runner D's are native 30 fps."""
    for name, expect in (("treadmill_runner_a_1", True), ("treadmill_runner_d_1", False)):
        pose = LANDMARKS / f"{name}.pose.npz"
        if not pose.is_file():
            pytest.skip(f"{pose} not available")
        mask = pulldown_repeats(PoseSeries.load(pose).xy_px)
        if expect:
            frames = np.flatnonzero(mask)
            assert frames.size > 0 and np.all(frames % 5 == 0)
            # every inner cycle is found (first and last frame cannot be judged)
            assert frames.size >= (mask.size - 2) // 5
        else:
            assert not mask.any()


@pytest.mark.parametrize("period", [5, 6])
def test_pulldown_repeats_synthetic(period: int) -> None:
    """A repeat at one phase of a 5- (24->30 fps) or 6-frame (25->30) cycle is found exactly;
    the plain run is left alone. The repeat keeps a third of the motion (what the pose
    model's temporal filter leaves on a repeated picture, runner A's clips)."""
    run = generate(fps=30.0, treadmill=True, duration_s=4.0, noise_px=0.5, seed=3)
    xy = run.series.xy_px.copy()
    assert not pulldown_repeats(xy).any()
    rep = np.arange(2, xy.shape[0] - 1, period)
    xy[rep] = xy[rep - 1] + (xy[rep] - xy[rep - 1]) / 3.0
    assert np.array_equal(np.flatnonzero(pulldown_repeats(xy)), rep)


def test_rhythm_check_drops_spurious_contact() -> None:
    """A contact 0.1 s after another (a third of a 0.35 s step, impossible in running) and
    of the same foot is dropped and counted; a clean alternating series is left unchanged."""
    step = 0.35
    left = np.arange(10) * 2 * step
    right = left + step
    to = {"left": left + 0.2, "right": right + 0.2}
    ic, _, dropped = _rhythm_check({"left": left, "right": right}, to)
    assert dropped == 0 and np.array_equal(ic["left"], left)
    bad = np.sort(np.append(left, left[4] + 0.1))
    ic, to_out, dropped = _rhythm_check(
        {"left": bad, "right": right}, {"left": bad + 0.2, "right": right + 0.2})
    assert dropped == 1
    assert np.allclose(ic["left"], left) and np.allclose(ic["right"], right)
    assert to_out["left"].size == left.size
