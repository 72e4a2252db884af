"""Hardening: bad inputs give one clear sentence, output folders stay consistent sets, the pose
cache heals, truncated videos are named, compare and JSON stay strict.

Bad inputs are made in temporary folders from the shared clip; truncated variants are cut with
the ffmpeg binary of imageio-ffmpeg. The slow parts (signals, concurrency) run the real CLI in
subprocesses on the shared clip with its pose already saved, so the model runs only where the
test is about it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import SIDE_CLIP, needs_shared, random_series

from gaitcheck.cli import main
from gaitcheck.config import PoseConfig
from gaitcheck.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USER, SeriesError
from gaitcheck.outputs import MANIFEST, STAGING_PREFIX, read_manifest
from gaitcheck.series import PoseSeries

REPO = Path(__file__).resolve().parents[1]


def ffmpeg(*args: str) -> None:
    """Run the imageio-ffmpeg binary (quiet; raises on failure)."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", *args], check=True,
                   capture_output=True)


def cut(src: Path, dst: Path, share: float) -> Path:
    """The first ``share`` of a file's bytes: an interrupted copy or download."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * share)])
    return dst


def assert_consistent(out: Path) -> dict[str, bytes]:
    """``out`` holds exactly one complete set: every file of outputs.json, nothing else.

    Hidden staging folders of killed processes are allowed (the next run removes them).
    Returns the set's file contents.
    """
    manifest = read_manifest(out)
    assert manifest is not None, f"{out} has no readable {MANIFEST}"
    files = {f: (out / f).read_bytes() for f in manifest["files"]}
    present = {p.relative_to(out).as_posix() for p in out.rglob("*")
               if p.is_file() and not p.relative_to(out).parts[0].startswith(STAGING_PREFIX)}
    assert present == set(files) | {MANIFEST}
    return files


# ---------------------------------------------------------------------------------------------
# bad inputs: table-driven, through the real CLI entry point
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of bad input files, each named for what is wrong with it."""
    from PIL import Image

    from gaitcheck.video import VideoWriter

    d = tmp_path_factory.mktemp("bad")
    if SIDE_CLIP.is_file():
        from gaitcheck.findings import load_rules
        from gaitcheck.video import probe

        probe(SIDE_CLIP), load_rules()  # first imports (cv2, av, tables) out of the timings
        main(["analyze", str(SIDE_CLIP), "-o", str(d / "warm"), "--pace", "x"])
    (d / "empty.mp4").touch()
    (d / "text.mp4").write_text("this is a note, not a video\n" * 20)
    (d / "junk.mp4").write_bytes(np.random.default_rng(1).bytes(20_000))
    Image.new("RGB", (64, 48), (200, 30, 30)).save(d / "image.png")
    shutil.copy(d / "image.png", d / "image.mp4")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac",
           str(d / "audio.m4a"))
    with VideoWriter(d / "gray.mp4", 160, 240, 30) as w:  # no person
        for _ in range(15):
            w.write(np.full((240, 160, 3), 100, np.uint8))
    with VideoWriter(d / "tiny.mp4", 16, 16, 30) as w:
        for _ in range(15):
            w.write(np.full((16, 16, 3), 50, np.uint8))
    with VideoWriter(d / "one_frame.mp4", 160, 240, 30) as w:
        w.write(np.full((240, 160, 3), 80, np.uint8))
    (d / "folder.mp4").mkdir()
    (d / "file_out").write_text("I am a file")
    if SIDE_CLIP.is_file():
        ffmpeg("-i", str(SIDE_CLIP), "-c", "copy", "-movflags", "+faststart",
               str(d / "faststart.mp4"))
        cut(d / "faststart.mp4", d / "cut05.mp4", 0.05)
        cut(SIDE_CLIP, d / "cut_plain50.mp4", 0.5)  # index at the end: unreadable
    with zipfile.ZipFile(d / "garbage.task", "w") as z:
        z.writestr("pose_detector.tflite", b"not a network" * 50)
        z.writestr("pose_landmarks_detector.tflite", b"not a network" * 50)
    (d / "text.task").write_text("not a model")
    rules = {
        "why_list": '[[rules]]\nid = "x"\nmetric = "cadence_spm"\nkind = "threshold"\n'
                    'direction = "low"\nmild = 160\ntypical_range = [160.0, 180.0]\n'
                    'source = "s"\ntitle = "t"\nwhy = ["x"]\n',
        "decimals_text": '[metrics.cadence_spm]\ndecimals = "two"\n',
        "metrics_number": "[metrics]\nname = 5\n",
        "context_text": '[context]\nmileage_change_mild_pct = "10"\n',
    }
    for name, text in rules.items():
        (d / f"rules_{name}.toml").write_text(text)
    (d / "rules_latin1.toml").write_bytes('[context]\nmileage_source = "caf\xe9"\n'
                                          .encode("latin-1"))
    configs = {
        "event_cutoff": "[clean]\nevent_cutoff_hz = -1\n",
        "min_steps": "[events]\nmin_steps = 0\n",
        "filter_order": "[clean]\nfilter_order = 0\n",
        "syntax": "[clean\ncutoff_hz = 8\n",
        "unknown": "[pose]\nmodle = 'full'\n",
        "steps_order": "[events]\nmin_step_s = 1.0\nmax_step_s = 0.5\n",
    }
    for name, text in configs.items():
        (d / f"config_{name}.toml").write_text(text)
    (d / "config_latin1.toml").write_bytes('[pose]\nmodel = "f\xfcll"\n'.encode("latin-1"))
    return d


