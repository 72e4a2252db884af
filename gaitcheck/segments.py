"""Tracking segments: the pose pass's unit of work, the same however many cores run it.

MediaPipe's VIDEO-mode tracker carries state from frame to frame (the crop it takes from the
previous frame's pose, its smoothing filters), and that state never fully forgets where the
track began: the shared side clip tracked from 2 s or 4 s instead of 0 s stays about 2.3 px
(median, 720x1280) from the first track for the rest of the clip, with no decay over 10 s
(measured for issue 12). So a video cut into chunks only for parallel runs would give other
landmarks than one tracked in a single pass, and results would depend on the machine.

Instead every run cuts the range into the same segments, a fixed grid of :data:`SEGMENT_S`
file seconds from the range's start: each segment gets its own tracker, started
:data:`LEAD_IN_S` before the segment's first frame so it has settled by then (a restarted
track is within the steady difference after about 5 frames), and the lead-in frames are
dropped. Segments then run one after another or side by side with identical results, and the
number running at once only changes the time taken. No more run at once than the cores, and
a process that is itself a pool worker (a batch or web job) runs its segments one by one, so
batch jobs and segments share one budget.

This module plans the segments, sets the budget and joins the results; the model and the
video code stay in :mod:`gaitcheck.pose` and :mod:`gaitcheck.video`.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

# Kept frames per segment, in file seconds. Each segment costs one lead-in and one tracker
# start (~0.2 s), so on one core 0.5 s of lead-in per 6 s is ~8 % extra inference; shorter
# segments balance two cores better on short clips but cost more on one.
SEGMENT_S = 6.0
# Tracking before a segment's first kept frame: a restarted track reaches the steady 2.3 px
# difference after ~5 frames (shared side clip, six restarts, 30 fps); 0.5 s is 15 frames at
# 30 fps and more at higher rates.
LEAD_IN_S = 0.5
# A remainder shorter than this joins the segment before instead of being its own.
MIN_SEGMENT_S = 3.0


@dataclass(frozen=True)
class Segment:
    """One segment of the range, in file seconds.

    Attributes
    ----------
    lead_s : float or None
        Where decoding and tracking start (None: at the range's start).
    keep_s : float or None
        Frames at or after this are kept (None: all from ``lead_s``).
    end_s : float or None
        Frames before this belong to the segment (None: to the range's end).
    """

    lead_s: float | None
    keep_s: float | None
    end_s: float | None


def range_s(start_s: float | None, end_s: float | None, duration_s: float
            ) -> tuple[float, float]:
    """The file-second range ``[start, end)`` asked for, the file's start and end filling in
    what is not given (an end past the file's duration is cut to it)."""
    start = start_s or 0.0
    return start, (min(end_s, duration_s) if end_s is not None else duration_s)


def plan_segments(start_s: float | None, end_s: float | None, duration_s: float, *,
                  whole: bool = False) -> list[Segment]:
    """The segments of ``[start_s, end_s)``: a grid of :data:`SEGMENT_S` from the start.

    Parameters
    ----------
    start_s, end_s : float or None
        The range asked for (None: the file's start / end).
    duration_s : float
        The file's duration, where the range ends when ``end_s`` is None.
    whole : bool
        One segment for the whole range (a file that cannot be entered by seeking, or whose
        real end is only known by decoding it through).

    Returns
    -------
    list of Segment
        Consecutive, in order; the first starts at ``start_s`` and the last ends at
        ``end_s``, exactly as given.
    """
    start, end = range_s(start_s, end_s, duration_s)
    n = max(1, int((end - start) // SEGMENT_S))
    if (end - start) - n * SEGMENT_S >= MIN_SEGMENT_S:
        n += 1
    if whole or n == 1:
        return [Segment(start_s, None, end_s)]
    cuts = [start + k * SEGMENT_S for k in range(1, n)]
    segments = [Segment(start_s, None, cuts[0])]
    for k, cut in enumerate(cuts):
        segments.append(Segment(max(start, cut - LEAD_IN_S), cut,
                                cuts[k + 1] if k + 1 < len(cuts) else end_s))
    return segments


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def effective_workers(requested: int | None, n_segments: int) -> int:
    """Segments to run at once: the request (None: all cores), never more than the cores.

    A process that is itself a worker of a pool (batch, web jobs, Dask) runs one at a time:
    its siblings already fill the cores.
    """
    if mp.parent_process() is not None:
        return 1
    cores = available_cores()
    want = cores if requested is None else int(requested)
    return max(1, min(want, cores, n_segments))


@dataclass
class Track:
    """One segment's landmarks (lead-in dropped), as :func:`gaitcheck.pose` collects them.

    Attributes
    ----------
    xy_px : ndarray, shape (n, 33, 2)
    world_m : ndarray, shape (n, 33, 3)
    visibility, presence : ndarray, shape (n, 33)
    frame_index : ndarray of int64, shape (n,)
    time_s : ndarray of float64, shape (n,)
        File seconds, as decoded.
    repeated : list of int
        Decode indices of kept frames that repeat the picture before them.
    people : list of (int, bool)
        For each frame picked for counting people: how many were seen, and whether the
        tracked runner was the largest of them.
    """

    xy_px: NDArray[np.float64]
    world_m: NDArray[np.float64]
    visibility: NDArray[np.float64]
    presence: NDArray[np.float64]
    frame_index: NDArray[np.int64]
    time_s: NDArray[np.float64]
    repeated: list[int] = field(default_factory=list)
    people: list[tuple[int, bool]] = field(default_factory=list)


def join(tracks: list[Track]) -> Track:
    """Consecutive segments' tracks as one.

    Raises
    ------
    RuntimeError
        When the segments' frames overlap or are out of order (a planning error).
    """
    index = np.concatenate([t.frame_index for t in tracks])
    if np.any(np.diff(index) <= 0):
        raise RuntimeError("segments overlap or are out of order")
    return Track(
        xy_px=np.concatenate([t.xy_px for t in tracks]),
        world_m=np.concatenate([t.world_m for t in tracks]),
        visibility=np.concatenate([t.visibility for t in tracks]),
        presence=np.concatenate([t.presence for t in tracks]),
        frame_index=index,
        time_s=np.concatenate([t.time_s for t in tracks]),
        repeated=[f for t in tracks for f in t.repeated],
        people=[p for t in tracks for p in t.people],
    )


def sample_times(start_s: float | None, end_s: float | None, duration_s: float,
                 n: int) -> NDArray[np.float64]:
    """``n`` evenly spread file times at which to count people, shape (n,).

    The frame counted for time ``t`` is the first kept frame at or after it, whichever
    segment holds it, so the choice does not depend on how the range is split.
    """
    start, end = range_s(start_s, end_s, duration_s)
    return start + (np.arange(n) + 0.5) * max(end - start, 0.0) / max(n, 1)
