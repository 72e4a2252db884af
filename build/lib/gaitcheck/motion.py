"""Is there gait to judge, at what real speed? Repeated frames, stillness and slow motion.

Runs on raw landmarks (before cleaning), vectorized, with no OpenCV or MediaPipe:

- :func:`repeated_mask` / :func:`real_fps` / :func:`is_regular_pattern`: frames that repeat the
  previous one (a 24 or 25 fps film converted to 30 fps, a frozen picture, a slow-motion export
  made by repeating frames) carry no new time; the analysis keeps only the real frames.
- :func:`movement_range_leg`: how far the ankles swing relative to the hips, in leg lengths;
  a still person (or a frozen picture) stays below an *absolute* floor, so rounding noise is
  never counted as strides.
- :func:`step_rate_spm`: the dominant step rate of the leg swing (spectral, no events needed),
  and :func:`capture_fps_candidates`: which standard slow-motion capture rates would turn an
  implausibly slow step rate into a running one.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray

from .geometry import leg_length_series
from .landmarks import LEFT_ANKLE, LEFT_HIP, LEFT_KNEE, RIGHT_ANKLE, RIGHT_HIP

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Ankle swing (5th-95th percentile of ankle minus hip midpoint, in leg lengths) below which no
# gait is present. Running swings the ankle about 0.8-1.2 leg lengths fore-aft and walking about
# 0.6-0.9 (Novacheck 1998 joint ranges projected on the sagittal plane); pose-model jitter on a
# still person is a few hundredths. 0.15 leaves a wide margin on both sides.
MIN_SWING_LEG = 0.15
# Step rates (steps/min, real time) people actually move at: walkers about 70-135, runners about
# 140-215 (slowest shuffles to sprinting; van Oeveren 2020 reports 165 +- 8 for recreational
# runners). A step rate below SLOW_MOTION_MAX_SPM in file time is neither: the clip is slowed.
SLOW_MOTION_MAX_SPM = 60.0
RUNNING_SPM = (140.0, 215.0)
# Slow-motion capture rates phones offer (Hz).
STANDARD_CAPTURE_FPS = (60.0, 120.0, 240.0, 480.0, 960.0)
# Share of the swing signal's power that the dominant frequency band must hold for the step
# rate to count as measured (a clean periodic gait holds well over half).
MIN_PERIODIC_SHARE = 0.25


def repeated_mask(values: Array, tol: float = 0.0) -> BoolArray:
    """Rows identical (within ``tol``) to the row before them.

    Parameters
    ----------
    values : ndarray, shape (n, ...)
        One row per frame: landmarks, or a small picture signature per frame. NaN entries
        count as equal to NaN; a row that is all NaN (no pose) is never a repeat.
    tol : float
        Largest absolute difference still counted as identical.

    Returns
    -------
    ndarray of bool, shape (n,)
        ``mask[0]`` is always False.
    """
    a = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    out = np.zeros(a.shape[0], dtype=bool)
    if a.shape[0] < 2:
        return out
    prev, cur = a[:-1], a[1:]
    both_nan = np.isnan(prev) & np.isnan(cur)
    with np.errstate(invalid="ignore"):
        same = (np.abs(cur - prev) <= tol) | both_nan
    # A row with nothing in it (no pose found) repeats nothing.
    out[1:] = same.all(axis=1) & np.isfinite(cur).any(axis=1)
    return out


def real_fps(mask: BoolArray, fps: float) -> float:
    """Frame rate of the real (non-repeated) frames, in Hz.

    Parameters
    ----------
    mask : ndarray of bool, shape (n,)
        From :func:`repeated_mask`.
    fps : float
        The file's frame rate.
    """
    n = len(mask)
    if n == 0:
        return float(fps)
    return float(fps) * float((~np.asarray(mask)).sum()) / n


def is_regular_pattern(mask: BoolArray) -> bool:
    """True when repeats come in a steady rhythm (frame-rate conversion), not in frozen runs.

    A 24 -> 30 fps conversion repeats one frame in five, a 25 -> 30 one in six, a slow-motion
    export built by repeating frames k - 1 in k: the gaps between real frames then take at most
    two neighbouring values. A frozen stretch makes one gap much longer than the rest.
    """
    m = np.asarray(mask)
    real = np.flatnonzero(~m)
    if real.size < 3 or not m.any():
        return False
    # The end of the clip closes the last gap, so a frozen tail counts too.
    gaps = np.diff(np.append(real, m.size))
    return bool(gaps.max() - gaps.min() <= 1)


def movement_range_leg(xy: Array) -> float:
    """How far the ankles swing relative to the hip midpoint, in leg lengths.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
        Raw image landmarks (NaN where missing).

    Returns
    -------
    float
        The larger of the two ankles' 5th-95th percentile ranges of (ankle - hip midpoint),
        over x and y, divided by the median leg length; 0.0 when it cannot be measured.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        leg = float(np.nanmedian(leg_length_series(xy, LEFT_HIP, LEFT_KNEE, LEFT_ANKLE)))
        if not np.isfinite(leg) or leg <= 0:
            return 0.0
        mid = 0.5 * (xy[:, LEFT_HIP] + xy[:, RIGHT_HIP])
        rel = np.stack([xy[:, LEFT_ANKLE] - mid, xy[:, RIGHT_ANKLE] - mid], axis=1)  # (n, 2, 2)
        ok = np.isfinite(rel).all(axis=(1, 2))
        if ok.sum() < 5:
            return 0.0
        lo, hi = np.percentile(rel[ok], [5, 95], axis=0)  # (2 ankles, 2 axes)
    return float(np.max(hi - lo) / leg)


