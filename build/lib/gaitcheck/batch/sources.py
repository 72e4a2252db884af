"""Batch input: a roster CSV or a folder of athletes' videos -> a list of :class:`BatchItem`.

Roster CSV columns (header row required; only ``athlete`` and ``video`` must have values)::

    athlete, video, date, view, height_cm, pace, pain, red_flags, capture_fps, notes

``video`` paths are relative to the CSV's folder; ``date`` is ``YYYY-MM-DD`` (default: the
video's recording date); ``pain`` and ``red_flags`` take several values separated by ``;``.

Folder input: ``FOLDER/<athlete>/<video files>``; the date comes from the video's own
creation-time tag when it has one, else the file's modification time.

A malformed roster is a user error (:class:`RosterError`, one sentence naming the line). A
missing or unreadable video is not: it becomes a failed job and the batch goes on.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..errors import GaitcheckError

COLUMNS = ("athlete", "video", "date", "view", "height_cm", "pace", "pain", "red_flags",
           "capture_fps", "notes")
VIEWS = ("auto", "side-left", "side-right", "rear", "front")
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp")


class RosterError(GaitcheckError):
    """The roster CSV or the input folder cannot be used as given."""


@dataclass(frozen=True)
class BatchItem:
    """One video to analyse for one athlete, with its runner context.

    ``date`` is ISO ``YYYY-MM-DD``; ``where`` names the roster line (or folder) it came from.
    """

    athlete: str
    video: Path
    date: str
    where: str
    view: str | None = None
    height_cm: float | None = None
    pace: str | None = None
    pain: tuple[str, ...] = ()
    red_flags: tuple[str, ...] = ()
    capture_fps: float | None = None
    notes: str = ""

    def overrides(self) -> dict[str, dict[str, Any]]:
        """This row's settings as :func:`gaitcheck.config.load_config` overrides."""
        return {
            "pose": {"capture_fps": self.capture_fps},
            "analysis": {"view": self.view},
            "report": {"height_cm": self.height_cm, "pace": self.pace,
                       "pain": self.pain or None, "red_flags": self.red_flags or None},
        }


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(";") if v.strip())


class RosterRow(BaseModel):
    """One validated roster line (blank cells are missing values)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    athlete: str
    video: str
    date: dt.date | None = None
    view: str | None = None
    height_cm: float | None = None
    pace: str | None = None
    pain: str | None = None
    red_flags: str | None = None
    capture_fps: float | None = None
    notes: str | None = None

    @field_validator("athlete", "video")
    @classmethod
    def _required(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("view")
    @classmethod
    def _view(cls, value: str | None) -> str | None:
        if value is not None and value not in VIEWS:
            raise ValueError(f"must be one of {', '.join(VIEWS)}")
        return value

    @field_validator("height_cm", "capture_fps")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError("must be a positive number")
        return value


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "row"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"column '{field}' {msg}" if err["type"] != "missing" else f"column '{field}' is missing"


def read_roster(path: str | Path) -> list[BatchItem]:
    """Read and validate a roster CSV.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of BatchItem
        In file order; video paths resolved against the CSV's folder.

    Raises
    ------
    RosterError
        Unreadable file, missing or unknown columns, or an invalid value (naming the line).
    """
    csv_path = Path(path)
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"Cannot read the roster {csv_path} ({exc}).") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise RosterError(f"Roster {csv_path.name} has unknown column(s) {', '.join(unknown)}; "
                          f"known columns: {', '.join(COLUMNS)}.")
    missing = [c for c in ("athlete", "video") if c not in header]
    if missing:
        raise RosterError(f"Roster {csv_path.name} needs the column(s) {', '.join(missing)} "
                          "in its header row.")
    items: list[BatchItem] = []
    for line, raw in enumerate(reader, start=2):
        cells = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(cells.values()):
            continue  # blank line
        if None in raw:
            raise RosterError(f"Roster {csv_path.name} line {line} has more cells than the "
                              "header has columns.")
        values = {k: v for k, v in cells.items() if v != ""}
        values.setdefault("athlete", "")
        values.setdefault("video", "")
        try:
            row = RosterRow.model_validate(values)
        except ValidationError as exc:
            raise RosterError(f"Roster {csv_path.name} line {line}: {_first_error(exc)}.") \
                from None
        video = Path(row.video).expanduser()
        if not video.is_absolute():
            video = csv_path.parent / video
        items.append(BatchItem(
            athlete=row.athlete, video=video,
            date=row.date.isoformat() if row.date else recording_date(video),
            where=f"{csv_path.name} line {line}", view=row.view, height_cm=row.height_cm,
            pace=row.pace, pain=_split(row.pain), red_flags=_split(row.red_flags),
            capture_fps=row.capture_fps, notes=row.notes or "",
        ))
    if not items:
        raise RosterError(f"Roster {csv_path.name} lists no videos.")
    return items


def read_folder(path: str | Path) -> list[BatchItem]:
    """Videos in ``FOLDER/<athlete>/``, one item each, sorted by athlete and file name.

    Raises
    ------
    RosterError
        When the folder holds no athlete sub-folder with a video in it.
    """
    root = Path(path)
    items = [
        BatchItem(athlete=athlete_dir.name, video=video, date=recording_date(video),
                  where=f"{root.name}/{athlete_dir.name}")
        for athlete_dir in sorted(p for p in root.iterdir() if p.is_dir()
                                  and not p.name.startswith("."))
        for video in sorted(athlete_dir.iterdir())
        if video.is_file() and video.suffix.lower() in VIDEO_SUFFIXES
    ]
    if not items:
        raise RosterError(f"Folder {root} holds no videos in athlete sub-folders "
                          f"(expected {root.name}/<athlete>/<video>; video types: "
                          f"{', '.join(VIDEO_SUFFIXES)}).")
    return items


def read_input(path: str | Path) -> list[BatchItem]:
    """A roster CSV or a folder, whichever ``path`` is."""
    p = Path(path)
    if p.is_dir():
        return read_folder(p)
    if p.is_file():
        return read_roster(p)
    raise RosterError(f"Batch input {p} does not exist; give a roster CSV or a folder of "
                      "athlete sub-folders.")


def recording_date(video: Path) -> str:
    """The video's recording date: its container's creation-time tag, else the file's
    modification time, else today (a missing file fails later, as its own job)."""
    try:
        import av

        with av.open(str(video)) as container:
            tags = dict(container.metadata)
            for stream in container.streams:
                tags.update({k: v for k, v in stream.metadata.items() if k not in tags})
        stamp = tags.get("creation_time") or tags.get("com.apple.quicktime.creationdate")
        if stamp:
            when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            if when.year > 1970:  # muxers write 1970 or 1904 epochs when the time is unknown
                return when.date().isoformat()
    except Exception:  # noqa: BLE001 - any unreadable file falls back to its mtime
        pass
    try:
        return dt.date.fromtimestamp(video.stat().st_mtime).isoformat()
    except OSError:
        return dt.date.today().isoformat()
