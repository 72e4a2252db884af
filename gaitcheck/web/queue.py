"""The web app's side of the store's job table: queue an upload, claim it, recover after a stop.

Web jobs are the ones whose ``video_path`` lies in ``uploads/`` (relative to the data folder);
``gaitcheck batch`` stores absolute paths, so neither ever takes the other's jobs, and a batch
and a server may share one data folder. Session ids of uploads are random (they are the
capability in every page and file address), unlike the deterministic ids of a batch.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from ..store import Job, Store
from ..store.db import utc_now
from .uploads import UPLOADS_DIR

WORKER_PREFIX = "web:"
SESSION_ID_HEX = 20  # 80 random bits
INTERRUPTED = ("The analysis was interrupted {n} times (the server stopped while it ran) and "
               "was not retried again; upload the video again to retry.")

# Share of the work done when a stage starts (pose from the cache is quick; the overlay is not).
STAGE_PROGRESS = {"starting": 0.02, "decode": 0.05, "pose": 0.1, "analysis": 0.45,
                  "report": 0.55, "overlay": 0.7, "saving": 0.95}


def new_session_id() -> str:
    """A random, unguessable session id (lower-case hex)."""
    return secrets.token_hex(SESSION_ID_HEX // 2)


def is_session_id(text: str) -> bool:
    """Whether ``text`` has the shape of a session id (web: 20 hex, batch: 16 hex)."""
    return 16 <= len(text) <= 64 and all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class Existing:
    """An upload that is already analysed (``session``) or on its way (``job``)."""

    session_id: str
    done: bool


def find_existing(store: Store, athlete_id: int, sha256: str, settings_hash: str) -> \
        Existing | None:
    """The session, or the queued/running job, for this athlete, video content and settings."""
    with store.transaction() as conn:
        row = conn.execute("SELECT id FROM sessions WHERE athlete_id=? AND video_sha256=? AND "
                           "settings_hash=?", (athlete_id, sha256, settings_hash)).fetchone()
        if row:
            return Existing(row["id"], True)
        row = conn.execute("SELECT session_id FROM jobs WHERE athlete_id=? AND video_sha256=? "
                           "AND settings_hash=? AND state IN ('queued', 'running') ORDER BY id "
                           "DESC LIMIT 1", (athlete_id, sha256, settings_hash)).fetchone()
    return Existing(row["session_id"], False) if row else None


def enqueue(store: Store, *, athlete_id: int, date: str, stored_name: str, sha256: str,
            settings_hash: str, settings: dict[str, Any], context: dict[str, Any],
            notes: str) -> Job:
    """Queue an uploaded video (stored as ``uploads/<stored_name>``) under a new session id."""
    return store.add_job(session_id=new_session_id(), athlete_id=athlete_id, date=date,
                         video_path=f"{UPLOADS_DIR}/{stored_name}", video_sha256=sha256,
                         settings_hash=settings_hash, settings=settings, context=context,
                         notes=notes)


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


def recover(store: Store, max_attempts: int) -> tuple[list[int], list[int]]:
    """After a stop: web jobs left ``running`` go back to the queue, or fail once they have run
    ``max_attempts`` times. Call only while no analysis process of this server runs.

    Returns
    -------
    requeued, failed : list of int
        Job ids.
    """
    requeued, failed = [], []
    with store.transaction() as conn:
        rows = conn.execute("SELECT id, attempts FROM jobs WHERE state='running' AND "
                            "video_path LIKE ?", (f"{UPLOADS_DIR}/%",)).fetchall()
        for row in rows:
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
