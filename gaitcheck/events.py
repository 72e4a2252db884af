"""Gait events: initial contact (IC) and toe-off (TO) of each foot, then steps and strides.

Side views use the foot's horizontal motion against the ground. During swing the foot travels
forward faster than the ground; at contact it stops (overground) or is taken backwards by the belt
(treadmill). The ground's own image velocity is measured from the data (zero overground with a
static camera, the belt speed on a treadmill), so one rule finds the stop: the moment the
foot's forward velocity, after its swing peak, falls to the ground's velocity (for a treadmill:
the foot stops moving forward in the image). Many runners stop the foot in the air and land
30-70 ms later (swing-leg retraction); when the feet of a treadmill clip are still falling at the
stop, contact is where the foot is on the belt: at its own stance level and carried at belt
speed. Contacts that break the alternation of the feet or the step rhythm are dropped and
counted. TO is the knee's extension peak in late stance. The method and the basis of each
constant are in docs/conventions.md ("Contact detection, side view").

Frontal views (rear, front) cannot see the horizontal motion, so the foot's height above a
running ground line is used instead (Fellin 2010: vertical heel motion marks contact in running).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy.ndimage import percentile_filter, uniform_filter1d
from scipy.signal import find_peaks

from .clean import nanmedian_last
from .config import EventConfig
from .geometry import flexion_deg, leg_length_series, nearest_sample
from .landmarks import LEG, SIDES

Array = NDArray[np.float64]

# Retracting runners land 30-70 ms after the foot's most forward point (issue 7, hand-marked
# clips): the contact search starts this long before the hip-relative swing end.
_CONTACT_LEAD_S = 0.07
# An edge part-stride longer than this share of the median stride is searched for a contact:
# shorter edges are mostly the part of a stride that contains no contact.
_EDGE_STRIDE_SHARE = 0.8
# Retraction (see _lands_after_retraction, _belt_contacts). A foot resting on the belt has no
# descent; one in the last frames of a 3-7 cm drop over 30-70 ms falls at ~1 m/s (~1 leg/s).
# 0.15 leg/s (~13 cm/s) lies well below that and above the jitter of a resting foot (clip
# medians: 0.04 on the shared clip that lands at the stop, 0.27-0.41 on the retracting runners
# of ../shared/landmarks; every shared series scores the same for 0.1-0.2).
_AIRBORNE_DESCENT_LEG_S = 0.15
# Retracting feet move back at 0.3-0.6 of belt speed before touchdown and at belt speed after:
# the filtered step between the two crosses its midpoint (~0.7 of belt speed) at touchdown.
# (Shared series: all stay within their scores for 0.6-0.8; the mean offset moves ~+-10 ms.)
# The threshold is that midpoint for the foot's own airborne speed (read _STEP_SHOWS_S before
# the sole reaches its level band, at least a frame after the stop), capped at this share: a
# foot hanging still in the air gets 0.5, where 0.7 came 10-18 ms late on the synthetic runner
# at 60-120 fps.
_BELT_SHARE = 0.7
# The airborne speed is read this long before the sole reaches its level band: the zero-phase
# event low-pass (20 Hz) lets the touchdown's velocity step show from ~15 ms before it (its step
# response passes 5 % at -12.5 to -16.7 ms at 60-240 fps), and a fast landing reaches the band
# only 4-9 ms before touchdown. (Shared series: identical scores for 0-15 ms.)
_STEP_SHOWS_S = 0.015
# Belt level: the hand-marking protocol counts a sole "a few px" above its loaded stance line as
# on the belt (0.8-1.0 % of leg length is inside it), and real pose scatters at stance by
# 1.0-1.3 % of leg length (robust SD, near foot, shared series): 1.5 % (~1.3 cm) is the finest
# level test real pose supports. Against the exact touchdown it fires up to 1.5 % / descent
# speed early (9-19 ms at 0.7-1.5 m/s); on real pose the landmarks' own lag takes that back
# (shared series: mean offsets -4 to +8 ms against the marks, and later for any carry).
_BELT_LEVEL_TOL_LEG = 0.015
# Stance is 35-40 % of the stride in running: the stance level is read over that share.
_STANCE_SHARE = 0.35
# Touchdown comes 30-70 ms after the forward stop (issue 7); 150 ms bounds the search with margin
# and stays inside the stance that follows.
_LANDING_MAX_S = 0.15
# Rhythm check (see _rhythm_check): steady running changes its step time by a few per cent from
# step to step, so a step shorter than half the local median cannot be real, and one foot
# landing twice within 1.5 median steps (a stride is two) means one of the two is spurious.
_MIN_STEP_SHARE = 0.5
_SAME_FOOT_STEP_SHARE = 1.5
# The local median spans 4 steps either side (about 3 s of running at 160-180 steps/min), long
# enough to be robust to one bad step, short enough to follow a change of pace.
_RHYTHM_HALF_WINDOW = 4


@dataclass(frozen=True)
class Events:
    """Detected events.

    Attributes
    ----------
    ic_time_s, to_time_s : dict of str -> ndarray, shape (n_events,)
        Sub-frame event times per foot (``"left"``, ``"right"``); NaN TO where not found.
    ic_frame, to_frame : dict of str -> ndarray of int
        Index of the nearest frame (row in the series) of each event.
    ground_velocity_px_s : float
        Image velocity of the stance foot (belt speed on a treadmill, ~0 overground), signed
        in the running direction (negative = backward).
    method : str
    contacts_dropped : int
        Contacts removed by the rhythm check (side views): they broke the alternation of the
        feet or came impossibly soon after the previous contact.
    """

    ic_time_s: dict[str, Array]
    to_time_s: dict[str, Array]
    ic_frame: dict[str, NDArray[np.int64]]
    to_frame: dict[str, NDArray[np.int64]]
    ground_velocity_px_s: float
    method: str
    contacts_dropped: int = 0


def _gradient(values: Array, time_s: Array) -> Array:
    """Time derivative along axis 0 (central differences), NaN-propagating."""
    if values.shape[0] < 2:
        return np.full_like(values, np.nan)
    return np.asarray(np.gradient(values, time_s, axis=0))


def _crossings_down(signal: Array, threshold: Array | float) -> Array:
    """Sub-frame indices where ``signal`` crosses ``threshold`` from above; shape (k,)."""
    d = signal - threshold
    i = np.flatnonzero((d[:-1] > 0) & (d[1:] <= 0))
    frac = d[i] / (d[i] - d[i + 1])
    return np.asarray(i + frac)


def _crossings_up(signal: Array, threshold: Array | float) -> Array:
    """Sub-frame indices where ``signal`` crosses ``threshold`` from below; shape (k,)."""
    return _crossings_down(-signal, -np.asarray(threshold))


def frames_in(duration_s: float, dt: float, minimum: int = 1) -> int:
    """Whole frames nearest to ``duration_s`` at frame period ``dt`` (at least ``minimum``).

    Halves round up, with a margin far above float error: ``round`` would send 0.05 s at
    90 fps (4.5 frames) to 4 or 5 depending on the last bit of ``dt``, so shifting a clip's
    timestamps by an hour could change a window and with it the results.
    """
    return max(minimum, int(np.floor(duration_s / dt + 0.5 + 1e-6)))


def _index_to_time(index: Array, time_s: Array) -> Array:
    return np.interp(index, np.arange(time_s.shape[0]), time_s)


def detect_side_events(
    xy: Array, time_s: Array, facing: int, config: EventConfig | None = None,
    xy_sharp: Array | None = None,
) -> Events:
    """Initial contacts and toe-offs for a side view.

    IC follows the marking rule "the frame the landing shoe stops moving forward at belt level;
    if it stops in the air, the frame it reaches the belt":

    1. Stop: the foot's most forward point in a frame moving with the ground. With a treadmill
       (or a camera panning with the runner) the ground moves backward in the image and this is
       the foot's forward extreme in the image. Overground with a static camera the foot stops
       dead from about the body's speed, so the stop is where its (low-passed) speed has fallen
       halfway to the ground's.
    2. Treadmill clips whose feet still fall at the stop (median over all strikes, see
       ``_lands_after_retraction``) land after retraction: contact is the later of "lower foot
       point at its stance level" and "carried at belt speed" (``_belt_contacts``); otherwise
       the stop is the contact (``method`` tells which).
    3. Contacts that break the feet's alternation or the step rhythm are dropped and counted
       (``_rhythm_check``, ``Events.contacts_dropped``).
    TO: the knee's extension peak in late stance (Fellin 2010, about 5 ms error with markers).

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
        Cleaned landmarks.
    time_s : ndarray, shape (n_frames,)
    facing : int
        +1 facing image-right, -1 facing image-left.
    config : EventConfig, optional
    xy_sharp : ndarray, shape (n_frames, 33, 2), optional
        Landmarks low-passed at a higher cut-off, used to time the contact itself.

    Returns
    -------
    Events
    """
    cfg = config or EventConfig()
    dt = float(np.median(np.diff(time_s))) if time_s.size > 1 else 1.0
    facing_t = _travel_direction(xy, time_s, facing)
    fwd_x = facing_t[:, None] * xy[..., 0]  # forward position of every landmark, (n, 33)
    v_fwd = _gradient(fwd_x, time_s)
    sharp = xy if xy_sharp is None else xy_sharp
    v_sharp = _gradient(facing_t[:, None] * sharp[..., 0], time_s)
    ground, swing = [], []
    for side in SIDES:
        _, _, _, heel, toe = LEG[side]
        g, sw = _ground_and_swing_velocity(v_fwd[:, heel], xy[:, heel, 1])
        ground.append(g)
        swing.append(sw)
    # Both feet stand on the same ground: one ground velocity for the clip.
    g = float(np.nanmedian(ground)) if np.isfinite(ground).any() else 0.0
    sw = float(np.nanmedian(swing)) if np.isfinite(swing).any() else 0.0
    if g < -0.1 * sw:
        frame_v = 0.0  # the ground moves backward in the image (treadmill, panning camera)
    else:
        # Overground, static camera: the foot arrives at about the body's speed and stops dead.
        # The low-pass filter turns that step into a ramp centred on the true stop, so the
        # contact is where the speed has fallen halfway to the ground's.
        hip_v = np.nanmedian(0.5 * (v_fwd[:, 23] + v_fwd[:, 24]))
        approach = max(float(hip_v) - g, 0.2 * sw) if np.isfinite(hip_v) else 0.2 * sw
        frame_v = g + 0.5 * approach
    min_stride = max(1, int(round(2 * cfg.min_step_s / dt)))
    # Search window around each swing end, in seconds so that it means the same at any fps:
    # retracting runners land 30-70 ms after the foot's forward peak (issue 7), so the search
    # starts 70 ms before the hip-relative peak (which can trail the foot's own peak) and ends
    # 0.7 of the shortest plausible stride after it (before the next swing can start).
    lead_i = _CONTACT_LEAD_S / dt
    ahead_i = max(2, int(0.7 * 2 * cfg.min_step_s / dt))
    stops: dict[str, Array] = {}
    for side in SIDES:
        heel = LEG[side][3]
        # Strides from the heel's forward swing relative to the hips (local amplitude, so it
        # works whether the body travels across the image or stays on a treadmill) ...
        rel = fwd_x[:, heel] - 0.5 * (fwd_x[:, 23] + fwd_x[:, 24])
        swing_ends = _extrema(rel, min_stride)
        # ... then the stop: the heel's forward velocity falls to the sliding frame's velocity.
        ic_i = _contacts_after(v_sharp[:, heel], swing_ends, frame_v, lead_i, ahead_i)
        stops[side] = _add_edge_contacts(ic_i, v_sharp[:, heel], rel, frame_v)
    method = "side-horizontal"
    unplaced = 0
    leg_px = _leg_px(xy)
    feet_y = {s: xy[:, list(LEG[s][3:]), 1] for s in SIDES}
    if _lands_after_retraction(stops, feet_y, time_s, leg_px):
        # The foot stops (on a treadmill) or slows to half the body's speed (overground) in
        # the air: contact is where it is on the ground (at its stance level and moving with
        # the ground), not where it stopped.
        method = "side-retraction"
        # Moving with the ground: on a treadmill most of the way (_BELT_SHARE) to the belt's
        # velocity (measured on the retracting runners of the shared series); overground no
        # speed test (None): the foot is on the ground when it is at its level.
        on_ground_v = _BELT_SHARE * g if frame_v == 0.0 else None
        for side in SIDES:
            heel = LEG[side][3]
            placed = _belt_contacts(stops[side], v_sharp[:, heel], on_ground_v,
                                    sharp[:, list(LEG[side][3:]), 1], leg_px, dt)
            unplaced += int(np.isnan(placed).sum())
            stops[side] = placed[np.isfinite(placed)]
    ic: dict[str, Array] = {}
    to: dict[str, Array] = {}
    for side in SIDES:
        hip, knee, ankle = LEG[side][:3]
        ic_i = stops[side]
        flex = flexion_deg(xy[:, hip], xy[:, knee], xy[:, ankle])
        to_i = _knee_extension_peaks(flex, ic_i)
        ic[side] = _index_to_time(ic_i, time_s)
        to[side] = np.where(np.isfinite(to_i), _index_to_time(np.nan_to_num(to_i), time_s), np.nan)
    ic, to, dropped = _rhythm_check(ic, to)
    return replace(_finish(ic, to, time_s, g, method), contacts_dropped=dropped + unplaced)


def _add_edge_contacts(ic_i: Array, v: Array, rel: Array, level: float) -> Array:
    """Add a contact in the first or last part-stride of the clip, where a swing's extreme has
    too little signal after (or before) it to stand out as a peak.

    An edge part longer than ``_EDGE_STRIDE_SHARE`` of the median stride may hold a contact of
    this foot (a foot lands once per stride). A candidate is accepted where the heel's speed
    falls through ``level`` while the heel is in the front third of its fore-aft range relative
    to the hips (at contact the foot is near its most forward point; mid-swing and stance pass
    through the middle and back of the range), and at least half a stride away from the
    nearest detected contact (the same foot cannot land twice within half a stride).
    """
    if ic_i.size < 2:
        return ic_i
    stride = float(np.median(np.diff(ic_i)))
    n = v.size
    lo, hi = np.nanpercentile(rel, [5, 95])
    front = rel > lo + 2.0 / 3.0 * (hi - lo)
    d = v - level
    down = np.flatnonzero((d[:-1] > 0) & (d[1:] <= 0) & (front[:-1] | front[1:]))
    extra = []
    if ic_i[0] > _EDGE_STRIDE_SHARE * stride:
        head = down[down + 1 < ic_i[0] - 0.5 * stride]
        if head.size:
            extra.append(head[-1])
    if n - 1 - ic_i[-1] > _EDGE_STRIDE_SHARE * stride:
        tail = down[down > ic_i[-1] + 0.5 * stride]
        if tail.size:
            extra.append(tail[0])
    if not extra:
        return ic_i
    e = np.array(extra)
    return np.sort(np.concatenate([ic_i, e + d[e] / (d[e] - d[e + 1])]))


def _leg_px(xy: Array) -> float:
    """Median thigh-plus-shank length of both legs in pixels (NaN if never seen)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        both = np.concatenate([leg_length_series(xy, *LEG[s][:3]) for s in SIDES])
        return float(np.nanmedian(both)) if np.isfinite(both).any() else float("nan")


