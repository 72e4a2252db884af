"""Plots: each function writes a readable PNG of a sensible size and returns its path."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from test_findings import build_analysis

from gaitcheck.plots import (
    SIDE_COLORS,
    KeyFrame,
    overstride_of,
    plot_changes,
    plot_cycle_curve,
    plot_key_frames,
    plot_left_right,
    plot_step_metric,
    step_trend,
    write_bytes_atomic,
)


def _check_png(path: Path, min_w: int = 300, min_h: int = 150) -> np.ndarray:
    assert path.is_file() and path.suffix == ".png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not path.with_name(path.name + ".part").exists()
    img = mpimg.imread(path)
    assert img.shape[1] >= min_w and img.shape[0] >= min_h
    assert float(np.std(img[..., :3])) > 0.01  # not blank
    return img


def _share_of(img: np.ndarray, hex_color: str, tol: float = 0.06) -> float:
    """Share of the image's pixels drawn in ``hex_color`` (within ``tol`` per channel)."""
    rgb = np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    close = np.all(np.abs(img[..., :3] - rgb) <= tol, axis=-1)
    return float(close.mean())


def _drawn(img: np.ndarray, hex_color: str) -> bool:
    # 0.05 % of a 300 x 150 image is ~20 pixels: a line or marker, not an anti-aliased fringe.
    return _share_of(img, hex_color) > 5e-4


def test_cycle_curve(tmp_path: Path) -> None:
    a = build_analysis("side-left")
    p = plot_cycle_curve("knee_flexion_deg", a["cycle_curves"]["knee_flexion_deg"],
                         tmp_path / "c.png")
    img = _check_png(p)
    assert _drawn(img, SIDE_COLORS["left"]) and _drawn(img, SIDE_COLORS["right"])


def test_cycle_curve_with_missing_side(tmp_path: Path) -> None:
    curve = dict(build_analysis("rear")["cycle_curves"]["hip_adduction_deg"])
    curve["right"] = None
    img = _check_png(plot_cycle_curve("hip_adduction_deg", curve, tmp_path / "c.png"))
    assert _drawn(img, SIDE_COLORS["left"]) and not _drawn(img, SIDE_COLORS["right"])


def test_step_metric_and_trend(tmp_path: Path) -> None:
    steps = [{"ic_time_s": t, "foot": "left" if i % 2 == 0 else "right",
              "overstride_pct_leg": 20.0 + 0.5 * t}
             for i, t in enumerate(np.arange(0.0, 30.0, 0.35))]
    trend = step_trend(steps, "overstride_pct_leg")
    assert trend is not None
    assert trend["slope_per_min"] == pytest.approx(30.0)
    assert trend["change_over_clip"] == pytest.approx(0.5 * (steps[-1]["ic_time_s"]))
    img = _check_png(plot_step_metric(steps, "overstride_pct_leg", tmp_path / "s.png",
                                      unit="% leg"))
    assert _drawn(img, SIDE_COLORS["left"]) and _drawn(img, SIDE_COLORS["right"])
    assert step_trend(steps[:3], "overstride_pct_leg") is None
    assert step_trend(steps, "pelvic_drop_deg") is None


def test_step_metric_with_no_values(tmp_path: Path) -> None:
    steps = build_analysis("side-left")["steps"]
    img = _check_png(plot_step_metric(steps, "pelvic_drop_deg", tmp_path / "s.png"))
    assert not _drawn(img, SIDE_COLORS["left"]) and not _drawn(img, SIDE_COLORS["right"])


def test_left_right(tmp_path: Path) -> None:
    a = build_analysis("rear", {"pelvic_drop_deg": (3.0, 7.0)})
    _check_png(plot_left_right(a["metrics"], tmp_path / "all.png"))
    pd = a["metrics"]["pelvic_drop_deg"]
    img = _check_png(plot_left_right({"pelvic_drop_deg": pd}, tmp_path / "lr.png"))
    # Bars of one width from a zero line: their areas are in the ratio of the values, 7 / 3
    # (within 15 % for anti-aliased edges).
    left, right = _share_of(img, SIDE_COLORS["left"]), _share_of(img, SIDE_COLORS["right"])
    assert right / left == pytest.approx(pd["right"] / pd["left"], rel=0.15)
    _check_png(plot_left_right({}, tmp_path / "empty.png"), min_h=100)