CLIP = "{clip}"
A = ["analyze", CLIP, "-o", "{out}", "-q"]

# (id, argv, words in the one-sentence message); {clip} the shared clip, {d} the bad folder,
# {out} a fresh output folder that must not exist afterwards.
BAD_CASES: list[tuple[str, list[str], str]] = [
    # videos
    ("missing-video", ["analyze", "{d}/nope.mp4", "-o", "{out}"], "does not exist"),
    ("empty-video", ["analyze", "{d}/empty.mp4", "-o", "{out}"], "is empty"),
    ("text-as-mp4", ["analyze", "{d}/text.mp4", "-o", "{out}"], "cannot be read as a video"),
    ("random-bytes", ["analyze", "{d}/junk.mp4", "-o", "{out}"], "cannot be read as a video"),
    ("folder-as-video", ["analyze", "{d}/folder.mp4", "-o", "{out}"], "is not a file"),
    ("image", ["analyze", "{d}/image.mp4", "-o", "{out}", "-q"], "image.mp4"),
    ("audio-only", ["analyze", "{d}/audio.m4a", "-o", "{out}"], "contains no video frames"),
    ("no-person", ["analyze", "{d}/gray.mp4", "-o", "{out}", "-q"], "No person was found"),
    ("tiny", ["analyze", "{d}/tiny.mp4", "-o", "{out}", "-q"], "No person was found"),
    ("one-frame", ["analyze", "{d}/one_frame.mp4", "-o", "{out}", "-q"], "one_frame.mp4"),
    ("cut-plain", ["analyze", "{d}/cut_plain50.mp4", "-o", "{out}"], "truncated"),
    ("cut-faststart-5pct", ["analyze", "{d}/cut05.mp4", "-o", "{out}"], "too little to analyse"),
    # output folder
    ("out-is-file", ["analyze", CLIP, "-o", "{d}/file_out"], "is an existing file"),
    ("out-under-file", ["analyze", CLIP, "-o", "{d}/file_out/sub"], "is a file"),
    ("pose-out-is-file", ["pose", CLIP, "-o", "{d}/file_out"], "is an existing file"),
    ("demo-out-is-file", ["demo", "-o", "{d}/file_out"], "is an existing file"),
    # numbers
    ("start-nan", [*A, "--start", "nan"], "--start must be a finite number"),
    ("end-nan", [*A, "--end", "nan"], "--end must be a finite number"),
    ("start-huge", [*A, "--start", "1e308"], "--start must be at most"),
    ("start-negative", [*A, "--start", "-1"], "--start must be at least 0"),
    ("end-before-start", [*A, "--start", "3", "--end", "1"], "--end must be later"),
    ("start-after-video", [*A, "--start", "100"], "is not inside"),
    ("fps-1e10", [*A, "--capture-fps", "1e10"], "--capture-fps must be at most 2000"),
    ("fps-1e12", [*A, "--capture-fps", "1e12"], "--capture-fps must be at most 2000"),
    ("fps-zero", [*A, "--capture-fps", "0"], "--capture-fps must be at least 1"),
    ("fps-inf", [*A, "--capture-fps", "inf"], "--capture-fps must be a finite number"),
    ("height-nan", [*A, "--height-cm", "nan"], "--height-cm must be a finite number"),
    ("height-huge", [*A, "--height-cm", "1e308"], "outside 100-230 cm"),
    ("height-small", [*A, "--height-cm", "50"], "outside 100-230 cm"),
    ("mileage-nan", [*A, "--mileage-change", "nan"], "--mileage-change must be a finite"),
    ("mileage-huge", [*A, "--mileage-change", "1e10"], "--mileage-change must be at most"),
    # runner context
    ("pace-words", [*A, "--pace", "fast"], "Pace 'fast' is not understood"),
    ("pace-too-fast", [*A, "--pace", "0:30/km"], "outside running speeds"),
    ("pain-unknown", [*A, "--pain", "elbow"], "Pain location 'elbow' is not known"),
    ("red-flag-unknown", [*A, "--red-flag", "sneezing"], "Red flag 'sneezing' is not known"),
    # rules tables
    ("rules-missing", [*A, "--rules", "{d}/nope.toml"], "does not exist"),
    ("rules-why-list", [*A, "--rules", "{d}/rules_why_list.toml"], "'why' must be text"),
    ("rules-decimals-text", [*A, "--rules", "{d}/rules_decimals_text.toml"],
     "'decimals' must be a whole number"),
    ("rules-metrics-number", [*A, "--rules", "{d}/rules_metrics_number.toml"],
     "'name' must be a table"),
    ("rules-context-text", [*A, "--rules", "{d}/rules_context_text.toml"],
     "'mileage_change_mild_pct' must be a number"),
    ("rules-not-utf8", [*A, "--rules", "{d}/rules_latin1.toml"], "is not UTF-8 text"),
    # settings files
    ("config-missing", [*A, "--config", "{d}/nope.toml"], "does not exist"),
    ("config-not-utf8", [*A, "--config", "{d}/config_latin1.toml"], "is not UTF-8 text"),
    ("config-event-cutoff", [*A, "--config", "{d}/config_event_cutoff.toml"],
     "clean.event_cutoff_hz' must be greater than 0"),
    ("config-min-steps", [*A, "--config", "{d}/config_min_steps.toml"],
     "events.min_steps' must be at least 2"),
    ("config-filter-order", [*A, "--config", "{d}/config_filter_order.toml"],
     "clean.filter_order' must be at least 1"),
    ("config-syntax", [*A, "--config", "{d}/config_syntax.toml"], "is not valid TOML"),
    ("config-unknown-key", [*A, "--config", "{d}/config_unknown.toml"],
     "Unknown setting 'pose.modle'"),
    ("config-step-order", [*A, "--config", "{d}/config_steps_order.toml"],
     "must be larger than 'events.min_step_s'"),
    # models
    ("model-missing", [*A, "--model", "{d}/nope.task"], "is neither lite, full, heavy"),
    ("model-text", [*A, "--model", "{d}/text.task"], "not a zip archive"),
    ("model-garbage-tflite", [*A, "--model", "{d}/garbage.task", "--end", "1"],
     "cannot be loaded by MediaPipe"),
    # pose command
    ("pose-start-nan", ["pose", CLIP, "-o", "{out}", "--start", "nan"], "--start must be a"),
    ("pose-fps-huge", ["pose", CLIP, "-o", "{out}", "--capture-fps", "1e9"], "at most 2000"),
]


