"""Time-chunk parallelism for one video: one VIDEO-mode landmarker per process, stitched.

The video is cut at keyframes into ``n`` consecutive chunks of about equal length. Each chunk
runs in its own process (the first in the calling one) with its own MediaPipe landmarker,
starting :data:`OVERLAP_S` earlier so the tracker has settled on the runner by the chunk's first
kept frame; the overlap frames are dropped and the chunks concatenated in order. Busy processes
never exceed the cores: ``n`` is capped by ``os.cpu_count()``, and a process that is itself a
pool worker (a batch or web job) does not split its video at all.

The model and video code stay in :mod:`gaitcheck.pose` and :mod:`gaitcheck.video`; this module
only plans chunks and joins the results.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from .config import PoseConfig
from .models import ModelFile
from .series import PoseSeries
from .video import VideoInfo, keyframe_times

# MediaPipe's tracker re-detects the person on a chunk's first frame and then follows it; one
# second (30-60 frames) is far more than it needs to lock on, and costs 1 s of extra inference
# per chunk boundary.
OVERLAP_S = 1.0
# Chunks shorter than this are not worth a process start (about 2 s for MediaPipe's import).
MIN_CHUNK_S = 4.0


def plan_chunks(info: VideoInfo, start_s: float, end_s: float, n: int,
                keyframes_s: np.ndarray) -> list[tuple[float, float]]:
    """``[start, end)`` file-second ranges of up to ``n`` chunks, cut at keyframes.

    Parameters
    ----------
    info : VideoInfo
    start_s, end_s : float
        The range to cover.
    n : int
        Chunks wanted; fewer when the range is short or has few keyframes.
    keyframes_s : ndarray, shape (k,)
        Keyframe presentation times in file seconds (ascending).

    Returns
    -------
    list of (float, float)
        Consecutive ranges covering ``[start_s, end_s)``.
    """
    span = end_s - start_s
    n = max(1, min(n, int(span // MIN_CHUNK_S)))
    cuts = [start_s]
    for k in range(1, n):
        want = start_s + span * k / n
        # The keyframe nearest the even cut, so a chunk's decoding starts cleanly there.
        inside = keyframes_s[(keyframes_s > cuts[-1] + MIN_CHUNK_S / 2) &
                             (keyframes_s < end_s - MIN_CHUNK_S / 2)]
        if inside.size:
            cuts.append(float(inside[np.argmin(np.abs(inside - want))]))
    return list(zip(cuts, cuts[1:] + [end_s], strict=True))


def _run_chunk(path: str, info: VideoInfo, model: ModelFile, cfg: PoseConfig,
               keep_from_s: float, turn_deg: int = 0) -> PoseSeries:
    """Landmarks of one chunk (with its lead-in), then only the frames from ``keep_from_s``."""
    from .pose import run_landmarker

    series = run_landmarker(Path(path), info, model, cfg, progress=False, turn_deg=turn_deg)
    slow = info.nominal_fps / (cfg.capture_fps or info.nominal_fps)
    file_t = series.time_s / slow  # file seconds (repaired ones only nudged by 1 ms)
    rows = np.flatnonzero(file_t >= keep_from_s - 1e-6)
    return _take(series, rows)


def _take(series: PoseSeries, rows: np.ndarray) -> PoseSeries:
    assert series.frame_index is not None
    return series.with_arrays(
        xy_px=series.xy_px[rows], world_m=series.world_m[rows],
        visibility=series.visibility[rows], presence=series.presence[rows],
        time_s=series.time_s[rows], frame_index=series.frame_index[rows],
    )


def stitch(parts: list[PoseSeries], cfg: PoseConfig, n_chunks: int) -> PoseSeries:
    """Consecutive chunk series joined into one, meta as a sequential run would give."""
    first, last = parts[0], parts[-1]
    cat = {name: np.concatenate([getattr(p, name) for p in parts])
           for name in ("xy_px", "world_m", "visibility", "presence", "time_s")}
    index = np.concatenate([p.frame_index for p in parts if p.frame_index is not None])
    if np.any(np.diff(index) <= 0):
        raise RuntimeError("chunks overlap or are out of order after trimming")
    meta = {**first.meta, "start_s": cfg.start_s, "end_s": cfg.end_s,
            "truncated_video": last.meta.get("truncated_video"),
            "timestamps_repaired": sum(int(p.meta.get("timestamps_repaired", 0)) for p in parts),
            "chunks": n_chunks}
    if "repeated_frames" in first.meta:
        # Each chunk noted its repeated pictures (lead-ins included); keep the stitched frames'.
        kept = set(index.tolist())
        meta["repeated_frames"] = sorted({int(f) for p in parts
                                          for f in p.meta.get("repeated_frames") or []} & kept)
        meta["people_max"] = max(int(p.meta.get("people_max") or 0) for p in parts)
        meta["people_tracked_largest"] = all(p.meta.get("people_tracked_largest", True)
                                             for p in parts)
    return first.with_arrays(**cat, frame_index=index, meta=meta)


def effective_workers(requested: int) -> int:
    """Processes to use: the request, never more than the cores."""
    return max(1, min(int(requested), os.cpu_count() or 1))


def run_chunked(video_path: Path, info: VideoInfo, model: ModelFile, cfg: PoseConfig,
                workers: int, turn_deg: int = 0) -> PoseSeries | None:
    """Landmarks of the whole range from ``workers`` chunks in parallel; None if one chunk.

    Returns
    -------
    PoseSeries or None
        The stitched series (as :func:`gaitcheck.pose.run_landmarker` returns it), or None
        when the range is too short to split (the caller then runs sequentially).
    """
    if mp.parent_process() is not None:
        # Already a worker of a pool (batch, web jobs, Dask): its siblings fill the cores, so
        # it never fans out further (one process budget for jobs and chunks).
        return None
    if info.truncated:
        return None  # where a cut-off file really ends is only known by decoding it through
    start = cfg.start_s or 0.0
    end = min(cfg.end_s, info.duration_s) if cfg.end_s is not None else info.duration_s
    chunks = plan_chunks(info, start, end, effective_workers(workers), keyframe_times(video_path))
    if len(chunks) < 2:
        return None
    jobs = []
    for k, (a, b) in enumerate(chunks):
        lead = max(start, a - OVERLAP_S) if k else a
        last = k == len(chunks) - 1
        sub = replace(cfg, start_s=lead if (k or cfg.start_s is not None) else None,
                      end_s=(cfg.end_s if last else b), workers=1)
        jobs.append((str(video_path), info, model, sub, a, turn_deg))
    # "spawn": MediaPipe's threads do not survive fork; each worker imports it afresh.
    with ProcessPoolExecutor(len(jobs) - 1, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(_run_chunk, *job) for job in jobs[1:]]
        parts = [_run_chunk(*jobs[0])] + [f.result() for f in futures]
    return stitch(parts, cfg, len(chunks))