@pytest.mark.parametrize("facing", [-1, 1])
def test_key_frames(tmp_path: Path, facing: int) -> None:
    rng = np.random.default_rng(0)
    rgb = (rng.random((240, 180, 3)) * 255).astype(np.uint8)
    sk = np.full((33, 2), 90.0)
    frames = [
        KeyFrame(rgb=rgb, hip_mid_xy_px=(90.0, 100.0), heel_xy_px=(90.0 + facing * 30, 220.0),
                 facing=facing, leg_length_px=120.0, label=f"step {i}", skeleton_xy_px=sk)
        for i in range(3)
    ]
    dx, pct = overstride_of(frames[0])
    assert dx == pytest.approx(30.0) and pct == pytest.approx(25.0)
    img = _check_png(plot_key_frames(frames, tmp_path / "k.png"))
    assert img.shape[1] > img.shape[0]  # a strip
    # The hip-to-heel marker (yellow) and the heel dot (red) are drawn on the frames.
    assert _drawn(img, "#ffd400") and _drawn(img, "#ff3b30")
    _check_png(plot_key_frames([], tmp_path / "none.png"), min_h=50)


def test_changes(tmp_path: Path) -> None:
    rows = [
        {"metric": "cadence_spm", "name": "Cadence", "change_pct": 5.0, "direction": "better",
         "verdict": "better", "exceeds_noise": True},
        {"metric": "pelvic_drop_deg", "name": "Pelvic drop", "change_pct": 12.0,
         "direction": "worse", "verdict": "worse", "exceeds_noise": True},
        {"metric": "trunk_lean_deg", "name": "Trunk lean", "change_pct": 3.0,
         "direction": "worse", "verdict": "within_noise", "exceeds_noise": False},
        {"metric": "x", "name": "none", "change_pct": None},
    ]
    img = _check_png(plot_changes(rows, tmp_path / "ch.png"), min_h=100)
    # Bars take the verdict's colour: one better (green), one worse (red), and a change within
    # the noise in neutral grey.
    assert _drawn(img, "#2e9d4f") and _drawn(img, "#c8372d") and _drawn(img, "#9a9a9a")
    only_better = _check_png(plot_changes(rows[:1], tmp_path / "b.png"), min_h=100)
    assert _drawn(only_better, "#2e9d4f") and not _drawn(only_better, "#c8372d")


def test_atomic_write(tmp_path: Path) -> None:
    p = write_bytes_atomic(tmp_path / "sub" / "f.bin", b"abc")
    assert p.read_bytes() == b"abc"
    assert sorted(x.name for x in p.parent.iterdir()) == ["f.bin"]


# --------------------------------------------------------------------------- report v2 (#13)
def _edges_blank(img: np.ndarray, px: int = 3) -> bool:
    """True when no dark pixel touches the image border: nothing was cut at the edge."""
    rgb = img[..., :3]
    border = np.concatenate([rgb[:px].reshape(-1, 3), rgb[-px:].reshape(-1, 3),
                             rgb[:, :px].reshape(-1, 3), rgb[:, -px:].reshape(-1, 3)])
    return bool(np.all(border.mean(axis=1) > 0.8))


def _steps(values: np.ndarray) -> list[dict]:
    return [{"ic_time_s": 0.35 * i, "foot": "left" if i % 2 == 0 else "right",
             "overstride_pct_leg": float(v)} for i, v in enumerate(values)]


