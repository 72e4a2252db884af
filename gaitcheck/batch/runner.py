"""Run a batch: plan one job per (athlete, video content, settings), run the missing ones on
local worker processes or a Dask cluster, record every outcome in the store.

Resumable by construction: a session row is written only after its folder is complete, a
job's state says how far it got, and a rerun of the same batch skips stored sessions, adopts
complete folders whose row was never written (killed between rename and commit), queues again
what was running, and retries what failed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import shutil
import sys
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..config import Config, load_config
from ..errors import GaitcheckError
from ..findings import RunnerContext
from ..store import Store
from ..store.keys import file_sha256, session_id_for, settings_dict, settings_hash
from .jobs import (
    STAGE_TOPIC,
    TMP_PREFIX,
    JobOutcome,
    JobSpec,
    init_worker,
    place_files,
    run_local,
    run_remote,
)
from .sources import BatchItem, RosterError
from .summary import session_record

EXIT_SOME_FAILED = 3
WORKER_PREFIX = "batch:"


class BatchError(GaitcheckError):
    """The batch cannot start (data folder busy, scheduler unreachable, ...)."""


@dataclass(frozen=True)
class PlannedItem:
    """A batch item with its settings, content hash and session id."""

    item: BatchItem
    athlete_id: int
    config: Config
    context: dict[str, Any]
    settings_hash: str
    video_sha256: str | None
    session_id: str
    problem: str | None = None  # why it cannot even start (missing or unreadable file)


@dataclass
class BatchResult:
    """What happened to each item of a batch."""

    session_ids: list[str] = field(default_factory=list)  # stored sessions, input order
    analysed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)  # already stored (or adopted) before
    failed: list[tuple[BatchItem, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every video was analysed, :data:`EXIT_SOME_FAILED` otherwise."""
        return EXIT_SOME_FAILED if self.failed else 0


# ---------------------------------------------------------------------------- planning
def _merge(base: dict[str, dict[str, Any]], row: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = {k: dict(v) for k, v in base.items()}
    for section, values in row.items():
        out.setdefault(section, {}).update({k: v for k, v in values.items() if v is not None})
    return out


def plan(items: Iterable[BatchItem], store: Store, *, config_path: str | Path | None = None,
         overrides: dict[str, dict[str, Any]] | None = None) -> list[PlannedItem]:
    """Validate every item's settings, hash every video, give each its session id.

    Raises
    ------
    RosterError
        When a row's settings are invalid (naming the row); nothing is run then.
    """
    rows: list[tuple[BatchItem, Config, dict[str, Any]]] = []
    for item in items:
        try:
            cfg = load_config(config_path, _merge(overrides or {}, item.overrides()))
            context = RunnerContext.from_config(cfg.report).to_dict()
        except GaitcheckError as exc:
            raise RosterError(f"{item.where}: {exc}") from None
        rows.append((item, cfg, context))
    planned = []
    for item, cfg, context in rows:
        athlete = store.athlete(item.athlete)
        s_hash = settings_hash(cfg)
        sha, problem = None, None
        if not item.video.is_file():
            problem = f"Video file {item.video} does not exist."
        else:
            try:
                sha = file_sha256(item.video)
            except OSError as exc:
                problem = f"Cannot read video file {item.video} ({exc.strerror})."
        content = sha or f"path:{item.video.resolve()}"
        planned.append(PlannedItem(item, athlete.id, cfg, context, s_hash, sha,
                                   session_id_for(athlete.name, content, s_hash), problem))
    return planned


# ---------------------------------------------------------------------------- progress
class BatchProgress:
    """A bar across the batch plus the current stage of each worker (stderr)."""

    def __init__(self, total: int, enabled: bool, file: IO[str] | None = None) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc="batch", unit="video", file=file or sys.stderr,
                        disable=not enabled, dynamic_ncols=True)
        self.stages: dict[str, str] = {}

    def stage(self, worker: str, text: str) -> None:
        """Show ``text`` as ``worker``'s current activity."""
        self.stages[worker] = text
        self.bar.set_postfix_str(" | ".join(f"w{i + 1}: {t}" for i, t in
                                            enumerate(self.stages.values())), refresh=True)

    def advance(self) -> None:
        """One more video finished (either way)."""
        self.bar.update(1)

    def close(self) -> None:
        """Remove the bar."""
        self.bar.close()


