"""The synthetic runner itself: shapes, physics, exact truths, corruptions, validation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from gaitcheck import landmarks as lm
from gaitcheck.series import PoseSeries
from gaitcheck.synthetic import RunnerParams, SyntheticRun, generate, leg_swap_permutation, mirror

# 60 fps at 180 steps/min: a step is exactly 20 frames, so with phase_offset=0 every IC falls on
# a frame and the frame-based truth equals the requested value.
ALIGNED: dict[str, Any] = {
    "fps": 60.0, "cadence_spm": 180.0, "phase_offset": 0.0, "duration_s": 6.0}


# ----------------------------------------------------------------------------- helpers
def _deg(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(y, x))


def side_values(xy: np.ndarray, frame: int, side: str, facing: int, leg_px: float) -> dict:
    """Conventions.md side-view quantities, written independently of the generator."""
    hip, knee, ankle, heel, toe = (xy[frame, k] for k in lm.LEG[side])
    hip_mid = 0.5 * (xy[frame, lm.LEFT_HIP] + xy[frame, lm.RIGHT_HIP])
    u, w = hip - knee, ankle - knee
    inner = math.degrees(math.acos(float(u @ w) / (np.linalg.norm(u) * np.linalg.norm(w))))
    return {
        "overstride_pct_leg": facing * (heel[0] - hip_mid[0]) / leg_px * 100.0,
        "shank_angle_ic_deg": math.degrees(math.atan2(facing * (ankle[0] - knee[0]),
                                                      ankle[1] - knee[1])),
        "knee_flexion_ic_deg": 180.0 - inner,
        "foot_angle_ic_deg": math.degrees(math.atan2(heel[1] - toe[1],
                                                     facing * (toe[0] - heel[0]))),
    }


def leg_px(run: SyntheticRun, side: str = "left") -> np.ndarray:
    """Per-frame |hip-knee| + |knee-ankle| of one leg in the clean image."""
    hip, knee, ankle = (run.clean_xy_px[:, k] for k in lm.LEG[side][:3])
    return np.linalg.norm(hip - knee, axis=1) + np.linalg.norm(knee - ankle, axis=1)


@pytest.fixture(scope="module")
def side_run() -> SyntheticRun:
    return generate(RunnerParams(**ALIGNED))


# ----------------------------------------------------------------------------- basics
def test_shapes_times_and_frame(side_run: SyntheticRun) -> None:
    s = side_run.series
    n = int(round(6.0 * 60))
    assert isinstance(s, PoseSeries)
    assert s.xy_px.shape == (n, 33, 2) and s.world_m.shape == (n, 33, 3)
    assert s.visibility.shape == (n, 33) and s.presence.shape == (n, 33)
    assert np.isfinite(s.xy_px).all() and np.isfinite(s.world_m).all()
    np.testing.assert_allclose(s.time_s, np.arange(n) / 60.0, atol=1e-12)
    assert s.fps == 60.0
    w, h = s.frame_size
    assert (s.xy_px[..., 0] > 0).all() and (s.xy_px[..., 0] < w).all()
    assert (s.xy_px[..., 1] > 0).all() and (s.xy_px[..., 1] < h).all()
    assert ((s.visibility > 0) & (s.visibility <= 1)).all()
    assert s.meta["view"] == "side-left" and s.meta["synthetic"] is True


def test_generate_is_deterministic_and_accepts_overrides() -> None:
    a = generate(RunnerParams(noise_px=1.0, seed=3, duration_s=3.0))
    b = generate(RunnerParams(duration_s=3.0), noise_px=1.0, seed=3)
    np.testing.assert_array_equal(a.series.xy_px, b.series.xy_px)
    c = generate(RunnerParams(noise_px=1.0, seed=4, duration_s=3.0))
    assert not np.allclose(a.series.xy_px, c.series.xy_px)


def test_time_offset_and_variable_frame_rate() -> None:
    base = generate(duration_s=3.0)
    shifted = generate(duration_s=3.0, t0_s=12.5)
    np.testing.assert_allclose(shifted.series.time_s, base.series.time_s + 12.5)
    np.testing.assert_allclose(shifted.series.xy_px, base.series.xy_px, atol=1e-9)
    np.testing.assert_allclose(shifted.truth["ic_times_s"]["left"],
                               base.truth["ic_times_s"]["left"] + 12.5)
    vfr = generate(duration_s=3.0, vfr_jitter=0.4, seed=1)
    dt = np.diff(vfr.series.time_s)
    assert (dt > 0).all() and dt.std() > 1e-4
    np.testing.assert_allclose(np.median(dt), 1 / 60.0, rtol=0.05)


def test_world_landmarks_centred_at_hips_with_y_down(side_run: SyntheticRun) -> None:
    w = side_run.series.world_m
    np.testing.assert_allclose(0.5 * (w[:, lm.LEFT_HIP] + w[:, lm.RIGHT_HIP]), 0.0, atol=1e-12)
    assert (w[:, lm.NOSE, 1] < -0.4).all()  # head above the hips: negative y (y down)
    assert (w[:, lm.LEFT_HEEL, 1] > 0.6).mean() > 0.3
    # near (left) leg of a side-left view is closer to the camera: smaller z
    assert (w[:, lm.LEFT_HIP, 2] < w[:, lm.RIGHT_HIP, 2]).all()


# ----------------------------------------------------------------------------- events and physics
def test_event_times_follow_cadence_and_duty(side_run: SyntheticRun) -> None:
    t = side_run.truth
    assert t["cadence_spm"] == 180.0 and t["view"] == "side-left"
    for side in ("left", "right"):
        ic = t["ic_times_s"][side]
        np.testing.assert_allclose(np.diff(ic), 120.0 / 180.0)
        to = t["toe_off_times_s"][side]
        np.testing.assert_allclose(to - ic[: to.size], t["contact_time_ms"] / 1000.0)
    np.testing.assert_allclose(t["ic_times_s"]["right"][0] - t["ic_times_s"]["left"][0], 1 / 3)
    assert t["contact_time_ms"] == pytest.approx(0.35 * 120 / 180 * 1000)
    assert t["ic_frames"]["left"][0] == 0 and t["ic_frames"]["right"][0] == 20


@pytest.mark.parametrize("treadmill", [True, False])
def test_stance_foot_is_planted(treadmill: bool) -> None:
    run = generate(RunnerParams(treadmill=treadmill, duration_s=3.0, fps=240.0))
    t, xy = run.truth, run.clean_xy_px
    p = run.params
    v_px = t["speed_mps"] * t["px_per_m"] / p.fps  # belt travel per frame
    ground = xy[:, [lm.LEFT_HEEL, lm.RIGHT_HEEL, lm.LEFT_TOE, lm.RIGHT_TOE], 1].max()
    for side in ("left", "right"):
        _, _, _, heel, toe = lm.LEG[side]
        for f0, f1 in zip(t["ic_frames"][side], t["toe_off_frames"][side], strict=False):
            n_st = f1 - f0
            heel_on = slice(f0, f0 + int(p.heel_off_share * n_st) - 1)  # heel contact
            toe_on = slice(f0 + int(0.25 * n_st), f1)  # foot flat .. toe off
            for idx, frames in ((heel, heel_on), (toe, toe_on)):
                y, x = xy[frames, idx, 1], xy[frames, idx, 0]
                assert np.ptp(y) < 0.5 and abs(y.mean() - ground) < 0.5
                # side-left: the belt carries the stance foot toward +x; overground it stays
                np.testing.assert_allclose(np.diff(x), v_px if treadmill else 0.0, atol=1e-6)
            # the foot is in the air at the frame before IC and after toe off
            assert xy[f0 - 1, heel, 1] < ground - 1e-6 if f0 > 0 else True
            if f1 < run.series.n_frames:
                assert xy[f1, toe, 1] < ground - 0.05


def test_heel_is_lowest_at_ic_and_most_forward_just_before() -> None:
    run = generate(RunnerParams(fps=240.0, duration_s=3.0))
    t, xy = run.truth, run.clean_xy_px
    hip_mid_x = 0.5 * (xy[:, lm.LEFT_HIP, 0] + xy[:, lm.RIGHT_HIP, 0])
    fwd = -(xy[:, lm.LEFT_HEEL, 0] - hip_mid_x)  # facing = -1
    heel_y = xy[:, lm.LEFT_HEEL, 1]
    for f_ic, f_to in zip(t["ic_frames"]["left"][1:], t["toe_off_frames"]["left"][1:],
                          strict=False):
        window = slice(f_ic - 40, f_ic)  # the last 1/6 s of swing
        assert (np.diff(heel_y[window]) > 0).all()  # descending (y down) until contact
        peak = f_ic - 40 + int(np.argmax(fwd[window]))
        assert f_ic - 40 < peak < f_ic - 1  # horizontal reversal shortly before IC
        assert heel_y[f_ic] == pytest.approx(heel_y[f_ic:f_to].max(), abs=1e-9)


def test_leg_length_is_constant_in_side_view(side_run: SyntheticRun) -> None:
    for side in ("left", "right"):
        np.testing.assert_allclose(leg_px(side_run, side), side_run.truth["leg_length_px"],
                                   rtol=1e-9)


# ----------------------------------------------------------------------------- exact IC truths
@pytest.mark.parametrize("view", ["side-left", "side-right"])
def test_ic_truth_matches_geometry(view: str) -> None:
    run = generate(RunnerParams(view=view, fps=90.0, phase_offset=0.37, duration_s=4.0))
    t, facing = run.truth, run.params.facing
    for side in ("left", "right"):
        for k, f in enumerate(t["ic_frames"][side]):
            got = side_values(run.clean_xy_px, int(f), side, facing, t["leg_length_px"])
            for key, val in got.items():
                assert t[key]["per_event"][side][k] == pytest.approx(val, abs=1e-9)
    # frames are the first in contact: at or after the continuous IC time
    for side in ("left", "right"):
        ts = run.series.time_s[t["ic_frames"][side]]
        dt = ts - t["ic_times_s"][side]
        assert ((dt >= -1e-9) & (dt < 1 / 90.0)).all()


def test_aligned_ics_reproduce_requested_values(side_run: SyntheticRun) -> None:
    t = side_run.truth
    assert t["shank_angle_ic_deg"]["value"] == pytest.approx(6.0, abs=1e-9)
    assert t["knee_flexion_ic_deg"]["value"] == pytest.approx(15.0, abs=1e-9)
    assert t["foot_angle_ic_deg"]["value"] == pytest.approx(12.0, abs=1e-9)
    assert t["trunk_lean_deg"]["value"] == pytest.approx(6.0, abs=1e-9)
    assert t["overstride_pct_leg"]["value"] == pytest.approx(
        t["overstride_pct_leg"]["instant"]["left"], abs=1e-9)
    assert 5.0 < t["overstride_pct_leg"]["value"] < 30.0
    assert t["vertical_oscillation_pct_leg"]["value"] == pytest.approx(9.0, abs=0.5)


def test_overstride_can_be_requested_and_sides_differ() -> None:
    run = generate(RunnerParams(**ALIGNED, overstride_pct_leg=(8.0, 16.0),
                                shank_angle_ic_deg=(2.0, 9.0), foot_angle_ic_deg=(5.0, 15.0)))
    t = run.truth
    assert t["overstride_pct_leg"]["left"] == pytest.approx(8.0, abs=1e-9)
    assert t["overstride_pct_leg"]["right"] == pytest.approx(16.0, abs=1e-9)
    assert t["shank_angle_ic_deg"]["left"] == pytest.approx(2.0, abs=1e-9)
    assert t["shank_angle_ic_deg"]["right"] == pytest.approx(9.0, abs=1e-9)
    assert t["foot_angle_ic_deg"]["right"] == pytest.approx(15.0, abs=1e-9)
    # the knee flexion is solved from the geometry and reported
    for side in ("left", "right"):
        assert t["knee_flexion_ic_deg"][side] == pytest.approx(
            t["model"][side]["knee_flexion_ic_deg"], abs=1e-9)
    # still planted, on one common ground level
    ground = run.clean_xy_px[:, [lm.LEFT_HEEL, lm.RIGHT_HEEL], 1].max(axis=0)
    assert abs(ground[0] - ground[1]) < 1e-6


def test_shank_angle_sign_follows_conventions() -> None:
    run = generate(RunnerParams(**ALIGNED, shank_angle_ic_deg=10.0, knee_flexion_ic_deg=20.0))
    xy, f = run.clean_xy_px, run.truth["ic_frames"]["left"][0]
    # side-left faces image-left: ankle ahead of knee means smaller x
    assert xy[f, lm.LEFT_ANKLE, 0] < xy[f, lm.LEFT_KNEE, 0]
    assert xy[f, lm.LEFT_TOE, 1] < xy[f, lm.LEFT_HEEL, 1]  # heel strike: toe above heel


# ----------------------------------------------------------------------------- frontal views
@pytest.mark.parametrize("view", ["rear", "front"])
def test_frontal_projection_and_truth(view: str) -> None:
    run = generate(RunnerParams(view=view, fps=240.0, duration_s=3.0,
                                pelvic_drop_deg=(3.0, 7.0), hip_adduction_deg=(8.0, 14.0),
                                step_width_pct_hip=(30.0, 50.0)))
    t, xy = run.truth, run.clean_xy_px
    left_on_image_left = xy[:, lm.LEFT_HIP, 0] < xy[:, lm.RIGHT_HIP, 0]
    assert left_on_image_left.all() if view == "rear" else (~left_on_image_left).all()
    assert t["pelvic_drop_deg"]["left"] == pytest.approx(3.0, abs=0.05)
    assert t["pelvic_drop_deg"]["right"] == pytest.approx(7.0, abs=0.05)
    assert t["hip_adduction_deg"]["left"] == pytest.approx(8.0, abs=0.05)
    assert t["hip_adduction_deg"]["right"] == pytest.approx(14.0, abs=0.05)
    assert t["step_width_pct_hip"]["value"] == pytest.approx(40.0, rel=0.02)
    # during left stance the right (swing-side) hip is lower: larger image y
    f0, f1 = t["ic_frames"]["left"][0], t["toe_off_frames"]["left"][0]
    mid = (f0 + f1) // 2
    assert xy[mid, lm.RIGHT_HIP, 1] > xy[mid, lm.LEFT_HIP, 1]
    # independent pelvic drop at midstance
    d = xy[mid, lm.RIGHT_HIP] - xy[mid, lm.LEFT_HIP]
    assert math.degrees(math.atan2(d[1], abs(d[0]))) == pytest.approx(3.0, abs=0.05)
    # stance heel on the ground, swing heel lifted
    assert xy[mid, lm.LEFT_HEEL, 1] > xy[mid, lm.RIGHT_HEEL, 1] + 10
    hw = np.abs(xy[:, lm.LEFT_HIP, 0] - xy[:, lm.RIGHT_HIP, 0])
    assert t["hip_width_px"] == pytest.approx(float(np.median(hw)))


def test_side_and_frontal_truths_are_view_independent() -> None:
    a = generate(RunnerParams(duration_s=3.0))
    b = generate(RunnerParams(duration_s=3.0, view="rear"))
    for key in ("overstride_pct_leg", "pelvic_drop_deg", "hip_adduction_deg"):
        assert a.truth[key]["value"] == pytest.approx(b.truth[key]["value"], abs=1e-9)


# ----------------------------------------------------------------------------- visibility
def test_near_leg_is_more_visible() -> None:
    for view, near in (("side-left", "left"), ("side-right", "right")):
        run = generate(RunnerParams(view=view, duration_s=2.0))
        vis = run.series.visibility
        far = "right" if near == "left" else "left"
        assert vis[:, list(lm.LEG[near])].mean() > 0.9 > vis[:, list(lm.LEG[far])].mean()
        assert run.truth["near_leg"] == near
    run = generate(RunnerParams(view="side-left", near_leg="right", duration_s=2.0))
    assert run.series.visibility[:, lm.RIGHT_KNEE].mean() > run.series.visibility[
        :, lm.LEFT_KNEE].mean()


# ----------------------------------------------------------------------------- corruptions
def test_noise_is_gaussian_with_requested_sd() -> None:
    run = generate(RunnerParams(noise_px=1.5, duration_s=4.0, seed=2))
    resid = run.series.xy_px - run.clean_xy_px
    assert resid.std() == pytest.approx(1.5, rel=0.05)
    assert abs(resid.mean()) < 0.05


def test_swaps_really_swap() -> None:
    run = generate(RunnerParams(n_swaps=4, swap_run_frames=3, duration_s=6.0, seed=5))
    frames = run.truth["swap_frames"]
    assert frames.size == 12
    perm = leg_swap_permutation()
    xy, clean = run.series.xy_px, run.clean_xy_px
    np.testing.assert_array_equal(xy[frames], clean[frames][:, perm])
    others = np.setdiff1d(np.arange(run.series.n_frames), frames)
    np.testing.assert_array_equal(xy[others], clean[others])
    assert xy[frames[0], lm.LEFT_KNEE, 0] == clean[frames[0], lm.RIGHT_KNEE, 0]
    runs = np.split(frames, np.flatnonzero(np.diff(frames) > 1) + 1)
    assert [r.size for r in runs] == [3, 3, 3, 3]
    # visibility travels with the landmark identity
    vis_clean = generate(RunnerParams(duration_s=6.0, seed=5)).series.visibility
    np.testing.assert_array_equal(run.series.visibility[frames], vis_clean[frames][:, perm])


def test_dropouts_produce_nan_frames() -> None:
    run = generate(RunnerParams(dropout_share=0.1, dropout_run_frames=2, duration_s=5.0))
    s, drops = run.series, run.truth["dropout_frames"]
    assert drops.size == pytest.approx(0.1 * s.n_frames, abs=2)
    assert np.isnan(s.xy_px[drops]).all() and np.isnan(s.world_m[drops]).all()
    assert (s.visibility[drops] == 0).all() and (s.presence[drops] == 0).all()
    assert s.pose_share == pytest.approx(1 - drops.size / s.n_frames)
    low = generate(RunnerParams(low_visibility_share=0.2, duration_s=5.0))
    frames = low.truth["low_visibility_frames"]
    assert frames.size == 60
    assert (low.series.visibility[np.ix_(frames, list(lm.LEG["left"]))] < 0.3).all()
    assert np.isfinite(low.series.xy_px).all()


def test_scale_and_offset() -> None:
    a = generate(RunnerParams(duration_s=2.0))
    b = generate(RunnerParams(duration_s=2.0, body_height_px=1200.0, offset_px=(100.0, 50.0)))
    m = a.params.margin_px
    np.testing.assert_allclose(b.series.xy_px - (100.0, 50.0) - m, 2 * (a.series.xy_px - m),
                               atol=1e-9)
    assert b.truth["leg_length_px"] == pytest.approx(2 * a.truth["leg_length_px"])


# ----------------------------------------------------------------------------- mirror
def test_mirror_side_view() -> None:
    run = generate(RunnerParams(duration_s=2.0, noise_px=0.5))
    s = run.series
    m = mirror(s, swap_labels=False)
    np.testing.assert_allclose(m.xy_px[..., 0], s.frame_size[0] - s.xy_px[..., 0])
    np.testing.assert_array_equal(m.xy_px[..., 1], s.xy_px[..., 1])
    assert m.meta["view"] == "side-right" and m.meta["mirrored"] is True
    back = mirror(m, swap_labels=False)
    np.testing.assert_allclose(back.xy_px, s.xy_px)
    assert back.meta["view"] == "side-left" and back.meta["mirrored"] is False
    # mirrored truth without label swap: every value unchanged, view flipped
    mt = run.mirrored(swap_labels=False).truth
    assert mt["view"] == "side-right"
    assert mt["overstride_pct_leg"]["left"] == run.truth["overstride_pct_leg"]["left"]
    # a mirrored side-left clip equals a side-right clip of the same runner (no noise)
    clean_m = run.mirrored(swap_labels=False).clean_xy_px
    right = generate(RunnerParams(duration_s=2.0, view="side-right")).clean_xy_px
    np.testing.assert_allclose(clean_m - clean_m.mean((0, 1)), right - right.mean((0, 1)),
                               atol=1e-6)


def test_mirror_rear_view_with_label_swap() -> None:
    run = generate(RunnerParams(view="rear", duration_s=3.0, fps=120.0,
                                pelvic_drop_deg=(2.0, 6.0)))
    m = run.mirrored(swap_labels=True)
    s = m.series
    assert s.meta["view"] == "rear"
    assert (s.xy_px[:, lm.LEFT_HIP, 0] < s.xy_px[:, lm.RIGHT_HIP, 0]).all()
    assert m.truth["pelvic_drop_deg"]["left"] == run.truth["pelvic_drop_deg"]["right"]
    # the mirrored data equal a rear view of a runner with exchanged sides, shifted by half a
    # stride (the mirrored runner's left foot is the original right foot)
    other = generate(RunnerParams(view="rear", duration_s=3.0, fps=120.0,
                                  pelvic_drop_deg=(6.0, 2.0), hip_adduction_deg=11.0,
                                  phase_offset=0.6))
    for side in ("left", "right"):
        assert other.truth["pelvic_drop_deg"][side] == pytest.approx(
            m.truth["pelvic_drop_deg"][side], abs=0.1)
    no_swap = mirror(run.series, swap_labels=False)
    assert no_swap.meta["view"] == "front"


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"view": "top"}, "view"),
        ({"fps": 10.0}, "fps"),
        ({"fps": float("nan")}, "fps"),
        ({"cadence_spm": 300.0}, "cadence"),
        ({"duty_factor": 0.6}, "duty_factor"),
        ({"duration_s": 0.5}, "duration_s"),
        ({"overstride_pct_leg": 10.0, "knee_flexion_ic_deg": 15.0}, "either"),
        ({"pelvic_drop_deg": (1.0, 2.0, 3.0)}, "pair"),
        ({"noise_px": -1.0}, "noise_px"),
        ({"n_swaps": -1}, "n_swaps"),
        ({"n_swaps": 1.5}, "n_swaps"),
        ({"near_leg": "middle"}, "near_leg"),
        ({"vfr_jitter": 0.6}, "vfr_jitter"),
    ],
)
def test_invalid_params_raise(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RunnerParams(**kwargs)


def test_infeasible_motion_raises() -> None:
    with pytest.raises(ValueError, match="ground"):
        generate(RunnerParams(speed_mps=7.0))
    with pytest.raises(ValueError, match="[Oo]verstride"):
        generate(RunnerParams(overstride_pct_leg=55.0, shank_angle_ic_deg=0.0))


def test_params_derived_properties() -> None:
    p = RunnerParams(cadence_spm=180.0, duty_factor=0.3, body_height_px=700.0, height_m=1.75)
    assert p.stride_s == pytest.approx(2 / 3)
    assert p.contact_time_s == pytest.approx(0.2)
    assert p.px_per_m == pytest.approx(400.0)
    assert RunnerParams(view="side-right").facing == 1 and RunnerParams(view="rear").facing == 0