def _lowest_point_descent(foot_y: Array, time_s: Array, leg_px: float) -> Array:
    """Descent speed of the slower-falling of heel and toe, in leg lengths per second.

    Parameters
    ----------
    foot_y : ndarray, shape (n_frames, 2)
        Image y (downward) of heel and toe.

    Returns
    -------
    ndarray, shape (n_frames,)
        Positive while both points fall; about zero once either rests on the ground.
    """
    vy = _gradient(foot_y, time_s) / leg_px
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmin(vy, axis=1))


def _lands_after_retraction(
    stops: dict[str, Array], feet_y: dict[str, Array], time_s: Array, leg_px: float
) -> bool:
    """Whether this runner's feet stop moving forward in the air (swing-leg retraction).

    A foot resting on the belt cannot descend: once heel or toe touches, the slower of the two
    stops falling. A foot that stops moving forward 3-7 cm above the belt and lands 30-70 ms
    later (issue 7) is still falling at about 1 m/s, both heel and toe. So the runner is taken to
    land after retraction when, at the median stop over all strikes of both feet, the slower of
    heel and toe still falls faster than ``_AIRBORNE_DESCENT_LEG_S``. Retraction is a trait of a
    runner's technique, so the decision is made once per clip from all strikes, which is robust
    to the noise of one strike's vertical velocity at 30 fps.
    """
    if not np.isfinite(leg_px) or leg_px <= 0:
        return False
    idx = np.arange(time_s.size)
    at_stop = [
        np.interp(stops[s], idx, _lowest_point_descent(feet_y[s], time_s, leg_px))
        for s in SIDES
    ]
    d = np.concatenate(at_stop)
    d = d[np.isfinite(d)]
    # Too few strikes to judge a runner's technique: keep the stop.
    if d.size < 4:
        return False
    return bool(np.median(d) > _AIRBORNE_DESCENT_LEG_S)


