"""The pose series: landmarks per frame with timestamps and provenance, validated once.

Every downstream step (cleaning, events, metrics) takes a :class:`PoseSeries` or plain arrays
taken from one. Image coordinates follow ``docs/conventions.md``: x to the right, y down, in
pixels of the upright (rotation-corrected) frame.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import SeriesError
from .landmarks import N_LANDMARKS, NAMES

FORMAT_VERSION = 1
# Bounds that no real recording reaches; beyond them arithmetic overflows (x**2 of 1e308).
MAX_ABS_PX = 1e6
MAX_ABS_M = 1e4
MAX_ABS_TIME_S = 1e9
MAX_FPS = 1e5
ARRAY_NAMES = ("xy_px", "world_m", "visibility", "presence", "time_s", "frame_index")

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class PoseSeries:
    """Landmarks of one person across the frames of one video.

    Parameters
    ----------
    xy_px : ndarray, shape (n_frames, 33, 2)
        Image landmarks in pixels of the upright frame (x right, y down). NaN where no pose.
    world_m : ndarray, shape (n_frames, 33, 3)
        MediaPipe world landmarks in metres, origin between the hips. NaN where no pose.
    visibility : ndarray, shape (n_frames, 33)
        Model's visibility score in [0, 1]; 0 where no pose.
    presence : ndarray, shape (n_frames, 33)
        Model's presence score in [0, 1]; 0 where no pose.
    time_s : ndarray, shape (n_frames,)
        Strictly increasing frame times in real (capture) seconds.
    fps : float
        Real capture frame rate in Hz (the slow-motion capture rate when one was given).
    frame_size : tuple of int
        ``(width_px, height_px)`` of the upright frame.
    rotation_deg : int
        Rotation applied to the stored frames to make them upright (0, 90, 180, 270).
    frame_index : ndarray of int, shape (n_frames,)
        0-based decode index of each frame in the source video.
    source : str
        Path of the source video (or a description for synthetic series).
    source_sha256 : str
        Content hash of the source video ("" when none).
    model : str
        Pose model name, e.g. ``"full"``.
    meta : dict
        Free-form provenance (probe facts, settings); must be JSON-serialisable.
    """

    xy_px: FloatArray
    world_m: FloatArray
    visibility: FloatArray
    presence: FloatArray
    time_s: FloatArray
    fps: float
    frame_size: tuple[int, int]
    rotation_deg: int = 0
    frame_index: NDArray[np.int64] | None = None
    source: str = ""
    source_sha256: str = ""
    model: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        def arr(name: str, value: Any, dtype: type) -> Any:
            try:
                out: Any = np.ascontiguousarray(value, dtype=dtype)
            except (TypeError, ValueError) as exc:
                raise SeriesError(f"Pose series field '{name}' is not numeric ({exc}).") from None
            object.__setattr__(self, name, out)
            return out

        xy = arr("xy_px", self.xy_px, np.float64)
        n = xy.shape[0] if xy.ndim == 3 else -1
        expected = {
            "xy_px": (n, N_LANDMARKS, 2),
            "world_m": (n, N_LANDMARKS, 3),
            "visibility": (n, N_LANDMARKS),
            "presence": (n, N_LANDMARKS),
            "time_s": (n,),
        }
        for name, shape in expected.items():
            a = arr(name, getattr(self, name), np.float64)
            if a.shape != shape or n < 0:
                raise SeriesError(
                    f"Pose series field '{name}' has shape {a.shape}, expected {shape} "
                    "(n_frames, 33 landmarks, ...)."
                )
        if self.frame_index is None:
            object.__setattr__(self, "frame_index", np.arange(n, dtype=np.int64))
        fi = arr("frame_index", self.frame_index, np.int64)
        if fi.shape != (n,):
            raise SeriesError(f"Pose series 'frame_index' has shape {fi.shape}, expected ({n},).")
        for name, bound in (("xy_px", MAX_ABS_PX), ("world_m", MAX_ABS_M)):
            a = getattr(self, name)
            if not np.all(np.isnan(a) | (np.abs(a) <= bound)):
                raise SeriesError(
                    f"Pose series '{name}' holds infinite values or values beyond +-{bound:g}; "
                    "a missing landmark is NaN."
                )
        t = self.time_s
        if np.any(np.abs(t) > MAX_ABS_TIME_S):
            raise SeriesError(f"Pose series timestamps lie beyond +-{MAX_ABS_TIME_S:g} s.")
        if not np.all(np.isfinite(t)):
            raise SeriesError("Pose series timestamps contain NaN or infinite values.")
        if n > 1 and not np.all(np.diff(t) > 0):
            raise SeriesError("Pose series timestamps must be strictly increasing.")
        if isinstance(self.fps, bool) or not isinstance(self.fps, int | float | np.number) \
                or not (np.isfinite(self.fps) and 0 < self.fps <= MAX_FPS):
            raise SeriesError(
                f"Pose series frame rate must be positive and at most {MAX_FPS:g} Hz, got "
                f"{self.fps!r}."
            )
        object.__setattr__(self, "fps", float(self.fps))
        try:
            w, h = (int(v) for v in self.frame_size)
        except (TypeError, ValueError, OverflowError):
            raise SeriesError(
                f"Pose series frame size must be two whole numbers, got {self.frame_size!r}."
            ) from None
        if w <= 0 or h <= 0:
            raise SeriesError(f"Pose series frame size must be positive, got {self.frame_size}.")
        object.__setattr__(self, "frame_size", (w, h))
        if isinstance(self.rotation_deg, bool) or not isinstance(self.rotation_deg,
                                                                 int | np.integer):
            raise SeriesError(f"Rotation must be a whole number of degrees, got "
                              f"{self.rotation_deg!r}.")
        if int(self.rotation_deg) % 90:
            raise SeriesError(
                f"Rotation must be a multiple of 90 degrees, got {self.rotation_deg}."
            )
        object.__setattr__(self, "rotation_deg", int(self.rotation_deg) % 360)
        for name in ("visibility", "presence"):
            a = getattr(self, name)
            if not np.all((a >= 0) & (a <= 1)):  # also rejects NaN
                raise SeriesError(f"Pose series '{name}' must lie in [0, 1] (no NaN).")
        try:
            json.dumps(self.meta)
        except (TypeError, ValueError):
            raise SeriesError("Pose series 'meta' must be JSON-serialisable.") from None

    # ------------------------------------------------------------------ properties
    @property
    def n_frames(self) -> int:
        """Number of frames (rows)."""
        return int(self.xy_px.shape[0])

    @property
    def has_pose(self) -> NDArray[np.bool_]:
        """Boolean mask, shape (n_frames,): a pose was detected in the frame."""
        finite = np.asarray(np.isfinite(self.xy_px).all(axis=2))
        return np.asarray(finite.any(axis=1))

    @property
    def pose_share(self) -> float:
        """Share of frames in which a pose was detected, in [0, 1]."""
        return float(self.has_pose.mean()) if self.n_frames else 0.0

    @property
    def duration_s(self) -> float:
        """Time from the first to the last frame plus one nominal frame period."""
        if self.n_frames == 0:
            return 0.0
        return float(self.time_s[-1] - self.time_s[0] + 1.0 / self.fps)

    def with_arrays(self, **changes: Any) -> PoseSeries:
        """Return a copy with some fields replaced (re-validated)."""
        return replace(self, **changes)

    def slice(self, start: int, stop: int) -> PoseSeries:
        """Return frames ``start:stop`` as a new series."""
        s = np.s_[start:stop]
        assert self.frame_index is not None
        return replace(
            self,
            xy_px=self.xy_px[s],
            world_m=self.world_m[s],
            visibility=self.visibility[s],
            presence=self.presence[s],
            time_s=self.time_s[s],
            frame_index=self.frame_index[s],
        )

    # ------------------------------------------------------------------ I/O
    def save(self, path: str | Path) -> Path:
        """Save losslessly to one ``.npz`` file, written atomically.

        Parameters
        ----------
        path : str or Path
            Target file; ``.npz`` is appended when missing.

        Returns
        -------
        Path
            The written file.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {
            "xy_px": self.xy_px, "world_m": self.world_m, "visibility": self.visibility,
            "presence": self.presence, "time_s": self.time_s,
            "frame_index": np.asarray(self.frame_index),
        }
        header = {
            "format_version": FORMAT_VERSION,
            "arrays_sha256": arrays_sha256(arrays),
            "fps": self.fps,
            "frame_size": list(self.frame_size),
            "rotation_deg": self.rotation_deg,
            "source": self.source,
            "source_sha256": self.source_sha256,
            "model": self.model,
            "meta": self.meta,
        }
        tmp = part_path(path)
        try:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, header=np.array(json.dumps(header)),
                                    **arrays)  # type: ignore[arg-type]
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | Path) -> PoseSeries:
        """Load a series saved by :meth:`save`, validating it.

        Raises
        ------
        SeriesError
            When the file is missing, not a pose series, or inconsistent.
        """
        path = Path(path)
        if not path.is_file():
            raise SeriesError(f"Pose series file {path} does not exist.")
        bad = (f"{path} is not a gaitcheck pose series or is damaged ({{}}); re-create it with "
               "'gaitcheck pose VIDEO'.")
        try:
            # Opened here so a damaged zip never leaves the file handle open.
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                arrays = {k: data[k] for k in ARRAY_NAMES}
        # A damaged zip raises any of these (truncated, zero bytes, flipped bits).
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error,
                json.JSONDecodeError) as exc:
            raise SeriesError(bad.format(type(exc).__name__)) from None
        if not isinstance(header, dict):
            raise SeriesError(bad.format("header is not a table"))
        if header.get("format_version") != FORMAT_VERSION:
            raise SeriesError(
                f"{path} has pose series format {header.get('format_version')}, this gaitcheck "
                f"reads format {FORMAT_VERSION}; re-create it with 'gaitcheck pose VIDEO'."
            )
        stored = header.get("arrays_sha256")
        if stored is not None and stored != arrays_sha256(arrays):
            raise SeriesError(bad.format("its arrays do not match their checksum"))
        types: dict[str, type | tuple[type, ...]] = {
            "fps": (int, float), "frame_size": list, "rotation_deg": int, "source": str,
            "source_sha256": str, "model": str, "meta": dict,
        }
        for key, kind in types.items():
            if not isinstance(header.get(key), kind) or isinstance(header.get(key), bool):
                raise SeriesError(bad.format(f"header field '{key}' is missing or mistyped"))
        size = header["frame_size"]
        if len(size) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                     for v in size):
            raise SeriesError(bad.format("header field 'frame_size' is not two integers"))
        return cls(
            fps=header["fps"],
            frame_size=(size[0], size[1]),
            rotation_deg=header["rotation_deg"],
            source=header["source"],
            source_sha256=header["source_sha256"],
            model=header["model"],
            meta=header["meta"],
            **arrays,
        )

    def to_csv(self, path: str | Path) -> Path:
        """Write a tidy CSV: one row per frame and landmark.

        Columns: frame, time_s, landmark_id, landmark, x_px, y_px, world_x_m, world_y_m,
        world_z_m, visibility, presence. Missing values are empty cells.
        """
        path = Path(path)
        n = self.n_frames
        assert self.frame_index is not None
        frame = np.repeat(self.frame_index, N_LANDMARKS)
        time_s = np.repeat(self.time_s, N_LANDMARKS)
        lid = np.tile(np.arange(N_LANDMARKS), n)
        names = np.array(NAMES)[lid]
        cols = np.column_stack([
            self.xy_px.reshape(-1, 2), self.world_m.reshape(-1, 3),
            self.visibility.reshape(-1), self.presence.reshape(-1),
        ])
        # Format numbers in bulk (not per cell) and blank out NaN.
        txt = np.char.mod("%.6g", cols)
        txt[~np.isfinite(cols)] = ""
        tmp = part_path(path)
        with open(tmp, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["frame", "time_s", "landmark_id", "landmark", "x_px", "y_px",
                        "world_x_m", "world_y_m", "world_z_m", "visibility", "presence"])
            t_txt = np.char.mod("%.6f", time_s)
            w.writerows(
                [f, t, i, nm, *row]
                for f, t, i, nm, row in zip(frame.tolist(), t_txt.tolist(), lid.tolist(),
                                            names.tolist(), txt.tolist(), strict=True)
            )
        tmp.replace(path)
        return path

    def to_trc(self, path: str | Path, *, use_world: bool = False) -> Path:
        """Write an OpenSim TRC marker file.

        Image landmarks are written in metres-free image units flipped to y up (pixels) unless
        ``use_world`` is set, in which case MediaPipe world coordinates (metres, y flipped to up)
        are written. Missing markers are empty fields, as OpenSim expects.
        """
        path = Path(path)
        n = self.n_frames
        if use_world:
            pts = self.world_m.copy()
            pts[..., 1] *= -1.0
            units = "m"
        else:
            pts = np.zeros((n, N_LANDMARKS, 3))
            pts[..., 0] = self.xy_px[..., 0]
            pts[..., 1] = self.frame_size[1] - self.xy_px[..., 1]
            pts[..., 2] = np.where(np.isfinite(self.xy_px[..., 0]), 0.0, np.nan)
            units = "px"
        flat = pts.reshape(n, -1)
        txt = np.char.mod("%.6f", flat)
        txt[~np.isfinite(flat)] = ""
        header = [
            f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
            "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
            "OrigDataStartFrame\tOrigNumFrames",
            f"{self.fps:g}\t{self.fps:g}\t{n}\t{N_LANDMARKS}\t{units}\t{self.fps:g}\t1\t{n}",
            "Frame#\tTime\t" + "\t\t\t".join(NAMES) + "\t\t",
            "\t\t" + "\t".join(f"X{i + 1}\tY{i + 1}\tZ{i + 1}" for i in range(N_LANDMARKS)),
            "",
        ]
        rows = [
            f"{i + 1}\t{t:.6f}\t" + "\t".join(r)
            for i, (t, r) in enumerate(zip(self.time_s.tolist(), txt.tolist(), strict=True))
        ]
        tmp = part_path(path)
        tmp.write_text("\n".join(header + rows) + "\n")
        tmp.replace(path)
        return path

    def summary(self) -> dict[str, Any]:
        """Facts for the one-paragraph summary (JSON-serialisable)."""
        return {
            "frames": self.n_frames,
            "fps": round(self.fps, 3),
            "duration_s": round(self.duration_s, 3),
            "frame_size": list(self.frame_size),
            "rotation_deg": self.rotation_deg,
            "pose_share": round(self.pose_share, 4),
            "model": self.model,
            "source": self.source,
        }


def part_path(path: Path) -> Path:
    """A temporary name beside ``path``, unique per process and call (no two writers collide)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")


def arrays_sha256(arrays: dict[str, Any]) -> str:
    """sha256 over the named arrays (name, dtype, shape and bytes), in :data:`ARRAY_NAMES` order."""
    h = hashlib.sha256()
    for name in ARRAY_NAMES:
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def empty_arrays(n_frames: int) -> dict[str, FloatArray]:
    """NaN/zero-filled arrays for ``n_frames`` frames, the 'no pose' state."""
    return {
        "xy_px": np.full((n_frames, N_LANDMARKS, 2), np.nan),
        "world_m": np.full((n_frames, N_LANDMARKS, 3), np.nan),
        "visibility": np.zeros((n_frames, N_LANDMARKS)),
        "presence": np.zeros((n_frames, N_LANDMARKS)),
    }
