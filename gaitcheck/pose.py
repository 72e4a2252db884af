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
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
from .memory import release_free_memory
from .models import ModelFile, cache_root, file_sha256, resolve_model
from .orientation import upright_turn_deg
from .prefetch import prefetch
from .progress import progress_bar
from .segments import (
    Segment,
    Track,
    effective_workers,
    join,
    plan_segments,
    range_s,
    sample_times,
)
from .series import PoseSeries, empty_arrays
from .video import (
    PTS_EPS_S,
    PacketTimes,
    VideoInfo,
    iter_frames,
    next_timestamp_ms,
    packet_times,
    probe,
    repair_monotonic,
    turned_size,
)

# Bump when the extraction changes in a way that alters saved series.
# 2: series carry repeated frames, people seen, capture-rate source; 3: tracked in fixed
# segments (gaitcheck.segments); 4: whole-factor model frames (1080x1920 -> 540x960).
POSE_CACHE_VERSION = 4
# Settings that change the landmarks (model and video are keyed by their hashes).
KEY_SETTINGS = (
    "capture_fps", "start_s", "end_s", "max_side_px", "min_pose_detection_confidence",
    "min_pose_presence_confidence", "min_tracking_confidence",
)
# Sample frames checked for other people, and the most poses looked for in each.
PEOPLE_SAMPLES = 8
MAX_PEOPLE = 3
# A frame repeats the previous one when at most REPEAT_MAX_CHANGED pixels of its coarse grey
# picture (every 8th pixel) changed by more than REPEAT_GREY levels (0-255). Measured on
# re-encoded H.264: duplicates change 0-2 such pixels (compression noise), while frames of a
# moving runner change 26 or more, even a small runner far away.
REPEAT_GREY = 10.0
REPEAT_MAX_CHANGED = 3
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


def cache_key(video_sha256: str, model_sha256: str, cfg: PoseConfig, turn_deg: int = 0) -> str:
    """Content key of a pose extraction: video hash + model hash + landmark-relevant settings
    (+ the turn applied to the frames, when one was)."""
    payload: dict[str, Any] = {
        "version": POSE_CACHE_VERSION,
        "video": video_sha256,
        "model": model_sha256,
        "settings": {k: getattr(cfg, k) for k in KEY_SETTINGS},
    }
    if turn_deg:
        payload["turn_deg"] = int(turn_deg)
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


def create_people_detector(model_path: Path, cfg: PoseConfig) -> Any:
    """A MediaPipe ``PoseLandmarker`` in IMAGE mode for up to :data:`MAX_PEOPLE` poses.

    Run on a few sample frames only, to notice other people; the tracked runner comes from the
    one-pose VIDEO-mode landmarker, which keeps following the person it found first.
    """
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=vision.RunningMode.IMAGE,
        num_poses=MAX_PEOPLE,
        min_pose_detection_confidence=cfg.min_pose_detection_confidence,
        min_pose_presence_confidence=cfg.min_pose_presence_confidence,
        output_segmentation_masks=False,
    )
    return vision.PoseLandmarker.create_from_options(options)


def _people_in(result: Any, tracked_xy: Any, size: tuple[int, int]) -> tuple[int, bool]:
    """People seen in one sample frame, and whether the tracked runner is the largest of them.

    A pose counts when its hips are seen (visibility >= 0.5); size is the landmarks' height.
    """
    w_px, h_px = size
    poses = []
    for pts in result.pose_landmarks or []:
        if min(pts[lm.LEFT_HIP].visibility or 0.0, pts[lm.RIGHT_HIP].visibility or 0.0) < 0.5:
            continue
        xy = np.array([(p.x * w_px, p.y * h_px) for p in pts])
        poses.append((float(np.ptp(xy[:, 1])), 0.5 * (xy[lm.LEFT_HIP] + xy[lm.RIGHT_HIP])))
    if len(poses) < 2 or tracked_xy is None:
        return len(poses), True
    hip = 0.5 * (tracked_xy[lm.LEFT_HIP] + tracked_xy[lm.RIGHT_HIP])
    nearest = min(range(len(poses)), key=lambda i: float(np.hypot(*(poses[i][1] - hip))))
    largest = max(range(len(poses)), key=lambda i: poses[i][0])
    return len(poses), nearest == largest


