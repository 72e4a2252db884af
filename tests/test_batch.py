"""Coaching-group batches on the real shared clip: roster validation, failures recorded with
their reasons, resume after ``kill -9``, history across dates, Dask gives the same results, and
the pages open in headless Chromium.

The clip is copied (hard-linked) once per athlete; its pose is extracted once per test session
(``side_pose_dir`` warms the pose cache the worker processes share), so each job only runs the
numeric analysis and writes the report.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gaitcheck.batch.group import athlete_files, z_scores
from gaitcheck.batch.sources import RosterError, read_folder, read_input, read_roster
from gaitcheck.cli import main
from gaitcheck.store import Store

REPO = Path(__file__).resolve().parents[1]
FAST = ["--no-overlay", "--no-plots", "-q"]  # the report pages, without the slow extras


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _roster(path: Path, rows: list[dict[str, str]]) -> Path:
    cols = ["athlete", "video", "date", "view", "height_cm", "pace", "pain", "red_flags",
            "capture_fps", "notes"]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def _link(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
    return dst


@pytest.fixture(scope="module")
def clips(side_clip: Path, side_pose_dir: Path, tmp_path_factory: pytest.TempPathFactory
          ) -> Path:
    """A folder with the clip once per athlete, a text file named .mp4, and a roster."""
    root = tmp_path_factory.mktemp("group")
    for name in ("ana", "bo", "cy"):
        _link(side_clip, root / "videos" / f"{name}.mp4")
    (root / "videos" / "broken.mp4").write_text("not a video, just text\n")
    _roster(root / "roster.csv", [
        {"athlete": "Ana Ruiz", "video": "videos/ana.mp4", "date": "2026-01-10",
         "pace": "5:30/km", "height_cm": "168"},
        {"athlete": "Bo", "video": "videos/bo.mp4", "date": "2026-01-10"},
        {"athlete": "Cy", "video": "videos/cy.mp4", "date": "2026-01-11", "pain": "outer-hip"},
        {"athlete": "Dee", "video": "videos/broken.mp4", "date": "2026-01-11"},
        {"athlete": "Eve", "video": "videos/missing.mp4", "date": "2026-01-11"},
    ])
    return root


@pytest.fixture(scope="module")
def first_batch(clips: Path) -> dict[str, Any]:
    """The roster batch run once (2 workers), then rerun unchanged."""
    data, report = clips / "data", clips / "report"
    argv = ["batch", str(clips / "roster.csv"), "-o", str(report), "--data-dir", str(data),
            "--workers", "2", *FAST]
    t0 = time.perf_counter()
    first = _run(argv)
    first_s = time.perf_counter() - t0
    folders = {p.name: (p / "analysis.json").stat().st_mtime_ns
               for p in (data / "sessions").iterdir()}
    second = _run(argv)
    return {"data": data, "report": report, "first": first, "second": second,
            "first_s": first_s, "folders": folders}


# ---------------------------------------------------------------------------- input
def test_roster_is_validated_with_the_line(tmp_path: Path) -> None:
    def bad(text: str, match: str) -> None:
        (tmp_path / "r.csv").write_text(text)
        with pytest.raises(RosterError, match=match):
            read_roster(tmp_path / "r.csv")

    bad("athlete,video,shoe\nA,a.mp4,x\n", "unknown column.*shoe")
    bad("athlete,date\nA,2026-01-01\n", "needs the column.*video")
    bad("athlete,video,date\nA,a.mp4,2026-01-01\nB,b.mp4,yesterday\n", "line 3: column 'date'")
    bad("athlete,video,view\nA,a.mp4,top\n", "line 2: column 'view' must be one of")
    bad("athlete,video,height_cm\nA,a.mp4,-170\n", "line 2: column 'height_cm' must be a pos")
    bad("athlete,video\n,a.mp4\n", "line 2: column 'athlete' must not be empty")
    bad("athlete,video\n\n", "lists no videos")


def test_roster_rows_resolve_paths_and_lists(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "r.csv").write_text(
        "athlete,video,date,pain,red_flags,capture_fps,notes\n"
        " Ana ,../v/a.mp4,2026-03-01,outer-hip; groin,night-pain,240,after the race\n"
        "Bo,/abs/b.mp4,,,,,\n")
    a, b = read_roster(tmp_path / "sub" / "r.csv")
    assert a.athlete == "Ana" and a.video == tmp_path / "sub" / ".." / "v" / "a.mp4"
    assert a.pain == ("outer-hip", "groin") and a.red_flags == ("night-pain",)
    assert a.capture_fps == 240.0 and a.notes == "after the race" and a.date == "2026-03-01"
    assert b.video == Path("/abs/b.mp4") and b.pain == ()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", b.date)  # missing file: today's date


def test_folder_input_takes_athletes_from_subfolders(tmp_path: Path) -> None:
    (tmp_path / "Ana").mkdir()
    (tmp_path / "Bo").mkdir()
    (tmp_path / "Ana" / "run1.MP4").write_bytes(b"x")
    (tmp_path / "Ana" / "notes.txt").write_text("x")
    (tmp_path / "Bo" / "b.mov").write_bytes(b"x")
    stamp = time.mktime((2025, 6, 2, 12, 0, 0, 0, 0, -1))
    os.utime(tmp_path / "Bo" / "b.mov", (stamp, stamp))
    items = read_folder(tmp_path)
    assert [(i.athlete, i.video.name) for i in items] == [("Ana", "run1.MP4"), ("Bo", "b.mov")]
    assert items[1].date == "2025-06-02"  # no creation tag in the file: its mtime
    with pytest.raises(RosterError, match="does not exist"):
        read_input(tmp_path / "nope.csv")
    with pytest.raises(RosterError, match="holds no videos"):
        read_folder(tmp_path / "Ana")


def test_folder_date_from_the_video_creation_tag(side_clip: Path, tmp_path: Path) -> None:
    import av

    dst = tmp_path / "Ana" / "tagged.mp4"
    dst.parent.mkdir()
    with av.open(str(side_clip)) as inp, av.open(str(dst), "w", format="mp4") as out:
        out.metadata["creation_time"] = "2025-04-03T10:00:00.000000Z"  # as phones write it
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    (item,) = read_folder(tmp_path)
    assert (item.athlete, item.date) == ("Ana", "2025-04-03")  # the tag, not today's mtime


def test_invalid_row_settings_stop_before_anything_runs(tmp_path: Path) -> None:
    _roster(tmp_path / "r.csv", [{"athlete": "A", "video": "a.mp4", "pace": "fast"}])
    code, _, err = _run(["batch", str(tmp_path / "r.csv"), "-o", str(tmp_path / "rep"),
                         "--data-dir", str(tmp_path / "d"), "-q"])
    assert code == 2 and "r.csv line 2" in err and "Traceback" not in err
    assert Store(tmp_path / "d").jobs() == []


def test_one_batch_at_a_time_per_data_folder(tmp_path: Path) -> None:
    from filelock import FileLock

    _roster(tmp_path / "r.csv", [{"athlete": "A", "video": "a.mp4"}])
    Store(tmp_path / "d")
    with FileLock(str(tmp_path / "d" / "batch.lock")):  # as a running batch holds it
        code, _, err = _run(["batch", str(tmp_path / "r.csv"), "-o", str(tmp_path / "rep"),
                             "--data-dir", str(tmp_path / "d"), "-q"])
    assert code == 2 and "Another gaitcheck batch is using the data folder" in err
    assert Store(tmp_path / "d").jobs() == []


def test_z_scores_and_athlete_file_names() -> None:
    from gaitcheck.store import Session

    def s(v: float | None) -> Session:
        return Session("i", 1, "a", "2026-01-01", "v", "h", "k", {}, None, None, None,
                       {"cadence_spm": {"value": v}}, "o", "c", "")

    zs = z_scores([s(160.0), s(170.0), s(180.0), s(None)], "cadence_spm")
    assert zs == [-1.0, 0.0, 1.0, None]  # mean 170, sample SD 10
    assert z_scores([s(160.0), s(170.0)], "cadence_spm") == [None, None]
    assert athlete_files(["Ana Ruiz", "ana-ruiz", "Bo/../x"]) == {
        "Ana Ruiz": "ana-ruiz.html", "ana-ruiz": "ana-ruiz-2.html", "Bo/../x": "bo-x.html"}


# ---------------------------------------------------------------------------- real batches
def test_batch_records_failures_and_goes_on(first_batch: dict[str, Any]) -> None:
    code, out, err = first_batch["first"]
    assert code == 3, err
    assert "3 analysed, 0 already in the store, 2 failed" in out
    assert "Dee" in err and "broken.mp4 cannot be read as a video" in err
    assert "Eve" in err and "missing.mp4 does not exist" in err
    store = Store(first_batch["data"])
    sessions = store.sessions()
    assert sorted(s.athlete for s in sessions) == ["Ana Ruiz", "Bo", "Cy"]
    for s in sessions:
        assert s.metrics["cadence_spm"]["value"] == pytest.approx(168.9, abs=2.0), \
            "the shared clip's measured cadence (groundtruth 168.9 +- 0.5; README: 168.6)"
        assert s.view == "side-left" and s.verdict
        assert (first_batch["data"] / s.output_dir / "report.html").is_file()
    failed = {j.athlete: j for j in store.jobs("failed")}
    assert set(failed) == {"Dee", "Eve"}
    assert all(j.error and j.error.endswith(".") for j in failed.values())
    # The runner context travelled with its row.
    ana = store.sessions("Ana Ruiz")[0]
    assert ana.context["pace"] == "5:30/km" and ana.context["height_cm"] == 168.0
    assert store.sessions("Cy")[0].context["pain"] == ["outer-hip"]
    # No half-written folder is left behind.
    assert sorted(p.name for p in (first_batch["data"] / "sessions").iterdir()) == \
        sorted(s.id for s in sessions)


def test_rerun_redoes_nothing_finished(first_batch: dict[str, Any]) -> None:
    code, out, _ = first_batch["second"]
    assert code == 3  # the two bad rows are still bad (retried, failed again)
    assert "0 analysed, 3 already in the store, 2 failed" in out
    store = Store(first_batch["data"])
    assert all(j.attempts == 1 for j in store.jobs("done"))
    now = {p.name: (p / "analysis.json").stat().st_mtime_ns
           for p in (first_batch["data"] / "sessions").iterdir()}
    assert now == first_batch["folders"]  # not one file rewritten
    # Failures are retried (the file may have been fixed); a missing file never starts.
    assert {j.athlete: j.attempts for j in store.jobs("failed")} == {"Dee": 2, "Eve": 0}


def test_group_outputs(first_batch: dict[str, Any]) -> None:
    report = first_batch["report"]
    rows = list(csv.DictReader((report / "summary.csv").read_text().splitlines()))
    assert [r["athlete"] for r in rows] == ["Ana Ruiz", "Bo", "Cy"]
    assert all(r["verdict"] and r["top_finding"] for r in rows)
    assert all(float(r["cadence_spm_z"]) == 0.0 for r in rows)  # the same clip three times
    assert all(r["pelvic_drop_deg"] == "" for r in rows)  # side view: not measured
    html = (report / "group.html").read_text()
    assert "<script" not in html and "<link" not in html and 'src="http' not in html
    for name in ("Ana Ruiz", "Bo", "Cy", "missing.mp4", "screening cue"):
        assert name in html
    assert html.count("<svg") >= 4  # cadence, overstride, shank, knee distributions
    for href in re.findall(r'href="([^"]+)"', html):
        assert (report / href).is_file(), href
    assert sorted(p.name for p in (report / "athletes").iterdir()) == [
        "ana-ruiz.html", "bo.html", "cy.html", "dee.html", "eve.html"]


@pytest.fixture(scope="module")
def later_batch(first_batch: dict[str, Any], clips: Path) -> dict[str, Any]:
    """Ana again a month later, at a faster pace: a new runner context, so a new session."""
    roster = _roster(clips / "later.csv", [
        {"athlete": "ana ruiz", "video": "videos/ana.mp4", "date": "2026-02-10",
         "pace": "5:00/km", "height_cm": "168"}])
    report = clips / "report-later"
    result = _run(["batch", str(roster), "-o", str(report), "--data-dir",
                   str(first_batch["data"]), "--workers", "1", *FAST])
    return {"report": report, "result": result}


def test_later_batch_builds_history(first_batch: dict[str, Any],
                                    later_batch: dict[str, Any]) -> None:
    code, out, err = later_batch["result"]
    assert code == 0, err
    assert "1 analysed" in out
    code, out, _ = _run(["history", "ANA RUIZ", "--data-dir", str(first_batch["data"])])
    assert code == 0
    assert out.index("2026-01-10") < out.index("2026-02-10")
    assert "2 session(s)" in out
    page = (later_batch["report"] / "athletes" / "ana-ruiz.html").read_text()
    assert "What moved between 2026-01-10 and 2026-02-10" in page
    assert page.count("2026-02-10: ") >= 4  # one trend point per side-view metric
    code, out, _ = _run(["athletes", "--data-dir", str(first_batch["data"])])
    assert re.search(r"Ana Ruiz\s+2 session\(s\)\s+latest 2026-02-10", out)


# ---------------------------------------------------------------------------- kill -9
def _count(db: Path, sql: str) -> int:
    if not db.is_file():
        return 0
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        try:
            return int(conn.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:  # tables not created yet
            return 0


def test_kill_9_mid_batch_then_rerun(clips: Path, tmp_path: Path) -> None:
    names = ["Kai", "Lu", "Mo"]
    for n in names:
        _link(clips / "videos" / "ana.mp4", tmp_path / "v" / f"{n}.mp4")
    roster = _roster(tmp_path / "r.csv", [{"athlete": n, "video": f"v/{n}.mp4",
                                           "date": "2026-01-10"} for n in names])
    data = tmp_path / "data"
    argv = [sys.executable, "-m", "gaitcheck.cli", "batch", str(roster), "-o",
            str(tmp_path / "rep"), "--data-dir", str(data), "--workers", "1", *FAST]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    db = data / "gaitcheck.db"
    deadline = time.monotonic() + 90
    try:
        while _count(db, "SELECT COUNT(*) FROM sessions") < 1 and time.monotonic() < deadline:
            assert proc.poll() is None, "the batch ended before it could be killed"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    done_before = {r[0]: r[1] for r in sqlite3.connect(db).execute(
        "SELECT session_id, attempts FROM jobs WHERE state='done'")}
    assert 1 <= len(done_before) < len(names), "killed mid-batch"
    mtimes = {sid: (data / "sessions" / sid / "analysis.json").stat().st_mtime_ns
              for sid in done_before}

    rerun = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    store = Store(data)
    sessions = store.sessions()
    assert sorted(s.athlete for s in sessions) == names  # none missing, none twice
    assert sorted(p.name for p in (data / "sessions").iterdir()) == sorted(s.id for s in sessions)
    jobs = store.jobs()
    assert len(jobs) == len(names) and all(j.state == "done" for j in jobs)
    # Finished before the kill: not analysed again (one attempt, files untouched).
    for sid, attempts in done_before.items():
        assert store.job_for_session(sid).attempts == attempts == 1  # type: ignore[union-attr]
        assert (data / "sessions" / sid / "analysis.json").stat().st_mtime_ns == mtimes[sid]
    # At most the one job that was running at the kill ran twice (workers=1).
    assert sum(j.attempts for j in jobs) <= len(names) + 1


# ---------------------------------------------------------------------------- Dask
def test_dask_local_cluster_gives_the_same_results(first_batch: dict[str, Any],
                                                   clips: Path) -> None:
    data, report = clips / "data-dask", clips / "report-dask"
    code, out, err = _run(["batch", str(clips / "roster.csv"), "-o", str(report),
                           "--data-dir", str(data), "--scheduler", "local", "--workers", "2",
                           "--ship-videos", *FAST])
    assert code == 3, err
    assert "3 analysed, 0 already in the store, 2 failed" in out
    assert (report / "summary.csv").read_text() == \
        (first_batch["report"] / "summary.csv").read_text()
    local, dask = Store(first_batch["data"]), Store(data)
    for s in dask.sessions():
        twin = local.session(s.id)
        assert twin is not None and twin.metrics == s.metrics and twin.verdict == s.verdict
        assert sorted(p.name for p in (data / s.output_dir).iterdir()) == \
            sorted(p.name for p in (first_batch["data"] / twin.output_dir).iterdir())
    assert {j.athlete: j.error for j in dask.jobs("failed")} == \
        {j.athlete: j.error for j in local.jobs("failed")}


# ---------------------------------------------------------------------------- browser
CHROMIUM = Path(os.environ.get("GAITCHECK_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        if os.environ.get("GAITCHECK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required but missing at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _open(browser: Any, path: Path, shot: Path) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.screenshot(path=str(shot), full_page=True)
    return page, errors


def test_pages_open_in_chromium(first_batch: dict[str, Any], later_batch: dict[str, Any],
                                browser: Any, tmp_path: Path) -> None:
    page, errors = _open(browser, first_batch["report"] / "group.html", tmp_path / "group.png")
    assert errors == []
    rows = page.locator("#group-table tbody tr")
    assert rows.count() == 3
    assert page.locator("#failures li").count() == 2
    assert page.locator("svg").count() >= 4
    first = rows.nth(0).inner_text()
    assert "Ana Ruiz" in first and "169" in first
    page.locator("#group-table a", has_text="Ana Ruiz").click()
    page.wait_for_load_state()
    assert page.url.endswith("athletes/ana-ruiz.html")
    page, errors = _open(browser, later_batch["report"] / "athletes" / "ana-ruiz.html",
                         tmp_path / "athlete.png")
    assert errors == []
    assert page.locator("#history-table tbody tr").count() == 2
    assert page.locator("#moved-table tbody tr").count() >= 4
    assert page.locator("figure svg polyline").count() >= 4  # one trend line per metric
    print(f"screenshots: {tmp_path / 'group.png'} {tmp_path / 'athlete.png'}")
