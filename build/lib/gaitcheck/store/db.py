"""SQLite store of athletes, sessions and jobs, with forward schema migrations.

Layout of a data folder::

    DATA/gaitcheck.db             SQLite database (WAL journal)
    DATA/sessions/<session-id>/   the files ``gaitcheck analyze`` writes for that session

A *session* is one analysed video of one athlete; its row is written only once its folder is
complete, so a row always points at a whole output set. A *job* is the plan to make a session
("analyse this video with these settings into this folder") and records what happened to it:
``queued`` -> ``running`` -> ``done`` | ``failed``, with the error sentence, attempts and
timings. Batch runs and the web app both use this module; any number of processes may open
the same data folder at once (WAL lets readers run beside one writer; writers wait on a busy
timeout instead of failing).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import GaitcheckError

DB_NAME = "gaitcheck.db"
SESSIONS_DIR = "sessions"
BUSY_TIMEOUT_S = 60.0  # a writer waits this long for another writer before giving up
JOB_STATES = ("queued", "running", "done", "failed")


class StoreError(GaitcheckError):
    """The data folder or its database cannot be used."""


def utc_now() -> str:
    """Current UTC time as ISO 8601 text (seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_data_dir(arg: str | Path | None = None) -> Path:
    """Data folder: ``arg`` (``--data-dir``), else ``$GAITCHECK_DATA_DIR``, else the user's
    data directory (``$XDG_DATA_HOME/gaitcheck`` or ``~/.local/share/gaitcheck`` on Linux,
    ``~/Library/Application Support/gaitcheck`` on macOS, ``%LOCALAPPDATA%\\gaitcheck`` on
    Windows)."""
    if arg is not None:
        return Path(arg).expanduser()
    env = os.environ.get("GAITCHECK_DATA_DIR")
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "gaitcheck"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", str(home / "AppData" / "Local"))) / "gaitcheck"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else home / ".local" / "share") / "gaitcheck"


# ---------------------------------------------------------------------------- schema
def _script(conn: sqlite3.Connection, sql: str) -> None:
    # Statement by statement: executescript() would commit the migration's transaction.
    for statement in sql.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1(conn: sqlite3.Connection) -> None:
    _script(conn,
        """
        CREATE TABLE athletes (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_utc TEXT NOT NULL
        );
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
            date TEXT NOT NULL,
            video_name TEXT NOT NULL,
            video_sha256 TEXT NOT NULL,
            settings_hash TEXT NOT NULL,
            context_json TEXT NOT NULL,
            view TEXT,
            verdict TEXT,
            top_finding TEXT,
            metrics_json TEXT NOT NULL,
            output_dir TEXT NOT NULL,
            created_utc TEXT NOT NULL,
            UNIQUE (athlete_id, video_sha256, settings_hash)
        );
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL UNIQUE,
            athlete_id INTEGER NOT NULL REFERENCES athletes(id) ON DELETE CASCADE,
            date TEXT NOT NULL,
            video_path TEXT NOT NULL,
            video_sha256 TEXT,
            settings_hash TEXT NOT NULL,
            settings_json TEXT NOT NULL,
            context_json TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
            stage TEXT,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            worker TEXT,
            created_utc TEXT NOT NULL,
            started_utc TEXT,
            finished_utc TEXT,
            duration_s REAL
        );
        """
    )


def _v2(conn: sqlite3.Connection) -> None:
    # History pages read sessions by athlete and date; the queue reads jobs by state.
    _script(conn,
        """
        CREATE INDEX sessions_by_athlete_date ON sessions (athlete_id, date);
        CREATE INDEX jobs_by_state ON jobs (state, id);
        ALTER TABLE sessions ADD COLUMN notes TEXT NOT NULL DEFAULT '';
        ALTER TABLE jobs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
        ALTER TABLE jobs ADD COLUMN progress REAL;
        """
    )


def _v3(conn: sqlite3.Connection) -> None:
    # The analysis' verdict sentence (assessment.headline), shown beside the verdict.
    _script(conn, "ALTER TABLE sessions ADD COLUMN headline TEXT NOT NULL DEFAULT ''")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3)
