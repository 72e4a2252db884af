"""Kinematic runner model: synthetic pose series with exactly known answers.

The model moves a stick-figure runner (the 33 MediaPipe landmarks) through running strides and
films it with an orthographic camera from the side, the rear or the front. Every quantity that
gaitcheck estimates is known exactly, so tests, docs and demos can compare an estimate with the
truth.

How the model works
-------------------
Body frame, in metres: ``X`` forward (running direction), ``Y`` up (ground at ``Y = 0``), ``Z`` to
the runner's left. On a treadmill the pelvis stays near ``X = 0`` and the ground (belt) moves
toward ``-X`` at the running speed; overground everything is shifted by ``speed * t`` afterwards.

Each leg lives in the sagittal (``X``-``Y``) projection with exact thigh and shank lengths:

* **Stance** (``0 <= phase < duty_factor``): the foot is a rigid heel->toe segment that rolls on
  the ground. The point that touches the ground (the heel while the toe is up, the toe after heel
  off) is planted and moves with the belt at constant speed and ``Y = 0``. The foot angle follows
  a smooth curve: its value at initial contact (IC) is the requested one, then the foot lands flat,
  stays flat until heel off and plantar-flexes to toe off (TO).
* **Swing**: the ankle path relative to the hip is a clamped cubic spline through key poses
  (toe off, maximum knee flexion, late swing, next IC) given by joint angles. The foot leaves the
  ground with an upward velocity and lands with a downward and slightly backward heel velocity,
  as in real video: the heel's lowest point and the end of its descent are the IC, and the heel's
  most forward point comes shortly before IC.
* The knee follows from hip and ankle by two-link inverse kinematics (knee in front of the
  hip->ankle line). The pelvis height is set so that, at IC, the requested shank angle and knee
  flexion put the heel exactly on the ground; so the IC values are exact by construction.

The frontal projection (``Z``-``Y``) adds a pelvic obliquity (contralateral drop, peaking at
midstance), hip adduction (femur angle from the perpendicular to the hip line, peaking at
midstance), feet landing at fixed lateral positions (step width) and a small pelvic rotation and
sway. Trunk, arms and head are placed plausibly. The side-view projection keeps exact segment
lengths, so the leg length in the image is constant.

Truth
-----
:func:`generate` returns a :class:`SyntheticRun` whose ``truth`` holds the exact events (continuous
times and the *first frame in contact*, i.e. the first frame whose time is at or after the event)
and every metric of ``docs/conventions.md`` computed from the noise-free generated landmarks at
those frames, per event, per side and overall.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import CubicHermiteSpline

from . import landmarks as lm
from .series import PoseSeries

FloatArray = NDArray[np.float64]
Sided = float | tuple[float, float]

VIEWS = ("side-left", "side-right", "rear", "front")
SIDES = ("left", "right")

# Anthropometric offsets in metres for a 1.75 m body, scaled with height_m.
_REF_HEIGHT_M = 1.75
_HEEL_TO_ANKLE_FWD = 0.20  # ankle ahead of the heel point, share of foot length
_HEEL_TO_ANKLE_UP = 0.27  # ankle above the heel point (foot flat), share of foot length
_FOOT_FLAT_SHARE = 0.2  # share of stance after IC when the foot becomes flat
_LIFT_SPEED_MPS = 0.5  # extra upward ankle speed just after TO
_PELVIC_SWAY_M = 0.01  # lateral pelvis shift toward the stance side
_TOE_OUT_DEG = 7.0  # foot progression angle (frontal views only)
_FAR_SIDE_FACE_VIS = 0.7


@dataclass(frozen=True)
class RunnerParams:
    """Parameters of the synthetic runner, camera and capture defects.

    Defaults describe a recreational runner on a treadmill at 3 m/s, filmed from the side at
    60 fps without defects. Values marked *sided* take one float (both legs) or a
    ``(left, right)`` pair (asymmetry).

    Parameters
    ----------
    fps : float
        Capture rate in Hz, 30-240.
    duration_s : float
        Clip length in seconds (at least two strides).
    cadence_spm : float
        Steps per minute (a stride is two steps), 120-240.
    duty_factor : float
        Stance share of a stride, 0.2-0.45 (contact time = duty_factor * stride time).
    speed_mps : float or None
        Running (belt) speed in m/s. None: the speed at which the stance knee extends to
        ``knee_flexion_to_deg`` (its smallest flexion in the second half of stance, usually at toe
        off), so that most landing geometries are reachable; the value used is
        ``truth["speed_mps"]``.
    knee_flexion_to_deg : float
        Smallest late-stance knee flexion when ``speed_mps`` is None.
    t0_s : float
        Time of the first frame.
    phase_offset : float
        Phase of the left stride cycle at ``t0_s`` (0 = left IC exactly at the first frame).
    vfr_jitter : float
        Variable frame rate: each frame time moves by up to this share of a frame period
        (uniform), 0-0.45. Kinematics are evaluated at the jittered (true) times.
    height_m, body_height_px : float
        Runner's standing height in metres and in pixels (sets the image scale).
    thigh_ratio, shank_ratio, foot_ratio, trunk_ratio, hip_width_ratio, shoulder_width_ratio : float
        Segment lengths as shares of standing height (hip-knee, knee-ankle, heel-toe,
        hip-shoulder, hip joint centre distance, shoulder distance).
    view : str
        ``'side-left'`` (faces image left), ``'side-right'``, ``'rear'`` or ``'front'``.
    treadmill : bool
        Treadmill (pelvis stays put, stance foot moves with the belt) or overground (the runner
        crosses the image; keep ``duration_s`` short).
    near_leg : str or None
        Side views: leg nearer the camera; None = the physical one (left for ``side-left``).
    near_visibility, far_visibility : float
        Visibility scores of near-side and far-side landmarks in side views.
    shank_angle_ic_deg : sided float
        Shank angle at IC from the vertical, + ankle ahead of knee.
    knee_flexion_ic_deg : sided float or None
        Knee flexion at IC. None: 15 deg, or solved from ``overstride_pct_leg`` when that is set.
    overstride_pct_leg : sided float or None
        Heel ahead of the hip midpoint at IC, % of leg length. None: follows from shank angle and
        knee flexion. When set, ``knee_flexion_ic_deg`` must be None (the thigh angle is solved).
    foot_angle_ic_deg : sided float
        Heel->toe angle to the ground at IC, + toe up (heel strike), - forefoot strike.
    foot_angle_to_deg : float
        Foot angle at toe off (negative: heel up).
    heel_off_share : float
        Share of stance at which the heel leaves the ground (0.3-0.9).
    knee_flexion_swing_deg : float
        Peak knee flexion in swing.
    heel_retraction_share : float
        Swing-leg retraction: just before IC the heel moves backward in the treadmill frame
        (the camera image of a treadmill) at this share of the belt speed (0-1).
    heel_land_speed_mps : float
        Downward heel speed over the last ``heel_reversal_lead_ms`` before IC (0.3-2.5 m/s), so
        the heel's forward extreme lies ``heel_land_speed_mps * heel_reversal_lead_ms`` above
        the ground: 1.4 m/s with a 50 ms lead puts it 7 cm up, as in the retracting runners of
        the shared landmark series (peak 3-10 cm above the belt, landing 30-70 ms later).
    heel_reversal_lead_ms : float
        Time from the heel's most forward point (treadmill frame) to IC, 5-100 ms. With
        retraction the foot stops moving forward in a treadmill image this long before it
        touches the belt. The default (5 ms) follows the shared treadmill clip, whose
        hand-marked contacts coincide with the heel's forward extreme within a few ms.
    trunk_lean_deg : float
        Forward trunk lean (hip midpoint -> shoulder midpoint from vertical), constant.
    vertical_oscillation_pct_leg : float
        Peak-to-trough of the pelvis height per step, % of leg length.
    arm_swing_deg : float
        Amplitude of upper-arm swing.
    pelvic_rotation_deg : float
        Amplitude of pelvic rotation (the hip of the forward leg moves forward).
    pelvic_drop_deg : sided float
        Peak contralateral pelvic drop in stance of that leg (at midstance).
    hip_adduction_deg : sided float
        Peak hip adduction in stance of that leg (at midstance).
    step_width_pct_hip : sided float
        Twice the lateral landing distance of that heel from the pelvis midline, % of hip width
        (the step width at an IC is the mean of both sides' values; negative = crossover).
    offset_px : tuple of float
        Extra shift of every landmark (the frame grows to keep the runner inside).
    margin_px : float
        Free border around the runner.
    noise_px : float
        Standard deviation of Gaussian jitter added to image coordinates.
    dropout_share : float
        Share of frames without a pose (NaN), in runs of ``dropout_run_frames``.
    dropout_run_frames : int
        Length of each dropout run.
    low_visibility_share : float
        Share of frames whose leg landmarks get visibility 0.15 (positions kept).
    n_swaps : int
        Number of left/right identity swaps (runs of ``swap_run_frames`` frames) of the leg
        landmarks below the hips (knees, ankles, heels, toes: :func:`leg_swap_permutation`),
        the groups MediaPipe exchanges on side views (see ``gaitcheck.clean``), at least
        ``SWAP_MIN_GAP_S`` apart.
    swap_run_frames : int
        Length of each swap run.
    swap_knees : bool
        Whether the knees swap along with the feet (False: ankles, heels and toes only).
    n_collapses : int
        Number of near-leg collapses: the near leg's knee, ankle, heel and toe snap onto the far
        leg's for ``collapse_run_frames`` frames during the near leg's swing, as MediaPipe does
        on side views (shared clip, frames 49-50).
    collapse_run_frames : int
        Length of each collapse run (1-3 frames are what the real clips show).
    n_foot_blur_bursts : int
        Number of motion-blur bursts: for ``foot_blur_frames`` frames in a foot's fast swing,
        its ankle, heel and toe get extra Gaussian jitter of ``foot_blur_px``.
    foot_blur_frames : int
    foot_blur_px : float
    seed : int
        Random seed for noise, dropouts, swaps, jitter and visibility scatter.
    """

    fps: float = 60.0
    duration_s: float = 10.0
    cadence_spm: float = 170.0
    duty_factor: float = 0.35
    speed_mps: float | None = None
    knee_flexion_to_deg: float = 20.0
    t0_s: float = 0.0
    phase_offset: float = 0.1
    vfr_jitter: float = 0.0
    height_m: float = 1.75
    body_height_px: float = 600.0
    thigh_ratio: float = 0.245
    shank_ratio: float = 0.246
    foot_ratio: float = 0.152
    trunk_ratio: float = 0.288
    hip_width_ratio: float = 0.11
    shoulder_width_ratio: float = 0.23
    view: str = "side-left"
    treadmill: bool = True
    near_leg: str | None = None
    near_visibility: float = 0.95
    far_visibility: float = 0.65
    shank_angle_ic_deg: Sided = 6.0
    knee_flexion_ic_deg: Sided | None = None
    overstride_pct_leg: Sided | None = None
    foot_angle_ic_deg: Sided = 12.0
    foot_angle_to_deg: float = -35.0
    heel_off_share: float = 0.6
    knee_flexion_swing_deg: float = 95.0
    heel_retraction_share: float = 0.5
    heel_reversal_lead_ms: float = 5.0
    heel_land_speed_mps: float = 0.7
    trunk_lean_deg: float = 6.0
    vertical_oscillation_pct_leg: float = 9.0
    arm_swing_deg: float = 35.0
    pelvic_rotation_deg: float = 6.0
    pelvic_drop_deg: Sided = 4.0
    hip_adduction_deg: Sided = 11.0
    step_width_pct_hip: Sided = 40.0
    offset_px: tuple[float, float] = (0.0, 0.0)
    margin_px: float = 40.0
    noise_px: float = 0.0
    dropout_share: float = 0.0
    dropout_run_frames: int = 2
    low_visibility_share: float = 0.0
    n_swaps: int = 0
    swap_run_frames: int = 3
    swap_knees: bool = True
    n_collapses: int = 0
    collapse_run_frames: int = 2
    n_foot_blur_bursts: int = 0
    foot_blur_frames: int = 3
    foot_blur_px: float = 8.0
    seed: int = 0

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def stride_s(self) -> float:
        """Stride (two steps) duration in seconds."""
        return 120.0 / self.cadence_spm

    @property
    def contact_time_s(self) -> float:
        """Ground contact time of one foot in seconds."""
        return self.duty_factor * self.stride_s

    @property
    def px_per_m(self) -> float:
        """Image scale in pixels per metre."""
        return self.body_height_px / self.height_m

    @property
    def facing(self) -> int:
        """-1 for ``side-left``, +1 for ``side-right``, 0 for frontal views."""
        return {"side-left": -1, "side-right": 1}.get(self.view, 0)


@dataclass(frozen=True, eq=False)
class SyntheticRun:
    """A generated pose series and its exact answers.

    Attributes
    ----------
    series : PoseSeries
        The synthetic landmarks (with noise, dropouts and swaps when requested).
    truth : dict
        Exact answers; see :func:`generate` for the keys.
    params : RunnerParams
        The parameters used.
    clean_xy_px : ndarray, shape (n_frames, 33, 2)
        Noise-free, swap-free, dropout-free image landmarks.
    """

    series: PoseSeries
    truth: dict[str, Any]
    params: RunnerParams
    clean_xy_px: FloatArray = field(repr=False)

    def mirrored(self, swap_labels: bool = True) -> SyntheticRun:
        """Mirror the image left-right, with the truth changed to match.

        See :func:`mirror`. With ``swap_labels`` every per-side truth is exchanged between
        ``left`` and ``right``; side views flip between ``side-left`` and ``side-right`` and a
        rear view without a label swap becomes ``front``.
        """
        series = mirror(self.series, swap_labels=swap_labels)
        truth = _mirror_truth(self.truth, swap_labels)
        truth["view"] = series.meta["view"]
        clean = _mirror_xy(self.clean_xy_px, self.series.frame_size[0], swap_labels)
        return SyntheticRun(series=series, truth=truth, params=self.params, clean_xy_px=clean)


# --------------------------------------------------------------------------- validation
def _sides(value: Sided) -> tuple[float, float]:
    """``(left, right)`` of a sided parameter."""
    if isinstance(value, tuple):
        return float(value[0]), float(value[1])
    return float(value), float(value)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _check_range(name: str, value: float, lo: float, hi: float) -> None:
    _check(
        isinstance(value, int | float) and math.isfinite(value) and lo <= value <= hi,
        f"RunnerParams.{name} must lie in [{lo}, {hi}], got {value!r}.",
    )


def _check_sided(name: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, tuple):
        _check(len(value) == 2, f"RunnerParams.{name} must be a float or a (left, right) pair.")
        for v in value:
            _check_range(name, v, lo, hi)
    else:
        _check_range(name, value, lo, hi)


def _validate(p: RunnerParams) -> None:
    _check(p.view in VIEWS, f"RunnerParams.view must be one of {VIEWS}, got {p.view!r}.")
    _check(p.near_leg in (None, "left", "right"),
           f"RunnerParams.near_leg must be None, 'left' or 'right', got {p.near_leg!r}.")
    for name, lo, hi in (
        ("fps", 30.0, 240.0), ("cadence_spm", 120.0, 240.0), ("duty_factor", 0.2, 0.45),
        ("knee_flexion_to_deg", 5.0, 45.0), ("t0_s", -1e6, 1e6), ("phase_offset", 0.0, 1.0),
        ("vfr_jitter", 0.0, 0.45), ("height_m", 1.0, 2.3), ("body_height_px", 50.0, 1e5),
        ("thigh_ratio", 0.15, 0.35), ("shank_ratio", 0.15, 0.35), ("foot_ratio", 0.1, 0.2),
        ("trunk_ratio", 0.2, 0.4), ("hip_width_ratio", 0.05, 0.2),
        ("shoulder_width_ratio", 0.1, 0.35), ("near_visibility", 0.0, 1.0),
        ("far_visibility", 0.0, 1.0), ("foot_angle_to_deg", -70.0, 0.0),
        ("heel_off_share", 0.3, 0.9), ("heel_retraction_share", 0.0, 1.0),
        ("heel_reversal_lead_ms", 5.0, 100.0),
        ("heel_land_speed_mps", 0.3, 2.5), ("foot_blur_px", 0.0, 1e3),
        ("knee_flexion_swing_deg", 60.0, 140.0),
        ("trunk_lean_deg", -20.0, 40.0), ("vertical_oscillation_pct_leg", 0.0, 20.0),
        ("arm_swing_deg", 0.0, 70.0), ("pelvic_rotation_deg", 0.0, 20.0),
        ("margin_px", 0.0, 1e4), ("noise_px", 0.0, 100.0), ("dropout_share", 0.0, 0.5),
        ("low_visibility_share", 0.0, 0.5),
    ):
        _check_range(name, getattr(p, name), lo, hi)
    for name, lo, hi in (
        ("shank_angle_ic_deg", -20.0, 30.0), ("foot_angle_ic_deg", -30.0, 35.0),
        ("pelvic_drop_deg", -10.0, 20.0), ("hip_adduction_deg", -10.0, 30.0),
        ("step_width_pct_hip", -100.0, 200.0),
    ):
        _check_sided(name, getattr(p, name), lo, hi)
    if p.knee_flexion_ic_deg is not None:
        _check_sided("knee_flexion_ic_deg", p.knee_flexion_ic_deg, 0.0, 60.0)
    if p.overstride_pct_leg is not None:
        _check_sided("overstride_pct_leg", p.overstride_pct_leg, -30.0, 60.0)
        _check(p.knee_flexion_ic_deg is None,
               "Set either overstride_pct_leg or knee_flexion_ic_deg, not both (one follows "
               "from the other at a given shank angle).")
    if p.speed_mps is not None:
        _check_range("speed_mps", p.speed_mps, 0.5, 10.0)
    _check(len(p.offset_px) == 2 and all(math.isfinite(v) for v in p.offset_px),
           "RunnerParams.offset_px must be two finite numbers.")
    for name in ("dropout_run_frames", "n_swaps", "swap_run_frames", "seed", "n_collapses",
                 "collapse_run_frames", "n_foot_blur_bursts", "foot_blur_frames"):
        v = getattr(p, name)
        _check(bool(isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 0),
               f"RunnerParams.{name} must be a non-negative integer, got {v!r}.")
    _check(p.dropout_run_frames >= 1 and p.swap_run_frames >= 1
           and p.collapse_run_frames >= 1 and p.foot_blur_frames >= 1,
           "Run lengths of dropouts, swaps, collapses and blur bursts must be at least one frame.")
    _check(p.duration_s >= 2.0 * p.stride_s and p.duration_s <= 600.0,
           f"RunnerParams.duration_s must cover at least two strides ({2 * p.stride_s:.2f} s) "
           f"and at most 600 s, got {p.duration_s!r}.")


# --------------------------------------------------------------------------- geometry helpers
@dataclass(frozen=True)
class _Body:
    """Segment lengths in metres."""

    thigh: float
    shank: float
    foot: float
    trunk: float
    hip_width: float
    shoulder_width: float
    upper_arm: float
    forearm: float
    k: float  # height / reference height, scales small offsets

    @property
    def leg(self) -> float:
        return self.thigh + self.shank


def _body(p: RunnerParams) -> _Body:
    h = p.height_m
    return _Body(
        thigh=p.thigh_ratio * h, shank=p.shank_ratio * h, foot=p.foot_ratio * h,
        trunk=p.trunk_ratio * h, hip_width=p.hip_width_ratio * h,
        shoulder_width=p.shoulder_width_ratio * h, upper_arm=0.186 * h, forearm=0.146 * h,
        k=h / _REF_HEIGHT_M,
    )


def _foot_axes(alpha_rad: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Unit vectors along the foot (heel->toe) and its upward normal, shape (..., 2)."""
    c, s = np.cos(alpha_rad), np.sin(alpha_rad)
    return np.stack([c, s], axis=-1), np.stack([-s, c], axis=-1)


def _ankle_from_heel(alpha_rad: FloatArray, foot: float) -> FloatArray:
    """Ankle minus heel in the sagittal plane (X forward, Y up), shape (..., 2)."""
    u, n = _foot_axes(alpha_rad)
    return foot * (_HEEL_TO_ANKLE_FWD * u + _HEEL_TO_ANKLE_UP * n)


def _chain(theta_t: float, theta_s: float, body: _Body) -> FloatArray:
    """Ankle minus hip for thigh and shank angles from the downward vertical (+ forward)."""
    return np.array([
        body.thigh * math.sin(theta_t) + body.shank * math.sin(theta_s),
        -(body.thigh * math.cos(theta_t) + body.shank * math.cos(theta_s)),
    ])


def _bump(phase: FloatArray, duty: float) -> FloatArray:
    """Smooth stance bump: ``sin^2(pi * phase / duty)`` in stance, 0 in swing, peak 1."""
    ph = np.mod(phase, 1.0)
    return np.where(ph < duty, np.sin(np.pi * ph / duty) ** 2, 0.0)


def _knee_ik(hip: FloatArray, ankle: FloatArray, thigh: float, shank: float,
             clamp: bool) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Two-link inverse kinematics with the knee in front of the hip->ankle line.

    Parameters
    ----------
    hip, ankle : ndarray, shape (n, 2)
        Sagittal positions (X forward, Y up).
    thigh, shank : float
        Segment lengths.
    clamp : bool
        Pull the ankle toward the hip when it is out of reach (else report the excess).

    Returns
    -------
    knee : ndarray, shape (n, 2)
    ankle : ndarray, shape (n, 2)
        The (possibly clamped) ankle.
    excess : ndarray, shape (n,)
        Distance by which the ankle was out of reach (0 when reachable).
    """
    d = ankle - hip
    dist = np.hypot(d[:, 0], d[:, 1])
    d_max = (thigh + shank) * math.cos(math.radians(1.0))
    d_min = math.sqrt(thigh**2 + shank**2 - 2 * thigh * shank * math.cos(math.radians(30.0)))
    excess = np.maximum(dist - d_max, 0.0) + np.maximum(d_min - dist, 0.0)
    unit = d / dist[:, None]
    if clamp:
        dist = np.clip(dist, d_min, d_max)
        ankle = hip + unit * dist[:, None]
    cos_psi = (thigh**2 + dist**2 - shank**2) / (2.0 * thigh * dist)
    psi = np.arccos(np.clip(cos_psi, -1.0, 1.0))
    c, s = np.cos(psi), np.sin(psi)
    knee_dir = np.stack([c * unit[:, 0] - s * unit[:, 1], s * unit[:, 0] + c * unit[:, 1]], -1)
    return hip + thigh * knee_dir, ankle, excess


# --------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class _SideIC:
    """Pose of one leg at IC (sagittal, metres, radians)."""

    theta_t: float
    theta_s: float
    alpha: float
    ankle_rel_hip: FloatArray  # (2,)
    hip_height: float  # hip joint height above ground at IC


class _Model:
    """Evaluates the 3-D landmark positions (body frame, metres) at any stride phase."""

    def __init__(self, p: RunnerParams) -> None:
        self.p = p
        self.b = _body(p)
        self.T = p.stride_s
        self.d = p.duty_factor
        self.tc = p.contact_time_s
        self.rot = math.radians(p.pelvic_rotation_deg)
        self.drop = [math.radians(v) for v in _sides(p.pelvic_drop_deg)]
        self.add = [math.radians(v) for v in _sides(p.hip_adduction_deg)]
        self.width = _sides(p.step_width_pct_hip)
        self.ic = [self._ic_pose(i) for i in range(2)]
        self._pelvis_levels()
        self.alpha_st = [self._stance_alpha(i) for i in range(2)]
        self.v = self._solve_speed() if p.speed_mps is None else float(p.speed_mps)
        self.swing = [self._swing_spline(i) for i in range(2)]

    def _knee_at_to(self, speed: float) -> float:
        """Smallest knee flexion of both legs in the second half of stance, degrees."""
        self.v = speed
        tau = np.linspace(0.5, 1.0, 26) * self.tc
        b = self.b
        out = []
        for i in range(2):
            st = self.stance(i, tau)
            dist = np.hypot(*(st["ankle"] - st["hip"]).T)
            cos_k = (b.thigh**2 + b.shank**2 - dist**2) / (2 * b.thigh * b.shank)
            out.append(180.0 - float(np.degrees(np.arccos(np.clip(cos_k, -1.0, 1.0))).max()))
        return min(out)

    def _solve_speed(self) -> float:
        """Belt speed at which the late-stance knee extends to ``knee_flexion_to_deg``."""
        target = self.p.knee_flexion_to_deg
        lo, hi = 0.3, 12.0
        _check(self._knee_at_to(lo) > target,
               f"No running speed gives a knee flexion of {target} deg at toe off with these "
               "landing angles; lower knee_flexion_to_deg.")
        for _ in range(60):  # bisection on a monotonic function, 60 halvings of [lo, hi]
            mid = 0.5 * (lo + hi)
            if self._knee_at_to(mid) > target:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    # ---- pelvis and hips, as functions of the LEFT stride phase
    def hips(self, phase_l: FloatArray) -> tuple[FloatArray, FloatArray, dict[str, FloatArray]]:
        """Left and right hip joint positions, shape (n, 3), and pelvis angles."""
        b, d = self.b, self.d
        ph = np.asarray(phase_l, dtype=float)
        psi = np.mod(2.0 * ph, 1.0)  # step phase, 0 at every IC
        amp = self.p.vertical_oscillation_pct_leg / 100.0 * b.leg
        y_p = (self.y_mean + self.y_delta * np.cos(2 * np.pi * ph)
               - 0.5 * amp * np.cos(2 * np.pi * (psi - d)))
        bl, br = _bump(ph, d), _bump(ph - 0.5, d)
        obliq = self.drop[0] * bl - self.drop[1] * br  # + = left hip higher than right
        rot = self.rot * np.cos(2 * np.pi * ph)  # + = left hip forward
        z_p = _PELVIC_SWAY_M * b.k * (bl - br)
        half = 0.5 * b.hip_width
        off = np.stack([np.sin(rot), np.cos(rot) * np.sin(obliq), np.cos(rot) * np.cos(obliq)], -1)
        centre = np.stack([np.zeros_like(ph), y_p, z_p], -1)
        return centre + half * off, centre - half * off, {"obliq": obliq, "rot": rot, "y": y_p}

    def _ic_pose(self, i: int) -> _SideIC:
        p, b = self.p, self.b
        theta_s = math.radians(_sides(p.shank_angle_ic_deg)[i])
        alpha = math.radians(_sides(p.foot_angle_ic_deg)[i])
        heel_rel_ankle = -_ankle_from_heel(np.array(alpha), b.foot)
        hip_fwd = 0.5 * b.hip_width * math.sin(self.rot)  # own hip ahead of hip midpoint at IC
        if p.overstride_pct_leg is not None:
            target = _sides(p.overstride_pct_leg)[i] / 100.0 * b.leg
            sin_t = (target - hip_fwd - heel_rel_ankle[0] - b.shank * math.sin(theta_s)) / b.thigh
            _check(abs(sin_t) < 0.99,
                   f"Overstride {target / b.leg * 100:.1f} %leg cannot be reached with a shank "
                   f"angle of {math.degrees(theta_s):.1f} deg.")
            theta_t = math.asin(sin_t)
            _check(theta_t >= theta_s and theta_t - theta_s <= math.radians(60.0),
                   f"Overstride {target / b.leg * 100:.1f} %leg with a shank angle of "
                   f"{math.degrees(theta_s):.1f} deg needs a knee flexion at IC of "
                   f"{math.degrees(theta_t - theta_s):.1f} deg, outside 0-60 deg.")
        else:
            knee = 15.0 if p.knee_flexion_ic_deg is None else _sides(p.knee_flexion_ic_deg)[i]
            theta_t = theta_s + math.radians(knee)
        ankle = _chain(theta_t, theta_s, b)
        heel = ankle + heel_rel_ankle
        toe = heel + b.foot * np.array([math.cos(alpha), math.sin(alpha)])
        return _SideIC(theta_t, theta_s, alpha, ankle, -min(heel[1], toe[1]))

    def _pelvis_levels(self) -> None:
        """Choose the pelvis height curve so that each foot touches the ground at its IC."""
        amp = self.p.vertical_oscillation_pct_leg / 100.0 * self.b.leg
        at_ic = -0.5 * amp * math.cos(2 * np.pi * self.d)
        y_l, y_r = self.ic[0].hip_height, self.ic[1].hip_height
        self.y_mean = 0.5 * (y_l + y_r) - at_ic
        self.y_delta = 0.5 * (y_l - y_r)

    def hip_of(self, i: int, phase_s: FloatArray) -> FloatArray:
        """Hip joint of leg ``i`` (0 left, 1 right) at its own stride phase, shape (n, 3)."""
        hl, hr, _ = self.hips(np.asarray(phase_s) + 0.5 * i)
        return hl if i == 0 else hr

    def _stance_alpha(self, i: int) -> CubicHermiteSpline:
        a0, a1 = self.ic[i].alpha, math.radians(self.p.foot_angle_to_deg)
        tc = self.tc
        t_ff, t_ho = _FOOT_FLAT_SHARE * tc, self.p.heel_off_share * tc
        return CubicHermiteSpline(
            [0.0, t_ff, t_ho, tc], [a0, 0.0, 0.0, a1],
            [-1.5 * a0 / t_ff, 0.0, 0.0, 1.0 * a1 / (tc - t_ho)],
        )

    def stance(self, i: int, tau: FloatArray) -> dict[str, FloatArray]:
        """Sagittal hip, ankle, heel, toe (n, 2) and foot angle of leg ``i`` in stance."""
        b, ic = self.b, self.ic[i]
        tau = np.asarray(tau, dtype=float)
        hip = self.hip_of(i, tau / self.T)[:, :2]
        hip_ic = self.hip_of(i, np.zeros(1))[0, :2]
        heel_ic_x = hip_ic[0] + ic.ankle_rel_hip[0] - _ankle_from_heel(np.array(ic.alpha),
                                                                       b.foot)[0]
        flat_heel_x = heel_ic_x if ic.alpha >= 0 else heel_ic_x + b.foot * (math.cos(ic.alpha)
                                                                            - 1.0)
        contact = flat_heel_x - self.v * tau
        alpha = self.alpha_st[i](tau)
        u, _ = _foot_axes(alpha)
        heel_down = np.stack([contact, np.zeros_like(tau)], -1)
        toe_down = heel_down + np.stack([np.full_like(tau, b.foot), np.zeros_like(tau)], -1)
        heel = np.where((alpha >= 0)[:, None], heel_down, toe_down - b.foot * u)
        toe = heel + b.foot * u
        ankle = heel + _ankle_from_heel(alpha, b.foot)
        return {"hip": hip, "ankle": ankle, "heel": heel, "toe": toe, "alpha": alpha}

    def _key_ankle(self, i: int, phase_s: float, theta_t_deg: float, knee_deg: float) -> FloatArray:
        hip = self.hip_of(i, np.array([phase_s]))[0, :2]
        th = math.radians(theta_t_deg)
        return hip + _chain(th, th - math.radians(knee_deg), self.b)

    def _swing_spline(self, i: int) -> tuple[CubicHermiteSpline, CubicHermiteSpline]:
        """Ankle-minus-hip path and foot angle in swing, as functions of time since TO.

        Knots: toe off (continuous with stance plus a lift-off velocity), maximum knee flexion,
        the heel's most forward point (``heel_reversal_lead_ms`` before IC, no forward velocity)
        and IC. Between the last two the heel decelerates uniformly to the retraction velocity
        while descending at a constant speed, so it touches the ground exactly at IC.
        """
        p, ic, tc, T = self.p, self.ic[i], self.tc, self.T
        h = 1e-6
        st = self.stance(i, np.array([tc - h, tc]))
        rel = st["ankle"] - st["hip"]
        v_to = (rel[1] - rel[0]) / h + np.array([0.0, _LIFT_SPEED_MPS])
        t_sw = T - tc
        lead = p.heel_reversal_lead_ms / 1000.0
        _check(lead < 0.4 * t_sw, "heel_reversal_lead_ms must be shorter than 40 % of swing.")
        s1, s_r = 0.45 * t_sw, t_sw - lead
        ph = np.array([(tc + s1) / T, (tc + s_r) / T, (tc + s_r) / T + h / T, 1.0 - h / T, 1.0])
        hips = self.hip_of(i, ph)[:, :2]
        hip_vel_r = (hips[2] - hips[1]) / h
        hip_vel_ic = (hips[4] - hips[3]) / h
        retract = p.heel_retraction_share * self.v
        # absolute foot velocity at IC (swing side) and at the reversal; the foot does not
        # rotate in this last phase, so ankle and heel move alike
        land = p.heel_land_speed_mps
        v_ic = np.array([-retract, -land]) - hip_vel_ic
        v_r = np.array([0.0, -land]) - hip_vel_r
        ankle_ic_abs = hips[4] + ic.ankle_rel_hip
        ankle_r_abs = ankle_ic_abs + np.array([0.5 * retract * lead, land * lead])
        k1 = self._key_ankle(i, ph[0], 10.0, p.knee_flexion_swing_deg) - hips[0]
        k_r = ankle_r_abs - hips[1]
        v1 = (k_r - rel[1]) / s_r  # Catmull-Rom style tangent at the middle knot
        knots = [0.0, s1, s_r, t_sw]
        ankle_sp = CubicHermiteSpline(knots, np.stack([rel[1], k1, k_r, ic.ankle_rel_hip]),
                                      np.stack([v_to, v1, v_r, v_ic]))
        a_to = float(st["alpha"][1])
        da_to = float((st["alpha"][1] - st["alpha"][0]) / h)
        a1 = math.radians(10.0 - p.knee_flexion_swing_deg)  # foot square to the shank
        alpha_sp = CubicHermiteSpline(knots, [a_to, a1, ic.alpha, ic.alpha],
                                      [da_to, (ic.alpha - a_to) / s_r, 0.0, 0.0])
        return ankle_sp, alpha_sp

    def leg(self, i: int, phase_s: FloatArray) -> dict[str, FloatArray]:
        """Sagittal hip, knee, ankle, heel, toe (n, 2) of leg ``i`` at its own stride phase."""
        b = self.b
        ph = np.mod(np.asarray(phase_s, dtype=float), 1.0)
        tau = ph * self.T
        in_st = tau < self.tc
        st = self.stance(i, np.where(in_st, tau, 0.0))
        sigma = np.where(in_st, 0.0, tau - self.tc)
        ankle_sp, alpha_sp = self.swing[i]
        hip = self.hip_of(i, ph)[:, :2]
        alpha_sw = alpha_sp(sigma)
        ankle_sw = hip + ankle_sp(sigma)
        m = in_st[:, None]
        ankle = np.where(m, st["ankle"], ankle_sw)
        knee, ankle_c, excess = _knee_ik(hip, ankle, b.thigh, b.shank, clamp=True)
        shift = ankle_c - ankle
        alpha = np.where(in_st, st["alpha"], alpha_sw)
        u, _ = _foot_axes(alpha)
        heel_sw = ankle_c - _ankle_from_heel(alpha, b.foot)
        heel = np.where(m, st["heel"] + shift, heel_sw)
        toe = heel + b.foot * u
        return {"hip": hip, "knee": knee, "ankle": ankle_c, "heel": heel, "toe": toe,
                "stance": in_st, "excess": np.where(in_st, excess, 0.0),
                "swing_excess": np.where(in_st, 0.0, excess)}

    def check_feasible(self) -> None:
        """Raise ValueError when the legs cannot follow the requested motion."""
        grid = (np.arange(2000, dtype=np.float64) + 0.5) / 2000.0
        for i, side in enumerate(SIDES):
            leg = self.leg(i, grid)
            _check(float(leg["excess"].max()) < 1e-9,
                   f"The {side} leg cannot stay on the ground through stance (too fast for the "
                   "leg length, contact time and vertical oscillation); lower speed_mps or "
                   "duty_factor, or raise vertical_oscillation_pct_leg.")
            # The swing path is followed only as far as the leg reaches (the knee cannot
            # over-extend); in the last approach, from the heel's forward extreme to touchdown,
            # a clamp of more than SWING_REACH_TOL_M bends the landing that the contact
            # properties time against (the level band is 13 mm). Earlier in swing a clamp only
            # shortens the swing arc.
            approach = grid * self.T > self.T - self.p.heel_reversal_lead_ms / 1000.0
            reach = float(np.max(leg["swing_excess"][approach], initial=0.0))
            _check(reach < SWING_REACH_TOL_M * self.b.k,
                   f"The {side} swing leg cannot reach its landing path (the foot would stop "
                   "too far ahead for the leg length); lower heel_retraction_share or "
                   "heel_reversal_lead_ms, or raise knee_flexion_ic_deg.")
            swing = np.logical_not(leg["stance"])
            low = np.minimum(leg["heel"][swing, 1], leg["toe"][swing, 1])
            _check(float(low.min()) > -1e-3 * self.b.k,
                   f"The {side} foot goes below the ground in swing; change the key angles.")

    # ---- whole body
    def body_points(self, phase_l: FloatArray) -> FloatArray:
        """All 33 landmarks in the body frame (X fwd, Y up, Z left), metres, shape (n, 33, 3)."""
        p, b = self.p, self.b
        ph = np.asarray(phase_l, dtype=float)
        n = ph.shape[0]
        out = np.zeros((n, lm.N_LANDMARKS, 3))
        hip_l, hip_r, pel = self.hips(ph)
        obliq = pel["obliq"]
        for i, side in enumerate(SIDES):
            sgn = 1.0 if i == 0 else -1.0
            ph_s = ph - 0.5 * i
            leg = self.leg(i, ph_s)
            hip3 = hip_l if i == 0 else hip_r
            # frontal plane: femur angle from vertical toward the midline = adduction - drop
            own_drop = sgn * obliq
            add = self.add[i] * (0.4 + 0.6 * _bump(ph_s, self.d))
            gamma = add - own_drop
            z_hip = hip3[:, 2]
            z_knee = z_hip - sgn * np.tan(gamma) * (leg["hip"][:, 1] - leg["knee"][:, 1])
            z_foot = sgn * 0.5 * self.width[i] / 100.0 * b.hip_width
            toe_dx = leg["toe"][:, 0] - leg["heel"][:, 0]
            z_toe = z_foot + sgn * np.abs(toe_dx) * math.tan(math.radians(_TOE_OUT_DEG))
            ids = lm.LEG[side]
            zs = (z_hip, z_knee, np.full(n, z_foot), np.full(n, z_foot), z_toe)
            for idx, key, z in zip(ids, ("hip", "knee", "ankle", "heel", "toe"), zs, strict=True):
                out[:, idx, :2] = leg[key]
                out[:, idx, 2] = z
        # trunk
        lean = math.radians(p.trunk_lean_deg)
        hip_mid = 0.5 * (out[:, lm.LEFT_HIP] + out[:, lm.RIGHT_HIP])
        sh_mid = hip_mid + b.trunk * np.array([math.sin(lean), math.cos(lean), 0.0])
        sh_rot = -pel["rot"]
        half = 0.5 * b.shoulder_width * np.stack(
            [np.sin(sh_rot), np.zeros(n), np.cos(sh_rot)], -1)
        out[:, lm.LEFT_SHOULDER] = sh_mid + half
        out[:, lm.RIGHT_SHOULDER] = sh_mid - half
        # arms: same-side arm swings opposite to the same-side leg
        amp = math.radians(p.arm_swing_deg)
        for i in range(2):
            sgn = 1.0 if i == 0 else -1.0
            ua = -amp * np.cos(2 * np.pi * (ph - 0.5 * i)) - math.radians(5.0)
            fa = ua + math.radians(85.0)
            sh = out[:, (lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER)[i]]
            elbow = sh + np.stack([b.upper_arm * np.sin(ua), -b.upper_arm * np.cos(ua),
                                   np.full(n, -sgn * 0.02 * b.k)], -1)
            fdir = np.stack([np.sin(fa), -np.cos(fa), np.full(n, -sgn * 0.35)], -1)
            fdir /= np.linalg.norm(fdir, axis=1, keepdims=True)
            wrist = elbow + b.forearm * fdir
            side_z = np.array([0.0, 0.0, sgn * b.k])
            up = np.array([0.0, b.k, 0.0])
            out[:, (lm.LEFT_ELBOW, lm.RIGHT_ELBOW)[i]] = elbow
            out[:, (lm.LEFT_WRIST, lm.RIGHT_WRIST)[i]] = wrist
            out[:, (17, 18)[i]] = wrist + 0.07 * b.k * fdir + 0.015 * side_z - 0.01 * up
            out[:, (19, 20)[i]] = wrist + 0.08 * b.k * fdir - 0.005 * side_z
            out[:, (21, 22)[i]] = wrist + 0.04 * b.k * fdir - 0.02 * side_z + 0.02 * up
        # head: centre above the shoulders, leaning half as much as the trunk
        hl = 0.5 * lean
        head = sh_mid + 0.2 * b.k * np.array([math.sin(hl), math.cos(hl), 0.0])
        face = {  # (forward, up, left) offsets in metres for a 1.75 m body
            0: (0.10, 0.0, 0.0), 1: (0.085, 0.035, 0.015), 2: (0.08, 0.035, 0.032),
            3: (0.07, 0.035, 0.047), 4: (0.085, 0.035, -0.015), 5: (0.08, 0.035, -0.032),
            6: (0.07, 0.035, -0.047), 7: (0.0, 0.02, 0.075), 8: (0.0, 0.02, -0.075),
            9: (0.085, -0.045, 0.025), 10: (0.085, -0.045, -0.025),
        }
        face_ids = np.array(list(face))
        offs = np.array(list(face.values())) * b.k
        out[:, face_ids] = head[:, None, :] + offs[None, :, :]
        return out


# --------------------------------------------------------------------------- camera
def _project(points: FloatArray, view: str) -> FloatArray:
    """Body frame (X fwd, Y up, Z left) -> camera axes (x right, y down, z away), metres."""
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    if view == "side-left":
        cam = (-x, -y, -z)
    elif view == "side-right":
        cam = (x, -y, z)
    elif view == "rear":
        cam = (-z, -y, x)
    else:  # front
        cam = (z, -y, -x)
    return np.stack(cam, axis=-1)


def _visibility(p: RunnerParams, n: int, rng: np.random.Generator) -> FloatArray:
    vis = np.full(lm.N_LANDMARKS, 0.95)
    if p.facing:
        near = p.near_leg or ("left" if p.facing < 0 else "right")
        near_ids = [a if near == "left" else b for a, b in lm.LR_PAIRS]
        far_ids = [b if near == "left" else a for a, b in lm.LR_PAIRS]
        vis[near_ids] = p.near_visibility
        vis[far_ids] = p.far_visibility
        vis[far_ids[:5]] = min(_FAR_SIDE_FACE_VIS, 1.0)  # far eye/ear/mouth
        vis[0] = p.near_visibility
    elif p.view == "rear":
        vis[:11] = 0.4  # the face is hidden
        vis[11:] = 0.9
    out = vis[None, :] + rng.uniform(-0.02, 0.02, size=(n, lm.N_LANDMARKS))
    return np.clip(out, 0.0, 1.0)


def leg_swap_permutation(knees: bool = True) -> list[int]:
    """Index permutation exchanging the left and right knee (optional), ankle, heel and toe.

    Returns
    -------
    list of int, length 33
    """
    perm = list(range(lm.N_LANDMARKS))
    first = 1 if knees else 2
    for left, right in zip(lm.LEG["left"][first:], lm.LEG["right"][first:], strict=True):
        perm[left], perm[right] = right, left
    return perm


def _collapse_frames(rng: np.random.Generator, truth: dict[str, Any], p: RunnerParams, n: int,
                     blur: bool = False) -> NDArray[np.int64]:
    """Frames of near-leg collapses (or foot-blur bursts): runs placed in the near leg's swing.

    Collapses sit in mid swing, where the swinging leg passes the stance leg; blur bursts in
    late swing, where the foot moves fastest and blurs. Both stay clear of contacts by at least
    a quarter step, so contact timing is tested against noise, not against a missing foot.
    """
    count, run = ((p.n_foot_blur_bursts, p.foot_blur_frames) if blur
                  else (p.n_collapses, p.collapse_run_frames))
    near = truth.get("near_leg") or "left"
    ic_f = np.asarray(truth["ic_frames"][near], dtype=np.int64)
    if count <= 0 or ic_f.size < 2:
        return np.zeros(0, dtype=np.int64)
    stride = int(np.median(np.diff(ic_f)))
    # contact at 0; toe-off near duty * stride; mid swing ~ (1 + duty) / 2 stride.
    at = 0.5 * (1.0 + p.duty_factor) if not blur else 0.8
    starts = (ic_f[:-1] + int(at * stride) - run // 2)
    starts = starts[(starts > 0) & (starts + run < n)]
    pick = np.sort(rng.choice(starts, size=min(count, starts.size), replace=False))
    return np.unique((pick[:, None] + np.arange(run)[None, :]).ravel()).astype(np.int64)


def _runs(rng: np.random.Generator, n: int, n_runs: int, run: int, gap: int,
          skip_ends: bool) -> NDArray[np.int64]:
    """Frames of ``n_runs`` non-overlapping runs of ``run`` frames with ``gap`` frames between."""
    slot = run + gap
    first = 1 if skip_ends else 0
    n_slots = n // slot - 2 * first
    if n_runs <= 0 or n_slots <= 0:
        return np.zeros(0, dtype=np.int64)
    n_runs = min(n_runs, n_slots)
    slots = np.sort(rng.choice(n_slots, size=n_runs, replace=False)) + first
    frames = (slots[:, None] * slot + gap // 2 + np.arange(run)[None, :]).ravel()
    return frames[frames < n].astype(np.int64)


# --------------------------------------------------------------------------- truth
def _angle_deg(y: FloatArray, x: FloatArray) -> FloatArray:
    return np.degrees(np.arctan2(y, x))


def _side_metrics(xy: FloatArray, facing: int, leg_px: float) -> dict[str, FloatArray]:
    """Per-frame side-view quantities of ``docs/conventions.md`` for both legs."""
    hip_mid = 0.5 * (xy[:, lm.LEFT_HIP] + xy[:, lm.RIGHT_HIP])
    sh_mid = 0.5 * (xy[:, lm.LEFT_SHOULDER] + xy[:, lm.RIGHT_SHOULDER])
    out: dict[str, FloatArray] = {
        "trunk_lean_deg": _angle_deg(facing * (sh_mid[:, 0] - hip_mid[:, 0]),
                                     hip_mid[:, 1] - sh_mid[:, 1]),
        "hip_mid_y": hip_mid[:, 1],
    }
    for side in SIDES:
        hip, knee, ankle, heel, toe = (xy[:, k] for k in lm.LEG[side])
        out[f"overstride_pct_leg/{side}"] = facing * (heel[:, 0] - hip_mid[:, 0]) / leg_px * 100
        out[f"shank_angle_ic_deg/{side}"] = _angle_deg(facing * (ankle[:, 0] - knee[:, 0]),
                                                       ankle[:, 1] - knee[:, 1])
        a, c = hip - knee, ankle - knee
        cos = (a * c).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(c, axis=1))
        out[f"knee_flexion_ic_deg/{side}"] = 180.0 - np.degrees(np.arccos(np.clip(cos, -1, 1)))
        out[f"foot_angle_ic_deg/{side}"] = _angle_deg(-(toe[:, 1] - heel[:, 1]),
                                                      facing * (toe[:, 0] - heel[:, 0]))
    return out


def _frontal_metrics(xy: FloatArray) -> dict[str, FloatArray]:
    """Per-frame pelvic drop and hip adduction (view-independent definitions) per stance leg."""
    out: dict[str, FloatArray] = {}
    hip_mid = 0.5 * (xy[:, lm.LEFT_HIP] + xy[:, lm.RIGHT_HIP])
    for side, other in (("left", "right"), ("right", "left")):
        hs, hc = xy[:, lm.LEG[side][0]], xy[:, lm.LEG[other][0]]
        knee = xy[:, lm.LEG[side][1]]
        e = hc - hs
        out[f"pelvic_drop_deg/{side}"] = _angle_deg(e[:, 1], np.abs(e[:, 0]))
        e_hat = e / np.linalg.norm(e, axis=1, keepdims=True)
        n_hat = np.stack([-e_hat[:, 1], e_hat[:, 0]], -1)
        n_hat *= np.sign(n_hat[:, 1:2])  # perpendicular pointing down the image
        f = knee - hs
        out[f"hip_adduction_deg/{side}"] = _angle_deg((f * e_hat).sum(1), (f * n_hat).sum(1))
        own = np.sign(hs[:, 0] - hip_mid[:, 0])
        heel = xy[:, lm.LEG[side][3]]
        out[f"heel_lateral_px/{side}"] = own * (heel[:, 0] - hip_mid[:, 0])
    out["hip_width_px"] = np.abs(xy[:, lm.LEFT_HIP, 0] - xy[:, lm.RIGHT_HIP, 0])
    return out


def _summary(per: dict[str, FloatArray]) -> dict[str, Any]:
    left, right = per["left"], per["right"]
    both = np.concatenate([left, right])
    return {
        "value": float(both.mean()) if both.size else math.nan,
        "left": float(left.mean()) if left.size else math.nan,
        "right": float(right.mean()) if right.size else math.nan,
        "per_event": {"left": left, "right": right},
    }


def _mirror_truth(truth: dict[str, Any], swap_labels: bool) -> dict[str, Any]:
    out = dict(truth)
    if not swap_labels:
        return out
    for key, val in truth.items():
        if isinstance(val, dict) and "left" in val and "right" in val:
            new = dict(val)
            new["left"], new["right"] = val["right"], val["left"]
            if isinstance(val.get("per_event"), dict):
                pe = val["per_event"]
                new["per_event"] = {"left": pe["right"], "right": pe["left"]}
            if "instant" in val and isinstance(val["instant"], dict):
                ins = val["instant"]
                new["instant"] = {"left": ins["right"], "right": ins["left"]}
            out[key] = new
    if truth.get("near_leg") in SIDES:
        out["near_leg"] = "right" if truth["near_leg"] == "left" else "left"
    return out


# --------------------------------------------------------------------------- public API
def generate(params: RunnerParams | None = None, **changes: Any) -> SyntheticRun:
    """Generate a synthetic run.

    Parameters
    ----------
    params : RunnerParams, optional
        Model parameters (defaults when omitted).
    **changes
        Field overrides applied to ``params`` (``generate(view="rear")``).

    Returns
    -------
    SyntheticRun
        ``series`` (PoseSeries, n_frames x 33 landmarks) and ``truth``, a dict with:

        - ``view``, ``treadmill``, ``near_leg`` (side views), ``fps``, ``n_frames``,
          ``px_per_m``, ``speed_mps``, ``leg_length_px`` (thigh + shank, constant in side
          views), ``hip_width_px`` (median image hip width in a rear view);
        - ``cadence_spm``, ``contact_time_ms``, ``stride_s``: exact model values (floats);
        - ``ic_times_s``, ``toe_off_times_s``: ``{"left": (k,), "right": (k,)}`` continuous
          event times inside the clip; ``ic_frames``, ``toe_off_frames``: the first frame at or
          after each event (the first frame in contact / in the air);
        - ``ic_marked_times_s``: when the falling sole enters the belt-level band (1.5 % of leg
          length, ``LEVEL_BAND_LEG``) before each touchdown (see :func:`_marked_lead_s`);
        - per-metric dicts ``overstride_pct_leg``, ``shank_angle_ic_deg``,
          ``knee_flexion_ic_deg``, ``foot_angle_ic_deg`` (at IC frames), ``trunk_lean_deg`` (at
          the frame nearest midstance), ``vertical_oscillation_pct_leg`` (per step, from that
          side's IC frame to the next contralateral IC frame), ``pelvic_drop_deg`` and
          ``hip_adduction_deg`` (peak over stance frames), ``step_width_pct_hip`` (per IC with a
          previous contralateral IC), each ``{"value", "left", "right", "per_event"}`` where
          ``value`` is the mean over all events of both sides and ``per_event`` holds arrays;
          the sagittal and IC ones also carry ``instant``: the value at the exact IC instant
          (equal to the requested parameter);
        - ``swap_frames``, ``dropout_frames``, ``low_visibility_frames``: int arrays.

        Side-view metrics are computed from a side projection and frontal ones from a rear
        projection of the same noise-free motion, whatever the camera view, so every key is
        present; the analysis of a view reports only the metrics that view supports.

    Raises
    ------
    ValueError
        Invalid or physically infeasible parameters.
    """
    p = replace(params or RunnerParams(), **changes) if changes else (params or RunnerParams())
    model = _Model(p)
    model.check_feasible()
    rng = np.random.default_rng(p.seed)
    n = int(round(p.duration_s * p.fps))
    frame_s = 1.0 / p.fps
    jitter = rng.uniform(-p.vfr_jitter, p.vfr_jitter, size=n) * frame_s
    time_s: FloatArray = np.asarray(p.t0_s + np.arange(n) * frame_s + jitter, dtype=np.float64)
    rel_t: FloatArray = time_s - p.t0_s
    phase_l: FloatArray = rel_t / model.T + p.phase_offset

    pts = model.body_points(phase_l)  # (n, 33, 3) body frame, metres
    if not p.treadmill:
        pts[..., 0] += model.v * (rel_t - 0.5 * (rel_t[0] + rel_t[-1]))[:, None]
    cam = _project(pts, p.view)
    ppm = p.px_per_m
    xy = cam[..., :2] * ppm
    lo = xy.reshape(-1, 2).min(axis=0)
    xy += (p.margin_px - lo + np.asarray(p.offset_px, dtype=float))[None, None, :]
    hi = xy.reshape(-1, 2).max(axis=0)
    frame_size = (int(math.ceil(hi[0] + p.margin_px)), int(math.ceil(hi[1] + p.margin_px)))
    clean_xy = xy.copy()
    hip_mid_cam = 0.5 * (cam[:, lm.LEFT_HIP] + cam[:, lm.RIGHT_HIP])
    world = cam - hip_mid_cam[:, None, :]

    truth = _truth(p, model, time_s, phase_l, pts)

    vis = _visibility(p, n, rng)
    presence = np.full((n, lm.N_LANDMARKS), 0.99)
    if p.noise_px > 0:
        xy = xy + rng.normal(0.0, p.noise_px, size=xy.shape)
        world = world + rng.normal(0.0, p.noise_px / ppm, size=world.shape)
    n_low = int(round(p.low_visibility_share * n))
    low = np.sort(rng.choice(n, size=n_low, replace=False)).astype(np.int64)
    leg_ids = np.array(lm.LEG["left"] + lm.LEG["right"])
    vis[np.ix_(low, leg_ids)] = 0.15
    # Swaps stand apart by more than the longest swap cleaning repairs (0.25 s): two swaps
    # closer than that, one of whose flips is hidden by the legs overlapping, cannot be told
    # from one long swap (see gaitcheck.clean.repair_swaps).
    swap_gap = max(4 * p.swap_run_frames, int(np.ceil(SWAP_MIN_GAP_S * p.fps)))
    swaps = _runs(rng, n, p.n_swaps, p.swap_run_frames, swap_gap, skip_ends=True)
    perm = np.array(leg_swap_permutation(knees=p.swap_knees))
    for arr in (xy, world, vis, presence):
        arr[swaps] = arr[swaps][:, perm]
    collapses = _collapse_frames(rng, truth, p, n)
    near = truth.get("near_leg") or "left"
    far = "right" if near == "left" else "left"
    for a, b in zip(lm.LEG[near][1:], lm.LEG[far][1:], strict=True):
        xy[collapses, a] = xy[collapses, b]
    blur = _collapse_frames(rng, truth, p, n, blur=True)
    foot_ids = np.array(lm.LEG[near][2:])
    xy[np.ix_(blur, foot_ids)] += rng.normal(0.0, p.foot_blur_px, size=(blur.size, 3, 2))
    n_drop_runs = int(round(p.dropout_share * n / p.dropout_run_frames))
    drops = _runs(rng, n, n_drop_runs, p.dropout_run_frames, 0, skip_ends=False)
    xy[drops] = np.nan
    world[drops] = np.nan
    vis[drops] = 0.0
    presence[drops] = 0.0
    truth.update(swap_frames=swaps, dropout_frames=drops, low_visibility_frames=low,
                 collapse_frames=collapses, blur_frames=blur)

    meta = {"synthetic": True, "view": p.view, "treadmill": p.treadmill,
            "params": _jsonable(asdict(p)), "speed_mps": model.v}
    series = PoseSeries(
        xy_px=xy, world_m=world, visibility=vis, presence=presence, time_s=time_s, fps=p.fps,
        frame_size=frame_size, source=f"synthetic runner ({p.view})", model="synthetic",
        meta=meta,
    )
    return SyntheticRun(series=series, truth=truth, params=p, clean_xy_px=clean_xy)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


# Belt level as a frame-by-frame observer of real pose can tell it: a sole within 1.5 % of leg
# length (~1.3 cm) of its loaded stance line. The hand-marking protocol counts a sole "a few px"
# above its stance line as on the belt (2.2-2.8 px on a 290-294 px leg, 0.8-1.0 %, is inside it:
# ../shared/landmarks/treadmill_runner_d_2.strikes.json), and the pose's own stance height
# scatters by 1.0-1.3 % of leg length (robust SD, near foot of every shared series), so no level
# test on real pose can split a landing finer than this band.
LEVEL_BAND_LEG = 0.015
# Largest distance (m, for a 1.75 m runner) by which the swing leg may fall short of its path.
SWING_REACH_TOL_M = 0.005
# Identity swaps are placed at least this far apart (see generate).
SWAP_MIN_GAP_S = 0.3


def _marked_lead_s(p: RunnerParams) -> float:
    """How long before touchdown the falling sole enters the belt-level band.

    A sole within ``LEVEL_BAND_LEG`` of leg length of its stance line is at belt level as far
    as real pose can tell (a tie band no observer of the pose can split). In the model the heel
    falls at ``heel_land_speed_mps`` over the last ``heel_reversal_lead_ms`` before touchdown,
    so it enters the band ``band / heel_land_speed_mps`` before touchdown, or at the start of
    that fall when it is shorter.
    """
    band_m = LEVEL_BAND_LEG * (p.thigh_ratio + p.shank_ratio) * p.height_m
    return min(p.heel_reversal_lead_ms / 1000.0, band_m / p.heel_land_speed_mps)


def _truth(p: RunnerParams, model: _Model, time_s: FloatArray, phase_l: FloatArray,
           pts: FloatArray) -> dict[str, Any]:
    """Exact answers from the noise-free body points (see :func:`generate`)."""
    T, n = model.T, time_s.shape[0]
    ppm = p.px_per_m
    leg_px = model.b.leg * ppm
    t_first, t_last = float(time_s[0]), float(time_s[-1])
    ev: dict[str, dict[str, Any]] = {k: {} for k in ("ic_t", "to_t", "ic_f", "to_f", "ms_f")}
    for i, side in enumerate(SIDES):
        # left IC where phase_l is an integer; right IC where phase_l - 0.5 is an integer
        k0 = math.ceil((t_first - p.t0_s) / T + p.phase_offset - 0.5 * i - 1e-12)
        k1 = math.floor((t_last - p.t0_s) / T + p.phase_offset - 0.5 * i)
        ks = np.arange(k0, k1 + 1, dtype=float)
        t_ic = p.t0_s + (ks + 0.5 * i - p.phase_offset) * T
        t_to = t_ic + p.contact_time_s
        ev["ic_t"][side] = t_ic
        ev["to_t"][side] = t_to[t_to <= t_last]
        ev["ic_f"][side] = np.searchsorted(time_s, t_ic - 1e-9, side="left").astype(np.int64)
        ev["to_f"][side] = np.searchsorted(time_s, ev["to_t"][side] - 1e-9,
                                           side="left").astype(np.int64)
        t_mid = t_ic + 0.5 * p.contact_time_s
        t_mid = t_mid[t_mid <= t_last]
        ev["ms_f"][side] = np.abs(time_s[None, :] - t_mid[:, None]).argmin(axis=1)

    facing = p.facing or -1
    side_xy = _project(pts, "side-left" if facing < 0 else "side-right")[..., :2] * ppm
    sm = _side_metrics(side_xy, facing, leg_px)
    front_xy = _project(pts, "rear")[..., :2] * ppm
    fm = _frontal_metrics(front_xy)
    hip_w = float(np.median(fm["hip_width_px"]))

    truth: dict[str, Any] = {
        "view": p.view, "treadmill": p.treadmill, "fps": p.fps, "n_frames": n,
        "near_leg": (p.near_leg or ("left" if facing < 0 else "right")) if p.facing else None,
        "px_per_m": ppm, "speed_mps": model.v, "leg_length_px": leg_px,
        "hip_width_px": hip_w, "stride_s": T,
        "cadence_spm": p.cadence_spm, "contact_time_ms": 1000.0 * p.contact_time_s,
        "ic_times_s": ev["ic_t"], "toe_off_times_s": ev["to_t"],
        "ic_marked_times_s": {side: ev["ic_t"][side] - _marked_lead_s(p) for side in SIDES},
        "ic_frames": ev["ic_f"], "toe_off_frames": ev["to_f"],
    }
    for key in ("overstride_pct_leg", "shank_angle_ic_deg", "knee_flexion_ic_deg",
                "foot_angle_ic_deg"):
        per = {s: sm[f"{key}/{s}"][ev["ic_f"][s]] for s in SIDES}
        truth[key] = _summary(per)
    truth["trunk_lean_deg"] = _summary({s: sm["trunk_lean_deg"][ev["ms_f"][s]] for s in SIDES})

    # exact values at the IC instant (the requested / solved model values)
    inst: dict[str, dict[str, float]] = {k: {} for k in ("overstride_pct_leg",
                                                         "shank_angle_ic_deg",
                                                         "knee_flexion_ic_deg",
                                                         "foot_angle_ic_deg")}
    ic_pts = np.concatenate([model.body_points(np.array([0.0])),
                             model.body_points(np.array([0.5]))])
    ic_side = _project(ic_pts, "side-left" if facing < 0 else "side-right")[..., :2] * ppm
    ic_m = _side_metrics(ic_side, facing, leg_px)
    for i, s in enumerate(SIDES):
        for key in inst:
            inst[key][s] = float(ic_m[f"{key}/{s}"][i])
    for key, val in inst.items():
        truth[key]["instant"] = val

    # vertical oscillation per step: from an IC frame to the next IC frame of either foot
    all_ic = np.sort(np.concatenate([ev["ic_f"]["left"], ev["ic_f"]["right"]]))
    hy = sm["hip_mid_y"]
    vo: dict[str, FloatArray] = {}
    for s in SIDES:
        vals = []
        for f0 in ev["ic_f"][s]:  # loop over steps (a few dozen), not frames
            nxt = all_ic[all_ic > f0]
            if nxt.size and nxt[0] <= n:
                seg = hy[f0:nxt[0] + 1]
                vals.append((seg.max() - seg.min()) / leg_px * 100.0)
        vo[s] = np.asarray(vals, dtype=float)
    truth["vertical_oscillation_pct_leg"] = _summary(vo)

    for key in ("pelvic_drop_deg", "hip_adduction_deg"):
        per = {}
        for s in SIDES:
            vals = [fm[f"{key}/{s}"][a:b].max()
                    for a, b in zip(ev["ic_f"][s], ev["to_f"][s], strict=False) if b > a]
            per[s] = np.asarray(vals, dtype=float)
        truth[key] = _summary(per)

    # step width: own landing offset + previous contralateral landing offset, / hip width
    landings = sorted(
        (int(f), s) for s in SIDES for f in ev["ic_f"][s] if f < n
    )
    sw: dict[str, list[float]] = {"left": [], "right": []}
    for (f_prev, s_prev), (f, s) in zip(landings[:-1], landings[1:], strict=True):
        if s_prev == s:
            continue
        lat = fm[f"heel_lateral_px/{s}"][f] + fm[f"heel_lateral_px/{s_prev}"][f_prev]
        sw[s].append(lat / hip_w * 100.0)
    truth["step_width_pct_hip"] = _summary({s: np.asarray(v, dtype=float)
                                            for s, v in sw.items()})
    # lead of the heel's most forward point (treadmill frame) over the contact, per side
    grid = np.linspace(0.7, 1.0, 3001)
    lead = {}
    for i, s in enumerate(SIDES):
        heel_x = model.leg(i, grid)["heel"][:, 0]
        lead[s] = (1.0 - grid[int(np.argmax(heel_x))]) * T * 1000.0
    truth["heel_reversal_lead_ms"] = lead
    truth["model"] = {
        side: {
            "thigh_angle_ic_deg": math.degrees(model.ic[i].theta_t),
            "shank_angle_ic_deg": math.degrees(model.ic[i].theta_s),
            "knee_flexion_ic_deg": math.degrees(model.ic[i].theta_t - model.ic[i].theta_s),
            "foot_angle_ic_deg": math.degrees(model.ic[i].alpha),
            "pelvic_drop_deg": math.degrees(model.drop[i]),
            "hip_adduction_deg": math.degrees(model.add[i]),
            "step_width_pct_hip": model.width[i],
        }
        for i, side in enumerate(SIDES)
    }
    return truth


def _mirror_xy(xy: FloatArray, width: int, swap_labels: bool) -> FloatArray:
    out = xy.copy()
    out[..., 0] = width - out[..., 0]
    if swap_labels:
        out = out[:, lm.swap_permutation()]
    return out


def mirror(series: PoseSeries, swap_labels: bool = True) -> PoseSeries:
    """Mirror a pose series left-right: ``x' = width - x``.

    Parameters
    ----------
    series : PoseSeries
        Any series (synthetic or real).
    swap_labels : bool
        Also exchange every left landmark with its right twin (image, world, visibility,
        presence), so the mirrored data show a physically valid person.

    Returns
    -------
    PoseSeries
        The mirrored series; ``meta["view"]`` (when present) is updated and ``meta["mirrored"]``
        toggled.

    Notes
    -----
    What to expect, per view:

    * **Side view, no label swap**: the runner faces the other way (``side-left`` <->
      ``side-right``) and keeps its labels; every side-view value, left and right, is unchanged
      because all signs use ``facing``. The near leg keeps its label, so physically the camera
      seems to stand on the other side of a mirrored body (as in a selfie camera clip).
    * **Side view, label swap**: again the other facing, and a physically consistent runner
      whose left and right values are exchanged (the near leg label flips too).
    * **Rear view, label swap**: still a valid rear view (runner's left on the image left) of a
      runner whose left and right values are exchanged: e.g. ``pelvic_drop_deg.left`` becomes
      the old right value. This is the "mirroring swaps left and right" property.
    * **Rear view, no label swap**: the runner's left now appears on the image right, which is
      the front-view convention; the 2-D data equal a front view of the *same* runner (same
      left/right values), except that face landmarks are still the hidden ones. ``meta["view"]``
      becomes ``'front'`` (and a front view becomes ``'rear'``).
    """
    width = series.frame_size[0]
    perm = lm.swap_permutation()
    xy = _mirror_xy(series.xy_px, width, swap_labels)
    world = series.world_m.copy()
    world[..., 0] *= -1.0
    vis, pres = series.visibility, series.presence
    if swap_labels:
        world, vis, pres = world[:, perm], vis[:, perm], pres[:, perm]
    meta = dict(series.meta)
    view = meta.get("view")
    if view in ("side-left", "side-right"):
        meta["view"] = "side-right" if view == "side-left" else "side-left"
    elif view in ("rear", "front") and not swap_labels:
        meta["view"] = "front" if view == "rear" else "rear"
    meta["mirrored"] = not bool(meta.get("mirrored", False))
    return series.with_arrays(xy_px=xy, world_m=world, visibility=vis, presence=pres, meta=meta)