def _track_segment(
    video_path: Path, info: VideoInfo, model: ModelFile, cfg: PoseConfig, seg: Segment, *,
    turn_deg: int, packets: PacketTimes | None, sample_at_s: np.ndarray, bar: Any,
    stop: threading.Event,
) -> Track:
    """Track one segment with its own VIDEO-mode landmarker (see :mod:`gaitcheck.segments`).

    Also notes which kept frames repeat the picture before them (the lead-in's last frame
    counts as "before"), and counts the people in the frames picked for that (an IMAGE-mode
    landmarker, created only when the segment holds such a frame).
    """
    import mediapipe as mp

    w_px, h_px = turned_size(info.frame_size, turn_deg)
    keep_s = seg.keep_s if seg.keep_s is not None else -np.inf
    xy_rows: list[np.ndarray] = []
    world_rows: list[np.ndarray] = []
    vis_rows: list[np.ndarray] = []
    pres_rows: list[np.ndarray] = []
    found: list[bool] = []
    indices: list[int] = []
    times: list[float] = []
    repeated: list[int] = []
    people: list[tuple[int, bool]] = []
    pending = [float(t) for t in sample_at_s
               if t >= keep_s and (seg.end_s is None or t < seg.end_s)]
    last_ms: int | None = None
    prev_sig: Any = None
    with contextlib.ExitStack() as stack:
        landmarker = stack.enter_context(create_landmarker(model.path, cfg))
        detector: Any = None
        # Decoding runs ahead in a thread (bounded queue), overlapping the model.
        frames = prefetch(iter_frames(video_path, start_s=seg.lead_s, end_s=seg.end_s,
                                      max_side_px=cfg.max_side_px, info=info,
                                      turn_deg=turn_deg, packets=packets))
        for frame in frames:
            if stop.is_set():
                break
            kept = frame.time_s >= keep_s - PTS_EPS_S
            # A coarse grey picture is enough to tell a repeated frame from a new one.
            sig = frame.rgb[::8, ::8].mean(axis=2)
            if kept and prev_sig is not None and \
                    int((np.abs(sig - prev_sig) > REPEAT_GREY).sum()) <= REPEAT_MAX_CHANGED:
                repeated.append(frame.index)
            prev_sig = sig
            last_ms = next_timestamp_ms(frame.time_s, last_ms)
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.rgb)
            result = landmarker.detect_for_video(image, last_ms)
            if not kept:
                continue
            pose = bool(result.pose_landmarks)
            if pose:
                pts = result.pose_landmarks[0]
                # Normalised coordinates of the (possibly downscaled) image -> pixels of
                # the full-size upright frame.
                xy_rows.append(np.array([(p.x * w_px, p.y * h_px) for p in pts]))
                world_rows.append(np.array([(p.x, p.y, p.z)
                                            for p in result.pose_world_landmarks[0]]))
                vis_rows.append(np.array([p.visibility or 0.0 for p in pts]))
                pres_rows.append(np.array([p.presence or 0.0 for p in pts]))
            found.append(pose)
            if pending and frame.time_s >= pending[0] - PTS_EPS_S:
                while pending and frame.time_s >= pending[0] - PTS_EPS_S:
                    pending.pop(0)
                if detector is None:
                    detector = stack.enter_context(create_people_detector(model.path, cfg))
                people.append(_people_in(detector.detect(image), xy_rows[-1] if pose else None,
                                         (w_px, h_px)))
            indices.append(frame.index)
            times.append(frame.time_s)
            bar.update(1)
    # The segment's frames and model are gone: give their pages back, or the heap keeps
    # them between the kept landmark rows and the pass grows with the clip (gaitcheck.memory).
    release_free_memory()
    n = len(found)
    arrays = empty_arrays(n)
    has = np.asarray(found, dtype=bool)
    if has.any():
        arrays["xy_px"][has] = np.stack(xy_rows)
        arrays["world_m"][has] = np.stack(world_rows)
        arrays["visibility"][has] = np.clip(np.stack(vis_rows), 0, 1)
        arrays["presence"][has] = np.clip(np.stack(pres_rows), 0, 1)
    return Track(xy_px=arrays["xy_px"], world_m=arrays["world_m"],
                 visibility=arrays["visibility"], presence=arrays["presence"],
                 frame_index=np.asarray(indices, dtype=np.int64),
                 time_s=np.asarray(times, dtype=np.float64), repeated=repeated,
                 people=people)


