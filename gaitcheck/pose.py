"""Pose extraction: MediaPipe PoseLandmarker (VIDEO mode) over a video -> :class:`PoseSeries`.

The only module that imports MediaPipe (lazily, inside :func:`create_landmarker`). Results are
cached by content: the key hashes the video file, the model file and every setting that changes
the landmarks, so re-running the same video never reruns the model.

Cache locations: ``OUT_DIR/pose.npz`` (its key in ``meta["cache_key"]``) and the global
``<cache root>/pose/<key>.npz`` (cache root: ``$GAITCHECK_CACHE_DIR`` or
``~/.cache/gaitcheck``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import landmarks as lm
from .config import Config, PoseConfig
from .errors import (
    GaitcheckError,
    GaitcheckWarning,
    ModelError,
    NoPersonError,
    SeriesError,
    VideoError,
)
from .models import ModelFile, cache_root, file_sha256, resolve_model
from .prefetch import prefetch
from .progress import progress_bar
from .series import PoseSeries, empty_arrays
from .video import VideoInfo, iter_frames, next_timestamp_ms, probe, repair_monotonic

# Bump when the extraction changes in a way that alters saved series.
POSE_CACHE_VERSION = 1
# Settings that change the landmarks (model and video are keyed by their hashes).
KEY_SETTINGS = (
    "capture_fps", "start_s", "end_s", "max_side_px", "min_pose_detection_confidence",
    "min_pose_presence_confidence", "min_tracking_confidence",
)
# A truncated file decodes fewer frames than its container announces.
MIN_DECODED_SHARE = 0.9
# A file that ends early is analysed only when at least this much of it decodes.
MIN_TRUNCATED_S = 2.0
# Waiting longer than this for another process extracting the same video: extract anyway.
CACHE_LOCK_TIMEOUT_S = 1800.0


class CacheWarning(GaitcheckWarning):
    """A cache entry was unreadable or inconsistent and is being recomputed."""
LEG_POINTS = (lm.LEFT_HIP, lm.RIGHT_HIP, lm.LEFT_KNEE, lm.RIGHT_KNEE, lm.LEFT_ANKLE,
              lm.RIGHT_ANKLE, lm.LEFT_HEEL, lm.RIGHT_HEEL)


def pose_cache_dir() -> Path:
    """Folder of the global pose cache."""
    return cache_root() / "pose"


def cache_key(video_sha256: str, model_sha256: str, cfg: PoseConfig) -> str:
    """Content key of a pose extraction: video hash + model hash + landmark-relevant settings."""
    payload = {
        "version": POSE_CACHE_VERSION,
        "video": video_sha256,
        "model": model_sha256,
        "settings": {k: getattr(cfg, k) for k in KEY_SETTINGS},
    }
    if cfg.workers > 1:
        # Chunked runs match a sequential one within tolerance, not bit for bit: own entry.
        from .chunked import effective_workers

        payload["chunks"] = effective_workers(cfg.workers)
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[IO[str]]:
    """Send C++ log lines (TFLite/absl, written to file descriptor 2) to the null device.

    Yields a text stream that still reaches the user, for the progress bar: the real stderr
    when ``sys.stderr`` writes to descriptor 2, else ``sys.stderr`` itself (e.g. captured).
    Descriptor 2 is restored before any exception propagates.
    """
    try:
        sys.stderr.flush()
        python_on_fd2 = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        python_on_fd2 = False
    try:
        saved = os.dup(2)
    except OSError:
        yield sys.stderr  # no descriptor 2 at all: nothing to silence
        return
    real = os.fdopen(os.dup(saved), "w", buffering=1) if python_on_fd2 else None
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield real if real is not None else sys.stderr
    finally:
        if real is not None:
            real.flush()
        os.dup2(saved, 2)
        os.close(saved)
        if real is not None:
            real.close()


def create_landmarker(model_path: Path, cfg: PoseConfig) -> Any:
    """A MediaPipe ``PoseLandmarker`` in VIDEO mode for one pose (use as a context manager).

    Module-level so tests can count model creations by wrapping it.
    """
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=1,
        min_pose_detection_confidence=cfg.min_pose_detection_confidence,
        min_pose_presence_confidence=cfg.min_pose_presence_confidence,
        min_tracking_confidence=cfg.min_tracking_confidence,
        output_segmentation_masks=False,
    )
    try:
        return vision.PoseLandmarker.create_from_options(options)
    except (RuntimeError, ValueError, OSError) as exc:
        # MediaPipe says e.g. "The model is not a valid Flatbuffer buffer".
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"Model file {model_path} cannot be loaded by MediaPipe ({first}); pass --model "
            "lite, full or heavy, or a valid pose landmarker .task file."
        ) from None


def _pose_config(config: Config | PoseConfig) -> PoseConfig:
    return config.pose if isinstance(config, Config) else config


def run_landmarker(
    video_path: Path, info: VideoInfo, model: ModelFile, cfg: PoseConfig, *, progress: bool
) -> PoseSeries:
    """Run the model on every frame in the trimmed range; frames without a pose stay NaN.

    Returns
    -------
    PoseSeries
        Coordinates in pixels of the full-size upright frame; ``time_s`` in real seconds.
    """
    if cfg.workers > 1:
        from .chunked import run_chunked

        chunked = run_chunked(video_path, info, model, cfg, cfg.workers)
        if chunked is not None:
            return chunked
    import mediapipe as mp

    w_px, h_px = info.frame_size
    rows: list[tuple[Any, Any, Any, Any]] = []
    indices: list[int] = []
    times: list[float] = []
    fps_file = info.nominal_fps
    total = info.n_frames
    if cfg.start_s is not None or cfg.end_s is not None:
        start = cfg.start_s or 0.0
        end = min(cfg.end_s, info.duration_s) if cfg.end_s is not None else info.duration_s
        total = max(0, round((end - start) * fps_file))
    last_ms: int | None = None
    nan_row = (np.full((lm.N_LANDMARKS, 2), np.nan), np.full((lm.N_LANDMARKS, 3), np.nan),
               np.zeros(lm.N_LANDMARKS), np.zeros(lm.N_LANDMARKS))
    with quiet_native_stderr() as err:
        bar = progress_bar(total, enabled=progress, desc=Path(video_path).name, file=err)
        with bar, create_landmarker(model.path, cfg) as landmarker:
            # Decoding runs ahead in a thread (bounded queue), overlapping the model.
            frames = prefetch(iter_frames(video_path, start_s=cfg.start_s, end_s=cfg.end_s,
                                          max_side_px=cfg.max_side_px, info=info))
            for frame in frames:
                last_ms = next_timestamp_ms(frame.time_s, last_ms)
                image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.rgb)
                result = landmarker.detect_for_video(image, last_ms)
                if result.pose_landmarks:
                    pts = result.pose_landmarks[0]
                    world = result.pose_world_landmarks[0]
                    # Normalised coordinates of the (possibly downscaled) image -> pixels of
                    # the full-size upright frame.
                    xy = np.array([(p.x * w_px, p.y * h_px) for p in pts])
                    xyz = np.array([(p.x, p.y, p.z) for p in world])
                    vis = np.array([p.visibility or 0.0 for p in pts])
                    pres = np.array([p.presence or 0.0 for p in pts])
                    rows.append((xy, xyz, np.clip(vis, 0, 1), np.clip(pres, 0, 1)))
                else:
                    rows.append(nan_row)
                indices.append(frame.index)
                times.append(frame.time_s)
                bar.update(1)

    n = len(rows)
    if n == 0:
        if cfg.start_s is not None or cfg.end_s is not None:
            raise VideoError(
                f"{video_path} has no frames between --start and --end (it lasts "
                f"{info.duration_s:.1f} s); choose a range inside the video."
            )
        raise VideoError(
            f"{video_path} has no decodable frames (codec {info.codec}); re-export it as "
            "H.264 MP4."
        )
    if cfg.end_s is None and indices[-1] + 1 < MIN_DECODED_SHARE * info.n_frames:
        raise VideoError(
            f"{video_path} stops decoding after {indices[-1] + 1} of {info.n_frames} frames, "
            "so it is truncated or damaged; copy or export it again."
        )
    truncated = None
    if info.truncated:
        ends_at_s = round(float(times[-1]) + 1.0 / fps_file, 3)
        truncated = {"ends_at_s": ends_at_s, "announced_s": round(info.announced_s, 3)}
        if ends_at_s - (cfg.start_s or 0.0) < MIN_TRUNCATED_S:
            raise VideoError(
                f"{video_path} ends at {ends_at_s:.1f} s of {info.announced_s:.1f} s, too little "
                "to analyse; it is incomplete, so copy or export it again."
            )
    arrays = empty_arrays(n)
    for i, (xy, xyz, vis, pres) in enumerate(rows):
        arrays["xy_px"][i], arrays["world_m"][i] = xy, xyz
        arrays["visibility"][i], arrays["presence"][i] = vis, pres
    raw = np.asarray(times, dtype=np.float64)
    # Duplicated/backward container times are nudged forward by 1 ms (see repair_monotonic).
    file_t = repair_monotonic(raw, 1e-3)
    capture_fps = cfg.capture_fps or fps_file
    slow = fps_file / capture_fps  # file seconds -> real seconds (slow-motion factor)
    return PoseSeries(
        xy_px=arrays["xy_px"],
        world_m=arrays["world_m"],
        visibility=arrays["visibility"],
        presence=arrays["presence"],
        time_s=file_t * slow,
        fps=capture_fps,
        frame_size=info.frame_size,
        rotation_deg=info.rotation_deg,
        frame_index=np.asarray(indices, dtype=np.int64),
        source=str(video_path),
        model=model.name,
        meta={
            "nominal_fps": fps_file,
            "capture_fps": capture_fps,
            "variable_frame_rate": info.variable_frame_rate,
            "n_frames_nominal": info.n_frames,
            "duration_file_s": info.duration_s,
            "codec": info.codec,
            "start_s": cfg.start_s,
            "end_s": cfg.end_s,
            "max_side_px": cfg.max_side_px,
            "timestamps_repaired": int(np.sum(file_t != raw)),
            "model_path": str(model.path),
            "model_origin": model.origin,
            "model_sha256": model.sha256,
            "truncated_video": truncated,
        },
    )


def check_person(series: PoseSeries, cfg: PoseConfig, video_path: str | Path) -> None:
    """Raise :class:`NoPersonError` when too few frames show a person with legs in view.

    A leg counts as in view in a frame when its hip, knee, ankle and heel all have visibility
    of at least ``cfg.min_leg_visibility`` and lie inside the frame.
    """
    has = series.has_pose
    if series.pose_share < cfg.min_pose_share:
        raise NoPersonError(
            f"No person was found in {video_path} (a pose in {series.pose_share:.0%} of "
            "frames); film the runner's whole body, well lit, from 3-5 m away."
        )
    w, h = series.frame_size
    xy = series.xy_px[has]
    inside = (xy[..., 0] >= 0) & (xy[..., 0] < w) & (xy[..., 1] >= 0) & (xy[..., 1] < h)
    seen = (series.visibility[has] >= cfg.min_leg_visibility) & inside
    legs_ok = np.zeros(int(has.sum()), dtype=bool)
    for side in lm.SIDES:
        chain = list(lm.LEG[side][:4])  # hip, knee, ankle, heel
        legs_ok |= seen[:, chain].all(axis=1)
    share = float(legs_ok.mean()) if legs_ok.size else 0.0
    if share < cfg.min_legs_share:
        raise NoPersonError(
            f"The runner's legs and feet are rarely visible in {video_path} (hips, knees, "
            f"ankles and heels seen in {share:.0%} of frames with a pose); film again with the "
            "legs and feet in frame."
        )


def _load_if_key(path: Path, key: str) -> PoseSeries | None:
    """The series saved at ``path`` when it is readable and made with ``key``; else None.

    An unreadable or inconsistent file (truncated, zero bytes, flipped bits, mistyped header)
    is deleted with a :class:`CacheWarning`, so the caller recomputes and rewrites it.
    """
    if not path.is_file():
        return None
    try:
        series = PoseSeries.load(path)
    except SeriesError as exc:
        warnings.warn(f"Discarded a damaged saved pose series ({exc}); recomputing it.",
                      CacheWarning, stacklevel=3)
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return series if series.meta.get("cache_key") == key else None


def _with_provenance(series: PoseSeries, path: Path) -> PoseSeries:
    """The series naming the video file given now (a cache hit may come from a copy)."""
    return series if series.source == str(path) else series.with_arrays(source=str(path))


@contextlib.contextmanager
def _key_lock(key: str) -> Iterator[None]:
    """Hold a per-key file lock in the pose cache, so two processes run the model once.

    Without a writable cache folder no lock is taken (each process extracts on its own).
    """
    from filelock import FileLock, Timeout

    folder = pose_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / f"{key}.lock"), timeout=CACHE_LOCK_TIMEOUT_S)
        lock.acquire()
    except (OSError, Timeout):
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _prepare(video_path: str | Path, cfg: PoseConfig) -> tuple[Path, VideoInfo, ModelFile, str,
                                                               str]:
    path = Path(video_path)
    info = probe(path)  # raises VideoError for missing/empty/bad files
    model = resolve_model(cfg.model)
    video_sha = file_sha256(path)
    return path, info, model, video_sha, cache_key(video_sha, model.sha256, cfg)


def extract_pose(
    video_path: str | Path,
    config: Config | PoseConfig,
    *,
    progress: bool = True,
    cache: bool = True,
) -> PoseSeries:
    """Landmarks of the runner in every frame of a video.

    Parameters
    ----------
    video_path : str or Path
        The video file.
    config : Config or PoseConfig
        Settings; ``pose.use_cache=False`` or ``cache=False`` bypasses the global cache
        (reading and writing).
    progress : bool
        Show a tqdm progress bar on stderr.
    cache : bool
        Use the global pose cache.

    Returns
    -------
    PoseSeries
        Shape ``(n_frames, 33, ...)``, pixels of the upright full-size frame, ``time_s`` in real
        seconds; ``meta`` holds probe facts and ``cache_key``.

    Raises
    ------
    VideoError, ModelError, NoPersonError
        One-sentence user errors.
    """
    cfg = _pose_config(config)
    path, info, model, video_sha, key = _prepare(video_path, cfg)
    return _extract(path, info, model, video_sha, key, cfg, progress=progress,
                    cache=cache and cfg.use_cache)


def _extract(path: Path, info: VideoInfo, model: ModelFile, video_sha: str, key: str,
             cfg: PoseConfig, *, progress: bool, cache: bool) -> PoseSeries:
    cached = pose_cache_dir() / f"{key}.npz"
    with _key_lock(key) if cache else contextlib.nullcontext():
        # Looked up inside the lock: a process that waited finds the other's result.
        series = _load_if_key(cached, key) if cache else None
        if series is None:
            series = run_landmarker(path, info, model, cfg, progress=progress)
            series = series.with_arrays(source_sha256=video_sha,
                                        meta={**series.meta, "cache_key": key})
            if cache:
                try:
                    series.save(cached)
                except OSError:
                    pass  # an unwritable cache must not fail the run
    series = _with_provenance(series, path)
    check_person(series, cfg, path)
    return series


def load_or_extract(
    video_path: str | Path,
    config: Config | PoseConfig,
    out_dir: str | Path | None = None,
    *,
    progress: bool = True,
    cache: bool = True,
    save: bool = True,
) -> PoseSeries:
    """The saved series of ``OUT_DIR/pose.npz`` when its key matches, else :func:`extract_pose`.

    When ``out_dir`` is given and ``save`` is true, a freshly extracted series is saved there
    as ``pose.npz`` (atomically; an earlier result stays intact if anything fails). With
    ``save=False`` the folder is only read (the caller writes its output set itself).
    """
    cfg = _pose_config(config)
    path, info, model, video_sha, key = _prepare(video_path, cfg)
    use = cache and cfg.use_cache
    target = Path(out_dir) / "pose.npz" if out_dir is not None else None
    if target is not None and use:
        series = _load_if_key(target, key)
        if series is not None:
            series = _with_provenance(series, path)
            check_person(series, cfg, path)
            return series
    series = _extract(path, info, model, video_sha, key, cfg, progress=progress, cache=use)
    if target is not None and save:
        series.save(target)
    return series


def save_outputs(series: PoseSeries, out_dir: str | Path, *, trc: bool = False) -> list[Path]:
    """Write ``pose.npz``, ``pose.csv`` (and ``pose.trc``) into ``out_dir``, each atomically."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = [series.save(out / "pose.npz"), series.to_csv(out / "pose.csv")]
        if trc:
            written.append(series.to_trc(out / "pose.trc"))
    except OSError as exc:
        raise GaitcheckError(f"Cannot write results to {out} ({exc.strerror}); choose a "
                             "writable output folder.") from None
    return written