"""``MIGRATIONS[i]`` takes a database from schema version ``i`` to ``i + 1``; append only."""
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """Schema version of an open database (0 for an empty one)."""
    have = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
    ).fetchone()
    if not have:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the missing migrations up to ``target``, each in its own transaction.

    Returns
    -------
    int
        The schema version afterwards.

    Raises
    ------
    StoreError
        When the database was made by a newer gaitcheck (a higher version than this code knows).
    """
    conn.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
    try:
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"The data folder's database has schema version {current}, newer than this "
                f"gaitcheck understands ({SCHEMA_VERSION}); update gaitcheck."
            )
        if current == 0:
            conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            conn.execute("INSERT INTO schema_version VALUES (0)")
        for version in range(current, target):
            MIGRATIONS[version](conn)
            conn.execute("UPDATE schema_version SET version = ?", (version + 1,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return max(current, target)


# ---------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Athlete:
    """One athlete with a count of stored sessions and the latest session date."""

    id: int
    name: str
    created_utc: str
    n_sessions: int = 0
    last_date: str | None = None


@dataclass(frozen=True)
class SessionRecord:
    """What a finished analysis adds to the store (everything but the row's id and athlete).

    ``metrics`` maps a metric key to its headline entry of ``analysis.json`` (value, left,
    right, unit, confidence level, sd, n_steps); ``context`` is the runner context the report
    was personalised with.
    """

    date: str
    video_name: str
    video_sha256: str
    settings_hash: str
    context: dict[str, Any]
    view: str | None
    verdict: str | None
    top_finding: str | None
    metrics: dict[str, Any]
    notes: str = ""
    headline: str = ""


@dataclass(frozen=True)
class Session:
    """A stored session row."""

    id: str
    athlete_id: int
    athlete: str
    date: str
    video_name: str
    video_sha256: str
    settings_hash: str
    context: dict[str, Any]
    view: str | None
    verdict: str | None
    top_finding: str | None
    metrics: dict[str, Any]
    output_dir: str
    created_utc: str
    notes: str
    headline: str = ""


@dataclass(frozen=True)
class Job:
    """A stored job row (see the module docstring for the states)."""

    id: int
    session_id: str
    athlete_id: int
    athlete: str
    date: str
    video_path: str
    video_sha256: str | None
    settings_hash: str
    settings: dict[str, Any]
    context: dict[str, Any]
    state: str
    stage: str | None
    progress: float | None
    error: str | None
    attempts: int
    worker: str | None
    created_utc: str
    started_utc: str | None
    finished_utc: str | None
    duration_s: float | None
    notes: str


_SESSION_SQL = ("SELECT s.*, a.name AS athlete FROM sessions s "
                "JOIN athletes a ON a.id = s.athlete_id")
_JOB_SQL = "SELECT j.*, a.name AS athlete FROM jobs j JOIN athletes a ON a.id = j.athlete_id"


def _session(row: sqlite3.Row) -> Session:
    return Session(
        id=row["id"], athlete_id=row["athlete_id"], athlete=row["athlete"], date=row["date"],
        video_name=row["video_name"], video_sha256=row["video_sha256"],
        settings_hash=row["settings_hash"], context=json.loads(row["context_json"]),
        view=row["view"], verdict=row["verdict"], top_finding=row["top_finding"],
        metrics=json.loads(row["metrics_json"]), output_dir=row["output_dir"],
        created_utc=row["created_utc"], notes=row["notes"], headline=row["headline"],
    )


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"], session_id=row["session_id"], athlete_id=row["athlete_id"],
        athlete=row["athlete"], date=row["date"], video_path=row["video_path"],
        video_sha256=row["video_sha256"], settings_hash=row["settings_hash"],
        settings=json.loads(row["settings_json"]), context=json.loads(row["context_json"]),
        state=row["state"], stage=row["stage"], progress=row["progress"], error=row["error"],
        attempts=row["attempts"], worker=row["worker"], created_utc=row["created_utc"],
        started_utc=row["started_utc"], finished_utc=row["finished_utc"],
        duration_s=row["duration_s"], notes=row["notes"],
    )


# ---------------------------------------------------------------------------- store
class Store:
    """A data folder: the SQLite database and the session folders.

    Safe to use from several processes and threads: each thread of each process gets its own
    connection. Writes run in short ``BEGIN IMMEDIATE`` transactions.

    Parameters
    ----------
    data_dir : str or Path, optional
        See :func:`resolve_data_dir`.
    """

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = resolve_data_dir(data_dir)
        try:
            (self.data_dir / SESSIONS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the data folder {self.data_dir} "
                             f"({exc.strerror}).") from None
        self.db_path = self.data_dir / DB_NAME
        self._local = threading.local()
        migrate(self._conn())

    # -- connections
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                conn = sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_S,
                                       isolation_level=None, check_same_thread=False)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL survives a killed process; only power loss can drop the
                # last commits, never corrupt the file.
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as exc:
                raise StoreError(f"Cannot open the database {self.db_path} ({exc}).") from None
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local.conn = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on error)."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def journal_mode(self) -> str:
        """The database's journal mode (``wal``)."""
        return str(self._conn().execute("PRAGMA journal_mode").fetchone()[0])

    def session_dir(self, session_id: str) -> Path:
        """Output folder of a session: ``DATA/sessions/<id>``."""
        return self.data_dir / SESSIONS_DIR / session_id

    # -- athletes
    def athlete(self, name: str) -> Athlete:
        """The athlete called ``name`` (surrounding blanks ignored), created if new."""
        clean = " ".join(name.split())
        if not clean:
            raise StoreError("An athlete needs a name.")
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO athletes (name, created_utc) VALUES (?, ?)",
                         (clean, utc_now()))
        found = self.find_athlete(clean)
        assert found is not None
        return found

    def find_athlete(self, name: str) -> Athlete | None:
        """The athlete called ``name`` (case-insensitive, blanks collapsed), or None."""
        row = self._conn().execute(
            "SELECT a.id, a.name, a.created_utc, COUNT(s.id) AS n, MAX(s.date) AS last "
            "FROM athletes a LEFT JOIN sessions s ON s.athlete_id = a.id "
            "WHERE a.name = ? GROUP BY a.id", (" ".join(name.split()),)).fetchone()
        return Athlete(row["id"], row["name"], row["created_utc"], row["n"], row["last"]) \
            if row else None

    def athletes(self) -> list[Athlete]:
        """Every athlete by name, with session counts and latest session date."""
        rows = self._conn().execute(
            "SELECT a.id, a.name, a.created_utc, COUNT(s.id) AS n, MAX(s.date) AS last "
            "FROM athletes a LEFT JOIN sessions s ON s.athlete_id = a.id "
            "GROUP BY a.id ORDER BY a.name COLLATE NOCASE"
        ).fetchall()
        return [Athlete(r["id"], r["name"], r["created_utc"], r["n"], r["last"]) for r in rows]

    # -- sessions
    def session(self, session_id: str) -> Session | None:
        """The session with this id, or None."""
        row = self._conn().execute(_SESSION_SQL + " WHERE s.id = ?", (session_id,)).fetchone()
        return _session(row) if row else None

    def sessions(self, athlete: str | None = None) -> list[Session]:
        """Stored sessions (of one athlete, when named), oldest date first."""
        if athlete is None:
            rows = self._conn().execute(
                _SESSION_SQL + " ORDER BY a.name COLLATE NOCASE, s.date, s.created_utc, s.id"
            ).fetchall()
        else:
            rows = self._conn().execute(
                _SESSION_SQL + " WHERE a.name = ? COLLATE NOCASE "
                "ORDER BY s.date, s.created_utc, s.id", (" ".join(athlete.split()),)
            ).fetchall()
        return [_session(r) for r in rows]

    def add_session(self, session_id: str, athlete_id: int, record: SessionRecord,
                    *, job_id: int | None = None, duration_s: float | None = None) -> Session:
        """Record a finished session (its folder must already be complete) and close its job.

        Both happen in one transaction: either the session exists and its job is ``done``, or
        neither changed. Recording the same session id twice keeps the first row.
        """
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO sessions (id, athlete_id, date, video_name, video_sha256, "
                "settings_hash, context_json, view, verdict, top_finding, metrics_json, "
                "output_dir, created_utc, notes, headline) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (id) DO NOTHING",
                (session_id, athlete_id, record.date, record.video_name, record.video_sha256,
                 record.settings_hash, json.dumps(record.context, sort_keys=True),
                 record.view, record.verdict, record.top_finding,
                 json.dumps(record.metrics, sort_keys=True),
                 f"{SESSIONS_DIR}/{session_id}", utc_now(), record.notes, record.headline),
            )
            if job_id is not None:
                conn.execute(
                    "UPDATE jobs SET state='done', stage=NULL, progress=1.0, error=NULL, "
                    "finished_utc=?, duration_s=? WHERE id=?", (utc_now(), duration_s, job_id))
        found = self.session(session_id)
        assert found is not None
        return found

    def delete_session(self, session_id: str) -> bool:
        """Remove a session's row, its job and its folder; True when it existed."""
        with self.transaction() as conn:
            gone = conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount
            conn.execute("DELETE FROM jobs WHERE session_id = ?", (session_id,))
        folder = self.session_dir(session_id)
        if folder.is_dir():
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
        return bool(gone)

    # -- jobs
    def add_job(self, *, session_id: str, athlete_id: int, date: str, video_path: str,
                video_sha256: str | None, settings_hash: str, settings: dict[str, Any],
                context: dict[str, Any], notes: str = "") -> Job:
        """Queue a job for ``session_id``; an existing job for it is returned unchanged,
        except that a failed one is queued again (a rerun retries failures)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO jobs (session_id, athlete_id, date, video_path, "
                "video_sha256, settings_hash, settings_json, context_json, state, "
                "created_utc, notes) VALUES (?,?,?,?,?,?,?,?,'queued',?,?)",
                (session_id, athlete_id, date, video_path, video_sha256, settings_hash,
                 json.dumps(settings, sort_keys=True), json.dumps(context, sort_keys=True),
                 utc_now(), notes),
            )
            conn.execute("UPDATE jobs SET state='queued', stage=NULL, error=NULL, "
                         "video_path=? WHERE session_id=? AND state='failed'",
                         (video_path, session_id))
        job = self.job_for_session(session_id)
        assert job is not None
        return job

    def job(self, job_id: int) -> Job | None:
        """The job with this id, or None."""
        row = self._conn().execute(_JOB_SQL + " WHERE j.id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def job_for_session(self, session_id: str) -> Job | None:
        """The job that makes ``session_id``, or None."""
        row = self._conn().execute(_JOB_SQL + " WHERE j.session_id = ?",
                                   (session_id,)).fetchone()
        return _job(row) if row else None

    def jobs(self, state: str | None = None) -> list[Job]:
        """Jobs in creation order (only those in ``state`` when given)."""
        if state is None:
            rows = self._conn().execute(_JOB_SQL + " ORDER BY j.id").fetchall()
        else:
            rows = self._conn().execute(_JOB_SQL + " WHERE j.state = ? ORDER BY j.id",
                                        (state,)).fetchall()
        return [_job(r) for r in rows]

    def start_job(self, job_id: int, worker: str) -> None:
        """Mark a job running on ``worker`` and count the attempt."""
        with self.transaction() as conn:
            conn.execute("UPDATE jobs SET state='running', worker=?, attempts=attempts+1, "
                         "started_utc=?, stage='starting', progress=0.0, error=NULL "
                         "WHERE id=?", (worker, utc_now(), job_id))

    def claim_job(self, worker: str) -> Job | None:
        """Take the oldest queued job for ``worker`` (atomic across processes), or None."""
        with self.transaction() as conn:
            row = conn.execute("SELECT id FROM jobs WHERE state='queued' ORDER BY id "
                               "LIMIT 1").fetchone()
            if row is None:
                return None
            conn.execute("UPDATE jobs SET state='running', worker=?, attempts=attempts+1, "
                         "started_utc=?, stage='starting', progress=0.0, error=NULL "
                         "WHERE id=?", (worker, utc_now(), row["id"]))
        return self.job(int(row["id"]))

    def set_stage(self, job_id: int, stage: str, progress: float | None = None) -> None:
        """Record the stage (and 0-1 progress) a running job is in."""
        with self.transaction() as conn:
            conn.execute("UPDATE jobs SET stage=?, progress=COALESCE(?, progress) WHERE id=?",
                         (stage, progress, job_id))

    def fail_job(self, job_id: int, error: str, duration_s: float | None = None) -> None:
        """Mark a job failed with its one-sentence reason."""
        with self.transaction() as conn:
            conn.execute("UPDATE jobs SET state='failed', error=?, stage=NULL, "
                         "finished_utc=?, duration_s=? WHERE id=?",
                         (error, utc_now(), duration_s, job_id))

    def requeue_interrupted(self, *, max_attempts: int | None = None) -> list[Job]:
        """Jobs left ``running`` by a process that died: queue them again.

        With ``max_attempts``, a job that already ran that many times is marked failed with a
        reason instead (the web app retries once). Call only when no other process is working
        on this data folder's jobs.

        Returns
        -------
        list of Job
            The interrupted jobs as they were found.
        """
        found = self.jobs("running")
        with self.transaction() as conn:
            for job in found:
                if max_attempts is not None and job.attempts >= max_attempts:
                    conn.execute(
                        "UPDATE jobs SET state='failed', stage=NULL, finished_utc=?, error=? "
                        "WHERE id=?", (utc_now(), f"The analysis was interrupted {job.attempts} "
                                       "time(s) (the process stopped); it was not retried "
                                       "again.", job.id))
                else:
                    conn.execute("UPDATE jobs SET state='queued', stage=NULL WHERE id=?",
                                 (job.id,))
        return found

