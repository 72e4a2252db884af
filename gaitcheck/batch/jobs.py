"""What a worker process runs for one job: analyse one video into one session folder.

Two flavours share :func:`_analyse`:

- :func:`run_local` (local process pool): writes into ``DATA/sessions/.tmp-batch-<id>-<pid>``
  and renames that folder to ``DATA/sessions/<id>`` only once every file is written, so a
  session folder is always complete.
- :func:`run_remote` (Dask worker, possibly on another machine without the data folder):
  analyses into its own temporary folder and returns the files' bytes; the batch process then
  writes them into the data folder the same atomic way (:func:`place_files`).

Errors never escape: a job's outcome carries the one-sentence reason instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import GaitcheckError

TMP_PREFIX = ".tmp-batch-"
STAGE_TOPIC = "gaitcheck-stage"  # Dask event topic of the workers' stage messages


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs: which video, which settings, which session."""

    job_id: int
    session_id: str
    video: str  # absolute path (on a shared file system, unless the bytes are shipped)
    video_name: str
    config: Config


@dataclass
class JobOutcome:
    """A finished job: the analysis (``data``) or the one-sentence ``error``."""

    job_id: int
    session_id: str
    worker: str
    duration_s: float
    data: dict[str, Any] | None = None
    error: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)  # remote jobs only


# Set in each local worker process by :func:`init_worker`.
_STAGES: Any = None


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def init_worker(stage_queue: Any, parent_pid: int) -> None:
    """Local pool initializer: remember where to report stages; die with the batch process.

    A ``kill -9`` of the batch process must not leave workers finishing jobs in the
    background (the rerun would then analyse those videos a second time), so a watchdog
    thread ends the worker as soon as its parent is gone.
    """
    global _STAGES
    _STAGES = stage_queue

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="gaitcheck-parent-watch", daemon=True).start()


def _report(job_id: int, stage: str) -> None:
    if _STAGES is not None:
        _STAGES.put((job_id, worker_name(), stage))
        return
    try:  # on a Dask worker: an event the batch process subscribes to
        from distributed import get_worker

        get_worker().log_event(STAGE_TOPIC, [job_id, worker_name(), stage])
    except (ImportError, ValueError):  # not on a Dask worker
        pass


def _reason(exc: BaseException, video_name: str) -> str:
    if isinstance(exc, GaitcheckError):
        return str(exc)
    last = traceback.extract_tb(exc.__traceback__)[-1:] or None
    where = f" in {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
    return (f"Unexpected error analysing {video_name} ({type(exc).__name__}{where}: {exc}); "
            "please report it.")


def _analyse(spec: JobSpec, video: str, out_dir: Path) -> dict[str, Any]:
    from .adapter import analyze_to_dir

    _report(spec.job_id, "start")
    return analyze_to_dir(video, out_dir, spec.config,
                          progress=lambda stage: _report(spec.job_id, stage))


def run_local(spec: JobSpec, sessions_root: str) -> JobOutcome:
    """Analyse ``spec`` into ``sessions_root/<session_id>`` (atomically)."""
    t0 = time.perf_counter()
    root = Path(sessions_root)
    final = root / spec.session_id
    tmp = root / f"{TMP_PREFIX}{spec.session_id}-{os.getpid()}"
    outcome = JobOutcome(spec.job_id, spec.session_id, worker_name(), 0.0)
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        outcome.data = _analyse(spec, spec.video, tmp)
        _report(spec.job_id, "saving")
        _publish(tmp, final)
    except Exception as exc:  # noqa: BLE001 - a bad video must never stop the batch
        outcome.error = _reason(exc, spec.video_name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    outcome.duration_s = time.perf_counter() - t0
    return outcome


def run_remote(spec: JobSpec, video_bytes: bytes | None = None) -> JobOutcome:
    """Dask task: analyse ``spec`` in a private temporary folder and return the files.

    Parameters
    ----------
    spec : JobSpec
    video_bytes : bytes, optional
        The video itself (``--ship-videos``); without it the worker reads ``spec.video``.
    """
    t0 = time.perf_counter()
    outcome = JobOutcome(spec.job_id, spec.session_id, worker_name(), 0.0)
    video = spec.video
    with tempfile.TemporaryDirectory(prefix="gaitcheck-job-") as work:
        try:
            if video_bytes is not None:
                video = str(Path(work) / "in" / spec.video_name)
                Path(video).parent.mkdir()
                Path(video).write_bytes(video_bytes)
            out = Path(work) / "out"
            outcome.data = _analyse(spec, video, out)
            outcome.files = {str(p.relative_to(out)): p.read_bytes()
                             for p in sorted(out.rglob("*")) if p.is_file()}
        except Exception as exc:  # noqa: BLE001 - a bad video must never stop the batch
            # Name the video as the coach knows it, not the worker's temporary copy.
            outcome.error = _reason(exc, spec.video_name).replace(video, spec.video)
    outcome.duration_s = time.perf_counter() - t0
    return outcome


def place_files(files: dict[str, bytes], sessions_root: Path, session_id: str) -> Path:
    """Write a remote job's files into ``sessions_root/<session_id>`` atomically."""
    final = sessions_root / session_id
    tmp = sessions_root / f"{TMP_PREFIX}{session_id}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        for name, data in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        _publish(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _publish(tmp: Path, final: Path) -> None:
    """Rename the finished temporary folder into place (one atomic step).

    When ``final`` already exists it is complete (only this rename ever creates it), so the
    new copy is dropped.
    """
    for path in tmp.rglob("*"):  # flush file contents before the rename makes them visible
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    try:
        os.rename(tmp, final)
    except OSError:
        if not (final / "analysis.json").is_file():
            raise
