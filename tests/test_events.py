"""Gait events (``gaitcheck.events``) against the synthetic runner's exact contacts."""

from __future__ import annotations

import numpy as np
import pytest

from gaitcheck.clean import clean_series
from gaitcheck.events import Events, detect_frontal_events, detect_side_events
from gaitcheck.metrics.steps import build_steps, cadence_spm
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
    assert ev.method == "side-horizontal"
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
