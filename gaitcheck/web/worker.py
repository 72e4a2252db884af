"""Analysis processes: each takes queued web jobs from the store and analyses one at a time.

A job's video is analysed into ``DATA/sessions/.tmp-web-<id>-<pid>`` and that folder is
renamed to ``DATA/sessions/<id>`` only when every file is written; the session row and the
job's ``done`` state are then committed together, so a session is either complete or absent.
Processes are started with ``spawn`` (no forked SQLite handles or model state) and end
themselves when the server process is gone.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from ..config import load_config
from ..errors import GaitcheckError
from ..store import Job, Store
from . import queue

TMP_PREFIX = ".tmp-web-"
WORKER_NICENESS = 10
UPLOAD_NAME_KEY = "upload_name"  # the client's file name rides in the job's context
log = logging.getLogger("gaitcheck.web")


def worker_name() -> str:
    """``web:host:pid`` of this process."""
    return f"{queue.WORKER_PREFIX}{socket.gethostname()}:{os.getpid()}"


def _publish(tmp: Path, final: Path) -> None:
    """Make the finished folder visible in one rename (contents flushed first)."""
    for path in tmp.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    try:
        os.rename(tmp, final)
    except OSError:
        if not (final / "analysis.json").is_file():
            raise


def reason(exc: BaseException, video_name: str) -> str:
    """The one sentence a failed job shows (an unexpected error's trace goes to the log)."""
    if isinstance(exc, GaitcheckError):
        return str(exc)
    return (f"Unexpected error while analysing {video_name} ({type(exc).__name__}); the details "
            "are in the server's log.")


def run_job(store: Store, job: Job) -> bool:
    """Analyse one claimed job into its session folder and record the outcome.

    Returns
    -------
    bool
        True when the session was recorded, False when the job failed (with its reason).
    """
    from ..api import analyze_video_to_dir
    from ..batch.summary import session_record

    t0 = time.perf_counter()
    video = store.data_dir / job.video_path
    name = video_name_of(job)
    context = {k: v for k, v in job.context.items() if k != UPLOAD_NAME_KEY}
    root = store.data_dir / "sessions"
    tmp = root / f"{TMP_PREFIX}{job.session_id}-{os.getpid()}"
    final = root / job.session_id

    def progress(stage: str, fraction: float | None = None) -> None:
        store.set_stage(job.id, stage, fraction if fraction is not None
                        else queue.STAGE_PROGRESS.get(stage))

    server_paths: list[Path] = [video.resolve(), video]
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        cfg = load_config(None, job.settings)
        with tempfile.TemporaryDirectory(prefix="gaitcheck-web-") as named:
            # The report names its video by file name: show the runner's, not the random one.
            link = Path(named) / display_name(name)
            server_paths.insert(0, link)
            os.symlink(video.resolve(), link)
            # The public entry; it tells each stage (check, pose, analysis, report) as it starts.
            analysis, _ = analyze_video_to_dir(link, tmp, cfg, progress=progress)
            data = analysis.data
        progress("saving")
        _publish(tmp, final)
        record = session_record(data, date=job.date, video_name=name,
                                video_sha256=job.video_sha256 or "",
                                settings_hash=job.settings_hash, context=context,
                                notes=job.notes)
        store.add_session(job.session_id, job.athlete_id, record, job_id=job.id,
                          duration_s=time.perf_counter() - t0)
        return True
    except Exception as exc:  # noqa: BLE001 - a bad video must never stop the worker
        if not isinstance(exc, GaitcheckError):
            log.error("job %s failed:\n%s", job.id, traceback.format_exc())
        sentence = reason(exc, name)
        for path in server_paths:  # the runner sees their own file name, no server paths
            sentence = sentence.replace(str(path), name)
        store.fail_job(job.id, sentence, time.perf_counter() - t0)
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def display_name(name: str) -> str:
    """A harmless file name made from the client's (letters, digits, ``._-`` only)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:100] or "video"


def video_name_of(job: Job) -> str:
    """The client's file name of an upload (kept in the job's context), else 'the video'."""
    return str(job.context.get(UPLOAD_NAME_KEY) or "the video")


def _watch_parent(parent_pid: int) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, name="gaitcheck-parent-watch", daemon=True).start()


def worker_main(data_dir: str, parent_pid: int, poll_s: float,
                log_level: int = logging.INFO) -> None:
    """Body of one analysis process: claim, analyse, repeat; sleep ``poll_s`` when idle."""
    _watch_parent(parent_pid)
    if hasattr(os, "nice"):
        # Analyses yield the CPU to the server process: pages and status stay quick.
        os.nice(WORKER_NICENESS)
    logging.basicConfig(level=log_level, format="%(asctime)s %(name)s: %(message)s")
    store = Store(data_dir)
    me = worker_name()
    while True:
        job = queue.claim(store, me)
        if job is None:
            time.sleep(poll_s)
            continue
        run_job(store, job)


class WorkerPool:
    """The server's analysis processes, replaced when one dies.

    A process that ends on its own (killed for memory, a crash in the pose model) leaves its
    job ``running``: the supervisor puts that job back in the queue, or fails it with the
    reason once it has run ``max_attempts`` times, and starts a new process.
    """

    def __init__(self, data_dir: Path, n: int, poll_s: float,
                 log_level: int = logging.INFO, max_attempts: int = 2) -> None:
        self.data_dir = data_dir
        self.log_level = log_level
        self.n = n
        self.poll_s = poll_s
        self.max_attempts = max_attempts
        self.procs: list[Any] = []
        self._ctx = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    def _spawn(self, i: int) -> Any:
        p = self._ctx.Process(target=worker_main, name=f"gaitcheck-web-worker-{i + 1}",
                              args=(str(self.data_dir), os.getpid(), self.poll_s,
                                    self.log_level), daemon=True)
        p.start()
        return p

    def start(self) -> None:
        """Start ``n`` processes and their supervisor."""
        self._stop.clear()
        with self._lock:
            self.procs = [self._spawn(i) for i in range(self.n)]
        if self.n:
            self._supervisor = threading.Thread(target=self._supervise, daemon=True,
                                                name="gaitcheck-web-supervisor")
            self._supervisor.start()

    def _supervise(self) -> None:
        store = Store(self.data_dir)
        host = socket.gethostname()
        while not self._stop.wait(self.poll_s):
            with self._lock:
                for i, p in enumerate(self.procs):
                    if p.is_alive() or self._stop.is_set():
                        continue
                    name = f"{queue.WORKER_PREFIX}{host}:{p.pid}"
                    requeued, failed = queue.recover(store, self.max_attempts, worker=name)
                    log.warning("analysis process %s ended (exit code %s); job(s) %s queued "
                                "again, %s failed; starting a new one", p.pid, p.exitcode,
                                requeued, failed)
                    self.procs[i] = self._spawn(i)

    def stop(self, timeout_s: float = 5.0) -> None:
        """End the processes; a job they were running stays ``running`` and is retried by
        the next start (see :func:`gaitcheck.web.queue.recover`)."""
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout_s)
            self._supervisor = None
        with self._lock:
            for p in self.procs:
                if p.is_alive():
                    p.terminate()
            for p in self.procs:
                p.join(timeout_s)
                if p.is_alive():
                    p.kill()
                    p.join(timeout_s)
            self.procs = []

    def alive(self) -> int:
        """How many processes are running."""
        return sum(p.is_alive() for p in self.procs)

    def pids(self) -> list[int]:
        """Process ids of the analysis processes."""
        return [int(p.pid) for p in self.procs if p.pid is not None]
