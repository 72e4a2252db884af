"""PoseSeries: validation, lossless save/load, CSV and TRC layout."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from conftest import random_series

from gaitcheck.errors import SeriesError
from gaitcheck.landmarks import NAMES
from gaitcheck.series import PoseSeries


def test_save_load_round_trip_is_lossless(tmp_path: Path) -> None:
    s = random_series()
    path = s.save(tmp_path / "p")
    assert path.name == "p.npz" and not (tmp_path / "p.npz.part").exists()
    t = PoseSeries.load(path)
    for name in ("xy_px", "world_m", "visibility", "presence", "time_s", "frame_index"):
        np.testing.assert_array_equal(getattr(t, name), getattr(s, name))
    assert (t.fps, t.frame_size, t.rotation_deg, t.source, t.source_sha256, t.model, t.meta) == (
        s.fps, s.frame_size, s.rotation_deg, s.source, s.source_sha256, s.model, s.meta)
    assert t.pose_share == pytest.approx(18 / 20)


def test_csv_columns_and_rows(tmp_path: Path) -> None:
    s = random_series(n=5, nan_rows=(1,))
    s.to_csv(tmp_path / "p.csv")
    with open(tmp_path / "p.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["frame", "time_s", "landmark_id", "landmark", "x_px", "y_px",
                             "world_x_m", "world_y_m", "world_z_m", "visibility", "presence"]
    assert len(rows) == 5 * 33
    r = rows[33 + 25]  # frame 1 (no pose), left knee
    assert (r["frame"], r["landmark_id"], r["landmark"], r["x_px"]) == ("1", "25", "left_knee", "")
    r = rows[2 * 33 + 23]
    assert float(r["x_px"]) == pytest.approx(s.xy_px[2, 23, 0], rel=1e-5)
    assert float(r["time_s"]) == pytest.approx(s.time_s[2], abs=1e-6)


def test_trc_header_and_columns(tmp_path: Path) -> None:
    s = random_series(n=4, nan_rows=(2,))
    lines = (s.to_trc(tmp_path / "p.trc")).read_text().splitlines()
    assert lines[0].startswith("PathFileType\t4")
    assert lines[2].split("\t")[:5] == ["30", "30", "4", "33", "px"]
    names = [c for c in lines[3].split("\t")[2:] if c]
    assert names == list(NAMES)
    data = lines[6].split("\t")
    assert len(data) == 2 + 33 * 3 and data[0] == "1"
    # y is flipped to point up: height - y
    assert float(data[2 + 1]) == pytest.approx(1280 - s.xy_px[0, 0, 1], abs=1e-5)
    assert lines[8].split("\t")[2] == ""  # frame 3 has no pose -> empty fields


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_s": np.r_[0.0, 0.1, 0.1, *np.arange(3, 20) / 10]}, "strictly increasing"),
        ({"time_s": np.full(20, np.nan)}, "NaN"),
        ({"xy_px": np.zeros((20, 32, 2))}, "shape"),
        ({"visibility": np.full((20, 33), 1.5)}, r"\[0, 1\]"),
        ({"rotation_deg": 45}, "multiple of 90"),
        ({"fps": 0.0}, "positive"),
        ({"frame_size": (0, 10)}, "positive"),
        ({"meta": {"a": object()}}, "JSON"),
    ],
)
def test_validation_errors(change: dict, message: str) -> None:
    with pytest.raises(SeriesError, match=message):
        random_series().with_arrays(**change)


def test_load_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(SeriesError, match="not a gaitcheck pose series"):
        PoseSeries.load(bad)
    with pytest.raises(SeriesError, match="does not exist"):
        PoseSeries.load(tmp_path / "missing.npz")


def test_slice_keeps_frame_indices() -> None:
    s = random_series().slice(5, 9)
    assert s.n_frames == 4
    assert s.frame_index is not None and s.frame_index.tolist() == [5, 6, 7, 8]
