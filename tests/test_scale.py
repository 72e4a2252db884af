"""--height-cm: % of leg length in cm, and pose.trc in metres."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import random_series
from test_findings import build_analysis

from gaitcheck.findings import RunnerContext, evaluate
from gaitcheck.landmarks import LEG
from gaitcheck.pose import save_outputs
from gaitcheck.scale import LEG_SHARE_OF_HEIGHT, metres_per_pixel, pct_leg_to_cm


def _legs(n: int = 10, thigh_px: float = 200.0, shank_px: float = 210.0) -> np.ndarray:
    xy = np.full((n, 33, 2), np.nan)
    for side, x in (("left", 300.0), ("right", 320.0)):
        hip, knee, ankle = LEG[side][:3]
        xy[:, hip] = (x, 400.0)
        xy[:, knee] = (x, 400.0 + thigh_px)
        xy[:, ankle] = (x, 400.0 + thigh_px + shank_px)
    return xy


def test_metres_per_pixel_from_height() -> None:
    # 410 px of leg for a 180 cm runner: leg = 0.491 * 1.80 m
    assert metres_per_pixel(_legs(), 180.0) == pytest.approx(0.491 * 1.80 / 410.0)
    assert metres_per_pixel(np.full((5, 33, 2), np.nan), 180.0) is None
    assert pct_leg_to_cm(10.0, 180.0) == pytest.approx(0.1 * LEG_SHARE_OF_HEIGHT * 180.0)


def test_trc_in_metres_with_height(tmp_path: Path) -> None:
    series = random_series(20)
    series = series.with_arrays(xy_px=_legs(20))
    px = save_outputs(series, tmp_path / "px", trc=True)[-1].read_text().splitlines()
    m = save_outputs(series, tmp_path / "m", trc=True, height_cm=178.0)[-1].read_text()
    m_lines = m.splitlines()
    assert px[2].split("\t")[4] == "px" and m_lines[2].split("\t")[4] == "m"
    scale = 0.491 * 1.78 / 410.0
    # first marker with a value: same point, in metres = pixels x scale
    row_px = px[6].split("\t")
    row_m = m_lines[6].split("\t")
    for a, b in zip(row_px[2:], row_m[2:], strict=True):
        if a:
            assert float(b) == pytest.approx(float(a) * scale, abs=1e-6)
    # a whole leg is about 0.87 m tall in the TRC, a plausible human size
    hip, ankle = LEG["left"][0], LEG["left"][2]
    y = lambda i: float(row_m[2 + 3 * i + 1])  # noqa: E731
    assert y(hip) - y(ankle) == pytest.approx(0.491 * 1.78, rel=1e-6)


def test_height_changes_the_report_text() -> None:
    a = build_analysis("side-left", {"overstride_pct_leg": 38.0})
    texts = {}
    for h in (161.0, 178.0, 184.0):
        f = {x["id"]: x for x in evaluate(a, RunnerContext(height_cm=h))}["overstride"]
        texts[h] = f["what_we_saw"]
        assert f"about {38.0 / 100 * 0.491 * h:.0f} cm for your height of {h:g} cm" in texts[h]
    assert len(set(texts.values())) == 3
    plain = {x["id"]: x for x in evaluate(a)}["overstride"]["what_we_saw"]
    assert " cm " not in plain


def test_report_metrics_table_in_cm() -> None:
    from gaitcheck.report import render_html

    a = build_analysis("side-left", {"overstride_pct_leg": 20.0})
    ctx = RunnerContext(height_cm=180.0)
    html = render_html(a, evaluate(a, ctx), ctx)
    assert f"about {0.2 * 0.491 * 180:.1f} cm for your height" in html
    assert 'href="#ref-winter-2009"' in html and 'id="ref-winter-2009"' in html
    assert "cm for your height" not in render_html(a, evaluate(a))