@needs_shared
@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in BAD_CASES],
                         ids=[c[0] for c in BAD_CASES])
def test_bad_input_is_one_sentence_exit_2_no_leftovers(
    argv: list[str], words: str, bad: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    before = {p.name: p.stat().st_mtime_ns for p in bad.iterdir()}
    args = [a.format(clip=SIDE_CLIP, d=bad, out=out) for a in argv]
    t0 = time.monotonic()
    assert main(args) == EXIT_USER
    took_s = time.monotonic() - t0
    err = capfd.readouterr().err.strip()
    lines = err.splitlines()
    assert len(lines) == 1, err  # one line: no traceback, no FFmpeg or TFLite log lines
    assert lines[0].startswith("gaitcheck: ") and lines[0].endswith("."), err
    assert words in lines[0], err
    print(lines[0])
    assert not out.exists()  # nothing half-written
    assert {p.name: p.stat().st_mtime_ns for p in bad.iterdir()} == before  # inputs untouched
    if "--end" not in args and not any(k in args[1] for k in ("gray", "tiny", "one_frame",
                                                               "image")):
        # Checked up front, before the model: its run over the clip's 360 frames takes about
        # 20 s of CPU on 2 cores (measured with `gaitcheck pose`), so 10 s leaves no room for it.
        assert took_s < 10.0


# ---------------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def analysis_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """analysis.json of the bundled demo (a complete, current-format analysis)."""
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "-o", str(out), "--no-plots"]) == 0
    return out / "analysis.json"