def _belt_contacts(
    stop_i: Array, v: Array, on_ground_v: float | None, foot_y: Array, leg_px: float,
    dt: float,
) -> Array:
    """Contact of a foot that stopped in the air: the first sample where it is on the ground.

    On the ground means both (later of the two): moving with the ground, i.e. the heel's forward
    velocity ``v`` has fallen past the midpoint between the foot's airborne velocity and the
    belt's, no further than ``on_ground_v`` (``_BELT_SHARE`` of the belt's velocity: the
    filtered step from the retraction speed to the belt speed crosses its midpoint at the
    step; overground no speed test), and the lower of heel and toe within
    ``_BELT_LEVEL_TOL_LEG`` leg lengths of that foot's stance level
    (the 75th percentile of its image y over the stance that follows: the loaded sole, robust to
    heel-off late in stance). Searched up to ``_LANDING_MAX_S`` after the stop; where neither is
    found the stop is kept.

    Parameters
    ----------
    stop_i : ndarray, shape (k,)
        Sub-frame indices where the foot stopped moving forward.
    v : ndarray, shape (n_frames,)
        Heel forward velocity (px/s, sharp copy).
    on_ground_v : float or None
        Forward image velocity (px/s) below which the heel moves with the ground:
        ``_BELT_SHARE`` of the belt's velocity on a treadmill; None on standing ground, where
        the level alone places the contact.
    foot_y : ndarray, shape (n_frames, 2)
        Image y of heel and toe (sharp copy).
    leg_px : float
    dt : float
        Sample interval (s).

    Returns
    -------
    ndarray, shape (k,)
        NaN where the clip ends before the stance that follows the stop.
    """
    n = v.size
    if stop_i.size == 0:
        return stop_i
    stride = float(np.median(np.diff(stop_i))) if stop_i.size > 1 else 0.7 / dt
    out = stop_i.copy()
    span = _LANDING_MAX_S / dt
    levels = _stance_levels(stop_i, foot_y, stride)
    for k, t in enumerate(stop_i):
        i0 = int(np.floor(t))
        end = int(t + _STANCE_SHARE * stride) + 1
        if end > n:
            # The clip ends before the stance that would show this foot's level: the foot may
            # still be in the air at the last frame, so no contact can be placed.
            out[k] = np.nan
            continue
        level = levels[k]
        if end - i0 < 3 or not np.isfinite(level).any():
            continue
        # Only the search window is needed (computing the whole clip per contact made this
        # quadratic in clip length).
        lo, hi = i0, min(n, int(np.ceil(t + span)) + 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            height = np.nanmin(level[None, :] - foot_y[lo:hi], axis=1) / leg_px  # lower point
        t_level = lo + _first_at_or_below(height, _BELT_LEVEL_TOL_LEG, t - lo, t + span - lo)
        # Standing ground (None): the level alone; the speed step at touchdown is too small
        # to time when the foot retracts at close to the body's speed.
        if on_ground_v is not None:
            # Midpoint between the foot's airborne velocity and the belt's, capped at the share.
            belt_v = on_ground_v / _BELT_SHARE
            at = max((t_level if np.isfinite(t_level) else t) - _STEP_SHOWS_S / dt, t + 1.0)
            v_at = _interp_at(v, at)
            v_pre = float(np.clip(v_at, belt_v, 0.0)) if np.isfinite(v_at) else 0.0
            thr = max(0.5 * (v_pre + belt_v), on_ground_v)
            t_belt = _first_at_or_below(v, thr, t, t + span)
        else:
            t_belt = float("nan")
        found = [x for x in (t_level, t_belt) if np.isfinite(x)]
        if found:
            out[k] = max(found)
    return out


def _stance_levels(stop_i: Array, foot_y: Array, stride: float) -> Array:
    """Stance level of heel and toe after each stop: the 75th percentile of image y over
    ``_STANCE_SHARE`` of a stride from the stop's frame.

    Parameters
    ----------
    stop_i : ndarray, shape (k,)
        Sub-frame indices of the stops.
    foot_y : ndarray, shape (n_frames, 2)
    stride : float
        Median stride in frames.

    Returns
    -------
    ndarray, shape (k, 2)
        NaN where the window runs past the clip or holds no finite sample of that point.
    """
    n = foot_y.shape[0]
    out = np.full((stop_i.size, 2), np.nan)
    if stop_i.size == 0:
        return out
    i0 = np.floor(stop_i).astype(np.int64)
    end = (stop_i + _STANCE_SHARE * stride).astype(np.int64) + 1
    ok = (end <= n) & (end - i0 >= 1)
    # Windows of the same length are stacked and reduced at once (lengths differ by a frame).
    for length in np.unique((end - i0)[ok]):
        sel = np.flatnonzero(ok & (end - i0 == length))
        win = foot_y[i0[sel, None] + np.arange(length)[None, :]]  # (m, length, 2)
        finite = np.isfinite(win).all(axis=(1, 2))
        if finite.any():
            out[sel[finite]] = np.percentile(win[finite], 75, axis=1)
        for j in np.flatnonzero(~finite):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[sel[j]] = np.nanpercentile(win[j], 75, axis=0)
    return out


def _interp_at(signal: Array, x: float) -> float:
    """``np.interp(x, arange(n), signal)`` for one point, without converting the whole array
    (which made a per-contact call cost as much as the clip is long)."""
    n = signal.size
    if n == 0:
        return float("nan")
    if x <= 0:
        return float(signal[0])
    if x >= n - 1:
        return float(signal[-1])
    i = int(x)
    a = float(signal[i])
    if x == i:
        return a
    return a + (float(signal[i + 1]) - a) * (x - i)


def _first_at_or_below(signal: Array, level: float, start: float, stop: float) -> float:
    """First sub-frame index in [start, stop] where ``signal`` is at or below ``level``.

    ``start`` itself when the signal is already there; NaN when it never gets there.
    """
    at_start = _interp_at(signal, start)
    if at_start <= level:
        return start
    i = np.arange(int(np.floor(start)) + 1, min(signal.size, int(np.ceil(stop)) + 1))
    below = i[signal[i] <= level]
    if below.size == 0:
        return float("nan")
    j = int(below[0])
    a = at_start if j - 1 < start else float(signal[j - 1])
    base = max(start, j - 1.0)
    b = float(signal[j])
    if not (np.isfinite(a) and np.isfinite(b)) or a == b:
        return float(j)
    return base + (a - level) / (a - b) * (j - base)


def _rhythm_check(
    ic: dict[str, Array], to: dict[str, Array]
) -> tuple[dict[str, Array], dict[str, Array], int]:
    """Drop contacts that break the step rhythm; return the kept contacts and the count dropped.

    Running alternates the feet, one contact per step, and the step time changes little from
    one step to the next (stride-time CV about 2-4 % in steady running). So a contact is
    spurious when it comes less than ``_MIN_STEP_SHARE`` of the local median step after the
    previous contact (either foot), or when the same foot lands twice in a row less than
    ``_SAME_FOOT_STEP_SHARE`` median steps apart (a real second contact of one foot needs a
    whole stride, about two steps). Of the two contacts involved, the one whose removal leaves
    the steps around it closer to the local median is dropped. Long steps (a missed contact)
    are left to the step builder, which does not count steps longer than its own cut.

    Parameters
    ----------
    ic, to : dict of str -> ndarray, shape (n_events,)
        Contact and toe-off times per foot, in seconds (toe-off follows its contact).

    Returns
    -------
    ic, to : dict of str -> ndarray
    dropped : int
    """
    t = np.concatenate([ic[s] for s in SIDES])
    foot = np.concatenate([np.full(ic[s].size, k) for k, s in enumerate(SIDES)])
    tos = np.concatenate([to[s] for s in SIDES])
    order = np.argsort(t, kind="stable")
    t, foot, tos = t[order], foot[order], tos[order]
    keep = np.ones(t.size, dtype=bool)
    # Each pass drops at most one contact, so a run of spurious events is resolved in turn.
    while keep.sum() >= 4:
        tk, fk = t[keep], foot[keep]
        step = np.diff(tk)
        med = _local_median(step, _RHYTHM_HALF_WINDOW)
        bad = (step < _MIN_STEP_SHARE * med) | (
            (fk[1:] == fk[:-1]) & (step < _SAME_FOOT_STEP_SHARE * med)
        )
        if not bad.any():
            break
        i = int(np.flatnonzero(bad)[0])  # steps i: contacts i and i+1 of the kept list
        cost = []
        for drop in (i, i + 1):
            rest = np.delete(tk, drop)
            j = min(drop, rest.size - 1)
            around = np.diff(rest[max(0, j - 1): j + 2])
            alt = np.delete(fk, drop)
            same = int(np.sum(alt[max(0, j - 1): j + 1] == alt[max(1, j): j + 2]))
            cost.append((same, float(np.sum(np.abs(around - med[i])))))
        drop_k = i if cost[0] <= cost[1] else i + 1
        keep[np.flatnonzero(keep)[drop_k]] = False
    dropped = int((~keep).sum())
    if dropped == 0:
        return ic, to, 0
    ic_out = {s: t[keep & (foot == k)] for k, s in enumerate(SIDES)}
    to_out = {s: tos[keep & (foot == k)] for k, s in enumerate(SIDES)}
    return ic_out, to_out, dropped


def _local_median(step: Array, half: int) -> Array:
    """Median of ``step`` over a sliding window of ``2 * half + 1`` steps; shape like ``step``."""
    if step.size == 0:
        return step.astype(float)
    # NaN beyond the ends: edge windows hold only the steps that exist, as a truncated window.
    padded = np.concatenate([np.full(half, np.nan), step.astype(float), np.full(half, np.nan)])
    return nanmedian_last(sliding_window_view(padded, 2 * half + 1))


def _travel_direction(xy: Array, time_s: Array, facing: int) -> Array:
    """Per-frame running direction (+1 image-right, -1 image-left), shape (n_frames,).

    Overground the hips travel across the image and their motion gives the direction even when
    the runner turns around; on a treadmill they stay put and the view's facing is used.
    """
    hip_x = 0.5 * (xy[:, 23, 0] + xy[:, 24, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        leg = _leg_px(xy)  # both legs, whichever is nearer the camera
    # Travel is sustained motion: average the hip velocity over about one second.
    dt = float(np.median(np.diff(time_s))) if time_s.size > 1 else 1.0
    v = uniform_filter1d(_gradient(hip_x, time_s), size=max(1, int(round(1.0 / dt))),
                         mode="nearest")
    # Half a leg length per second is far above treadmill drift and far below running speed.
    if not np.isfinite(leg):
        return np.full(hip_x.shape, float(facing))
    moving = np.isfinite(v) & (np.abs(v) > 0.5 * leg)
    return np.where(moving, np.sign(v), float(facing))


def _ground_and_swing_velocity(foot_v: Array, foot_y: Array) -> tuple[float, float]:
    """Forward image velocity of a foot on the ground, and its swing speed above that.

    The ground phase is the lowest 30 % of the foot's path (image y grows downward).
    """
    ok = np.isfinite(foot_v) & np.isfinite(foot_y)
    if ok.sum() < 10:
        return np.nan, np.nan
    y = foot_y[ok]
    v = foot_v[ok]
    g = float(np.median(v[y >= np.quantile(y, 0.7)]))
    return g, float(np.percentile(v, 95) - g)


def _extrema(q: Array, min_distance: int) -> Array:
    """Sub-frame indices of the prominent maxima of ``q`` (one per stride); shape (k,).

    Maxima must stand out by 30 % of the signal's 5-95 % range, which rejects the small bumps
    that pose jitter leaves in stance and swing.
    """
    finite = np.isfinite(q)
    if finite.sum() < 5:
        return np.array([])
    amp = np.nanpercentile(q, 95) - np.nanpercentile(q, 5)
    filled = np.where(finite, q, np.nanmin(q) - amp)
    peaks, _ = find_peaks(filled, prominence=0.3 * amp, distance=min_distance)
    # A peak next to missing data is not a measured extreme.
    peaks = peaks[(peaks > 0) & (peaks < q.size - 1)]
    peaks = peaks[finite[peaks - 1] & finite[peaks + 1]]
    return _parabolic(q, peaks)


def _contacts_after(
    v: Array, swing_ends: Array, level: float, lead_i: float, ahead_i: int
) -> Array:
    """Sub-frame index where ``v`` falls through ``level`` near each swing end; shape (k,).

    The heel's most forward point relative to the hips comes at, or just before, contact
    (swing-leg retraction), so the search runs from ``lead_i`` samples before it to ``ahead_i``
    samples after it, and takes the first downward crossing.
    """
    n = v.size
    out = []
    d = np.nan_to_num(v - level, nan=np.nan)
    down = np.flatnonzero((d[:-1] > 0) & (d[1:] <= 0))  # crossing between i and i+1
    for e in swing_ends:
        lo = e - lead_i
        hi = min(n - 1, e + ahead_i)
        cand = down[(down + 1 >= lo) & (down < hi)]
        if cand.size == 0:
            continue
        i = int(cand[0])
        out.append(i + d[i] / (d[i] - d[i + 1]))
    return np.unique(np.round(np.array(out), 6))


def _parabolic(q: Array, peaks: NDArray[np.int64]) -> Array:
    """Refine integer extrema to sub-frame positions with a parabola through 3 samples."""
    if peaks.size == 0:
        return np.array([])
    y0, y1, y2 = q[peaks - 1], q[peaks], q[peaks + 1]
    den = y0 - 2 * y1 + y2
    off = np.where(den != 0, 0.5 * (y0 - y2) / np.where(den != 0, den, 1.0), 0.0)
    return np.asarray(peaks + np.clip(off, -0.5, 0.5))


def _knee_extension_peaks(flex: Array, ic_i: Array) -> Array:
    """Sub-frame index of the knee-extension peak after each IC (NaN where not found).

    Searched between the midstance flexion peak and 60 % of the stride (or 0.6 of the median
    stride for the last IC), where running toe-off falls.
    """
    to_i = np.full(ic_i.shape, np.nan)
    if ic_i.size < 2:
        return to_i
    strides = np.diff(ic_i)
    # A missed contact doubles a stride; cap it so the window stays within one stance.
    stride = np.minimum(np.append(strides, np.median(strides)), 1.25 * np.median(strides))
    n = flex.size
    a0 = np.ceil(ic_i).astype(np.int64)
    mid_hi = (ic_i + 0.35 * stride).astype(np.int64) + 1
    hi = (ic_i + 0.6 * stride).astype(np.int64) + 1
    # The window must end inside the clip (the true toe-off may lie beyond it) and hold 3 frames.
    ok = (hi < n) & (hi - a0 >= 3) & (mid_hi > a0)
    if not ok.any():
        return to_i
    k = np.flatnonzero(ok)
    # Windows as index grids padded with -inf / +inf (all contacts at once): the flexion peak
    # of midstance in [a0, mid_hi), then the extension peak in [that peak, hi).
    width = int((hi[k] - a0[k]).max())
    grid = a0[k, None] + np.arange(width)[None, :]
    vals = flex[np.minimum(grid, n - 1)]
    in_mid = grid < mid_hi[k, None]
    mid_vals = np.where(in_mid & np.isfinite(vals), vals, -np.inf)
    has_mid = np.isfinite(mid_vals).any(axis=1)
    lo = a0[k] + np.argmax(mid_vals, axis=1)
    in_win = (grid >= lo[:, None]) & (grid < hi[k, None])
    win_vals = np.where(in_win & np.isfinite(vals), vals, np.inf)
    has_win = np.isfinite(win_vals).any(axis=1) & (hi[k] - lo >= 2)
    j = a0[k] + np.argmin(win_vals, axis=1)
    # A minimum on the window's edge or beside missing data is not a measured peak.
    jc = np.clip(j, 1, n - 2)
    beside = np.isfinite(flex[jc - 1]) & np.isfinite(flex[jc]) & np.isfinite(flex[jc + 1])
    good = has_mid & has_win & (lo < j) & (j < hi[k] - 1) & beside
    if good.any():
        to_i[k[good]] = _parabolic(-flex, j[good])
    return to_i


def detect_frontal_events(
    xy: Array, time_s: Array, config: EventConfig | None = None,
    xy_sharp: Array | None = None,
) -> Events:
    """Initial contacts and toe-offs for a rear or front view, from foot height.

    The ground line is the running lowest image point of either foot over about one stride;
    a foot is on the ground while its heel (IC) or toe (TO) is within a small share of the leg
    length of that line.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
    time_s : ndarray, shape (n_frames,)
    config : EventConfig, optional

    xy_sharp : ndarray, shape (n_frames, 33, 2), optional
        Landmarks low-passed at a higher cut-off, used to time contact and toe-off.

    Returns
    -------
    Events
    """
    cfg = config or EventConfig()
    dt = float(np.median(np.diff(time_s)))
    sharp = xy if xy_sharp is None else xy_sharp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # Lowest image point (largest y) of each foot, then of both.
        foot_low = {s: np.nanmax(xy[:, list(LEG[s][3:]), 1], axis=1) for s in SIDES}
        lowest = np.fmax(foot_low["left"], foot_low["right"])
        # About one stride: long enough to always hold a stance, short enough to follow the
        # ground line when the runner moves toward or away from the camera.
        win = frames_in(0.8, dt, 3) | 1
        ground = _ground_line(lowest, win)
        # Both legs, so mirroring the image (left <-> right) changes nothing.
        leg = 0.5 * (leg_length_series(xy, *LEG["left"][:3])
                     + leg_length_series(xy, *LEG["right"][:3]))
        leg_t = _smooth_nan(leg, frames_in(1.0, dt))
    # A band of 2.5 % of the (apparent) leg length above the ground line finds each landing;
    # the exact moment is then refined from the foot's vertical velocity.
    tol = 0.025 * leg_t
    # Timing from the sharper copy: image y grows downward, so + = moving down.
    vy = _gradient(sharp[..., 1], time_s)
    ic: dict[str, Array] = {}
    to: dict[str, Array] = {}
    min_stance = frames_in(0.5 * cfg.min_step_s, dt)
    approach_n = frames_in(FRONTAL_APPROACH_S, dt)
    for side in SIDES:
        _, _, _, heel, toe = LEG[side]
        # This foot's own ground: in a rear or front view the two feet stand at different
        # depths (step width, camera height), so one foot's loaded sole can sit a few pixels
        # above the other's. Its lowest point's running 80th percentile (as for the common
        # line) over the same window; never below the common line.
        g_side = np.fmin(_ground_line(foot_low[side], win), ground)
        height_heel = g_side - xy[:, heel, 1]
        height_toe = g_side - xy[:, toe, 1]
        on = np.nan_to_num(height_heel - tol, nan=np.inf) < 0
        starts = _crossings_down(np.nan_to_num(height_heel - tol, nan=1e9), 0.0)
        ends = _crossings_up(np.nan_to_num(height_toe - tol, nan=1e9), 0.0)
        # Most of the next min_stance frames on the ground (a single noisy frame above the band
        # does not undo a landing). A band entry in the clip's last min_stance frames is not
        # confirmed by a stance and is not placed: a heel still falling at the last frame
        # enters the band before it lands, and its contact would come out early.
        held = [on[int(np.ceil(s)) : int(np.ceil(s)) + min_stance] for s in starts]
        landed = np.array([h.size == min_stance and h.mean() >= 0.75 for h in held], dtype=bool)
        keep = _one_per_stance(starts[landed] if starts.size else starts, min_stance)
        # Contact: the heel stops descending (Fellin 2010: vertical heel velocity turns).
        ic_i = np.array([_speed_edge(vy[:, heel], s, approach_n, +1) for s in keep])
        ic_i = ic_i[np.isfinite(ic_i)] if ic_i.size else ic_i
        # Toe-off: the toe starts rising, found backwards from where it leaves the band.
        ends = np.array([_speed_edge(-vy[:, toe], e, approach_n, -1) for e in ends])
        ends = ends[np.isfinite(ends)] if ends.size else ends
        to_i = np.full(ic_i.shape, np.nan)
        if ends.size and ic_i.size:
            k = np.searchsorted(ends, ic_i)
            has = k < ends.size
            to_i[has] = ends[k[has]]
            nxt = np.append(ic_i[1:], np.inf)
            to_i[to_i >= nxt] = np.nan
        ic[side] = _index_to_time(ic_i, time_s) if ic_i.size else ic_i
        to[side] = np.where(np.isfinite(to_i), _index_to_time(np.nan_to_num(to_i), time_s), np.nan)
    return _finish(ic, to, time_s, 0.0, "frontal-vertical")


def detect_pelvis_events(
    xy: Array, time_s: Array, config: EventConfig | None = None
) -> Events:
    """Approximate contacts for a frontal view from the pelvis alone.

    A fallback for clips where the feet are too small or too occluded to see them leave the
    ground. The pelvis is lowest once per step, at midstance, and shifts sideways over the
    stance foot. Steps are the pelvis's low points; their sides alternate, in the phase that
    best agrees with the sideways shift. IC and TO are placed at typical running shares of the
    step around midstance (stance ~75 % of a step at recreational speeds), so timings are
    approximate and the caller must say so.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
    time_s : ndarray, shape (n_frames,)
    config : EventConfig, optional

    Returns
    -------
    Events
    """
    cfg = config or EventConfig()
    dt = float(np.median(np.diff(time_s)))
    mid = 0.5 * (xy[:, 23] + xy[:, 24])
    across = xy[:, 23, 0] - xy[:, 24, 0]  # left hip minus right hip, image x
    empty = {s: np.array([]) for s in SIDES}
    period_s = _dominant_period_s(mid[:, 1], dt, cfg)
    if not np.isfinite(period_s):
        return _finish(empty, dict(empty), time_s, 0.0, "frontal-pelvis")
    # A moving average over exactly one step removes the bounce and keeps the drift (the
    # runner approaching or leaving the camera), so the remainder is the bounce alone.
    trend = max(3, int(round(period_s / dt)))
    y = mid[:, 1] - _smooth_nan(mid[:, 1], trend)
    x = mid[:, 0] - _smooth_nan(mid[:, 0], 2 * trend)
    ok = np.isfinite(y)
    if ok.sum() < 10:
        return _finish(empty, dict(empty), time_s, 0.0, "frontal-pelvis")
    filled = np.where(ok, y, np.nanmin(y))
    lows, _ = find_peaks(filled, distance=max(1, int(round(0.7 * period_s / dt))))
    lows = lows[ok[lows]]
    if lows.size < 2:
        return _finish(empty, dict(empty), time_s, 0.0, "frontal-pelvis")
    # Sideways shift toward the left hip marks left stance, whatever the view's handedness.
    toward_left = np.sign(x[lows] * across[lows])
    phase = np.arange(lows.size) % 2
    agree_even_left = np.nansum(np.where(phase == 0, toward_left, -toward_left))
    side_is_left = (phase == 0) if agree_even_left >= 0 else (phase == 1)
    mid_t = time_s[lows]
    step = np.gradient(mid_t) if mid_t.size > 1 else np.array([cfg.max_step_s])
    ic_t = mid_t - 0.375 * step
    to_t = mid_t + 0.375 * step
    ic = {"left": ic_t[side_is_left], "right": ic_t[~side_is_left]}
    to = {"left": to_t[side_is_left], "right": to_t[~side_is_left]}
    for side in SIDES:
        keep = ic[side] >= time_s[0]
        ic[side], to[side] = ic[side][keep], to[side][keep]
    return _finish(ic, to, time_s, 0.0, "frontal-pelvis")


def _dominant_period_s(signal: Array, dt: float, cfg: EventConfig) -> float:
    """Period (s) of the strongest rhythm of ``signal`` within the plausible step times.

    Uses the spectrum of the frame-to-frame change (which removes slow drift), NaN gaps bridged.
    """
    ok = np.isfinite(signal)
    if ok.sum() < 16:
        return float("nan")
    idx = np.flatnonzero(ok)
    seg = np.interp(np.arange(idx[0], idx[-1] + 1), idx, signal[ok])
    d = np.diff(seg)
    d = d - d.mean()
    n_fft = max(1024, int(2 ** np.ceil(np.log2(d.size * 8))))
    power = np.abs(np.fft.rfft(d * np.hanning(d.size), n_fft)) ** 2
    freq_hz = np.fft.rfftfreq(n_fft, dt)
    band = (freq_hz >= 1.0 / cfg.max_step_s) & (freq_hz <= 1.0 / cfg.min_step_s)
    if not band.any() or power[band].max() <= 0:
        return float("nan")
    return float(1.0 / freq_hz[band][np.argmax(power[band])])


# The landing heel's approach speed is read over this long before it enters the ground band.
# It decelerates into the landing, so the median over a short window (not the peak) stands for
# the speed at touchdown. Basis: on the synthetic runner at 30-240 fps, windows of 0.03-0.07 s
# keep rear/front contacts within 45 ms at 30 fps and 31 ms at 60-240 fps (0.05 s: mean -3 to
# -10 ms, worst 42 ms at 30 fps and 21 ms above); see tests/test_events.py.
FRONTAL_APPROACH_S = 0.05


def _ground_line(lowest: Array, win: int) -> Array:
    """Running ground line (image y) from the lowest foot point of each frame; shape (n,).

    In running each foot is on the ground for 30-40 % of a stride (duty factor), so some foot
    is down in at least 60 % of frames and the lowest point is the ground there, plus pose
    noise; in the other frames (flight) it is above. The running 80th percentile (image y
    grows downward) therefore lies inside the ground cluster for any duty factor above 0.1,
    where a running maximum would follow the noise's largest excursion.
    """
    ok = np.isfinite(lowest)
    if not ok.any():
        return np.full(lowest.shape, np.nan)
    filled = np.interp(np.arange(lowest.size), np.flatnonzero(ok), lowest[ok])
    return np.asarray(percentile_filter(filled, 80, size=win, mode="nearest"))


def _one_per_stance(starts: Array, min_stance: int) -> Array:
    """Drop band entries that follow an earlier one of the same stance (noise re-entries)."""
    if starts.size < 2:
        return starts
    keep = np.concatenate([[True], np.diff(starts) > min_stance])
    return starts[keep]


def _speed_edge(v: Array, at: float, approach_n: int, direction: int) -> float:
    """Sub-frame index where a foot's vertical speed ``v`` stops (landing) or starts (lift-off).

    ``direction=+1``, landing: ``at`` is where the heel entered the ground band; the heel
    arrives at its approach speed (median of ``v`` over the ``approach_n`` samples up to
    ``at``) and the contact is the first sample after the fastest of them where the speed has
    fallen to half of it. ``direction=-1``, lift-off: ``at`` is where the toe left the band;
    the departure speed is read over the ``approach_n`` samples after it and the search runs
    backward. The foot stops (starts) within a sample; central differences and the event
    low-pass turn that into a ramp centred on the true moment, hence half the speed. Reading
    the speed outside the band matters at 30 fps, where the first sample inside it is often
    already on the ground.

    Parameters
    ----------
    v : ndarray, shape (n_frames,)
        Speed toward the ground (landing) or away from it (lift-off), px/s.
    at : float
        Sub-frame index of the band crossing.
    approach_n : int
    direction : int
        +1 landing, -1 lift-off.

    Returns
    -------
    float
        Sub-frame index, NaN when data are missing.
    """
    n = v.size
    i = int(np.ceil(at)) if direction > 0 else int(np.floor(at))
    if not 0 <= i < n:
        return float("nan")
    lo, hi = (max(0, i - approach_n), i + 1) if direction > 0 else (i, min(n, i + approach_n + 1))
    seg = v[lo:hi]
    if not np.isfinite(seg).any():
        return float("nan")
    ref = float(np.nanmedian(seg))
    if ref <= 0:
        return float(at)
    level = 0.5 * ref
    j0 = lo + int(np.nanargmax(seg))
    steps = np.arange(j0, n) if direction > 0 else np.arange(j0, -1, -1)
    below = np.flatnonzero(~(v[steps] > level))  # NaN counts as "stop searching"
    if below.size == 0:
        return float("nan")
    k = int(below[0])
    j = int(steps[k])
    if k == 0 or not np.isfinite(v[j]):
        return float(j)
    prev = int(steps[k - 1])
    return float(prev + direction * (v[prev] - level) / (v[prev] - v[j]))


def _smooth_nan(values: Array, size: int) -> Array:
    """Moving average over ``size`` frames that bridges NaN gaps; shape (n_frames,)."""
    ok = np.isfinite(values)
    if not ok.any():
        return np.full(values.shape, np.nan)
    filled = np.interp(np.arange(values.size), np.flatnonzero(ok), values[ok])
    return np.asarray(uniform_filter1d(filled, size=size, mode="nearest"))


def _finish(
    ic: dict[str, Array], to: dict[str, Array], time_s: Array, g: float, method: str
) -> Events:
    to_frame = {
        s: np.where(np.isfinite(to[s]), nearest_sample(time_s, np.nan_to_num(to[s])), -1)
        for s in to
    }
    return Events(
        ic_time_s=ic, to_time_s=to,
        ic_frame={s: nearest_sample(time_s, ic[s]) for s in ic},
        to_frame={s: v.astype(np.int64) for s, v in to_frame.items()},
        ground_velocity_px_s=g, method=method,
    )
