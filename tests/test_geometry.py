"""Angle functions of ``gaitcheck.geometry`` against hand-computed cases (docs/conventions.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gaitcheck.geometry import (
    angle_from_down_deg,
    angle_from_up_deg,
    flexion_deg,
    foot_angle_deg,
    hip_adduction_deg,
    interp_at,
    joint_angle_deg,
    pelvic_drop_deg,
    segment_length,
)


def P(x: float, y: float) -> np.ndarray:
    return np.array([x, y], dtype=float)


# ---------------------------------------------------------------- segment angles from vertical
@pytest.mark.parametrize(
    ("bottom", "facing", "expected"),
    [
        ((0.0, 10.0), 1, 0.0),     # vertical segment
        ((0.0, 10.0), -1, 0.0),
        ((10.0, 10.0), 1, 45.0),   # bottom ahead (facing image-right)
        ((10.0, 10.0), -1, -45.0),  # same picture, runner faces left: bottom is behind
        ((-10.0, 10.0), -1, 45.0),  # bottom ahead (facing image-left)
        ((10.0, 0.0), 1, 90.0),    # horizontal, ahead
        ((-10.0, 0.0), 1, -90.0),  # horizontal, behind
        ((10.0 * math.tan(math.radians(6.0)), 10.0), 1, 6.0),
    ],
)
def test_angle_from_down(bottom: tuple[float, float], facing: int, expected: float) -> None:
    top = P(100.0, 200.0)
    got = angle_from_down_deg(top, top + P(*bottom), facing)
    assert float(got) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("top", "facing", "expected"),
    [
        ((0.0, -10.0), 1, 0.0),     # upright
        ((10.0, -10.0), 1, 45.0),   # leaning toward image-right = forward for facing +1
        ((10.0, -10.0), -1, -45.0),  # leaning backward for a runner facing image-left
        ((-10.0, -10.0), -1, 45.0),
        ((-10.0, 0.0), -1, 90.0),
    ],
)
def test_angle_from_up(top: tuple[float, float], facing: int, expected: float) -> None:
    bottom = P(50.0, 300.0)
    got = angle_from_up_deg(bottom, bottom + P(*top), facing)
    assert float(got) == pytest.approx(expected, abs=1e-9)


def test_side_angles_invariant_under_mirroring() -> None:
    """Mirroring x and flipping facing leaves every side-view sign unchanged (conventions.md)."""
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0, 500, (50, 2)), rng.uniform(0, 500, (50, 2))
    ma, mb = a * [-1, 1] + [720, 0], b * [-1, 1] + [720, 0]
    np.testing.assert_allclose(angle_from_down_deg(a, b, 1), angle_from_down_deg(ma, mb, -1),
                               atol=1e-9)
    np.testing.assert_allclose(angle_from_up_deg(a, b, 1), angle_from_up_deg(ma, mb, -1),
                               atol=1e-9)
    np.testing.assert_allclose(foot_angle_deg(a, b, 1), foot_angle_deg(ma, mb, -1), atol=1e-9)


# ---------------------------------------------------------------- joint angles
@pytest.mark.parametrize(
    ("a", "c", "angle", "flex"),
    [
        ((0.0, -10.0), (0.0, 10.0), 180.0, 0.0),   # straight
        ((0.0, -10.0), (10.0, 0.0), 90.0, 90.0),   # right angle
        ((10.0, 0.0), (10.0, 10.0), 45.0, 135.0),  # 45 deg
        ((10.0, 0.0), (10.0, -10.0), 45.0, 135.0),  # unsigned: other side gives the same
        ((0.0, -5.0), (0.0, -20.0), 0.0, 180.0),   # folded completely
    ],
)
def test_joint_angle_and_flexion(a: tuple[float, float], c: tuple[float, float], angle: float,
                                 flex: float) -> None:
    b = P(30.0, 40.0)
    assert float(joint_angle_deg(b + P(*a), b, b + P(*c))) == pytest.approx(angle, abs=1e-9)
    assert float(flexion_deg(b + P(*a), b, b + P(*c))) == pytest.approx(flex, abs=1e-9)


def test_knee_flexion_of_a_bent_leg_broadcasts() -> None:
    # hip above knee; ankle 20 deg off the thigh line -> 20 deg flexion; shape (3, 4)
    hip = np.zeros((3, 4, 2))
    knee = np.broadcast_to(P(0, 100), (3, 4, 2))
    th = math.radians(20.0)
    ankle = knee + P(100 * math.sin(th), 100 * math.cos(th))
    out = flexion_deg(hip, knee, ankle)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, 20.0, atol=1e-9)


def test_segment_length() -> None:
    a = np.array([[0.0, 0.0], [1.0, 1.0]])
    b = np.array([[3.0, 4.0], [1.0, 1.0]])
    np.testing.assert_allclose(segment_length(a, b), [5.0, 0.0])


# ---------------------------------------------------------------- foot angle
@pytest.mark.parametrize(
    ("toe", "facing", "expected"),
    [
        ((20.0, 0.0), 1, 0.0),        # level foot
        ((-20.0, 0.0), -1, 0.0),
        ((10.0, -10.0), 1, 45.0),     # toe above heel (y down): heel strike
        ((-10.0, -10.0), -1, 45.0),
        ((10.0, 10.0), 1, -45.0),     # toe below heel: forefoot
        ((-20.0, 20.0 * math.tan(math.radians(8.0))), -1, -8.0),
    ],
)
def test_foot_angle(toe: tuple[float, float], facing: int, expected: float) -> None:
    heel = P(300.0, 900.0)
    assert float(foot_angle_deg(heel, heel + P(*toe), facing)) == pytest.approx(expected,
                                                                                abs=1e-9)


# ---------------------------------------------------------------- frontal
@pytest.mark.parametrize(
    ("swing", "expected"),
    [
        ((40.0, 0.0), 0.0),        # level pelvis
        ((40.0, 40.0), 45.0),      # swing hip lower (larger y): contralateral drop, positive
        ((-40.0, 40.0), 45.0),     # independent of which side of the image the swing hip is
        ((40.0, -40.0), -45.0),    # swing hip higher: negative
        ((40.0, 40.0 * math.tan(math.radians(5.0))), 5.0),
        ((-40.0, -40.0 * math.tan(math.radians(3.0))), -3.0),
    ],
)
def test_pelvic_drop_sign(swing: tuple[float, float], expected: float) -> None:
    stance = P(200.0, 500.0)
    assert float(pelvic_drop_deg(stance, stance + P(*swing))) == pytest.approx(expected,
                                                                              abs=1e-9)


@pytest.mark.parametrize("view", ["rear", "front"])
@pytest.mark.parametrize("angle", [0.0, 10.0, -7.0, 45.0])
def test_hip_adduction_sign_rear_and_front(view: str, angle: float) -> None:
    """Left stance leg. Rear: the runner's left hip is on the image left, so medial is +x;
    front: the left hip is on the image right, medial is -x. Knee medial -> positive."""
    if view == "rear":
        stance_hip, swing_hip = P(100.0, 300.0), P(140.0, 300.0)
        medial_sign = 1.0
    else:
        stance_hip, swing_hip = P(140.0, 300.0), P(100.0, 300.0)
        medial_sign = -1.0
    th = math.radians(angle)
    knee = stance_hip + 200.0 * P(medial_sign * math.sin(th), math.cos(th))
    got = float(hip_adduction_deg(stance_hip, swing_hip, knee))
    assert got == pytest.approx(angle, abs=1e-9)


@pytest.mark.parametrize("drop", [10.0, -6.0])
def test_hip_adduction_measured_from_the_tilted_hip_line(drop: float) -> None:
    """With a dropped pelvis the zero is the perpendicular to the hip line, not the vertical."""
    stance = P(100.0, 300.0)
    d = math.radians(drop)
    medial = np.array([math.cos(d), math.sin(d)])     # toward the swing hip
    down = np.array([-math.sin(d), math.cos(d)])      # perpendicular, toward the feet
    swing = stance + 40.0 * medial
    for angle in (0.0, 12.0, -5.0):
        a = math.radians(angle)
        knee = stance + 200.0 * (math.cos(a) * down + math.sin(a) * medial)
        assert float(hip_adduction_deg(stance, swing, knee)) == pytest.approx(angle, abs=1e-9)
    # a vertical femur is adducted by the drop angle when the swing side drops
    assert float(hip_adduction_deg(stance, swing, stance + P(0, 200))) == pytest.approx(
        drop, abs=1e-9)


# ---------------------------------------------------------------- interpolation
def test_interp_at_inside_nan_and_outside() -> None:
    time_s = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    values = np.array([0.0, 10.0, np.nan, 30.0, 40.0])
    got = interp_at(np.array([0.0, 0.25, 0.5, 1.5, 2.5, -0.01, 4.0, 4.01, 3.5]), time_s, values)
    np.testing.assert_allclose(got[:3], [0.0, 2.5, 5.0], atol=1e-12)
    assert np.isnan(got[3]) and np.isnan(got[4])  # a NaN neighbour
    assert np.isnan(got[5])                        # before the series
    assert got[6] == pytest.approx(40.0)           # exactly the last sample
    assert np.isnan(got[7])                        # after the series
    assert got[8] == pytest.approx(35.0)


def test_interp_at_trailing_axes_and_uneven_times() -> None:
    time_s = np.array([0.0, 0.1, 0.3])
    values = np.array([[0.0, 100.0], [1.0, 200.0], [3.0, 0.0]])
    got = interp_at(np.array([0.2, 0.05]), time_s, values)
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got, [[2.0, 100.0], [0.5, 150.0]], atol=1e-12)


def test_interp_at_empty_inputs() -> None:
    assert interp_at(np.array([]), np.arange(3.0), np.arange(3.0)).shape == (0,)
    out = interp_at(np.array([0.5, 1.0]), np.array([]), np.zeros((0, 2)))
    assert out.shape == (2, 2) and np.isnan(out).all()
