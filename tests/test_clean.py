"""Landmark cleaning (``gaitcheck.clean``): swap repair, Hampel, gap filling, low-pass."""

from __future__ import annotations

import numpy as np
import pytest

from gaitcheck.clean import (
    clean_series,
    fill_gaps,
    hampel,
    lowpass,
    repair_collapses,
    repair_swaps,
)
from gaitcheck.landmarks import LEG, swap_permutation
from gaitcheck.series import PoseSeries
from gaitcheck.synthetic import generate

LEG_IDS = list(range(25, 33))  # knees, ankles, heels, toes


def _sine(fps: float, freq_hz: float, seconds: float = 8.0, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(round(seconds * fps))) / fps
    return np.asarray(np.sin(2 * np.pi * freq_hz * t + phase))


def _gain(fps: float, freq_hz: float, cutoff_hz: float = 6.0) -> float:
    """Amplitude ratio of a low-passed sine, measured away from the ends."""
    s = _sine(fps, freq_hz)
    out = lowpass(s[:, None], fps, cutoff_hz, 4)[:, 0]
    mid = slice(s.size // 4, 3 * s.size // 4)
    return float(np.ptp(out[mid]) / np.ptp(s[mid]))


# ---------------------------------------------------------------- swap repair
def _wrong_frames(xy: np.ndarray, truth: np.ndarray, tol_px: float = 5.0) -> np.ndarray:
    err = np.abs(xy[:, LEG_IDS] - truth[:, LEG_IDS]).max(axis=(1, 2))
    return np.flatnonzero(err > tol_px)


def test_repair_swaps_hand_built_series() -> None:
    """Two legs far apart in x, moving slowly: a 3-frame label swap is undone exactly."""
    n, fps = 120, 60.0
    t = np.arange(n) / fps
    xy = np.zeros((n, 33, 2))
    xy[:, 23] = [300, 400]
    xy[:, 24] = [300, 400]
    for lm, x0 in ((25, 200), (27, 180), (29, 170), (31, 230)):   # left leg
        xy[:, lm, 0] = x0 + 10 * np.sin(2 * np.pi * t)
        xy[:, lm, 1] = 550 + 150 * (lm > 25)
    for lm, x0 in ((26, 420), (28, 440), (30, 430), (32, 490)):   # right leg, 220 px away
        xy[:, lm, 0] = x0 + 10 * np.cos(2 * np.pi * t)
        xy[:, lm, 1] = 550 + 150 * (lm > 26)
    vis = np.tile(np.linspace(0.5, 0.9, 33), (n, 1))
    bad = xy.copy()
    bad[50:53] = bad[50:53][:, swap_permutation()]
    vbad = vis.copy()
    vbad[50:53] = vbad[50:53][:, swap_permutation()]
    out, vout, _ = repair_swaps(bad, vbad, fps)
    np.testing.assert_allclose(out[:, LEG_IDS], xy[:, LEG_IDS])
    np.testing.assert_allclose(vout[:, LEG_IDS], vis[:, LEG_IDS])  # visibility follows


def test_repair_swaps_rear_view_synthetic() -> None:
    run = generate(view="rear", duration_s=6.0, n_swaps=6, noise_px=0.5, seed=1)
    swapped = run.truth["swap_frames"]
    assert swapped.size == 18
    assert _wrong_frames(run.series.xy_px, run.clean_xy_px).size >= 15  # the swaps are real
    out, _, _ = repair_swaps(run.series.xy_px, run.series.visibility, run.series.fps)
    assert _wrong_frames(out, run.clean_xy_px).tolist() == []


def test_repair_swaps_counts_every_repaired_frame() -> None:
    """``swap_frames_repaired`` counts frames relabelled; knees and feet fixed in the same frame
    are one repaired frame, not zero."""
    run = generate(view="rear", duration_s=6.0, n_swaps=6, noise_px=0.5, seed=1)
    out, _, n_fixed = repair_swaps(run.series.xy_px, run.series.visibility, run.series.fps)
    n_changed = int(np.any(out != run.series.xy_px, axis=(1, 2)).sum())
    assert n_changed == 18
    assert n_fixed == n_changed


@pytest.mark.parametrize("fps", [30.0, 60.0, 120.0])
def test_repair_swaps_side_view_synthetic(fps: float) -> None:
    """Short (3-frame) identity swaps on a side view are undone and no other frame changes."""
    run = generate(fps=fps, duration_s=6.0, n_swaps=6, noise_px=0.5, seed=0)
    swapped = set(run.truth["swap_frames"].tolist())
    out, _, _ = repair_swaps(run.series.xy_px, run.series.visibility, fps)
    wrong = _wrong_frames(out, run.clean_xy_px)
    assert wrong.tolist() == [], (
        f"still/newly mislabelled frames {wrong.tolist()} (injected swaps {sorted(swapped)})"
    )


@pytest.mark.parametrize("fps", [30.0, 60.0, 240.0])
def test_repair_swaps_leaves_a_swap_free_series_alone(fps: float) -> None:
    run = generate(fps=fps, duration_s=4.0)
    out, vis, n_fixed = repair_swaps(run.series.xy_px, run.series.visibility, fps)
    changed = np.flatnonzero(np.any(out != run.series.xy_px, axis=(1, 2)))
    assert changed.tolist() == [] and n_fixed == 0


def test_repair_swaps_never_flips_a_long_stretch() -> None:
    """A 2.5 s stretch of swapped labels is not 'repaired' (it is the track's identity there),
    and nothing far from its ends changes."""
    run = generate(duration_s=8.0, noise_px=0.5, seed=2)
    xy = run.series.xy_px.copy()
    xy[200:350] = xy[200:350][:, swap_permutation()]
    out, _, n_fixed = repair_swaps(xy, run.series.visibility, 60.0)
    changed = np.flatnonzero(np.any(out != xy, axis=(1, 2)))
    inside = changed[(changed >= 203) & (changed < 347)]
    assert inside.tolist() == []
    assert n_fixed <= 12


# ---------------------------------------------------------------- Hampel
def test_hampel_removes_spikes_and_keeps_the_rest() -> None:
    fps = 60.0
    s = 50.0 * _sine(fps, 2.8, 5.0, phase=np.pi / 2) + 300.0
    xy = np.stack([s, s[::-1]], axis=-1)[:, None, :].repeat(3, axis=1)  # (n, 3, 2)
    spiky = xy.copy()
    spikes = [(40, 0, 0), (41, 1, 1), (150, 2, 0), (220, 0, 1)]
    for f, k, c in spikes:
        spiky[f, k, c] += 250.0
    out, n_removed = hampel(spiky, int(round(0.1 * fps)), 3.0)
    assert n_removed == len(spikes)
    for f, k, _ in spikes:
        assert np.isnan(out[f, k]).all()  # the whole point goes, both coordinates
    keep = np.isfinite(out)
    np.testing.assert_array_equal(out[keep], spiky[keep])
    assert int((~keep).sum()) == 2 * len(spikes)


@pytest.mark.parametrize("phase", [0.0, 0.7, np.pi / 2, 2.0])
def test_hampel_keeps_a_clean_sine_including_its_ends(phase: float) -> None:
    """A clean 2.8 Hz sine (step rhythm) at 60 fps has no outlier anywhere."""
    s = 100.0 * _sine(60.0, 2.8, 10.0, phase)
    out, n_removed = hampel(s[:, None], 6, 3.0)
    assert n_removed == 0
    np.testing.assert_array_equal(out[:, 0], s)


def test_hampel_short_series_untouched() -> None:
    x = np.array([[0.0], [100.0], [0.0]])
    out, n = hampel(x, 3, 3.0)
    assert n == 0 and np.array_equal(out, x)


@pytest.mark.parametrize("kw", [{}, {"fps": 30.0}, {"view": "rear"},
                                {"treadmill": False, "duration_s": 3.0}])
def test_clean_series_of_noise_free_runner_changes_nothing(kw: dict[str, object]) -> None:
    """Noise-free, swap-free landmarks: no outlier, no swap, no NaN, and the filtered tracks
    follow the truth: typically within half a pixel, and within 3 px even at the sharpest corner
    (the foot's abrupt stop at impact, which a 10 Hz low-pass rounds by 2-3 px; contact values
    are therefore read from the unfiltered landmarks)."""
    run = generate(**kw)
    res = clean_series(run.series)
    nan_frames = np.flatnonzero(np.isnan(res.xy_px).any(axis=(1, 2))).tolist()
    assert (res.outliers_removed, res.swap_frames_repaired, nan_frames) == (0, 0, [])
    err = np.abs(res.xy_px - run.clean_xy_px)[:, LEG_IDS]
    assert float(np.median(err)) < 0.5
    assert float(np.percentile(err, 99)) < 3.0


def test_clean_series_reduces_noise_and_fills_dropouts() -> None:
    run = generate(duration_s=6.0, noise_px=2.0, dropout_share=0.05, dropout_run_frames=2,
                   seed=4)
    res = clean_series(run.series)
    drops = run.truth["dropout_frames"]
    assert drops.size > 0
    interior = drops[(drops > 2) & (drops < run.series.n_frames - 3)]
    assert np.isfinite(res.xy_px[interior]).all()   # 2-frame gaps <= 0.1 s are filled
    assert res.gap_frames_filled >= 33 * interior.size
    ok = np.isfinite(res.xy_px).all(axis=(1, 2))
    raw_err = np.nanmedian(np.abs(run.series.xy_px - run.clean_xy_px)[:, 11:])
    err = np.median(np.abs(res.xy_px[ok] - run.clean_xy_px[ok])[:, 11:])
    assert err < 0.7 * raw_err


# ---------------------------------------------------------------- gap filling
def test_fill_gaps_only_short_interior_gaps() -> None:
    x = np.arange(30, dtype=float) * 2.0
    x[[0, 1]] = np.nan            # leading: never filled
    x[5:7] = np.nan               # 2 frames: filled
    x[10:13] = np.nan             # 3 frames: filled (== max_gap)
    x[17:21] = np.nan             # 4 frames: left
    x[28:] = np.nan               # trailing: never filled
    out, n = fill_gaps(x[:, None], 3)
    out = out[:, 0]
    assert n == 5
    np.testing.assert_allclose(out[5:7], [10.0, 12.0])
    np.testing.assert_allclose(out[10:13], [20.0, 22.0, 24.0])
    assert np.isnan(out[[0, 1, 17, 18, 19, 20, 28, 29]]).all()
    keep = np.isfinite(x)
    np.testing.assert_array_equal(out[keep], x[keep])


def test_fill_gaps_counts_landmark_frames() -> None:
    xy = np.tile(np.arange(10.0)[:, None, None], (1, 2, 2))
    xy[4, 0] = np.nan             # one landmark-frame, both coordinates
    xy[6, 1, 0] = np.nan          # one coordinate of another
    out, n = fill_gaps(xy, 2)
    assert n == 2
    np.testing.assert_allclose(out, np.tile(np.arange(10.0)[:, None, None], (1, 2, 2)))


# ---------------------------------------------------------------- low-pass
def test_lowpass_passes_2hz_and_attenuates_12hz_at_60fps() -> None:
    assert _gain(60.0, 2.0) == pytest.approx(1.0, abs=0.02)
    assert _gain(60.0, 12.0) < 0.1


def test_lowpass_is_zero_phase() -> None:
    fps = 60.0
    s = _sine(fps, 2.0)
    out = lowpass(s[:, None], fps, 6.0, 4)[:, 0]
    mid = slice(s.size // 8, 7 * s.size // 8)
    # a lag of a single frame would leave an error of 0.2 here
    assert float(np.max(np.abs(out[mid] - s[mid]))) < 0.02
    t = np.arange(600) / fps
    pulse = np.exp(-0.5 * ((t - 5.0) / 0.15) ** 2)
    assert t[np.argmax(lowpass(pulse, fps, 6.0, 4))] == pytest.approx(5.0, abs=0.5 / fps)


@pytest.mark.parametrize("fps", [30.0, 60.0, 120.0, 240.0])
def test_lowpass_cutoff_is_in_real_hz(fps: float) -> None:
    """The same real-Hz response at every capture rate: -6 dB (zero-phase) at the cut-off.

    (At 30 fps the cut-off is 0.4 x Nyquist, where the digital Butterworth's shape is slightly
    warped, hence 0.05 between rates at 4 Hz.)"""
    assert _gain(fps, 2.0) == pytest.approx(1.0, abs=0.02)
    assert _gain(fps, 6.0) == pytest.approx(0.5, abs=0.03)
    assert _gain(fps, 4.0) == pytest.approx(_gain(240.0, 4.0), abs=0.05)
    assert _gain(fps, 10.0) < 0.2


def test_lowpass_keeps_nan_runs_nan() -> None:
    fps = 60.0
    s = _sine(fps, 2.0)
    x = s.copy()
    x[200:215] = np.nan
    out = lowpass(x[:, None], fps, 6.0, 4)[:, 0]
    assert np.isnan(out[200:215]).all()
    assert np.isfinite(np.delete(out, np.arange(200, 215))).all()
    far = np.r_[60:180, 240:420]
    assert float(np.max(np.abs(out[far] - s[far]))) < 0.02
    # an all-NaN column stays NaN, the others are filtered
    two = np.stack([s, np.full_like(s, np.nan)], axis=-1)
    out2 = lowpass(two, fps, 6.0, 4)
    assert np.isnan(out2[:, 1]).all() and np.isfinite(out2[:, 0]).all()


def test_lowpass_returns_input_when_cutoff_near_nyquist() -> None:
    s = _sine(30.0, 2.0)
    np.testing.assert_array_equal(lowpass(s, 30.0, 15.0, 4), s)


# --- limb collapse ------------------------------------------------------------------------
@pytest.mark.parametrize("fps", [30.0, 60.0, 120.0, 240.0])
def test_repair_collapses_finds_every_synthetic_collapse_and_nothing_else(fps: float) -> None:
    # Collapses of about 50 ms (1-3 frames at 30 fps, as on the shared clip) in mid swing.
    run = max(1, int(round(0.05 * fps)))
    sim = generate(fps=fps, n_collapses=3, collapse_run_frames=run, noise_px=1.0, seed=11)
    near = sim.truth["near_leg"]
    out, n = repair_collapses(sim.series.xy_px, fps)
    for idx in LEG[near][2:4]:  # ankle, heel: the points that leave their own path most
        blanked = np.flatnonzero(np.isnan(out[:, idx, 0]))
        np.testing.assert_array_equal(blanked, sim.truth["collapse_frames"])
    # Clean runs: the legs pass each other smoothly at every midstance, which is not a collapse.
    clean = generate(fps=fps, noise_px=1.0, seed=11)
    assert repair_collapses(clean.series.xy_px, fps)[1] == 0


def test_collapse_repair_restores_the_swing_path() -> None:
    sim = generate(fps=30.0, n_collapses=3, collapse_run_frames=2, noise_px=0.0, seed=5)
    near = sim.truth["near_leg"]
    ankle = LEG[near][2]
    res = clean_series(sim.series)
    frames = sim.truth["collapse_frames"]
    leg_px = sim.truth["leg_length_px"]
    err = np.linalg.norm(res.raw_xy_px[frames, ankle] - sim.clean_xy_px[frames, ankle], axis=-1)
    before = np.linalg.norm(sim.series.xy_px[frames, ankle] - sim.clean_xy_px[frames, ankle],
                            axis=-1)
    # The collapsed ankle sat a large share of a leg away; linear interpolation over two frames
    # of a 30 fps swing is good to a small share of a leg (chord of a smooth path).
    assert before.min() > 0.25 * leg_px
    assert err.max() < 0.1 * leg_px
    assert res.collapse_frames_repaired >= frames.size


def test_shared_clip_near_leg_collapse_at_frames_49_50_is_repaired(
    side_series: PoseSeries,
) -> None:
    xy = side_series.xy_px.copy()
    xy[side_series.visibility < 0.3] = np.nan
    out, _ = repair_collapses(xy, side_series.fps)
    for idx in (27, 29):  # left (near) ankle and heel snap onto the right leg's (issue 7)
        blanked = np.isnan(out[:, idx, 0]) & np.isfinite(xy[:, idx, 0])
        assert {49, 50} <= set(np.flatnonzero(blanked))