# ---------------------------------------------------------------------------- running
def run_batch(
    items: list[BatchItem], store: Store, *, config_path: str | Path | None = None,
    overrides: dict[str, dict[str, Any]] | None = None, workers: int | None = None,
    scheduler: str | None = None, ship_videos: bool = False, progress: bool = True,
) -> BatchResult:
    """Analyse every item not yet in the store; record every outcome.

    Parameters
    ----------
    items : list of BatchItem
    store : Store
    config_path : str or Path, optional
        TOML settings shared by all items.
    overrides : dict, optional
        Command-line settings shared by all items (a row's own values win).
    workers : int, optional
        Local worker processes (default: the number of cores); with ``scheduler="local"``
        the number of Dask workers.
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a Dask scheduler, or ``"local"`` for a Dask ``LocalCluster``
        of worker processes on this machine. None: a local process pool.
    ship_videos : bool
        Send each video's bytes to its Dask worker (workers without the shared file system).
    progress : bool

    Returns
    -------
    BatchResult
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(store.data_dir / "batch.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BatchError(f"Another gaitcheck batch is using the data folder {store.data_dir}; "
                         "wait for it to finish.") from None
    try:
        planned = plan(items, store, config_path=config_path, overrides=overrides)
        _recover(store)
        result, todo = _triage(planned, store)
        n_workers = max(1, workers or os.cpu_count() or 1)
        bar = BatchProgress(len(todo), progress)
        try:
            if not todo:
                pass
            elif scheduler is None:
                _run_local(todo, store, n_workers, bar, result)
            else:
                _run_dask(todo, store, scheduler, n_workers, ship_videos, bar, result)
        finally:
            bar.close()
        result.session_ids = [p.session_id for p in planned
                              if store.session(p.session_id) is not None]
        result.session_ids = list(dict.fromkeys(result.session_ids))
        return result
    finally:
        lock.release()


def _recover(store: Store) -> None:
    """After a killed batch: queue its running jobs again, drop half-written folders."""
    for job in store.jobs("running"):
        if (job.worker or "").startswith(WORKER_PREFIX):
            with store.transaction() as conn:
                conn.execute("UPDATE jobs SET state='queued', stage=NULL WHERE id=?", (job.id,))
    root = store.data_dir / "sessions"
    for tmp in root.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(tmp, ignore_errors=True)


def _triage(planned: list[PlannedItem], store: Store) -> tuple[BatchResult, list[
        tuple[PlannedItem, JobSpec]]]:
    """Split into already stored, adoptable, failing at once and to run."""
    result = BatchResult()
    todo: list[tuple[PlannedItem, JobSpec]] = []
    seen: set[str] = set()
    for p in planned:
        if p.session_id in seen:
            continue  # the same video with the same settings listed twice: one job
        seen.add(p.session_id)
        if store.session(p.session_id) is not None:
            result.reused.append(p.session_id)
            continue
        job = store.add_job(
            session_id=p.session_id, athlete_id=p.athlete_id, date=p.item.date,
            video_path=str(p.item.video), video_sha256=p.video_sha256,
            settings_hash=p.settings_hash, settings=settings_dict(p.config), context=p.context,
            notes=p.item.notes)
        folder = store.session_dir(p.session_id)
        if (folder / "analysis.json").is_file() and p.video_sha256:
            # Complete folder without its row: the batch stopped between rename and commit.
            from ..compare import load_analysis

            _record(store, p, job.id, load_analysis(folder / "analysis.json"), None)
            result.reused.append(p.session_id)
            continue
        if p.problem is not None:
            store.fail_job(job.id, p.problem)
            result.failed.append((p.item, p.problem))
            continue
        todo.append((p, JobSpec(job.id, p.session_id, str(p.item.video.resolve()),
                                p.item.video.name, p.config)))
    return result, todo


def _record(store: Store, p: PlannedItem, job_id: int, data: dict[str, Any],
            duration_s: float | None) -> None:
    assert p.video_sha256 is not None
    record = session_record(data, date=p.item.date, video_name=p.item.video.name,
                            video_sha256=p.video_sha256, settings_hash=p.settings_hash,
                            context=p.context, notes=p.item.notes)
    store.add_session(p.session_id, p.athlete_id, record, job_id=job_id, duration_s=duration_s)


def _finish(store: Store, p: PlannedItem, outcome: JobOutcome, result: BatchResult) -> None:
    if outcome.error is not None or outcome.data is None:
        reason = outcome.error or "The analysis returned nothing."
        store.fail_job(outcome.job_id, reason, outcome.duration_s)
        result.failed.append((p.item, reason))
    else:
        _record(store, p, outcome.job_id, outcome.data, outcome.duration_s)
        result.analysed.append(p.session_id)


def _run_local(todo: list[tuple[PlannedItem, JobSpec]], store: Store, n_workers: int,
               bar: BatchProgress, result: BatchResult) -> None:
    # spawn: fresh interpreters (no forked SQLite handles or MediaPipe state).
    ctx = multiprocessing.get_context("spawn")
    stages = ctx.Queue()
    by_job = {spec.job_id: (p, spec) for p, spec in todo}

    def drain() -> None:
        while True:
            try:
                job_id, worker, stage = stages.get_nowait()
            except Exception:  # noqa: BLE001 - queue.Empty
                return
            if stage == "start":
                store.start_job(job_id, WORKER_PREFIX + worker)
            else:
                store.set_stage(job_id, stage)
            bar.stage(worker, f"{stage} {by_job[job_id][1].video_name}")

    pool = ProcessPoolExecutor(min(n_workers, len(todo)), mp_context=ctx,
                               initializer=init_worker, initargs=(stages, os.getpid()))
    try:
        futures: dict[Future[JobOutcome], int] = {
            pool.submit(run_local, spec, str(store.data_dir / "sessions")): spec.job_id
            for _, spec in todo}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            time.sleep(0.01)  # let a finishing worker's last stage message arrive first
            drain()
            for fut in done:
                p, spec = by_job[futures[fut]]
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    outcome = JobOutcome(spec.job_id, spec.session_id, "?", 0.0, error=(
                        f"The worker process analysing {spec.video_name} stopped "
                        "unexpectedly (out of memory or a crash in the pose model)."))
                _finish(store, p, outcome, result)
                bar.advance()
        drain()
    except BaseException:
        # Ctrl-C or an error here: do not wait for the running videos; their jobs stay
        # 'running' and the next run queues them again.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_dask(todo: list[tuple[PlannedItem, JobSpec]], store: Store, scheduler: str,
              n_workers: int, ship_videos: bool, bar: BatchProgress,
              result: BatchResult) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise BatchError("--scheduler needs Dask: pip install 'dask[distributed]'.") from None
    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, host="127.0.0.1",
                                   silence_logs=logging.ERROR,
                                   # its HTTP server on a free port, not 8787 (may be taken)
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="15s")
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"Cannot reach the Dask scheduler at {scheduler} ({exc}).") from None
    by_key: dict[Any, tuple[PlannedItem, JobSpec]] = {}
    waiting = list(todo)
    done_stream = as_completed()

    def submit_next() -> None:
        p, spec = waiting.pop(0)
        payload = p.item.video.read_bytes() if ship_videos else None
        store.start_job(spec.job_id, WORKER_PREFIX + "dask")
        fut = client.submit(run_remote, spec, payload, pure=False,
                            key=f"gaitcheck-{spec.session_id}-{os.getpid()}")
        by_key[fut.key] = (p, spec)
        done_stream.add(fut)

    # Workers' stage events arrive on the client's thread; the store is written here only.
    events: queue.SimpleQueue[Any] = queue.SimpleQueue()
    client.subscribe_topic(STAGE_TOPIC, lambda event: events.put(event[1]))
    by_job = {spec.job_id: spec for _, spec in todo}

    def drain() -> None:
        while not events.empty():
            job_id, worker, stage = events.get()
            if job_id in by_job:
                store.set_stage(job_id, stage)
                bar.stage(worker, f"{stage} {by_job[job_id].video_name}")

    try:
        # A bounded window of tasks in flight: shipped videos are not all held in memory.
        n_cluster = len(client.scheduler_info().get("workers", {})) or n_workers
        for _ in range(min(len(waiting), 2 * max(n_cluster, 1))):
            submit_next()
        while by_key:
            drain()
            ready = done_stream.next_batch(block=False)
            if not ready:
                time.sleep(0.2)
                continue
            for fut in ready:
                p, spec = by_key.pop(fut.key)
                try:
                    outcome: JobOutcome = fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker fails this job only
                    outcome = JobOutcome(spec.job_id, spec.session_id, "?", 0.0, error=(
                        f"The Dask task for {spec.video_name} failed "
                        f"({type(exc).__name__}: {exc})."))
                fut.release()
                drain()
                bar.stage(outcome.worker, f"done {spec.video_name}")
                if outcome.error is None:
                    place_files(outcome.files, store.data_dir / "sessions", spec.session_id)
                _finish(store, p, outcome, result)
                bar.advance()
                if waiting:
                    submit_next()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
