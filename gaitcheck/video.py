"""Video in and out: probe, stream upright RGB frames with container timestamps, write video.

The only module that imports OpenCV (``cv2``, decoding) and PyAV (``av``, probing packets and
writing). Both are imported inside functions so ``import gaitcheck`` stays light.

Rotation convention: ``rotation_deg`` is the clockwise rotation that turns the stored frames
upright (OpenCV's ``CAP_PROP_ORIENTATION_META``). A phone portrait clip recorded sideways
typically reports 90.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import VideoError

# A packet interval further than this from the median interval marks a variable frame rate;
# the absolute floor keeps millisecond rounding of coarse time bases from counting.
VFR_REL_TOLERANCE = 0.1
# A file holding this many frames fewer than its index lists was cut short (a copy or
# download that stopped); one frame of slack covers muxers that count an empty last packet.
TRUNCATED_MISSING_FRAMES = 2
# Packets at the cut of a truncated file miss their B-frame partners; left out of the
# frame-rate check so the cut does not read as a variable frame rate.
REORDER_TAIL_PACKETS = 8
# OpenCV's bundled FFmpeg prints decoder complaints ("Invalid NAL unit size") straight to the
# terminal; gaitcheck reports problems in its own words instead. Read when cv2 first decodes.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


@dataclass(frozen=True)
class VideoInfo:
    """Facts about a video file, as stored in its container.

    Attributes
    ----------
    path : str
        The file.
    width_px, height_px : int
        Size of the *upright* frame (after rotation).
    rotation_deg : int
        Clockwise rotation (0, 90, 180, 270) applied to stored frames to make them upright.
    nominal_fps : float
        The container's average frame rate in Hz (of the file, not the capture).
    n_frames : int
        Number of video packets (frames) in the container.
    duration_s : float
        Stream duration in file seconds.
    variable_frame_rate : bool
        Whether packet intervals vary by more than 10 % of the median interval.
    codec : str
        Codec name, e.g. ``h264``.
    stored_size : tuple of int
        ``(width_px, height_px)`` of the frames as stored, before rotation.
    """

    path: str
    width_px: int
    height_px: int
    rotation_deg: int
    nominal_fps: float
    n_frames: int
    duration_s: float
    variable_frame_rate: bool
    codec: str
    stored_size: tuple[int, int] = (0, 0)
    announced_frames: int = 0  # frames the container's index lists (0: not stated)
    capture_fps_tag: float | None = None  # slow-motion capture rate stored by the phone

    @property
    def frame_size(self) -> tuple[int, int]:
        """``(width_px, height_px)`` of the upright frame."""
        return (self.width_px, self.height_px)

    @property
    def truncated(self) -> bool:
        """True when the file holds fewer frames than its index announces (cut short)."""
        return self.announced_frames - self.n_frames >= TRUNCATED_MISSING_FRAMES

    @property
    def announced_s(self) -> float:
        """Duration the container announces, in file seconds."""
        return self.duration_s


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Attributes
    ----------
    index : int
        0-based decode index in the source video.
    time_s : float
        Container timestamp in file seconds (raw: may repeat or jump; see
        :func:`repair_monotonic`).
    rgb : ndarray of uint8, shape (height, width, 3)
        Upright RGB image, downscaled when ``max_side_px`` asked for it.
    """

    index: int
    time_s: float
    rgb: NDArray[np.uint8]


def _quiet_av() -> Any:
    import av
    import av.logging

    # FFmpeg's own log lines ("moov atom not found") would clutter the one-sentence errors.
    # None (PyAV's default) drops them in C: a level installs a Python log callback, which
    # FFmpeg's decoder threads then call and which deadlocks closing a threaded decoder.
    av.logging.set_level(None)
    return av


def _check_file(path: Path) -> None:
    if not path.exists():
        raise VideoError(f"Video file {path} does not exist; check the path.")
    if not path.is_file():
        raise VideoError(f"{path} is not a file; pass the path of a video file.")
    if path.stat().st_size == 0:
        raise VideoError(f"Video file {path} is empty (0 bytes); copy or export it again.")


def _is_vfr(pts: NDArray[np.float64]) -> bool:
    if pts.size < 3:
        return False
    d = np.diff(np.sort(pts))
    med = float(np.median(d))
    if med <= 0:
        return True
    return bool(np.max(np.abs(d - med)) > VFR_REL_TOLERANCE * med)