def _uniform(signal: Array, time_s: Array, fps: float) -> Array:
    """Resample a NaN-gapped signal onto a uniform grid (linear; gaps bridged)."""
    ok = np.isfinite(signal)
    grid = np.arange(time_s[0], time_s[-1], 1.0 / fps)
    return np.interp(grid, time_s[ok], signal[ok])


def step_rate_spm(xy: Array, time_s: Array) -> tuple[float, float]:
    """Dominant step rate of the leg swing, from the spectrum of the ankle separation.

    The horizontal and vertical separations of the two ankles (in leg lengths) repeat once per
    stride, i.e. every two steps, in any camera view; the stronger of the two spectral peaks is
    used.

    Parameters
    ----------
    xy : ndarray, shape (n_frames, 33, 2)
        Raw image landmarks.
    time_s : ndarray, shape (n_frames,)
        Frame times (seconds of whatever clock the caller wants the rate in).

    Returns
    -------
    spm : float
        Steps per minute (NaN when there is no clear rhythm or too little data).
    share : float
        Share of the signal power in the dominant peak (+-1 bin), in [0, 1].
    """
    n = len(time_s)
    if n < 20:
        return float("nan"), 0.0
    fps = (n - 1) / float(time_s[-1] - time_s[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        leg = float(np.nanmedian(leg_length_series(xy, LEFT_HIP, LEFT_KNEE, LEFT_ANKLE)))
    if not np.isfinite(leg) or leg <= 0:
        return float("nan"), 0.0
    best = (float("nan"), 0.0)
    for axis in (0, 1):
        sep = (xy[:, LEFT_ANKLE, axis] - xy[:, RIGHT_ANKLE, axis]) / leg
        if np.isfinite(sep).sum() < 20:
            continue
        u = _uniform(sep, time_s, fps)
        # Remove the offset and drift (e.g. step width seen from behind) before the window.
        u = (u - np.polyval(np.polyfit(np.arange(len(u)), u, 1), np.arange(len(u))))
        u = u * np.hanning(len(u))
        n_fft = int(2 ** np.ceil(np.log2(8 * len(u))))
        power = np.abs(np.fft.rfft(u, n_fft)) ** 2
        freq = np.fft.rfftfreq(n_fft, 1.0 / fps)
        # At least two strides in the clip, at most 5 strides/s (a 300 steps/min sprint).
        band = (freq >= 2.0 / (time_s[-1] - time_s[0])) & (freq <= 5.0)
        if not band.any() or power[band].sum() <= 0:
            continue
        pb = np.where(band, power, 0.0)
        k = int(np.argmax(pb))
        # The Hann window spreads a pure tone over about 4 bins of the unpadded spectrum.
        width = max(1, n_fft // len(u) * 2)
        share = float(pb[max(0, k - width):k + width + 1].sum() / pb.sum())
        if share > best[1]:
            best = (120.0 * float(freq[k]), share)
    if best[1] < MIN_PERIODIC_SHARE:
        return float("nan"), best[1]
    return best


def capture_fps_candidates(spm_file: float, file_fps: float) -> list[tuple[float, float]]:
    """Standard capture rates that put a slowed clip's step rate in the running range.

    Parameters
    ----------
    spm_file : float
        Step rate measured in file time (steps/min).
    file_fps : float
        The file's frame rate (Hz).

    Returns
    -------
    list of (capture_fps, spm_real)
        Candidates above the file's rate whose real step rate lies in :data:`RUNNING_SPM`.
    """
    out: list[tuple[float, float]] = []
    if not np.isfinite(spm_file) or spm_file <= 0:
        return out
    for c in STANDARD_CAPTURE_FPS:
        if c <= file_fps * 1.01:
            continue
        spm = spm_file * c / file_fps
        if RUNNING_SPM[0] <= spm <= RUNNING_SPM[1]:
            out.append((c, spm))
    return out