def _track_all(
    video_path: Path, info: VideoInfo, model: ModelFile, cfg: PoseConfig, *, progress: bool,
    turn_deg: int, total: int, err: IO[str],
) -> tuple[Track, int]:
    """All segments tracked (side by side up to the core budget) and joined, in order.

    Returns the joined track and the number of segments.
    """
    packets = None if info.truncated else packet_times(video_path)
    # A cut-off file's real end, or a file without usable packet times, is only handled by
    # decoding it through from the start: one segment.
    segments = plan_segments(cfg.start_s, cfg.end_s, info.duration_s,
                             whole=packets is None)
    workers = effective_workers(cfg.workers, len(segments))
    at_s = sample_times(cfg.start_s, cfg.end_s, info.duration_s, PEOPLE_SAMPLES)
    stop = threading.Event()
    bar = progress_bar(total, enabled=progress, desc=Path(video_path).name, file=err)
    with bar:
        def one(seg: Segment) -> Track:
            return _track_segment(video_path, info, model, cfg, seg, turn_deg=turn_deg,
                                  packets=packets, sample_at_s=at_s, bar=bar, stop=stop)

        if workers == 1:
            tracks = [one(seg) for seg in segments]
        else:
            pool = ThreadPoolExecutor(workers, thread_name_prefix="gaitcheck-segment")
            try:
                tracks = list(pool.map(one, segments))
            except BaseException:
                stop.set()  # Ctrl-C or a failed segment: the others stop at their next frame
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    return join(tracks), len(segments)


