"""Landmark cleaning: visibility gating, left/right swap repair, outliers, gap fill, low-pass.

All steps are vectorized over frames and landmarks. The filter works in real Hz: the cut-off is
converted with the series' real capture rate, so a 240 fps slow-motion clip and a 30 fps clip are
smoothed to the same bandwidth.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy.ndimage import median_filter
from scipy.signal import butter, sosfiltfilt

from .config import CleanConfig
from .geometry import leg_length_series
from .landmarks import LEG, LR_PAIRS, SIDES
from .series import PoseSeries

Array = NDArray[np.float64]

# Leg landmarks that can collapse onto the other leg's (knees, ankles, heels, toes): (left, right).
_LEG_PAIRS: tuple[tuple[int, int], ...] = ((25, 26), (27, 28), (29, 30), (31, 32))
# Two landmarks closer than this share of the leg length sit on top of each other (MediaPipe's
# frame-to-frame jitter of a foot point is about 1-2 % of the leg, so 10 % is well above it).
COLLAPSE_CLOSE_LEG = 0.10
# A real foot path over a collapse-long stretch (<= 0.1 s) stays within about 0.15 leg of the
# chord between its ends (peak swing-foot acceleration ~100 m/s^2, a t^2 / 8 = 0.125 m on a
# ~0.85 m leg); a point that leaves the chord by more than 0.25 leg did not get there by moving.
COLLAPSE_JUMP_LEG = 0.25
# Longest collapse repaired: the glitches seen last 1-3 frames at 30 fps.
COLLAPSE_MAX_S = 0.1
# Frame-rate conversions into 30 fps: 24 -> 30 repeats every 5th picture, 25 -> 30 every 6th.
_PULLDOWN_PERIODS = (5, 6)
# A conversion repeats at one phase on every cycle; pose jitter makes a real frame look still
# now and then. Most cycles (60 %) at the phase and few (20 %) elsewhere separate the two.
_PULLDOWN_HIT_SHARE = 0.6
_PULLDOWN_OTHER_SHARE = 0.2

# Landmark groups whose left/right labels MediaPipe swaps as a unit on side views.
_SWAP_GROUPS: tuple[tuple[int, ...], ...] = (
    (25, 26),  # knees
    (27, 28, 29, 30, 31, 32),  # ankles, heels, toes
)


@dataclass(frozen=True)
class CleanResult:
    """Cleaned landmarks and what cleaning did.

    Attributes
    ----------
    xy_px : ndarray, shape (n_frames, 33, 2)
        Cleaned, filtered image landmarks; NaN where no trustworthy value exists.
    raw_xy_px : ndarray, shape (n_frames, 33, 2)
        Landmarks after swap repair, outlier rejection and gap filling, before the low-pass
        filter: for values at instants where the body changes abruptly (foot contact).
    event_xy_px : ndarray, shape (n_frames, 33, 2)
        The same, low-passed at the (higher) event cut-off: a smoother filter turns the
        foot's abrupt stop at contact into a ramp and moves its timing.
    visibility : ndarray, shape (n_frames, 33)
        Visibility after swap repair (follows the landmark identity).
    swap_frames_repaired : int
        Frames in which some left/right group was exchanged back.
    collapse_frames_repaired : int
        Landmark-frames in which a leg point had snapped onto the other leg's and was replaced
        by interpolation (see :func:`repair_collapses`).
    outliers_removed : int
        Landmark coordinates rejected by the Hampel filter.
    gap_frames_filled : int
        Landmark-frames filled by interpolation.
    """

    xy_px: Array
    raw_xy_px: Array
    event_xy_px: Array
    visibility: Array
    swap_frames_repaired: int
    outliers_removed: int
    gap_frames_filled: int
    collapse_frames_repaired: int = 0


def clean_series(series: PoseSeries, config: CleanConfig | None = None) -> CleanResult:
    """Clean a pose series for analysis.

    Parameters
    ----------
    series : PoseSeries
    config : CleanConfig, optional

    Returns
    -------
    CleanResult
    """
    cfg = config or CleanConfig()
    xy = series.xy_px.copy()
    vis = series.visibility.copy()
    xy[vis < cfg.min_visibility] = np.nan

    # Repeated pictures carry no new motion: drop them so gap filling interpolates through.
    repeats = pulldown_repeats(xy)
    xy[repeats] = np.nan

    n_swapped = 0
    if cfg.repair_swaps:
        xy, vis, n_swapped = repair_swaps(xy, vis, series.fps)

    fps = series.fps
    xy, n_collapsed = repair_collapses(xy, fps)
    half = max(1, int(round(cfg.hampel_window_s * fps)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # Hip-to-ankle distance of both legs (whichever is nearer the camera).
        body_px = float(np.nanmedian(np.linalg.norm(
            xy[:, [LEG[s][2] for s in SIDES]] - xy[:, [LEG[s][0] for s in SIDES]], axis=-1)))
    # The spread floor scales with the body's size in the image, so zooming changes nothing.
    floor_px = 0.0025 * body_px if np.isfinite(body_px) else 1.0
    xy, n_out = hampel(xy, half, cfg.hampel_n_sigma, floor=floor_px)
    max_gap = max(1, int(round(cfg.max_gap_s * fps)))
    xy, n_filled = fill_gaps(xy, max_gap)
    raw = xy
    sharp = lowpass(xy, fps, min(cfg.event_cutoff_hz, 0.4 * fps), cfg.filter_order)
    xy = lowpass(xy, fps, cfg.cutoff_hz, cfg.filter_order)
    return CleanResult(
        xy_px=xy, raw_xy_px=raw, event_xy_px=sharp, visibility=vis,
        swap_frames_repaired=n_swapped, outliers_removed=n_out, gap_frames_filled=n_filled,
        collapse_frames_repaired=n_collapsed,
    )


def repair_collapses(xy: Array, fps: float, max_s: float = COLLAPSE_MAX_S) -> tuple[Array, int]:
    """Blank leg points that snap onto the other leg's for a few frames.

    On side views MediaPipe sometimes puts the near leg's ankle, heel or toe (or knee) on top of
    the far leg's for one to three frames, then back. Unlike the two legs passing each other,
    which they do smoothly at every midstance, the collapsed point leaves its own path: over
    the run where the pair sits together (closer than ``COLLAPSE_CLOSE_LEG`` leg lengths), the
    point that strays more than ``COLLAPSE_JUMP_LEG`` leg lengths from the chord between the
    frames bordering the run, while its partner stays near its own chord, is the collapsed
    one. Its samples in the run become NaN, to be filled by the gap filler.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
    fps : float
        Real frame rate.
    max_s : float
        Longest run repaired, seconds.

    Returns
    -------
    xy : ndarray, shape (n_frames, 33, 2)
        A copy with collapsed samples set to NaN.
    n_repaired : int
        Landmark-frames blanked.
    """
    xy = xy.copy()
    n = xy.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        leg_px = float(np.nanmedian(np.concatenate(
            [leg_length_series(xy, *LEG[side][:3]) for side in SIDES])))
    if n < 4 or not np.isfinite(leg_px):
        return xy, 0
    max_run = max(1, int(round(max_s * fps)))
    n_repaired = 0
    for a, b in _LEG_PAIRS:
        close = np.linalg.norm(xy[:, a] - xy[:, b], axis=-1) < COLLAPSE_CLOSE_LEG * leg_px
        edges = np.diff(np.concatenate([[0], close.astype(np.int8), [0]]))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        keep = (stops - starts <= max_run) & (starts > 0) & (stops < n)
        # One iteration per close run (a few per stride), not per frame.
        for s0, s1 in zip(starts[keep], stops[keep], strict=True):
            w = (np.arange(s0, s1) - (s0 - 1)) / (s1 - (s0 - 1))
            dev = []
            for k in (a, b):
                chord = xy[s0 - 1, k] + w[:, None] * (xy[s1, k] - xy[s0 - 1, k])
                dev.append(float(np.nanmax(np.linalg.norm(xy[s0:s1, k] - chord, axis=-1),
                                           initial=0.0)))
            worst = int(np.argmax(dev))
            if dev[worst] > COLLAPSE_JUMP_LEG * leg_px and dev[1 - worst] < 0.5 * dev[worst]:
                xy[s0:s1, (a, b)[worst]] = np.nan
                n_repaired += s1 - s0
    return xy, n_repaired
def pulldown_repeats(xy: Array) -> NDArray[np.bool_]:
    """Frames that repeat the previous picture in a frame-rate conversion (telecine).

    24 fps footage in a 30 fps file repeats every 5th picture, 25 fps footage every 6th. The pose
    model sees the same picture twice, but its temporal filter still moves the landmarks a little
    (about a third of the neighbouring frames' motion on the shared runner-A series), so repeats
    are found by their rhythm, not by exact equality: the body's frame-to-frame motion (median
    over landmarks) at one phase of a 5- or 6-frame cycle is under half the mean of its two
    neighbours (a real frame moves about as much as its neighbours, a repeat at most a third),
    on most cycles (``_PULLDOWN_HIT_SHARE``) and rarely elsewhere (``_PULLDOWN_OTHER_SHARE``).
    A repeat would otherwise read as the foot stopping, which is the contact rule.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, n_landmarks, 2)

    Returns
    -------
    ndarray of bool, shape (n_frames,)
        True on the repeated frames; all False when no conversion cadence is found.
    """
    n = xy.shape[0]
    mask = np.zeros(n, dtype=bool)
    # Four cycles of the longest period at least, so the share of hits means something.
    if n < 4 * max(_PULLDOWN_PERIODS):
        return mask
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        move = np.nanmedian(np.linalg.norm(np.diff(xy, axis=0), axis=-1), axis=1)
    move = np.concatenate([[np.nan], move])  # motion into frame i, shape (n,)
    neighbours = 0.5 * (move[:-2] + move[2:])
    low = np.full(n, np.nan)
    ok = np.isfinite(move[1:-1]) & np.isfinite(neighbours) & (neighbours > 0)
    low[1:-1][ok] = (move[1:-1][ok] < 0.5 * neighbours[ok]).astype(float)
    frame = np.arange(n)
    for period in _PULLDOWN_PERIODS:
        for phase in range(period):
            sel = (frame % period) == phase
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                hit, other = np.nanmean(low[sel]), np.nanmean(low[~sel])
            if hit >= _PULLDOWN_HIT_SHARE and other <= _PULLDOWN_OTHER_SHARE:
                mask[sel] = True
                mask[[0, -1]] = False  # no neighbour on one side: cannot be judged
                return mask
    return mask


def repair_swaps(
    xy: Array, visibility: Array, fps: float = 30.0, max_swap_s: float = 0.25
) -> tuple[Array, Array, int]:
    """Undo short left/right identity swaps of the leg landmarks.

    A swap shows as two label *flips*: at entry and at exit the two legs each jump to where the
    other leg is expected. For every landmark group (knees; feet) and every frame, the labels
    are compared with a constant-velocity prediction from the two previous frames; a frame whose
    exchanged labels fit the prediction clearly better is a flip. Flips are paired in time
    order, and the frames between an entry and its exit, when no more than ``max_swap_s``
    apart, are relabelled. A lone flip changes nothing, so one doubtful frame never flips the
    rest of the clip, and a long stretch with exchanged labels (a track identity rather than a
    glitch) is left alone. Two swaps closer together than ``max_swap_s``, one of whose flips
    falls where the legs overlap (and so cannot be seen), read as one long swap: the frames
    between them are relabelled wrongly.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
    visibility : ndarray, shape (n_frames, 33)
    fps : float
        Real frame rate.
    max_swap_s : float
        Longest swap repaired.

    Returns
    -------
    xy : ndarray, shape (n_frames, 33, 2)
    visibility : ndarray, shape (n_frames, 33)
    n_frames_repaired : int
        Frames in which at least one group was relabelled.
    """
    xy = xy.copy()
    visibility = visibility.copy()
    n = xy.shape[0]
    pair_of = {a: b for a, b in LR_PAIRS} | {b: a for a, b in LR_PAIRS}
    fixed = np.zeros(n, dtype=bool)
    if n < 4:
        return xy, visibility, 0
    max_run = max(1, int(round(max_swap_s * fps)))
    groups = []
    for group in _SWAP_GROUPS:
        left = np.array([i for i in group if i % 2 == 1])
        right = np.array([pair_of[i] for i in left])
        flips = _label_flips(xy[:, left], xy[:, right])
        runs, lone = _pair_flips(flips, max_run)
        groups.append((left, right, runs, lone))
    # Knees swapped along with the feet often enter the swap while the knees overlap, which
    # hides that flip: a lone flip at the edge of another group's run adopts that run.
    all_runs = {r for _, _, runs, _ in groups for r in runs}
    for left, right, runs, lone in groups:
        own = set(runs)
        for f in lone.tolist():
            own |= {r for r in all_runs if abs(r[0] - f) <= 1 or abs(r[1] - f) <= 1}
        if not own:
            continue
        orig = np.concatenate([left, right])
        perm = np.concatenate([right, left])
        bad = np.unique(np.concatenate([np.arange(a, b) for a, b in sorted(own)]))
        xy[np.ix_(bad, orig)] = xy[np.ix_(bad, perm)]
        visibility[np.ix_(bad, orig)] = visibility[np.ix_(bad, perm)]
        fixed[bad] = True
    return xy, visibility, int(fixed.sum())


def _label_flips(pts_l: Array, pts_r: Array) -> NDArray[np.int64]:
    """Frames where the left/right labels of a group exchange relative to the frames before.

    Parameters
    ----------
    pts_l, pts_r : ndarray, shape (n_frames, k, 2)

    Returns
    -------
    ndarray of int
        Frame indices t (>= 1) at which the labels flip between t-1 and t.
    """
    # Prediction for frame t: constant velocity from t-1 and t-2 (just t-1 where t-2 is missing).
    pred_l = np.full_like(pts_l, np.nan)
    pred_r = np.full_like(pts_r, np.nan)
    pred_l[2:] = 2 * pts_l[1:-1] - pts_l[:-2]
    pred_r[2:] = 2 * pts_r[1:-1] - pts_r[:-2]
    hold_l = np.full_like(pts_l, np.nan)
    hold_r = np.full_like(pts_r, np.nan)
    hold_l[1:] = pts_l[:-1]
    hold_r[1:] = pts_r[:-1]
    pred_l = np.where(np.isfinite(pred_l), pred_l, hold_l)
    pred_r = np.where(np.isfinite(pred_r), pred_r, hold_r)
    # Judge against both predictions (velocity and hold) and keep the kinder one per labelling,
    # so a sudden stop at contact is not mistaken for a swap.
    same = np.minimum(_dist(pts_l, pred_l) + _dist(pts_r, pred_r),
                      _dist(pts_l, hold_l) + _dist(pts_r, hold_r))
    cross = np.minimum(_dist(pts_l, pred_r) + _dist(pts_r, pred_l),
                       _dist(pts_l, hold_r) + _dist(pts_r, hold_l))
    apart = _dist(pts_l, pts_r)  # how far the two legs are from each other now
    # A flip needs the exchanged labels to fit far better, and the legs to be clearly apart
    # (where they overlap, e.g. passing at midstance, both labellings fit).
    flip = (cross < 0.35 * same) & (same > 0.5 * apart) & np.isfinite(same) & np.isfinite(cross)
    return np.flatnonzero(flip)


def _pair_flips(
    flips: NDArray[np.int64], max_run: int
) -> tuple[list[tuple[int, int]], NDArray[np.int64]]:
    """Pair flips in time order into [entry, exit) runs of at most ``max_run`` frames.

    Returns
    -------
    runs : list of (int, int)
    lone : ndarray of int
        Flips left without a partner.
    """
    runs: list[tuple[int, int]] = []
    lone: list[int] = []
    i = 0
    # One iteration per flip (rare events), not per frame.
    while i < flips.size:
        if i + 1 < flips.size and flips[i + 1] - flips[i] <= max_run:
            runs.append((int(flips[i]), int(flips[i + 1])))
            i += 2
        else:
            lone.append(int(flips[i]))
            i += 1
    return runs, np.array(lone, dtype=np.int64)


def _dist(a: Array, b: Array) -> Array:
    """Sum over points of Euclidean distances; (n, k, 2) x (n, k, 2) -> (n,)."""
    return np.asarray(np.linalg.norm(a - b, axis=-1).sum(axis=-1))


def nanmedian_last(a: Array) -> Array:
    """``np.nanmedian(a, axis=-1)`` (same values, NaN for all-NaN rows), without its slow path.

    NumPy's nanmedian goes through masked arrays when NaNs are present, which for many short
    windows is dozens of times slower than one sort: NaNs sort last, so the median of the
    ``c`` finite values sits at sorted positions ``(c - 1) // 2`` and ``c // 2``.

    Parameters
    ----------
    a : ndarray, shape (..., w)

    Returns
    -------
    ndarray, shape (...)
    """
    has_nan = np.isnan(a).any(axis=-1)
    if not has_nan.any():
        return _median_finite(a)
    if has_nan.all():
        return _nanmedian_sorted(a)
    out = np.empty(a.shape[:-1])
    out[~has_nan] = _median_finite(a[~has_nan])
    out[has_nan] = _nanmedian_sorted(a[has_nan])
    return out


def _median_finite(a: Array) -> Array:
    """Median along the last axis of windows without NaN: a partial sort (``np.partition``)
    around the middle, cheaper than a full sort, same values."""
    w = a.shape[-1]
    if w % 2:
        return np.asarray(np.partition(a, w // 2, axis=-1)[..., w // 2])
    p = np.partition(a, [w // 2 - 1, w // 2], axis=-1)
    return np.asarray((p[..., w // 2 - 1] + p[..., w // 2]) / 2.0)


def _nanmedian_sorted(a: Array) -> Array:
    """Median of the finite values along the last axis by one sort (NaNs sort last)."""
    srt = np.sort(a, axis=-1)
    count = (~np.isnan(a)).sum(axis=-1)
    lo = np.maximum(count - 1, 0) // 2
    hi = count // 2
    v_lo = np.take_along_axis(srt, lo[..., None], axis=-1)[..., 0]
    v_hi = np.take_along_axis(srt, np.minimum(hi, a.shape[-1] - 1)[..., None], axis=-1)[..., 0]
    # Same arithmetic as np.median for an even count: the mean of the two middle values.
    med = np.where(lo == hi, v_lo, (v_lo + v_hi) / 2.0)
    return np.where(count > 0, med, np.nan)


def hampel(
    xy: Array, half_window: int, n_sigma: float, floor: float = 1.0
) -> tuple[Array, int]:
    """Reject outliers: values further than ``n_sigma`` scaled MADs from the rolling median.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, ...)
    half_window : int
        Frames on each side of the centre.
    n_sigma : float
    floor : float
        Smallest spread (same unit as ``xy``), so a perfectly still point does not flag
        sub-pixel noise.

    Returns
    -------
    xy : ndarray
        Copy with outliers set to NaN.
    n_removed : int
    """
    n = xy.shape[0]
    if n < 2 * half_window + 1:
        return xy.copy(), 0
    flat = xy.reshape(n, -1)
    # Point-reflect the ends so a track that is still moving there keeps a centred window
    # (one-sided windows lag behind a moving point and reject good samples).
    head = 2 * flat[:1] - flat[half_window:0:-1]
    tail = 2 * flat[-1:] - flat[-2 : -half_window - 2 : -1]
    padded = np.concatenate([head, flat, tail])
    width = 2 * half_window + 1
    win = sliding_window_view(padded, width, axis=0)  # (n, k, w), a view
    med = np.empty_like(flat)
    # Columns without NaN: scipy's running median (odd window, so the median is the middle
    # element, exactly as the sorted windows give it). Columns with gaps: sorted windows, a few
    # columns at a time (the windows are copied, which for all columns of a long clip at once
    # would take gigabytes).
    finite_col = np.isfinite(padded).all(axis=0)
    for col in np.flatnonzero(finite_col):
        # One column at a time: scipy's 1-D rank filter is ~4x faster than its 2-D one.
        med[:, col] = median_filter(padded[:, col], size=width, mode="nearest")[
            half_window : half_window + n]
    gappy = np.flatnonzero(~finite_col)
    step = 8
    with np.errstate(all="ignore"):
        for c in range(0, gappy.size, step):
            cols = gappy[c : c + step]
            med[:, cols] = nanmedian_last(win[:, cols])
        dev = np.abs(flat - med)
        # The spread matters only where the deviation could exceed the floor's threshold: the
        # scaled MAD is computed for those samples alone (usually a few per cent of them).
        cand_r, cand_c = np.nonzero(dev > n_sigma * floor)
        bad = np.zeros(flat.shape, dtype=bool)
        block = 1 << 17  # candidates per pass: bounded memory whatever the floor
        for b in range(0, cand_r.size, block):
            r, k = cand_r[b : b + block], cand_c[b : b + block]
            mad = 1.4826 * nanmedian_last(np.abs(win[r, k] - med[r, k][:, None]))
            bad[r, k] = dev[r, k] > n_sigma * np.maximum(mad, floor)
    bad &= np.isfinite(flat)
    out = flat.copy()
    out[bad] = np.nan
    # A point is rejected whole (both coordinates) when one coordinate is an outlier.
    out3 = out.reshape(xy.shape)
    if xy.ndim == 3:
        any_bad = np.isnan(out3).any(axis=-1) & np.isfinite(xy).all(axis=-1)
        out3[any_bad] = np.nan
        n_removed = int(any_bad.sum())
    else:
        n_removed = int(bad.sum())
    return out3, n_removed


def fill_gaps(xy: Array, max_gap: int) -> tuple[Array, int]:
    """Linearly interpolate interior NaN runs of at most ``max_gap`` frames.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, ...)
    max_gap : int

    Returns
    -------
    xy : ndarray
    n_filled : int
        Number of (frame, landmark) values filled.
    """
    n = xy.shape[0]
    flat = xy.reshape(n, -1).copy()
    fill = np.zeros(flat.shape, dtype=bool)
    # Only columns with a gap need the bookkeeping.
    gappy = np.flatnonzero(~np.isfinite(flat).all(axis=0))
    if gappy.size:
        sub = flat[:, gappy]
        filled_all = interpolate_nans(sub)
        gap_len = nan_run_lengths(sub)
        idx = np.arange(n)[:, None]
        finite = np.isfinite(sub)
        # Only interior gaps: a finite sample must exist before and after.
        has_before = np.maximum.accumulate(np.where(finite, idx, -1), axis=0) >= 0
        has_after = np.flip(np.maximum.accumulate(np.flip(np.where(finite, 1, 0), 0), axis=0),
                            0) > 0
        fill_sub = ~finite & (gap_len <= max_gap) & has_before & has_after
        sub[fill_sub] = filled_all[fill_sub]
        flat[:, gappy] = sub
        fill[:, gappy] = fill_sub
    n_filled = int(fill.reshape(xy.shape[0], -1, xy.shape[-1]).any(-1).sum()) if xy.ndim == 3 \
        else int(fill.sum())
    return flat.reshape(xy.shape), n_filled


def nan_run_lengths(flat: Array) -> NDArray[np.int64]:
    """Length of the NaN run each element belongs to (0 for finite elements).

    Parameters
    ----------
    flat : ndarray, shape (n_frames, k)

    Returns
    -------
    ndarray of int, shape (n_frames, k)
    """
    isnan = ~np.isfinite(flat)
    n = flat.shape[0]
    idx = np.arange(n)[:, None]
    # Start index of the current NaN run: last finite index before, plus one.
    last_finite = np.maximum.accumulate(np.where(~isnan, idx, -1), axis=0)
    next_finite = np.flip(
        np.minimum.accumulate(np.flip(np.where(~isnan, idx, n), axis=0), axis=0), axis=0
    )
    length = next_finite - last_finite - 1
    return np.where(isnan, length, 0).astype(np.int64)


def interpolate_nans(flat: Array) -> Array:
    """Linear interpolation of all NaNs per column, constant extension at the ends.

    Columns with no finite value stay NaN.

    Parameters
    ----------
    flat : ndarray, shape (n_frames, k)

    Returns
    -------
    ndarray, shape (n_frames, k)
    """
    n, k = flat.shape
    out = flat.copy()
    # Only columns with a gap need the index bookkeeping below.
    gappy = ~np.isfinite(flat).all(axis=0)
    if not gappy.any():
        return out
    if not gappy.all():
        out[:, gappy] = interpolate_nans(flat[:, gappy])
        return out
    finite = np.isfinite(flat)
    idx = np.arange(n)
    prev_i = np.maximum.accumulate(np.where(finite, idx[:, None], -1), axis=0)
    next_i = np.flip(
        np.minimum.accumulate(np.flip(np.where(finite, idx[:, None], n), axis=0), axis=0), axis=0
    )
    cols = np.broadcast_to(np.arange(k), (n, k))
    has_prev = prev_i >= 0
    has_next = next_i < n
    p = np.where(has_prev, prev_i, np.where(has_next, next_i, 0))
    q = np.where(has_next, next_i, p)
    vp = flat[p, cols]
    vq = flat[q, cols]
    span = np.where(q > p, q - p, 1)
    w = np.where(q > p, (idx[:, None] - p) / span, 0.0)
    interp = vp + (vq - vp) * w
    missing = ~finite
    out[missing] = interp[missing]
    return out


def lowpass(xy: Array, fps: float, cutoff_hz: float, order: int) -> Array:
    """Zero-phase Butterworth low-pass along time, NaN-preserving.

    NaN runs are bridged by interpolation for the filter only and restored afterwards, so the
    filter never invents data where none was measured.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, ...)
    fps : float
        Real sampling rate in Hz.
    cutoff_hz : float
    order : int

    Returns
    -------
    ndarray, same shape as ``xy``
    """
    n = xy.shape[0]
    nyquist_hz = 0.5 * fps
    if cutoff_hz >= 0.95 * nyquist_hz or n < 3 * (order + 1) * 2:
        return xy.copy()
    flat = xy.reshape(n, -1)
    finite_cols = np.isfinite(flat).any(axis=0)
    bridged = interpolate_nans(flat)
    # sosfiltfilt runs the filter twice: halve the order so the total matches the nominal one.
    sos = butter(max(1, order // 2), cutoff_hz / nyquist_hz, btype="low", output="sos")
    out = flat.copy()
    if finite_cols.any():
        out[:, finite_cols] = sosfiltfilt(sos, bridged[:, finite_cols], axis=0)
    out[~np.isfinite(flat)] = np.nan
    return out.reshape(xy.shape)
