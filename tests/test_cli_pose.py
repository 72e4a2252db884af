"""``gaitcheck pose``: outputs, summary, config handling, exit codes for bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from conftest import needs_shared

from gaitcheck.cli import main
from gaitcheck.series import PoseSeries


@needs_shared
def test_pose_command_writes_outputs_and_summary(side_short: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    cfg = tmp_path / "g.toml"
    cfg.write_text("[pose]\nend_s = 1.0\n")
    rc = main(["pose", str(side_short), "-o", str(out), "--trc", "--config", str(cfg), "-q"])
    assert rc == 0
    assert {p.name for p in out.iterdir()} == {"pose.npz", "pose.csv", "pose.trc", "outputs.json"}
    s = PoseSeries.load(out / "pose.npz")
    assert s.n_frames == 30 and s.meta["end_s"] == 1.0
    with open(out / "pose.csv") as fh:
        assert sum(1 for _ in csv.reader(fh)) == 1 + 30 * 33
    said = capsys.readouterr().out
    assert "30 frames at 30 fps" in said and "720x1280" in said and "rotation 0 deg" in said
    assert "model full" in said and "a pose was found in" in said
    # --start/--end on the command line override the file
    rc = main(["pose", str(side_short), "-o", str(out), "--config", str(cfg), "--start", "0.5",
               "-q"])
    assert rc == 0 and PoseSeries.load(out / "pose.npz").n_frames == 15


@needs_shared
def test_failed_run_leaves_earlier_results_intact(side_short: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["pose", str(side_short), "-o", str(out), "--end", "0.3", "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).bytes(5000))
    assert main(["pose", str(junk), "-o", str(out), "-q"]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize(
    ("kind", "words"),
    [("junk", "cannot be read as a video"), ("empty", "is empty"), ("missing", "does not exist"),
     ("gray", "No person was found")],
)
def test_bad_input_exit_code_2(kind: str, words: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from gaitcheck.video import VideoWriter

    path = tmp_path / f"{kind}.mp4"
    if kind == "junk":
        path.write_bytes(np.random.default_rng(0).bytes(5000))
    elif kind == "empty":
        path.touch()
    elif kind == "gray":
        with VideoWriter(path, 160, 240, 30) as w:
            for _ in range(10):
                w.write(np.full((240, 160, 3), 100, np.uint8))
    out = tmp_path / "out"
    assert main(["pose", str(path), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gaitcheck: ") and words in err and str(path) in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_config_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[pose]\nmodle = 'full'\n")
    assert main(["pose", "x.mp4", "-o", str(tmp_path), "--config", str(cfg)]) == 2
    assert "Unknown setting 'pose.modle'" in capsys.readouterr().err
    assert main(["pose", "x.mp4", "-o", str(tmp_path), "--start", "3", "--end", "1"]) == 2
    assert "--end must be later" in capsys.readouterr().err


def test_keyboard_interrupt_exit_130(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import gaitcheck.api

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(gaitcheck.api, "pose_video_to_dir", interrupted)
    assert main(["pose", "x.mp4", "-o", str(tmp_path)]) == 130