def test_trend_drawn_only_when_significant() -> None:
    n = 34  # a 12 s clip at ~170 steps/min
    t = 0.35 * np.arange(n)
    # four full periods of a cosine wobble: symmetric in time, so its least-squares slope is 0
    flat = step_trend(_steps(25 + 3 * np.cos(2 * np.pi * 4 * t / t[-1])), "overstride_pct_leg")
    assert flat is not None and flat["significant"] is False and flat["p_value"] > 0.5
    # +0.5 % leg per second (5.8 over the clip) under the same wobble: p far below 0.05
    drift = step_trend(_steps(25 + 0.5 * t + 3 * np.cos(2 * np.pi * 4 * t / t[-1])),
                       "overstride_pct_leg")
    assert drift is not None and drift["significant"] is True and drift["p_value"] < 1e-3


def test_no_spread_band_from_two_cycles(tmp_path: Path) -> None:
    curve = build_analysis("side-left")["cycle_curves"]["knee_flexion_deg"]

    def with_(n: int, sd: float) -> dict:
        out = {k: v for k, v in curve.items()}
        for side in ("left", "right"):
            out[side] = dict(curve[side], n_cycles=n, sd=[sd] * 101)
        return out

    two_wide = mpimg.imread(plot_cycle_curve("knee_flexion_deg", with_(2, 8.0), tmp_path / "a.png"))
    two_none = mpimg.imread(plot_cycle_curve("knee_flexion_deg", with_(2, 0.0), tmp_path / "b.png"))
    six_wide = mpimg.imread(plot_cycle_curve("knee_flexion_deg", with_(6, 8.0), tmp_path / "c.png"))
    assert np.array_equal(two_wide, two_none)  # the SD of two strides is not drawn
    assert not np.array_equal(six_wide, two_wide)


@pytest.mark.parametrize("name", ["Overstride (heel ahead of hips at landing)",
                                  "A very long user-facing measure name that goes on and on"])
def test_step_plot_labels_not_cut_and_band_drawn(tmp_path: Path, name: str) -> None:
    steps = _steps(25 + np.random.default_rng(1).normal(0, 2, 30))
    with_band = mpimg.imread(plot_step_metric(steps, "overstride_pct_leg", tmp_path / "a.png",
                                              name=name, unit="% leg",
                                              typical_range=(0.0, 15.0)))
    assert _edges_blank(with_band)
    green = np.all(np.abs(with_band[..., :3] - np.array([0.88, 0.95, 0.9])) < 0.04, axis=-1)
    assert green.sum() > 1000  # the typical-range band is visible


def test_cycle_and_compare_titles_not_cut(tmp_path: Path) -> None:
    a = build_analysis("side-left")
    for key, curve in a["cycle_curves"].items():
        assert _edges_blank(mpimg.imread(plot_cycle_curve(key, curve, tmp_path / f"{key}.png")))
    rows = [{"metric": "cadence_spm", "name": "Step rate (cadence)", "change_pct": -1.0,
             "before": 170.0, "noise": 2.4, "verdict": "within noise"}]
    assert _edges_blank(mpimg.imread(plot_changes(rows, tmp_path / "ch.png")))


def test_key_frame_shows_the_analysis_value_and_the_legs(tmp_path: Path) -> None:
    from gaitcheck.plots import key_frame_text

    rgb = np.full((1280, 720, 3), 200, np.uint8)  # a portrait phone frame
    fr = KeyFrame(rgb=rgb, hip_mid_xy_px=(360.0, 800.0), heel_xy_px=(300.0, 1180.0),
                  facing=-1, leg_length_px=380.0, label="left foot lands",
                  value_pct_leg=23.4)
    # the frame alone gives 60/380 = 15.8%; the analysis (sub-frame contact) said 23.4%
    assert key_frame_text(fr) == "+23% of leg length"
    img = mpimg.imread(plot_key_frames([fr], tmp_path / "k.png"))
    # cropped to the legs: the whole portrait frame would be 1280/720 = 1.78 tall per wide
    assert img.shape[0] / img.shape[1] < 1.4
