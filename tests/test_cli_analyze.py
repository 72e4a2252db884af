"""``gaitcheck analyze``, ``demo`` and ``compare`` end to end through ``gaitcheck.cli.main``."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from conftest import needs_shared

from gaitcheck.cli import main
from gaitcheck.findings import metric_info

SCHEMA = Path(__file__).resolve().parents[1] / "gaitcheck" / "schema" / "analysis.schema.json"


def _table_value(out: str, metric: str) -> float:
    """The printed value of a metric, found by its human name (the table shows no keys)."""
    name = re.escape(str(metric_info(metric)["name"])[:43])
    assert metric not in out, f"internal key {metric} printed"
    m = re.search(rf"^{name}\s+(-?\d+\.\d)", out, flags=re.MULTILINE)
    assert m, f"{metric} not in the printed table:\n{out}"
    return float(m.group(1))


def _one_line_error(err: str) -> str:
    err = err.strip()
    assert err.startswith("gaitcheck: "), err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["demo", "-o", str(out), "--no-plots"]) == 0
    return out


def test_demo_writes_the_full_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out), "--no-plots"]) == 0  # figures: tests/test_plots.py
    said = capsys.readouterr().out
    for name in ("analysis.json", "steps.csv", "cycles.csv", "report.html", "report.md"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not (out / "overlay.mp4").exists()  # the demo has no video
    data = json.loads((out / "analysis.json").read_text())
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    assert "Step rate (cadence)" in said and "side-left" in said
    cad = _table_value(said, "cadence_spm")
    assert cad == pytest.approx(data["metrics"]["cadence_spm"]["value"], abs=0.06)
    assert cad == pytest.approx(168.9, abs=2.0)
    with open(out / "steps.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(data["steps"]) >= 20
    assert {r["foot"] for r in rows} == {"left", "right"}
    with open(out / "cycles.csv") as fh:
        cyc = list(csv.DictReader(fh))
    assert len(cyc) == 3 * 2 * 101  # knee, hip, shank curves x 2 sides x 101 points
    html = (out / "report.html").read_text()
    assert "<html" in html.lower() and "cadence" in html.lower()


def test_compare_two_demo_runs(demo_dir: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    after = tmp_path / "after"
    after.mkdir()
    data = json.loads((demo_dir / "analysis.json").read_text())
    data["metrics"]["cadence_spm"]["value"] = round(data["metrics"]["cadence_spm"]["value"] + 8,
                                                    2)
    data["metrics"]["overstride_pct_leg"]["value"] = round(
        data["metrics"]["overstride_pct_leg"]["value"] - 10, 2)
    (after / "analysis.json").write_text(json.dumps(data))
    out = tmp_path / "cmp"
    assert main(["compare", str(demo_dir / "analysis.json"), str(after), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert {"compare.json", "compare.md", "compare.html"} <= {p.name for p in out.iterdir()}
    assert "cadence" in said.lower()
    result = json.loads((out / "compare.json").read_text())
    rows = {r["metric"]: r for r in result["rows"]}
    # The edits made above are the truth: +8 steps/min and -10 % leg, both improvements (higher
    # cadence and less overstride are better), each far beyond a 1-2 unit step-to-step noise.
    cad, over = rows["cadence_spm"], rows["overstride_pct_leg"]
    assert cad["change"] == pytest.approx(8.0, abs=0.011)
    assert over["change"] == pytest.approx(-10.0, abs=0.011)
    assert cad["verdict"] == over["verdict"] == "better"
    assert cad["exceeds_noise"] and over["exceeds_noise"]
    # Everything not edited did not move.
    assert all(r["change"] == 0 for k, r in rows.items()
               if k not in ("cadence_spm", "overstride_pct_leg") and r["change"] is not None)


def test_compare_missing_file_is_a_one_line_error(demo_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["compare", str(demo_dir), str(tmp_path / "nothing.json"), "-o",
               str(tmp_path / "c")])
    assert rc == 2
    _one_line_error(capsys.readouterr().err)


def test_analyze_non_video_keeps_earlier_results(demo_dir: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    shutil.copytree(demo_dir, out)
    before = (out / "analysis.json").read_bytes()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(1).bytes(20000))
    assert main(["analyze", str(junk), "-o", str(out), "-q"]) == 2
    err = _one_line_error(capsys.readouterr().err)
    assert str(junk) in err
    assert (out / "analysis.json").read_bytes() == before


def test_bad_config_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[clean]\ncutof_hz = 8\n")
    assert main(["demo", "-o", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "clean.cutof_hz" in _one_line_error(capsys.readouterr().err)
    cfg.write_text("[clean\n")
    assert main(["analyze", "x.mp4", "-o", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "not valid TOML" in _one_line_error(capsys.readouterr().err)


def test_config_with_wrong_type_is_exit_2_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[pose]\ncapture_fps = 'fast'\n")
    assert main(["demo", "-o", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "capture_fps" in _one_line_error(capsys.readouterr().err)


# ---------------------------------------------------------------- the real side clip
@pytest.fixture()
def out_with_pose(side_pose_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(side_pose_dir / "pose.npz", out / "pose.npz")
    return out


@needs_shared
def test_analyze_side_clip(side_clip: Path, out_with_pose: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    out = out_with_pose
    assert main(["analyze", str(side_clip), "-o", str(out), "-q", "--no-plots"]) == 0
    said = capsys.readouterr().out
    assert "side-left" in said
    assert _table_value(said, "cadence_spm") == pytest.approx(168.9, abs=1.5)
    assert _table_value(said, "contact_time_ms") == pytest.approx(250.0, abs=70.0)
    overlay = out / "overlay.mp4"
    assert overlay.is_file() and overlay.stat().st_size > 10_000
    data = json.loads((out / "analysis.json").read_text())
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    assert data["view"] == {"label": "side-left", "confidence": data["view"]["confidence"],
                            "source": "auto"}
    assert data["video"]["n_frames"] == 360 and data["video"]["fps"] == pytest.approx(30.0)
    for name in ("steps.csv", "cycles.csv", "report.html", "report.md"):
        assert (out / name).stat().st_size > 0


@needs_shared
def test_analyze_forced_rear_on_side_clip(side_clip: Path, out_with_pose: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["analyze", str(side_clip), "-o", str(out_with_pose), "-q", "--view", "rear",
               "--no-overlay", "--no-plots"])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err
    # Documented behaviour: a view the user sets is honoured (exit 0), but when the landmarks
    # clearly show another view every metric is marked low confidence with that reason and no
    # finding judges the runner on it (a side clip read as rear gives nonsense such as a 26 deg
    # pelvic drop and a 130 % step width).
    assert rc == 0
    data = json.loads((out_with_pose / "analysis.json").read_text())
    assert data["view"]["label"] == "rear" and data["view"]["source"] == "user"
    assert {"pelvic_drop_deg", "hip_adduction_deg"} <= set(data["metrics"])
    assert "overstride_pct_leg" not in data["metrics"]
    assert "Pelvic drop" in cap.out and "pelvic_drop_deg" not in cap.out
    for key, m in data["metrics"].items():
        assert m["confidence"]["level"] == "low", key
        # the reason names both the forced and the detected view
        assert any("rear" in r and "side-left" in r for r in m["confidence"]["reasons"]), key
    assert any("check --view" in n for n in data["quality"]["notes"])
    assert all(f["kind"] == "unreliable" and f["severity"] == "info"
               for f in data["findings"]), data["findings"]


@needs_shared
def test_analyze_too_short_clip(side_clip: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc = main(["analyze", str(side_clip), "-o", str(out), "-q", "--end", "1.0", "--no-overlay",
               "--no-plots"])
    assert rc == 2
    err = _one_line_error(capsys.readouterr().err)
    assert "steps" in err and re.search(r"Only \d clean steps", err)
    assert not (out / "analysis.json").exists()