# Probe results of the files last probed, keyed by path, size and modification time: one run
# probes the same video from several places (input check, pose, overlay, key frames), ~0.13 s
# each for a 1080p clip.
_PROBED: dict[tuple[str, int, int], VideoInfo] = {}
_PROBED_MAX = 16
_PROBED_LOCK = threading.Lock()


def probe(path: str | Path) -> VideoInfo:
    """Read a video's size, rotation, frame rate, frame count and frame-rate variability.

    Packets are demuxed with PyAV (no decoding) to get the container timestamps; OpenCV
    reports the rotation tag and decodes the first frame to prove the codec is supported.
    A file probed before and unchanged since (same size and modification time) is not read
    again.

    Raises
    ------
    VideoError
        Missing, empty, unreadable, truncated or undecodable file, or no video stream.
    """
    path = Path(path)
    _check_file(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _PROBED_LOCK:
        known = _PROBED.get(key)
    if known is not None:
        return replace(known, path=str(path))
    info = _probe(path)
    with _PROBED_LOCK:
        if len(_PROBED) >= _PROBED_MAX:
            _PROBED.pop(next(iter(_PROBED)))
        _PROBED[key] = info
    return info


def _probe(path: Path) -> VideoInfo:
    av = _quiet_av()
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError):
        raise VideoError(
            f"{path} cannot be read as a video: it is not a video file, or it is truncated "
            "(an incomplete copy or download); export or copy it again."
        ) from None
    with container:
        if not container.streams.video:
            raise VideoError(
                f"{path} contains no video frames; pass a video of the run."
            )
        stream = container.streams.video[0]
        codec = stream.codec_context.name if stream.codec_context else "unknown"
        stored_size = (int(stream.codec_context.width), int(stream.codec_context.height))
        tb = float(stream.time_base) if stream.time_base else 0.0
        try:
            pts = np.array(
                [p.pts for p in container.demux(stream) if p.pts is not None and p.size > 0],
                dtype=np.float64,
            ) * tb
        except (av.error.FFmpegError, OSError):
            raise VideoError(
                f"{path} is damaged (its packets cannot be read); export or copy it again."
            ) from None
        announced = int(stream.frames or 0)
        capture_tag = capture_fps_from_tags({**dict(container.metadata),
                                             **dict(stream.metadata)})
        rate = stream.average_rate or stream.guessed_rate
        duration_s = float(stream.duration * stream.time_base) if stream.duration else 0.0
        if not duration_s and container.duration:
            duration_s = container.duration / 1e6
    if pts.size == 0:
        raise VideoError(f"{path} contains no video frames; pass a video of the run.")

    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoError(
                f"{path} cannot be decoded (codec {codec}); re-export it as H.264 MP4."
            )
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        rotation = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META))) % 360
        ok, bgr = cap.read()
        if not ok or bgr is None:
            raise VideoError(
                f"{path} cannot be decoded (codec {codec}, or no readable frame); re-export "
                "it as H.264 MP4."
            )
        cv_fps = cap.get(cv2.CAP_PROP_FPS)
    finally:
        cap.release()
    # OpenCV applies the rotation tag itself (CAP_PROP_ORIENTATION_AUTO); fix_rotation covers
    # a build that does not, so the reported size is always the upright one.
    height, width = fix_rotation(np.asarray(bgr, np.uint8), rotation, stored_size).shape[:2]
    nominal_fps = float(rate) if rate else float(cv_fps)
    if not (np.isfinite(nominal_fps) and nominal_fps > 0):
        raise VideoError(f"{path} has no usable frame rate; re-export it with a fixed frame rate.")
    return VideoInfo(
        path=str(path),
        width_px=int(width),
        height_px=int(height),
        rotation_deg=rotation,
        nominal_fps=nominal_fps,
        n_frames=int(pts.size),
        duration_s=duration_s or float(pts.size / nominal_fps),
        variable_frame_rate=_is_vfr(
            np.sort(pts)[:-REORDER_TAIL_PACKETS] if announced - pts.size >= TRUNCATED_MISSING_FRAMES
            else pts
        ),
        codec=codec,
        stored_size=stored_size,
        announced_frames=announced,
        capture_fps_tag=capture_tag,
    )


# Metadata keys phones use for the capture rate of a slow-motion clip exported at a normal
# playback rate: Android's MediaMuxer writes com.android.capture.fps (MediaFormat
# KEY_CAPTURE_RATE); other vendors use keys ending the same way.
CAPTURE_FPS_KEYS = ("com.android.capture.fps",)
CAPTURE_FPS_SUFFIXES = ("capture.fps", "capture_fps", "capturefps")


