"""Camera view detection (``gaitcheck.view``) on the synthetic runner."""

from __future__ import annotations

import numpy as np
import pytest

from gaitcheck.analysis import analyze_pose
from gaitcheck.clean import clean_series
from gaitcheck.errors import AnalysisError
from gaitcheck.synthetic import generate, mirror
from gaitcheck.view import UNKNOWN, detect_view, facing_of

FACING = {"side-left": -1, "side-right": 1, "rear": 0, "front": 0}


@pytest.mark.parametrize("fps", [30.0, 60.0])
@pytest.mark.parametrize("view", ["side-left", "side-right", "rear", "front"])
def test_detects_each_view(view: str, fps: float) -> None:
    run = generate(view=view, fps=fps, duration_s=4.0, noise_px=1.0)
    res = detect_view(run.series.xy_px, run.series.visibility)
    assert res.label == view
    assert res.confidence > 0.5
    assert res.facing == FACING[view] and res.source == "auto"
    cleaned = clean_series(run.series)
    res2 = detect_view(cleaned.xy_px, cleaned.visibility)
    assert res2.label == view and res2.confidence > 0.5


@pytest.mark.parametrize("view", ["side-left", "side-right"])
def test_overground_and_far_near_leg(view: str) -> None:
    run = generate(view=view, treadmill=False, duration_s=3.0, near_leg="right")
    res = detect_view(run.series.xy_px, run.series.visibility)
    assert res.label == view and res.confidence > 0.5


@pytest.mark.parametrize("swap_labels", [True, False])
def test_mirror_flips_side_views(swap_labels: bool) -> None:
    for view, other in (("side-left", "side-right"), ("side-right", "side-left")):
        run = generate(view=view, duration_s=4.0, noise_px=1.0)
        m = mirror(run.series, swap_labels=swap_labels)
        assert m.meta["view"] == other
        res = detect_view(m.xy_px, m.visibility)
        assert res.label == other and res.confidence > 0.5
        assert res.facing == -FACING[view]


def test_mirror_rear_without_label_swap_reads_as_front() -> None:
    run = generate(view="rear", duration_s=4.0, noise_px=1.0)
    assert detect_view(*_arrays(mirror(run.series, swap_labels=True))).label == "rear"
    front = mirror(run.series, swap_labels=False)
    res = detect_view(*_arrays(front))
    assert front.meta["view"] == "front" and res.label == "front" and res.confidence > 0.5


def test_confidence_drops_without_poses() -> None:
    run = generate(view="side-left", duration_s=4.0)
    xy = run.series.xy_px.copy()
    xy[: xy.shape[0] // 2] = np.nan  # half the frames without a pose
    full = detect_view(run.series.xy_px, run.series.visibility)
    half = detect_view(xy, run.series.visibility)
    assert half.label == "side-left"
    assert half.confidence == pytest.approx(0.5 * full.confidence, abs=0.02)


def test_no_pose_at_all_is_an_unknown_view_not_a_guess() -> None:
    xy = np.full((30, 33, 2), np.nan)
    res = detect_view(xy, np.zeros((30, 33)))
    assert (res.label, res.confidence, res.facing) == (UNKNOWN, 0.0, 0)


def test_a_hidden_left_leg_does_not_blind_view_detection() -> None:
    """The leg-length scale comes from either leg: a side-right runner whose left (far) leg is
    never seen is still a side-right view (it used to read as no vote at all)."""
    run = generate(view="side-right", duration_s=4.0, noise_px=1.0)
    xy = run.series.xy_px.copy()
    xy[:, [25, 27, 29, 31]] = np.nan  # left knee, ankle, heel, toe
    res = detect_view(xy, run.series.visibility)
    assert res.label == "side-right" and res.confidence > 0.5


def test_analysis_refuses_a_view_it_cannot_tell() -> None:
    """No frame can vote on the facing (no feet, no face): the analysis stops with a one-line
    error naming --view instead of measuring as 'side-left, confidence 0'."""
    run = generate(view="side-right", duration_s=4.0)
    xy = run.series.xy_px.copy()
    xy[:, list(range(0, 11)) + [29, 30, 31, 32]] = np.nan  # face and feet
    blind = run.series.with_arrays(xy_px=xy)
    assert detect_view(xy, run.series.visibility).label == UNKNOWN
    with pytest.raises(AnalysisError, match="--view") as err:
        analyze_pose(blind)
    assert len(str(err.value).splitlines()) == 1


def test_facing_of() -> None:
    assert [facing_of(v) for v in ("side-left", "side-right", "rear", "front")] == [-1, 1, 0, 0]


def _arrays(series: object) -> tuple[np.ndarray, np.ndarray]:
    return series.xy_px, series.visibility  # type: ignore[attr-defined]