def run_landmarker(
    video_path: Path, info: VideoInfo, model: ModelFile, cfg: PoseConfig, *, progress: bool,
    turn_deg: int = 0,
) -> PoseSeries:
    """Run the model on every frame in the trimmed range; frames without a pose stay NaN.

    The range is tracked in fixed segments (:mod:`gaitcheck.segments`), up to
    ``cfg.workers`` at once, with the same result for any number. Also notes, from the
    decoded pictures, which frames repeat the previous one (``meta["repeated_frames"]``,
    decode indices), and on :data:`PEOPLE_SAMPLES` sample frames how many people are in view
    (``meta["people_max"]``).

    Parameters
    ----------
    turn_deg : int
        Clockwise turn applied to every frame before the model (0, 90, 180, 270): set when
        the runner lies sideways or upside down in the picture (``gaitcheck.orientation``).

    Returns
    -------
    PoseSeries
        Coordinates in pixels of the full-size upright (and turned) frame; ``time_s`` in real
        seconds.
    """
    w_px, h_px = turned_size(info.frame_size, turn_deg)
    fps_file = info.nominal_fps
    total = info.n_frames
    if cfg.start_s is not None or cfg.end_s is not None:
        start, end = range_s(cfg.start_s, cfg.end_s, info.duration_s)
        total = max(0, round((end - start) * fps_file))
    with quiet_native_stderr() as err:
        track, n_segments = _track_all(video_path, info, model, cfg, progress=progress,
                                       turn_deg=turn_deg, total=total, err=err)
    indices = track.frame_index
    times = track.time_s
    n = indices.size
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
    raw = np.asarray(times, dtype=np.float64)
    # Duplicated/backward container times are nudged forward by 1 ms (see repair_monotonic).
    file_t = repair_monotonic(raw, 1e-3)
    capture_fps = cfg.capture_fps or info.capture_fps_tag or fps_file
    source = ("user" if cfg.capture_fps else "metadata" if info.capture_fps_tag else "file")
    slow = fps_file / capture_fps  # file seconds -> real seconds (slow-motion factor)
    return PoseSeries(
        xy_px=track.xy_px,
        world_m=track.world_m,
        visibility=track.visibility,
        presence=track.presence,
        time_s=file_t * slow,
        fps=capture_fps,
        frame_size=(w_px, h_px),
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
            "capture_fps_source": source,
            "turn_deg": int(turn_deg),
            "repeated_frames": track.repeated,
            "people_max": max((n for n, _ in track.people), default=0),
            "people_tracked_largest": all(ok for _, ok in track.people),
            "segments": n_segments,
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


def _load_if_key(path: Path, key: str, *, discard: bool = True) -> PoseSeries | None:
    """The series saved at ``path`` when it is readable and made with ``key``; else None.

    An unreadable or inconsistent file (truncated, zero bytes, flipped bits, mistyped header)
    gives a :class:`CacheWarning` and, with ``discard``, is deleted, so the caller recomputes
    and rewrites it. (A ``pose.npz`` of an output set is left for the next set to replace.)
    """
    if not path.is_file():
        return None
    try:
        series = PoseSeries.load(path)
    except SeriesError as exc:
        warnings.warn(f"Discarded a damaged saved pose series ({exc}); recomputing it.",
                      CacheWarning, stacklevel=3)
        if discard:
            with contextlib.suppress(OSError):
                path.unlink()
        return None
    return series if series.meta.get("cache_key") == key else None


def _load_saved(target: Path, video_sha: str, model_sha: str, cfg: PoseConfig, *,
                discard: bool = True) -> PoseSeries | None:
    """``OUT_DIR/pose.npz`` when it was made from this video, model and settings (from
    upright frames, or from frames turned by the turn it records)."""
    series = _load_if_key(target, cache_key(video_sha, model_sha, cfg), discard=discard)
    if series is not None or not target.is_file():
        return series
    try:
        saved = PoseSeries.load(target)
    except SeriesError:
        return None
    turn = int(saved.meta.get("turn_deg") or 0)
    if turn and saved.meta.get("cache_key") == cache_key(video_sha, model_sha, cfg, turn):
        return saved
    return None


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
    use = cache and cfg.use_cache
    series = _extract(path, info, model, video_sha, key, cfg, progress=progress, cache=use,
                      check=False)
    series = _upright(path, info, model, video_sha, cfg, series, progress=progress, cache=use)
    check_person(series, cfg, path)
    return series


def _upright(path: Path, info: VideoInfo, model: ModelFile, video_sha: str, cfg: PoseConfig,
             series: PoseSeries, *, progress: bool, cache: bool) -> PoseSeries:
    """The series again from turned frames when the body lies sideways or upside down.

    The pose model finds a turned body, but its landmarks are better on an upright one and
    angles need the image vertical; the turn is part of the cache key.
    """
    if series.meta.get("turn_deg"):
        return series
    turn = upright_turn_deg(series.xy_px)
    if not turn:
        return series
    key = cache_key(video_sha, model.sha256, cfg, turn)
    return _extract(path, info, model, video_sha, key, cfg, progress=progress, cache=cache,
                    check=False, turn_deg=turn)


def _extract(path: Path, info: VideoInfo, model: ModelFile, video_sha: str, key: str,
             cfg: PoseConfig, *, progress: bool, cache: bool, check: bool = True,
             turn_deg: int = 0) -> PoseSeries:
    cached = pose_cache_dir() / f"{key}.npz"
    with _key_lock(key) if cache else contextlib.nullcontext():
        # Looked up inside the lock: a process that waited finds the other's result.
        series = _load_if_key(cached, key) if cache else None
        if series is None:
            series = run_landmarker(path, info, model, cfg, progress=progress,
                                    turn_deg=turn_deg)
            series = series.with_arrays(source_sha256=video_sha,
                                        meta={**series.meta, "cache_key": key})
            if cache:
                try:
                    series.save(cached)
                except OSError:
                    pass  # an unwritable cache must not fail the run
    series = _with_provenance(series, path)
    if check:
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
        series = _load_saved(target, video_sha, model.sha256, cfg, discard=save)
        if series is not None:
            series = _with_provenance(series, path)
            check_person(series, cfg, path)
            return series
    series = _extract(path, info, model, video_sha, key, cfg, progress=progress, cache=use,
                      check=False)
    series = _upright(path, info, model, video_sha, cfg, series, progress=progress, cache=use)
    check_person(series, cfg, path)
    if target is not None and save:
        series.save(target)
    return series


def save_outputs(series: PoseSeries, out_dir: str | Path, *, trc: bool = False,
                 height_cm: float | None = None) -> list[Path]:
    """Write ``pose.npz``, ``pose.csv`` (and ``pose.trc``) into ``out_dir``, each atomically.

    With ``height_cm`` the TRC is scaled to metres from the runner's height
    (:func:`gaitcheck.scale.metres_per_pixel`); without it, it is in pixels.
    """
    from .scale import metres_per_pixel

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = [series.save(out / "pose.npz"), series.to_csv(out / "pose.csv")]
        if trc:
            scale = None if height_cm is None else metres_per_pixel(series.xy_px, height_cm)
            written.append(series.to_trc(out / "pose.trc", m_per_px=scale))
    except OSError as exc:
        raise GaitcheckError(f"Cannot write results to {out} ({exc.strerror}); choose a "
                             "writable output folder.") from None
    return written