def capture_fps_from_tags(tags: dict[str, str]) -> float | None:
    """The capture frame rate a container's metadata states, or ``None``.

    Parameters
    ----------
    tags : dict of str -> str
        Container and stream metadata (PyAV ``container.metadata``).
    """
    keys = [k for k in tags if k in CAPTURE_FPS_KEYS] + [
        k for k in tags if k not in CAPTURE_FPS_KEYS
        and k.lower().replace(" ", "").endswith(CAPTURE_FPS_SUFFIXES)]
    for k in keys:
        try:
            value = float(str(tags[k]).strip())
        except ValueError:
            continue
        if np.isfinite(value) and 1.0 <= value <= 10000.0:
            return value
    return None


def turned_size(size: tuple[int, int], turn_deg: int) -> tuple[int, int]:
    """``(width, height)`` after turning a picture by ``turn_deg`` (0, 90, 180, 270)."""
    return (size[1], size[0]) if turn_deg % 180 == 90 else (size[0], size[1])


def turn_image(image: NDArray[np.uint8], turn_deg: int) -> NDArray[np.uint8]:
    """Turn a picture clockwise by ``turn_deg`` (a multiple of 90), e.g. to set a runner
    filmed with a missing or wrong rotation tag upright."""
    k = (int(turn_deg) // 90) % 4
    # np.rot90 turns counter-clockwise for k > 0.
    return image if k == 0 else np.ascontiguousarray(np.rot90(image, k=-k))


def fix_rotation(
    image: NDArray[np.uint8], rotation_deg: int, stored_size: tuple[int, int]
) -> NDArray[np.uint8]:
    """Rotate ``image`` upright if the decoder has not already done so.

    Parameters
    ----------
    image : ndarray, shape (h, w, 3)
        A decoded frame.
    rotation_deg : int
        Clockwise rotation that makes stored frames upright.
    stored_size : tuple of int
        ``(width_px, height_px)`` of stored frames; a 90/270 frame still of this shape has not
        been rotated yet (a 180 one cannot be told apart and is trusted to OpenCV).
    """
    sw, sh = stored_size
    if rotation_deg in (90, 270) and sw != sh and image.shape[:2] == (sh, sw):
        # np.rot90 turns counter-clockwise for k > 0; clockwise 90 is k = -1.
        return np.ascontiguousarray(np.rot90(image, k=-1 if rotation_deg == 90 else 1))
    return image


WHOLE_FACTOR_MIN_SHARE = 0.75
"""A shrink by a whole factor is preferred when its long side keeps at least this share of the
asked bound (:func:`scaled_size`). Its basis: on the 1080x1920 60 fps test clip the pose model
fed 540x960 frames gave the same contacts as 720x1280 or full-size ones (median error to the
hand marks 19.0, 20.0 and 19.1 ms; landmarks a median 3.3 px from full size's for both bounds,
the tracker's own restart noise), while the box average of a whole factor costs 5.8 ms a frame
against 9 ms for swscale's 720x1280 area pass (decoding included, CPU time; issue 12)."""


def scaled_size(frame_size: tuple[int, int], max_side_px: int | None) -> tuple[int, int]:
    """``(width_px, height_px)`` after shrinking so the long side is at most ``max_side_px``.

    When both sides divide by the smallest whole factor that meets the bound and the long side
    then keeps at least :data:`WHOLE_FACTOR_MIN_SHARE` of ``max_side_px``, that size is returned
    (1080x1920 under 1280 gives 540x960, 3840x2160 under 1280 gives 1280x720): a whole factor is
    a plain box average, several times cheaper than a general resample (``_to_rgb``). Otherwise
    the frame is scaled to the bound exactly (1600x900 under 1280 gives 1280x720).

    Examples
    --------
    >>> scaled_size((1080, 1920), 1280), scaled_size((1600, 900), 1280)
    ((540, 960), (1280, 720))
    """
    w, h = frame_size
    if not max_side_px or max(w, h) <= max_side_px:
        return (w, h)
    k = -(-max(w, h) // max_side_px)  # the smallest whole factor meeting the bound
    if w % k == 0 and h % k == 0 and max(w, h) // k >= WHOLE_FACTOR_MIN_SHARE * max_side_px:
        return (w // k, h // k)
    scale = max_side_px / max(w, h)
    return (max(1, round(w * scale)), max(1, round(h * scale)))


def _stored_target(info: VideoInfo, target: tuple[int, int]) -> tuple[int, int]:
    """``(width, height)`` to convert a *stored* frame to, so that turning it gives ``target``."""
    w, h = target
    return (h, w) if info.rotation_deg in (90, 270) else (w, h)


def _turn_upright(rgb: NDArray[np.uint8], rotation_deg: int) -> NDArray[np.uint8]:
    """Stored RGB image turned clockwise by ``rotation_deg`` (np.rot90 turns counter-clockwise)."""
    if rotation_deg == 0:
        return rgb
    k = {90: -1, 180: 2, 270: 1}[rotation_deg]
    return np.rot90(rgb, k=k)


# A frame time this close below a requested start still counts as at the start (float noise).
PTS_EPS_S = 1e-6


@dataclass(frozen=True)
class PacketTimes:
    """Presentation times of every video packet, ascending (read by :func:`packet_times`).

    Attributes
    ----------
    pts : ndarray of int64, shape (n,)
        In the stream's time base.
    time_s : ndarray of float64, shape (n,)
        File seconds from the stream's start (as :class:`Frame` ``time_s``).
    """

    pts: NDArray[np.int64]
    time_s: NDArray[np.float64]


def packet_times(path: str | Path) -> PacketTimes | None:
    """Every packet's presentation time, from the container (no decoding).

    Returns None when a packet has no timestamp or two share one: frame indices could then
    not be told from timestamps after a seek, so callers decode from the start instead.
    """
    av = _quiet_av()
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            tb = float(stream.time_base) if stream.time_base else 0.0
            t0 = int(stream.start_time or 0)
            raw = [p.pts for p in container.demux(stream) if p.size > 0]
    except (av.error.FFmpegError, OSError, ValueError, IndexError):
        raise VideoError(f"{path} cannot be read as a video; export or copy it again.") from None
    if not raw or any(v is None for v in raw) or not tb:
        return None
    pts = np.sort(np.asarray(raw, dtype=np.int64))
    if np.any(np.diff(pts) <= 0):
        return None
    return PacketTimes(pts=pts, time_s=(pts - t0).astype(np.float64) * tb)


def _decode(
    path: Path,
    info: VideoInfo,
    target: tuple[int, int] | None,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
    wanted: set[int] | None = None,
    last_index: int | None = None,
    packets: PacketTimes | None = None,
) -> Iterator[Frame]:
    """Decode with PyAV: frame threading, and YUV -> RGB conversion done once at ``target``.

    ``target`` is the upright ``(width, height)`` (None: full size). Frames outside
    ``[start_s, end_s)`` or not in ``wanted`` are decoded but never converted. Times are the
    presentation times relative to the stream's start, as OpenCV reports them. Decoding stops
    quietly at the first undecodable packet (a truncated or damaged file).

    With ``packets`` (see :func:`packet_times`) and a ``start_s``, decoding starts at the
    keyframe before ``start_s`` instead of the file's start, and each frame's index is its
    rank among the packets' presentation times, the index a decode from the start gives an
    intact file. When the seek lands past the first wanted frame, decoding starts over from
    the file's start.
    """
    av = _quiet_av()
    seek_first = None
    if packets is not None and start_s is not None and packets.pts.size:
        k = int(np.searchsorted(packets.time_s, start_s - PTS_EPS_S))
        seek_first = int(packets.pts[k]) if k < packets.pts.size else None
    for seek in ((True, False) if seek_first is not None else (False,)):
        try:
            container = av.open(str(path))
        except (av.error.FFmpegError, OSError, ValueError):
            raise VideoError(f"{path} cannot be decoded; re-export it as H.264 MP4.") from None
        with container:
            stream = container.streams.video[0]
            if seek:
                try:
                    container.seek(seek_first, stream=stream, backward=True, any_frame=False)
                except (av.error.FFmpegError, OSError):
                    continue
            frames = _decode_stream(container, stream, info, target, start_s=start_s,
                                    end_s=end_s, wanted=wanted, last_index=last_index,
                                    packets=packets if seek else None, must_start=seek_first
                                    if seek else None)
            try:
                yield from frames
                return
            except _SeekMissed:
                continue


class _SeekMissed(Exception):
    """A seek landed after the first wanted frame (a container with a poor index)."""


def _decode_stream(
    container: Any, stream: Any, info: VideoInfo, target: tuple[int, int] | None, *,
    start_s: float | None, end_s: float | None, wanted: set[int] | None,
    last_index: int | None, packets: PacketTimes | None, must_start: int | None,
) -> Iterator[Frame]:
    """The frames of an opened (and possibly seeked) stream; see :func:`_decode`."""
    av = _quiet_av()
    # Frame threading: FFmpeg decodes several frames at once on its own threads, which
    # release the GIL, so decoding overlaps the pose model running in another thread.
    stream.thread_type = "AUTO"
    tb = float(stream.time_base) if stream.time_base else 0.0
    t0 = int(stream.start_time or 0)
    size = _stored_target(info, target or info.frame_size)
    index = -1
    frames = container.decode(stream)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except (av.error.FFmpegError, OSError):
            break  # damaged or cut-off data: keep what was decoded
        pts = frame.pts if frame.pts is not None else frame.dts
        if packets is not None and pts is not None:
            if index < 0 and must_start is not None and pts > must_start:
                raise _SeekMissed
            index = int(np.searchsorted(packets.pts, pts))
        else:
            index += 1
        if last_index is not None and index > last_index:
            break
        time_s = (pts - t0) * tb if pts is not None else index / info.nominal_fps
        if start_s is not None and time_s < start_s:
            continue
        if end_s is not None and time_s >= end_s:
            break
        if wanted is not None and index not in wanted:
            continue
        rgb = _to_rgb(frame, size)
        # Rows may carry FFmpeg's alignment padding; MediaPipe needs packed rows.
        rgb = np.ascontiguousarray(_turn_upright(rgb, info.rotation_deg))
        yield Frame(index, float(time_s), rgb)


def _to_rgb(frame: Any, size: tuple[int, int]) -> NDArray[np.uint8]:
    """One decoded frame as RGB at ``size`` (stored orientation), area-averaged when shrunk.

    A limited-range 8-bit 4:2:0 frame (``yuv420p``, what phones record) that shrinks by a whole
    factor (a 1080x1920 clip at 540x960, for the overlay and the pose model alike) is averaged
    plane by plane with OpenCV's area filter, whose whole-factor path is a plain box average,
    and converted to RGB at the small size: 0.9 ms a frame against 3.4 ms for swscale's area
    pass (1080x1920 -> 540x960, one core, CPU time; pixels 1.8 levels of 255 from swscale's on
    average). Other factors (1080x1920 -> 720x1280: 3.9 ms with swscale, 6.3 ms with OpenCV's
    general path) and other formats go through swscale; a frame kept at its size is converted
    exactly as OpenCV's own decoder converts it.
    """
    w, h = size
    fw, fh = frame.width, frame.height
    # OpenCV's I420 layout packs each half-height chroma plane two rows to a line: the output
    # height must be a multiple of 4, widths and the source height even.
    if (frame.format.name == "yuv420p" and (w, h) != (fw, fh) and fw % w == 0
            and fh % h == 0 and fw // w == fh // h and not (w % 2 or h % 4 or fw % 2)):
        import cv2

        # Read the planes in place (views past FFmpeg's row padding; a copy of the whole frame
        # cost 0.3-0.5 ms) and average each straight into its place in one I420 buffer.
        small = np.empty((h * 3 // 2, w), np.uint8)
        flat = small.reshape(-1)
        q = (h // 2) * (w // 2)
        outs = (small[:h], flat[w * h:w * h + q].reshape(h // 2, w // 2),
                flat[w * h + q:].reshape(h // 2, w // 2))
        for plane, out, (pw, ph) in zip(frame.planes, outs,
                                        ((fw, fh), (fw // 2, fh // 2), (fw // 2, fh // 2)),
                                        strict=True):
            src = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:ph, :pw]
            cv2.resize(src, out.shape[::-1], dst=out, interpolation=cv2.INTER_AREA)
        return np.asarray(cv2.cvtColor(small, cv2.COLOR_YUV2RGB_I420), dtype=np.uint8)
    return np.asarray(frame.to_ndarray(format="rgb24", width=w, height=h,
                                       interpolation="AREA"), dtype=np.uint8)


def iter_frames(
    path: str | Path,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
    max_side_px: int | None = None,
    info: VideoInfo | None = None,
    turn_deg: int = 0,
    packets: PacketTimes | None = None,
) -> Iterator[Frame]:
    """Stream upright RGB frames with their container timestamps, one at a time.

    Memory does not grow with the video's length: each frame is yielded and forgotten.
    Decoding uses FFmpeg's frame threads, and each frame is scaled and converted to RGB in one
    pass straight at the requested size (never converted at full size first).

    Parameters
    ----------
    path : str or Path
        The video.
    start_s, end_s : float, optional
        Keep frames with ``start_s <= time_s < end_s`` (file seconds, as a player shows them).
        Earlier frames are decoded but not converted.
    max_side_px : int, optional
        Downscale frames whose long side exceeds this (area interpolation).
    info : VideoInfo, optional
        Result of :func:`probe` (probed here when omitted).
    turn_deg : int
        Extra clockwise turn (0, 90, 180, 270) after the rotation tag, for a picture whose tag
        is missing or wrong (see ``gaitcheck.orientation``); ``max_side_px`` applies after it.
    packets : PacketTimes, optional
        The file's packet times (:func:`packet_times`): decoding then starts at the keyframe
        before ``start_s`` instead of the file's start, with the same frames and indices.

    Yields
    ------
    Frame
        ``index`` counts every decoded frame from the start of the file.
    """
    path = Path(path)
    info = info or probe(path)
    target = scaled_size(turned_size(info.frame_size, turn_deg), max_side_px)
    # Decoded at the size that the extra turn (if any) maps onto the target.
    for f in _decode(path, info, turned_size(target, turn_deg), start_s=start_s, end_s=end_s,
                     packets=packets):
        yield f if not turn_deg else Frame(f.index, f.time_s, turn_image(f.rgb, turn_deg))


def read_frames(
    path: str | Path, indices: Sequence[int], *, turn_deg: int = 0
) -> list[NDArray[np.uint8]]:
    """Full-size upright RGB images of the frames at the given decode indices.

    Each frame is decoded from the keyframe before it, found from the packets' presentation
    times (:func:`packet_times`; frame numbers are never used to seek, which is unreliable for
    inter-coded video). A file without usable packet times, or a cut-off one, is decoded from
    its start up to the largest index instead. Only the requested frames are converted.

    Parameters
    ----------
    path : str or Path
        The video.
    indices : sequence of int
        0-based decode indices; repeats and any order are allowed.
    turn_deg : int
        Extra clockwise turn after the rotation tag (as in :func:`iter_frames`).

    Returns
    -------
    list of ndarray of uint8, shape (height, width, 3)
        One image per requested index, in the order requested.

    Raises
    ------
    VideoError
        When an index is negative or beyond the decodable frames.
    """
    path = Path(path)
    wanted = {int(i) for i in indices}
    if not wanted:
        return []
    if min(wanted) < 0:
        raise VideoError(f"Frame indices must be zero or positive, got {min(wanted)}.")
    info = probe(path)
    last = max(wanted)
    packets = None if info.truncated else packet_times(path)
    if packets is None or last >= packets.pts.size:
        found = {f.index: turn_image(f.rgb, turn_deg)
                 for f in _decode(path, info, None, wanted=wanted, last_index=last)}
    else:
        # Each frame decoded from the keyframe before it: a few frames spread over a long
        # clip cost a few GOPs, not a decode of everything up to the last.
        found = {}
        for i in sorted(wanted):
            for f in _decode(path, info, None, start_s=float(packets.time_s[i]), wanted={i},
                             last_index=i, packets=packets):
                found[f.index] = turn_image(f.rgb, turn_deg)
    missing = sorted(wanted - set(found))
    if missing:
        raise VideoError(
            f"{path} has no decodable frame {missing[0]} (it has {len(found) and last} or "
            "fewer); ask for frames inside the video."
        )
    return [found[int(i)] for i in indices]


# ---------------------------------------------------------------------------- timestamps
def repair_monotonic(times: NDArray[np.float64], min_step: float) -> NDArray[np.float64]:
    """Make a timestamp sequence strictly increasing by nudging bad values forward.

    A time that repeats or goes back (duplicated or reordered container timestamps) becomes the
    previous (repaired) time plus ``min_step``; later good times are left unchanged unless the
    nudging has overtaken them. Forward jumps (dropped frames) are kept: they are real time.

    Parameters
    ----------
    times : ndarray, shape (n,)
        Raw timestamps (any unit).
    min_step : float
        Smallest allowed increment, in the same unit (e.g. 1 ms).

    Returns
    -------
    ndarray, shape (n,)
        Strictly increasing times; equal to ``times`` when those already increase strictly.
    """
    t = np.asarray(times, dtype=np.float64).copy()
    if min_step <= 0:
        raise ValueError("min_step must be positive")
    for i in range(1, t.size):
        if not t[i] > t[i - 1]:  # also catches NaN
            t[i] = t[i - 1] + min_step
    return t


def next_timestamp_ms(time_s: float, last_ms: int | None) -> int:
    """Integer millisecond timestamp for MediaPipe, strictly after ``last_ms``.

    MediaPipe's VIDEO mode rejects a timestamp that is not larger than the previous one, which
    duplicated container timestamps (or two frames within one millisecond) would cause.
    """
    ms = int(round(time_s * 1000.0)) if np.isfinite(time_s) else (last_ms or 0) + 1
    return ms if last_ms is None or ms > last_ms else last_ms + 1


def monotonic_ms(times_s: NDArray[np.float64]) -> NDArray[np.int64]:
    """Vector form of :func:`next_timestamp_ms`: strictly increasing integer milliseconds."""
    out = np.empty(len(times_s), dtype=np.int64)
    last: int | None = None
    for i, t in enumerate(np.asarray(times_s, dtype=np.float64)):
        last = out[i] = next_timestamp_ms(float(t), last)
    return out


# ---------------------------------------------------------------------------- writing
class VideoWriter:
    """Write RGB frames to an H.264 ``.mp4`` (or VP9 ``.webm``) file with exact timestamps.

    The file is written as ``<path>.part`` and renamed when closed without error, so a crash
    never leaves a half-written video under the final name.

    Parameters
    ----------
    path : str or Path
        Output file; ``.webm`` selects VP9, anything else H.264 (libx264, yuv420p).
    width, height : int
        Frame size in pixels; odd sizes are padded by one edge row/column (yuv420p needs even).
    fps : float
        Nominal frame rate in Hz, used for frames written without ``time_s``.
    crf : int
        Constant-rate quality factor (lower is better; 18-23 is visually lossless-ish).

    Examples
    --------
    >>> with VideoWriter("out.mp4", 720, 1280, 30) as w:  # doctest: +SKIP
    ...     w.write(rgb_frame)
    """

    TIME_BASE = Fraction(1, 90000)  # the MPEG clock: exact for 24, 25, 30, 60, 29.97, 240 fps

    def __init__(
        self, path: str | Path, width: int, height: int, fps: float, *, crf: int = 20
    ) -> None:
        if width <= 0 or height <= 0 or not fps > 0:
            raise ValueError("width, height and fps must be positive")
        av = _quiet_av()
        self.path = Path(path)
        self.width, self.height = int(width), int(height)
        self.fps = Fraction(fps).limit_denominator(1001)
        self._part = self.path.with_name(self.path.name + ".part")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        webm = self.path.suffix.lower() == ".webm"
        self._container = av.open(str(self._part), "w", format="webm" if webm else "mp4")
        stream = self._container.add_stream("libvpx-vp9" if webm else "libx264", rate=self.fps)
        stream.width = self.width + self.width % 2
        stream.height = self.height + self.height % 2
        stream.pix_fmt = "yuv420p"
        stream.time_base = self.TIME_BASE
        stream.codec_context.time_base = self.TIME_BASE
        stream.options = {"crf": str(crf)} if not webm else {"crf": str(crf + 11), "b": "0"}
        self._stream = stream
        self._n = 0
        self._last_pts = -1
        self._closed = False

    def write(self, rgb: NDArray[np.uint8], time_s: float | None = None) -> None:
        """Append one frame.

        Parameters
        ----------
        rgb : ndarray of uint8, shape (height, width, 3)
            The frame, RGB.
        time_s : float, optional
            Presentation time in seconds; must increase. Default: ``n_written / fps``.
        """
        import av

        frame_arr = np.asarray(rgb)
        if frame_arr.dtype != np.uint8 or frame_arr.shape != (self.height, self.width, 3):
            raise ValueError(
                f"expected uint8 RGB of shape {(self.height, self.width, 3)}, got "
                f"{frame_arr.dtype} {frame_arr.shape}"
            )
        pad = ((0, self.height % 2), (0, self.width % 2), (0, 0))
        if any(p[1] for p in pad):
            frame_arr = np.pad(frame_arr, pad, mode="edge")
        if time_s is None:
            pts = round(self._n / (self.fps * self.TIME_BASE))
        else:
            pts = round(time_s / self.TIME_BASE)
        if pts <= self._last_pts:
            raise ValueError(f"frame time {time_s} s does not increase")
        import cv2

        # OpenCV's RGB -> I420 (BT.601, limited range: swscale's default too, 0.01 levels apart
        # on average) takes 1.0 ms a frame at 540x960 against 3.2 ms for PyAV's reformat.
        yuv = np.asarray(cv2.cvtColor(np.ascontiguousarray(frame_arr), cv2.COLOR_RGB2YUV_I420),
                         dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = pts
        frame.time_base = self.TIME_BASE
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_pts = pts
        self._n += 1

    @property
    def n_frames(self) -> int:
        """Frames written so far."""
        return self._n

    def close(self, *, keep: bool = True) -> None:
        """Flush and finish the file; with ``keep=False`` discard it instead."""
        if self._closed:
            return
        self._closed = True
        try:
            if keep:
                for packet in self._stream.encode():
                    self._container.mux(packet)
        finally:
            self._container.close()
        if keep and self._n:
            self._part.replace(self.path)
        else:
            self._part.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(keep=exc_type is None)


def tag_rotation(src: str | Path, dst: str | Path, rotation_deg: int) -> Path:
    """Copy a video (no re-encode) with a display-rotation tag, e.g. to test phone clips.

    Parameters
    ----------
    src, dst : str or Path
        Input and output files.
    rotation_deg : int
        The rotation :func:`probe` should report for ``dst``: clockwise degrees that turn the
        stored frames upright (0, 90, 180, 270).

    Notes
    -----
    Uses the ffmpeg binary of ``imageio-ffmpeg`` (a dev dependency). ffmpeg's
    ``-display_rotation`` counts counter-clockwise, hence the sign flip.
    """
    try:
        import imageio_ffmpeg
    except ImportError:
        raise VideoError(
            "Tagging a rotation needs imageio-ffmpeg; install it with pip install -e '.[dev]'."
        ) from None
    dst = Path(dst)
    part = dst.with_name(dst.name + ".part" + dst.suffix)
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error",
        "-display_rotation", str((360 - int(rotation_deg)) % 360),
        "-i", os.fspath(src), "-c", "copy", "-map", "0", os.fspath(part),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        part.unlink(missing_ok=True)
        raise VideoError(f"ffmpeg could not tag {src} with a rotation: {res.stderr.strip()}")
    part.replace(dst)
    return dst


# ---------------------------------------------------------------------------- browser output
class WebVideoWriter(VideoWriter):
    """A :class:`VideoWriter` whose files start playing in any browser without a full download.

    H.264 is encoded with the main profile (which every browser and phone decodes) and the
    ``superfast`` preset (1.6x the frames per second of ``veryfast`` on the shared clip at
    720x1280, for files 1.7x larger: about 2 Mbit/s), and the MP4 index (``moov`` atom) is
    moved to the front of the file;
    VP9 (``.webm``) uses libvpx's realtime mode with row multithreading. Both encoders run on
    as many threads as FFmpeg chooses for the machine. Parameters as for :class:`VideoWriter`,
    plus ``preset`` (an x264 preset name) and ``comment`` (stored in the container's
    ``comment`` tag, read back by :func:`container_comment`).
    """

    def __init__(
        self, path: str | Path, width: int, height: int, fps: float, *, crf: int = 23,
        preset: str = "superfast", comment: str | None = None,
    ) -> None:
        super().__init__(path, width, height, fps, crf=crf)
        if comment:
            self._container.metadata["comment"] = comment
        self._stream.codec_context.thread_count = 0  # 0: FFmpeg picks, one per core and more
        # Neither the muxer header nor the encoder is opened before the first frame, so both
        # still accept options here.
        if self.path.suffix.lower() == ".webm":
            extra = {"deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
        else:
            self._container.options["movflags"] = "+faststart"
            extra = {"profile": "main", "preset": preset}
        self._stream.options = {**self._stream.options, **extra}


def container_comment(path: str | Path) -> str | None:
    """The container's ``comment`` tag (see :class:`WebVideoWriter`), None when unreadable."""
    av = _quiet_av()
    try:
        with av.open(str(path)) as container:
            value = container.metadata.get("comment")
    except (av.error.FFmpegError, OSError, ValueError):
        return None
    return str(value) if value is not None else None