COMPARE_BREAKS: list[tuple[str, Callable[[dict], object], str]] = [
    ("confidence-text", lambda d: d["view"].__setitem__("confidence", "high"),
     "field 'view.confidence'"),
    ("view-list", lambda d: d.__setitem__("view", ["side-left"]), "field 'view'"),
    ("video-text", lambda d: d.__setitem__("video", "clip.mp4"), "field 'video'"),
    ("steps-table", lambda d: d.__setitem__("steps", {"0": {}}), "field 'steps'"),
    ("metric-value-text", lambda d: d["metrics"]["cadence_spm"].__setitem__("value", "170"),
     "field 'metrics.cadence_spm.value'"),
    ("older-format", lambda d: d.pop("cycle_curves"), "older or different format"),
]


@pytest.mark.parametrize(("breaker", "words"), [c[1:] for c in COMPARE_BREAKS],
                         ids=[c[0] for c in COMPARE_BREAKS])
def test_compare_names_file_and_field(breaker: Callable[[dict], object], words: str,
                                      analysis_json: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(analysis_json.read_text())
    breaker(data)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    out = tmp_path / "cmp"
    assert main(["compare", str(analysis_json), str(broken), "-o", str(out)]) == EXIT_USER
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(broken) in err and words in err, err
    assert not out.exists()


def test_compare_of_absurd_values_is_strict_json(analysis_json: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(analysis_json.read_text())
    a, b = json.loads(json.dumps(data)), data
    a["metrics"]["cadence_spm"]["value"] = -1.7e308
    b["metrics"]["cadence_spm"]["value"] = 1.7e308  # after - before overflows to inf
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pa.write_text(json.dumps(a))
    pb.write_text(json.dumps(b))
    assert main(["compare", str(pa), str(pb), "-o", str(tmp_path / "c")]) == 0
    text = (tmp_path / "c" / "compare.json").read_text()

    def reject(name: str) -> None:
        raise AssertionError(f"non-JSON constant {name}")

    json.loads(text, parse_constant=reject)  # no Infinity, -Infinity or NaN
    assert_consistent(tmp_path / "c")


# ---------------------------------------------------------------------------------------------
# error contract: internal errors, interrupts
# ---------------------------------------------------------------------------------------------
def test_internal_error_is_one_line_with_log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import gaitcheck.api

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug deep inside")

    monkeypatch.setattr(gaitcheck.api, "analyze_video_to_dir", broken)
    assert main(["analyze", "x.mp4", "-o", str(tmp_path / "o")]) == EXIT_INTERNAL
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "internal error (ZeroDivisionError)" in err
    log = Path(err.split("details in ")[1].split(")")[0])
    assert log.parent == Path(os.environ["GAITCHECK_CACHE_DIR"]) / "logs"
    text = log.read_text()
    assert "Traceback" in text and "a bug deep inside" in text and "def broken" not in err


def test_interrupt_exit_130(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    import gaitcheck.api

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(gaitcheck.api, "analyze_video_to_dir", interrupted)
    assert main(["analyze", "x.mp4", "-o", str(tmp_path / "o")]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err.startswith("gaitcheck: interrupted")


# ---------------------------------------------------------------------------------------------
# output sets
# ---------------------------------------------------------------------------------------------
def test_rerun_without_plots_removes_the_old_plots(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["demo", "-o", str(out)]) == 0
    first = assert_consistent(out)
    assert any(f.startswith("plots/") for f in first)
    assert main(["demo", "-o", str(out), "--no-plots"]) == 0
    second = assert_consistent(out)
    assert not any(f.startswith("plots/") for f in second) and not (out / "plots").exists()
    assert read_manifest(out)["command"] == "demo"  # type: ignore[index]


def test_foreign_files_are_kept_and_dead_staging_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the coach's own notes")
    dead = out / f"{STAGING_PREFIX}999999999-deadbeef"  # no such process
    dead.mkdir()
    (dead / "analysis.json").write_text("{}")
    assert main(["demo", "-o", str(out), "--no-plots"]) == 0
    assert (out / "notes.txt").read_text() == "the coach's own notes"
    assert not dead.exists()


def test_legacy_folder_without_manifest_is_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "plots").mkdir(parents=True)
    (out / "overlay.mp4").write_bytes(b"old overlay of another video")
    (out / "plots" / "key_frames.png").write_bytes(b"old")
    assert main(["demo", "-o", str(out), "--no-plots"]) == 0
    assert not (out / "overlay.mp4").exists() and not (out / "plots").exists()
    assert_consistent(out)


def test_two_writers_into_one_folder_leave_one_whole_set(tmp_path: Path) -> None:
    from gaitcheck.outputs import output_set

    out = tmp_path / "out"
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            for i in range(15):
                with output_set(out, "test") as oset:
                    (oset.staging / "plots").mkdir()
                    for name in ("analysis.json", "report.md", f"only_{tag}.txt",
                                 f"plots/{tag}{i % 3}.png"):
                        (oset.staging / name).write_text(f"{tag}{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    files = assert_consistent(out)
    assert len(set(files.values())) == 1  # every file from the same run
    assert not list(out.glob(f"{STAGING_PREFIX}*"))


def test_another_commands_set_is_left_alone(analysis_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(analysis_json.parent, out)
    analysis = (out / "analysis.json").read_bytes()
    # compare written into an analysis folder: the analysis stays, compare files are added
    assert main(["compare", str(out), str(analysis_json), "-o", str(out)]) == 0
    assert (out / "analysis.json").read_bytes() == analysis
    assert (out / "compare.json").is_file() and (out / "report.html").is_file()
    assert read_manifest(out)["command"] == "compare"  # type: ignore[index]


def test_concurrent_saves_to_one_file_never_corrupt_it(tmp_path: Path) -> None:
    series = random_series(n=200)
    target = tmp_path / "pose.npz"
    errors: list[BaseException] = []

    def save() -> None:
        try:
            for _ in range(5):
                series.save(target)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert np.array_equal(PoseSeries.load(target).xy_px, series.xy_px, equal_nan=True)
    assert [p.name for p in tmp_path.iterdir()] == ["pose.npz"]  # no temporary leftovers


# ---------------------------------------------------------------------------------------------
# pose series validation and the healing cache
# ---------------------------------------------------------------------------------------------
def test_nan_visibility_is_rejected() -> None:
    s = random_series()
    vis = s.visibility.copy()
    vis[5, 3] = np.nan
    with pytest.raises(SeriesError, match="visibility"):
        s.with_arrays(visibility=vis)


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "zero-bytes":
        path.write_bytes(b"")
    elif how == "bit-flip":
        b = bytearray(data)
        b[len(b) // 3] ^= 0x10
        path.write_bytes(bytes(b))
    else:  # a valid zip whose header or arrays do not fit
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        header = json.loads(str(arrays["header"]))
        if how == "header-type":
            header["fps"] = "thirty"
        else:  # "array-changed": checksum no longer matches
            arrays["xy_px"] = arrays["xy_px"] + 1.0
        arrays["header"] = np.array(json.dumps(header))
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)


DAMAGES = ["truncated", "zero-bytes", "bit-flip", "header-type", "array-changed"]


@pytest.fixture(scope="module")
def short_cache(side_short: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path,
                                                                                    PoseSeries]:
    """A pose cache folder holding one good entry (first 0.3 s of the short clip)."""
    from gaitcheck import pose

    cache = tmp_path_factory.mktemp("cache")
    old = os.environ["GAITCHECK_CACHE_DIR"]
    os.environ["GAITCHECK_CACHE_DIR"] = str(cache)
    try:
        fresh = pose.extract_pose(side_short, PoseConfig(end_s=0.3), progress=False)
    finally:
        os.environ["GAITCHECK_CACHE_DIR"] = old
    return cache, fresh


@needs_shared
@pytest.mark.parametrize("how", DAMAGES)
def test_damaged_cache_entry_is_recomputed_with_a_warning(
    how: str, side_short: Path, short_cache: tuple[Path, PoseSeries], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gaitcheck import pose

    cache = tmp_path / "cache"
    shutil.copytree(short_cache[0], cache)
    monkeypatch.setenv("GAITCHECK_CACHE_DIR", str(cache))
    entry = next((cache / "pose").glob("*.npz"))
    _damage(entry, how)
    with pytest.warns(pose.CacheWarning, match="Discarded a damaged saved pose series"):
        healed = pose.extract_pose(side_short, PoseConfig(end_s=0.3), progress=False)
    assert np.array_equal(healed.xy_px, short_cache[1].xy_px, equal_nan=True)
    assert PoseSeries.load(entry).n_frames == 9  # rewritten, readable again


@needs_shared
def test_damaged_pose_in_output_folder_heals(side_short: Path, tmp_path: Path,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["pose", str(side_short), "-o", str(out), "--end", "0.5", "-q"]
    assert main(argv) == 0
    _damage(out / "pose.npz", "bit-flip")
    damaged = assert_consistent(out)
    # A run that heals the pose but then fails (0.5 s holds no steps) changes nothing.
    assert main(["analyze", *argv[1:]]) == EXIT_USER
    assert assert_consistent(out) == damaged
    capfd.readouterr()
    assert main(argv) == 0
    err = capfd.readouterr().err
    assert "gaitcheck: warning: Discarded a damaged saved pose series" in err
    assert "Traceback" not in err
    assert PoseSeries.load(out / "pose.npz").n_frames == 15
    assert_consistent(out)


@needs_shared
def test_provenance_names_the_file_given(side_short: Path, tmp_path: Path) -> None:
    from gaitcheck.pose import load_or_extract

    cfg = PoseConfig(end_s=0.5)
    first = load_or_extract(side_short, cfg, progress=False)
    copy = tmp_path / "copy of the run.mp4"
    shutil.copy(side_short, copy)
    again = load_or_extract(copy, cfg, progress=False)  # a cache hit (same content)
    assert first.source == str(side_short) and again.source == str(copy)
    assert again.source_sha256 == first.source_sha256


# ---------------------------------------------------------------------------------------------
# subprocess trials: truncated video, signals at each stage, concurrency
# ---------------------------------------------------------------------------------------------
def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gaitcheck.cli", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


@needs_shared
@pytest.mark.slow
def test_truncated_video_is_named_and_ffmpeg_stays_quiet(bad: Path, tmp_path: Path) -> None:
    video = cut(bad / "faststart.mp4", tmp_path / "cut30.mp4", 0.3)
    out = tmp_path / "out"
    proc = run_cli("analyze", str(video), "-o", str(out), "-q", "--no-overlay", "--no-plots")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    # The faststart index announces 12.0 s; the first 30% of the bytes hold 103 frames
    # (3.43 s at 30 fps) - measured once with ffprobe-equivalent PyAV demuxing.
    assert "gaitcheck: warning: The file ends at 3.4 s of 12.0 s" in err
    assert "[h264" not in err and "[mov" not in err and "partial file" not in err
    data = json.loads((out / "analysis.json").read_text())
    assert data["quality"]["truncated_video"] == {"ends_at_s": pytest.approx(3.433, abs=0.05),
                                                  "announced_s": 12.0}
    assert data["video"]["variable_frame_rate"] is False
    assert_consistent(out)


def _wait_for(cond: Callable[[], bool], proc: subprocess.Popen[str], timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def _staged(out: Path, pattern: str) -> Callable[[], bool]:
    return lambda: any(out.glob(f"{STAGING_PREFIX}*/{pattern}"))


@pytest.fixture(scope="module")
def complete_set(side_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder holding a complete analysis set of the shared clip (no overlay).

    Made in-process so the pose comes from the session cache the other real-clip tests fill.
    """
    from gaitcheck.api import analyze_video_to_dir
    from gaitcheck.config import load_config

    out = tmp_path_factory.mktemp("complete") / "out"
    stages: list[str] = []
    analyze_video_to_dir(side_clip, out, load_config(None, {"report": {"overlay": False}}),
                         progress=stages.append)
    assert stages == ["check", "pose", "analysis", "report"]
    return out


STAGES = {
    # pose extraction (a different --end: the saved pose does not fit, the model runs)
    "pose": (["--end", "11.5"], lambda out, cache: lambda: any((cache / "pose").glob("*.lock"))),
    "report": ([], lambda out, cache: _staged(out, "analysis.json")),
    "overlay": (["--overlay"], lambda out, cache: _staged(out, "*overlay.mp4*")),
}


@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize(("sig", "stage"), [
    (signal.SIGINT, "pose"), (signal.SIGTERM, "report"), (signal.SIGKILL, "overlay"),
], ids=["sigint-pose", "sigterm-report", "kill9-overlay"])
def test_signal_at_each_stage_keeps_the_previous_set(sig: int, stage: str, complete_set: Path,
                                                     side_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(complete_set, out)
    before = assert_consistent(out)
    cache = tmp_path / "cache"
    extra, cond = STAGES[stage]
    args = ["analyze", str(side_clip), "-o", str(out), "-q"]
    args += [a for a in extra if a != "--overlay"] + ([] if "--overlay" in extra else
                                                      ["--no-overlay"])
    proc = run_cli(*args, env={"GAITCHECK_CACHE_DIR": str(cache)})
    reached = _wait_for(cond(out, cache), proc, 300)
    assert reached, f"stage {stage} never reached: {proc.communicate()[1]}"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == EXIT_INTERRUPTED, err
        assert err.strip().splitlines()[-1].startswith("gaitcheck: interrupted")
        assert "Traceback" not in err
        assert not list(out.glob(f"{STAGING_PREFIX}*"))  # cleaned up on the way out
    assert assert_consistent(out) == before  # the previous set, byte for byte


@needs_shared
@pytest.mark.slow
def test_concurrent_runs_share_one_model_run(side_clip: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    outs = [tmp_path / "same", tmp_path / "same", tmp_path / "other"]
    procs = [run_cli("analyze", str(side_clip), "-o", str(o), "--end", "2.5", "--no-overlay",
                     "--no-plots", env={"GAITCHECK_CACHE_DIR": str(cache)}) for o in outs]
    errs = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errs
    # The progress bar is drawn only while the model runs: exactly one process ran it, the
    # others waited on the per-video lock and read its result.
    assert sum("side_treadmill_01.mp4" in e for e in errs) == 1, errs
    for o in set(outs):
        files = assert_consistent(o)
        assert not list(o.glob(f"{STAGING_PREFIX}*"))
        data = json.loads(files["analysis.json"])
        assert data["video"]["path"] == str(side_clip)
    assert len(list((cache / "pose").glob("*.npz"))) == 1


# ---------------------------------------------------------------------------------------------
# fuzzing: only gaitcheck's own errors may escape
# ---------------------------------------------------------------------------------------------
def test_fuzz_series_analysis_and_report(tmp_path_factory: pytest.TempPathFactory) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from gaitcheck.analysis import analyze_pose
    from gaitcheck.errors import GaitcheckError
    from gaitcheck.report import write_report

    special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1.0, 1e308, 1e-300])

    @settings(max_examples=int(os.environ.get("GAITCHECK_FUZZ_EXAMPLES", "25")), deadline=None,
              derandomize="GAITCHECK_FUZZ_EXAMPLES" not in os.environ,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(n=st.integers(0, 90), seed=st.integers(0, 2**31 - 1),
           fps=st.one_of(st.floats(1, 240), special), poke=st.lists(special, max_size=4),
           step=st.floats(-0.01, 0.1))
    def check(n: int, seed: int, fps: float, poke: list[float], step: float) -> None:
        rng = np.random.default_rng(seed)
        xy = rng.uniform(-50, 800, (n, 33, 2))
        vis = rng.uniform(0, 1, (n, 33))
        flat = xy.reshape(-1)
        for i, v in enumerate(poke):
            if flat.size:
                flat[(seed + 7919 * i) % flat.size] = v
        try:
            series = PoseSeries(xy_px=xy, world_m=np.zeros((n, 33, 3)), visibility=vis,
                                presence=vis, time_s=np.arange(n) * (1 / 30 + step),
                                fps=fps, frame_size=(720, 1280))
            analysis = analyze_pose(series)
            out = tmp_path_factory.mktemp("fuzz")
            analysis.write(out)
            write_report(analysis.data, out, plots=False)
            json.loads(analysis.to_json(), parse_constant=lambda c: math.nan)
        except GaitcheckError:
            pass

    check()


# ---------------------------------------------------------------------------------------------
# packaging: the wheel carries the bundled model
# ---------------------------------------------------------------------------------------------
@needs_shared
@pytest.mark.slow
def test_wheel_carries_the_model_and_runs_offline(side_clip: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    skip = shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", ".*_cache",
                                  ".hypothesis")

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = {n for n in names if n in ("tests", "notebooks", "benchmarks")
               or n.startswith("out")} if Path(folder) == REPO else set()
        return set(skip(folder, names)) | top

    shutil.copytree(REPO, src, ignore=ignore)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(src), "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(tmp_path / "dist")], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("gaitcheck-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        assert "gaitcheck/data/models/pose_landmarker_full.task" in z.namelist()

    # A fresh venv: the wheel installed into it; its dependencies come from the running
    # environment through a .pth line (a directory added that way is not a site dir, so the
    # editable install living there stays invisible).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(site),
                    str(wheel)], check=True, capture_output=True)
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (site / "zz_deps.pth").write_text("\n".join(deps) + "\n")
    # No network: any download attempt would fail on these proxies.
    env = {**os.environ, "GAITCHECK_CACHE_DIR": str(tmp_path / "cache"),
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
           "PYTHONPATH": ""}
    py = str(venv / "bin" / "python")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([py, "-m", "gaitcheck.cli", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)

    where = subprocess.run([py, "-c", "import gaitcheck; print(gaitcheck.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert where.stdout.startswith(str(site))
    demo = run("demo", "-o", str(tmp_path / "demo"), "--no-plots")
    assert demo.returncode == 0, demo.stderr
    assert (tmp_path / "demo" / "report.html").is_file()
    an = run("analyze", str(side_clip), "-o", str(tmp_path / "an"), "--end", "3", "-q",
             "--no-overlay", "--no-plots")
    assert an.returncode == 0, an.stderr
    meta = PoseSeries.load(tmp_path / "an" / "pose.npz").meta
    assert meta["model_origin"] == "bundled" and meta["model_path"].startswith(str(site))
    assert not (tmp_path / "cache" / "models").exists()  # nothing was downloaded


def test_fuzz_perturbed_real_series(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The demo's real landmarks with gaps, noise, swaps, dropped frames and odd rates: the
    whole analysis and report either work or stop with one of gaitcheck's own errors."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from gaitcheck.analysis import analyze_pose
    from gaitcheck.cli import DEMO_SERIES
    from gaitcheck.errors import GaitcheckError
    from gaitcheck.findings import evaluate
    from gaitcheck.report import write_report

    base = PoseSeries.load(DEMO_SERIES)

    @settings(max_examples=int(os.environ.get("GAITCHECK_FUZZ_EXAMPLES", "8")), deadline=None,
              derandomize="GAITCHECK_FUZZ_EXAMPLES" not in os.environ,
              suppress_health_check=[HealthCheck.too_slow])
    @given(seed=st.integers(0, 2**31 - 1), gap_share=st.floats(0, 0.9),
           noise_px=st.floats(0, 200), keep=st.floats(0.05, 1.0), fps=st.floats(1, 1000),
           swap_share=st.floats(0, 0.5), view=st.sampled_from([None, "side-left", "side-right",
                                                              "rear", "front"]))
    def check(seed: int, gap_share: float, noise_px: float, keep: float, fps: float,
              swap_share: float, view: str | None) -> None:
        rng = np.random.default_rng(seed)
        xy = base.xy_px + rng.normal(0, noise_px + 1e-9, base.xy_px.shape)
        vis = base.visibility.copy()
        gaps = rng.random(base.n_frames) < gap_share
        xy[gaps] = np.nan
        vis[gaps] = 0.0
        swaps = rng.random(base.n_frames) < swap_share
        xy[swaps] = xy[swaps][:, [0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18,
                                  17, 20, 19, 22, 21, 24, 23, 26, 25, 28, 27, 30, 29, 32, 31]]
        rows = np.flatnonzero(rng.random(base.n_frames) < keep)
        try:
            series = base.with_arrays(
                xy_px=xy[rows], world_m=base.world_m[rows], visibility=vis[rows],
                presence=base.presence[rows], time_s=base.time_s[rows] * 30.0 / fps,
                frame_index=np.asarray(base.frame_index)[rows], fps=fps)
            analysis = analyze_pose(series, view=view)
            findings = evaluate(analysis.data)
            write_report(analysis.data, tmp_path_factory.mktemp("fz"), findings=findings,
                         plots=False)

            def reject(name: str) -> None:
                raise AssertionError(f"non-JSON constant {name}")

            json.loads(analysis.to_json(), parse_constant=reject)
        except GaitcheckError:
            pass

    check()


def test_outputs_of_a_series_with_a_repeated_frame(tmp_path: Path) -> None:
    """A phone clip whose second frame repeats the first (seen on a 60 fps conversion): the
    analysis drops the repeat, and drawing still pairs every cleaned row with its frame."""
    from gaitcheck.analysis import analyze_pose
    from gaitcheck.api import write_outputs
    from gaitcheck.synthetic import RunnerParams, generate

    series = generate(RunnerParams(view="side-left", fps=60.0, duration_s=6.0, seed=4)).series
    xy = series.xy_px.copy()
    xy[1] = xy[0]  # the repeated picture gives the same landmarks
    series = series.with_arrays(xy_px=xy, meta={**series.meta, "repeated_frames": [1]})
    analysis = analyze_pose(series)
    assert analysis.cleaned_xy_px is not None and analysis.frame_index is not None
    assert analysis.cleaned_xy_px.shape[0] == series.n_frames - 1
    drawn = analysis.drawn_series(series)
    assert drawn.n_frames == series.n_frames - 1
    assert 1 not in drawn.frame_index.tolist()
    written = write_outputs(analysis, tmp_path / "out", series=series)
    assert written["analysis"].is_file() and written["html"].is_file()
