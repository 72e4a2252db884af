"""The web app's side of the store's job table: queue an upload, claim it, recover after a stop.

Web jobs are the ones whose ``video_path`` lies in ``uploads/`` (relative to the data folder);
``gaitcheck batch`` stores absolute paths, so neither ever takes the other's jobs, and a batch
and a server may share one data folder. Session ids are the store's
(:func:`gaitcheck.store.keys.session_id_for`: athlete, video content, settings), so an upload
of a video a batch already analysed for that athlete with the same settings finds its session.
"""

from __future__ import annotations

from typing import Any

from ..store import Job, Store
from ..store.db import utc_now
from .uploads import UPLOADS_DIR

WORKER_PREFIX = "web:"
INTERRUPTED = ("The analysis was interrupted {n} times (the server stopped, or its analysis "
               "process ended, e.g. out of memory) and was not retried again; upload the video "
               "again to retry.")

# Share of the work done when a stage starts (pose from the cache is quick; the overlay is not).
STAGE_PROGRESS = {"starting": 0.02, "analysing": 0.05, "check": 0.05, "pose": 0.1,
                  "analysis": 0.45,
                  "report": 0.55, "overlay": 0.7, "saving": 0.95}


def is_session_id(text: str) -> bool:
    """Whether ``text`` has the shape of a session id (16 hex digits; up to 64 accepted)."""
    return 16 <= len(text) <= 64 and all(c in "0123456789abcdef" for c in text)


def enqueue(store: Store, *, session_id: str, athlete_id: int, date: str, stored_name: str,
            sha256: str, settings_hash: str, settings: dict[str, Any],
            context: dict[str, Any], notes: str) -> Job:
    """Queue an uploaded video (stored as ``uploads/<stored_name>``) for ``session_id``.

    A failed job of the same session is queued again with the new upload (whose earlier file
    is then removed); a queued, running or done one is returned unchanged.
    """
    before = store.job_for_session(session_id)
    job = store.add_job(session_id=session_id, athlete_id=athlete_id, date=date,
                        video_path=f"{UPLOADS_DIR}/{stored_name}", video_sha256=sha256,
                        settings_hash=settings_hash, settings=settings, context=context,
                        notes=notes)
    if before is not None and before.state == "failed" and before.video_path != job.video_path \
            and before.video_path.startswith(f"{UPLOADS_DIR}/"):
        (store.data_dir / before.video_path).unlink(missing_ok=True)
    return job


def claim(store: Store, worker: str) -> Job | None:
    """Take the oldest queued web job for ``worker`` (atomic across processes), or None."""
    with store.transaction() as conn:
        row = conn.execute("SELECT id FROM jobs WHERE state='queued' AND video_path LIKE ? "
                           "ORDER BY id LIMIT 1", (f"{UPLOADS_DIR}/%",)).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE jobs SET state='running', worker=?, attempts=attempts+1, "
                     "started_utc=?, stage='starting', progress=?, error=NULL WHERE id=?",
                     (worker, utc_now(), STAGE_PROGRESS["starting"], row["id"]))
    return store.job(int(row["id"]))


def recover(store: Store, max_attempts: int, worker: str | None = None) -> \
        tuple[list[int], list[int]]:
    """Web jobs left ``running`` by a stopped server (or by one dead analysis process,
    ``worker``) go back to the queue, or fail once they have run ``max_attempts`` times.
    Call only when no live process works on those jobs.

    Returns
    -------
    requeued, failed : list of int
        Job ids.
    """
    requeued, failed = [], []
    sql = "SELECT id, attempts FROM jobs WHERE state='running' AND video_path LIKE ?"
    params: tuple[str, ...] = (f"{UPLOADS_DIR}/%",)
    if worker is not None:
        sql, params = sql + " AND worker = ?", (*params, worker)
    with store.transaction() as conn:
        for row in conn.execute(sql, params).fetchall():
            if row["attempts"] >= max_attempts:
                conn.execute("UPDATE jobs SET state='failed', stage=NULL, finished_utc=?, "
                             "error=? WHERE id=?",
                             (utc_now(), INTERRUPTED.format(n=row["attempts"]), row["id"]))
                failed.append(int(row["id"]))
            else:
                conn.execute("UPDATE jobs SET state='queued', stage=NULL, progress=NULL "
                             "WHERE id=?", (row["id"],))
                requeued.append(int(row["id"]))
    return requeued, failed


def queue_position(store: Store, job: Job) -> int:
    """How many web jobs are ahead of a queued one (0 when it runs or is next)."""
    if job.state != "queued":
        return 0
    return sum(1 for j in store.jobs("queued")
               if j.id < job.id and j.video_path.startswith(f"{UPLOADS_DIR}/"))
