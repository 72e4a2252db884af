"""The athlete store: schema migrations, WAL, concurrent writers, the job life cycle."""

from __future__ import annotations

import multiprocessing
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from gaitcheck.store import SessionRecord, Store, StoreError, resolve_data_dir
from gaitcheck.store.db import DB_NAME, SCHEMA_VERSION, migrate, schema_version


def _record(sha: str = "a" * 64, date: str = "2026-01-05") -> SessionRecord:
    return SessionRecord(
        date=date, video_name="run.mp4", video_sha256=sha, settings_hash="s1",
        context={"pace": "5:30/km"}, view="side-left", verdict="no flags", top_finding=None,
        metrics={"cadence_spm": {"value": 170.0, "confidence": "high"}},
    )


def _job(store: Store, athlete_id: int, session_id: str) -> int:
    return store.add_job(session_id=session_id, athlete_id=athlete_id, date="2026-01-05",
                         video_path="run.mp4", video_sha256="a" * 64, settings_hash="s1",
                         settings={}, context={}).id


def test_new_store_is_wal_at_current_schema(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    assert store.journal_mode() == "wal"
    assert schema_version(store._conn()) == SCHEMA_VERSION
    assert (tmp_path / "data" / "sessions").is_dir()
    # Opening again (another process or a later run) migrates nothing and keeps the rows.
    store.athlete("Ana Ruiz")
    assert [a.name for a in Store(tmp_path / "data").athletes()] == ["Ana Ruiz"]


def test_forward_migration_keeps_rows(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    assert migrate(conn, target=1) == 1  # a data folder written by the first release
    conn.execute("INSERT INTO athletes (name, created_utc) VALUES ('Bo', 'x')")
    conn.execute(
        "INSERT INTO sessions (id, athlete_id, date, video_name, video_sha256, settings_hash, "
        "context_json, metrics_json, output_dir, created_utc) "
        "VALUES ('s1', 1, '2026-01-01', 'v.mp4', 'h', 'k', '{}', '{}', 'sessions/s1', 'x')")
    conn.close()
    store = Store(tmp_path)
    assert schema_version(store._conn()) == SCHEMA_VERSION
    (session,) = store.sessions("bo")
    assert session.id == "s1" and session.athlete == "Bo" and session.notes == ""
    assert session.headline == ""  # added by migration 3
    indexes = {r[0] for r in store._conn().execute(
        "SELECT name FROM sqlite_master WHERE type='index'")}
    assert "sessions_by_athlete_date" in indexes


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Store(tmp_path)
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this gaitcheck"):
        Store(tmp_path)


def test_data_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAITCHECK_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("GAITCHECK_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir() == tmp_path / "xdg" / "gaitcheck"


def test_athletes_are_case_insensitive_and_counted(tmp_path: Path) -> None:
    store = Store(tmp_path)
    a = store.athlete("  Ana   Ruiz ")
    assert store.athlete("ana ruiz").id == a.id
    store.add_session("s-1", a.id, _record(date="2026-01-05"))
    store.add_session("s-2", a.id, _record(sha="b" * 64, date="2026-02-05"))
    store.athlete("Bo")
    listed = {x.name: x for x in store.athletes()}
    assert listed["Ana Ruiz"].n_sessions == 2 and listed["Ana Ruiz"].last_date == "2026-02-05"
    assert listed["Bo"].n_sessions == 0
    assert [s.date for s in store.sessions("ANA RUIZ")] == ["2026-01-05", "2026-02-05"]


def test_session_and_job_close_together(tmp_path: Path) -> None:
    store = Store(tmp_path)
    a = store.athlete("Ana")
    job_id = _job(store, a.id, "s-1")
    store.start_job(job_id, "w1")
    store.add_session("s-1", a.id, _record(), job_id=job_id, duration_s=2.5)
    job = store.job(job_id)
    assert job is not None and job.state == "done" and job.attempts == 1
    assert job.duration_s == 2.5
    # The same video with the same settings cannot be stored twice for one athlete.
    with pytest.raises(sqlite3.IntegrityError):
        store.add_session("s-other", a.id, _record())
    # Asking again for the job of a done session does not queue it again.
    assert store.add_job(session_id="s-1", athlete_id=a.id, date="d", video_path="p",
                         video_sha256=None, settings_hash="s1", settings={},
                         context={}).state == "done"


def test_interrupted_jobs_are_requeued_or_given_up(tmp_path: Path) -> None:
    store = Store(tmp_path)
    a = store.athlete("Ana")
    j1, j2 = _job(store, a.id, "s-1"), _job(store, a.id, "s-2")
    store.start_job(j1, "w1")
    store.start_job(j2, "w2")
    store.start_job(j2, "w2")  # j2 already ran twice
    found = store.requeue_interrupted(max_attempts=2)
    assert {j.id for j in found} == {j1, j2}
    assert store.job(j1).state == "queued"  # type: ignore[union-attr]
    failed = store.job(j2)
    assert failed is not None and failed.state == "failed" and "interrupted 2 time" in \
        (failed.error or "")
    store.fail_job(j1, "The file is not a video.")
    again = store.add_job(session_id="s-1", athlete_id=a.id, date="d", video_path="new.mp4",
                          video_sha256=None, settings_hash="s1", settings={}, context={})
    assert again.state == "queued" and again.error is None and again.video_path == "new.mp4"


def _writer(data_dir: str, worker: int, n: int) -> list[int]:
    """One process: add athletes and sessions, then claim queued jobs until none is left."""
    store = Store(data_dir)
    for i in range(n):
        a = store.athlete(f"athlete {worker}-{i}")
        store.add_session(f"w{worker}-{i}", a.id, _record(sha=f"{worker}-{i}"))
    claimed = []
    while (job := store.claim_job(f"w{worker}")) is not None:
        claimed.append(job.id)
    return claimed


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    shared = store.athlete("shared")
    queued = [_job(store, shared.id, f"q-{i}") for i in range(40)]
    n_proc, n_each = 4, 15
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n_proc, mp_context=ctx) as pool:
        results = list(pool.map(_writer, [str(tmp_path)] * n_proc, range(n_proc),
                                [n_each] * n_proc))
    claimed = [j for r in results for j in r]
    # Every queued job was claimed by exactly one process.
    assert sorted(claimed) == sorted(queued)
    assert len(store.sessions()) == n_proc * n_each
    assert len(store.athletes()) == n_proc * n_each + 1
    assert all(j.state == "running" and j.attempts == 1 for j in store.jobs())
    ok = store._conn().execute("PRAGMA integrity_check").fetchone()[0]
    assert ok == "ok"


def test_session_identity(tmp_path: Path) -> None:
    from gaitcheck.config import load_config
    from gaitcheck.models import file_sha256
    from gaitcheck.store.keys import session_id_for, settings_hash

    base = settings_hash(load_config())
    assert settings_hash(load_config(overrides={"pose": {"use_cache": False}})) == base
    assert settings_hash(load_config(overrides={"report": {"pace": "5:00/km"}})) != base
    video = tmp_path / "v.mp4"
    video.write_bytes(b"abc")
    sha = file_sha256(video)
    assert sha == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180
    assert session_id_for("Ana Ruiz", sha, base) == session_id_for("ana ruiz", sha, base)
    assert session_id_for("Ana Ruiz", sha, base) != session_id_for("Bo", sha, base)
