"""Compare: right signs and directions between two synthetic runs; clear file errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from test_findings import build_analysis

from gaitcheck.compare import compare, load_analysis, write_compare
from gaitcheck.errors import AnalysisError, ConfigError
from gaitcheck.findings import evaluate


def _rows(result: dict) -> dict[str, dict]:
    return {r["metric"]: r for r in result["rows"]}


def test_side_view_changes_have_the_right_signs() -> None:
    before = build_analysis("side-left", {"cadence_spm": 156.0, "overstride_pct_leg": 36.0,
                                          "knee_flexion_ic_deg": 9.0, "trunk_lean_deg": 7.0})
    after = build_analysis("side-left", {"cadence_spm": 168.0, "overstride_pct_leg": 24.0,
                                         "knee_flexion_ic_deg": 18.0, "trunk_lean_deg": 9.0})
    rows = _rows(compare(before, after))
    cad = rows["cadence_spm"]
    assert cad["change"] == pytest.approx(12.0) and cad["change_pct"] == pytest.approx(7.69, 0.01)
    assert cad["direction"] == "better" and cad["verdict"] == "better"
    ov = rows["overstride_pct_leg"]
    assert ov["change"] == pytest.approx(-12.0) and ov["direction"] == "better"
    assert ov["exceeds_noise"] is True
    assert rows["knee_flexion_ic_deg"]["direction"] == "better"
    assert rows["trunk_lean_deg"]["direction"] == "neutral"
    assert rows["foot_strike"]["direction"] == "same"
    # reversed order flips every sign
    back = _rows(compare(after, before))
    assert back["cadence_spm"]["direction"] == "worse"
    assert back["overstride_pct_leg"]["change"] == pytest.approx(12.0)
    assert back["overstride_pct_leg"]["verdict"] == "worse"


def test_rear_view_noise_from_dingenen() -> None:
    before = build_analysis("rear", {"pelvic_drop_deg": 8.0, "hip_adduction_deg": 16.0})
    after = build_analysis("rear", {"pelvic_drop_deg": 7.0, "hip_adduction_deg": 10.0})
    rows = _rows(compare(before, after))
    pd = rows["pelvic_drop_deg"]
    assert pd["direction"] == "better" and pd["noise"] == 2.7
    assert pd["exceeds_noise"] is False and pd["verdict"] == "within noise"
    assert "Dingenen 2018" in pd["noise_source"]
    ha = rows["hip_adduction_deg"]
    assert ha["exceeds_noise"] is True and ha["verdict"] == "better"
    assert rows["step_width_pct_hip"]["direction"] == "same"


def test_statistical_noise_when_no_sdd() -> None:
    a = build_analysis("side-left", {"cadence_spm": 170.0})
    b = build_analysis("side-left", {"cadence_spm": 171.0})
    cad = _rows(compare(a, b))["cadence_spm"]
    # 1.96 * sqrt(3^2/12 * 2) = 2.4 steps/min
    assert cad["noise"] == pytest.approx(1.96 * (2 * 9 / 12) ** 0.5, rel=1e-3)
    assert cad["verdict"] == "within noise" and "spread" in cad["noise_source"]


def test_different_views_and_findings_diff() -> None:
    a = build_analysis("side-left", {"overstride_pct_leg": 36.0})
    b = build_analysis("rear", {"pelvic_drop_deg": 9.0})
    a["findings"], b["findings"] = evaluate(a), evaluate(b)
    result = compare(a, b)
    assert [r["metric"] for r in result["rows"]] == ["cadence_spm"]
    assert "Different camera views" in result["warnings"][0]
    # the rear clip never measured overstride: that is not "resolved"
    assert result["findings_resolved"] == [] and result["findings_new"] == []
    assert set(result["findings_not_comparable"]) == {"overstride", "pelvic_drop"}


def test_low_confidence_flagged() -> None:
    a = build_analysis("rear", levels={"pelvic_drop_deg": "low"})
    b = build_analysis("rear")
    result = compare(a, b)
    assert _rows(result)["pelvic_drop_deg"]["low_confidence"] is True
    assert any("Low confidence" in n for n in result["notes"])


def test_write_compare(tmp_path: Path) -> None:
    a = build_analysis("side-left", {"cadence_spm": 156.0, "overstride_pct_leg": 36.0})
    b = build_analysis("side-left", {"cadence_spm": 168.0, "overstride_pct_leg": 24.0})
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "analysis.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    paths = write_compare(tmp_path / "a", tmp_path / "b.json", tmp_path / "out")
    assert {p.name for p in paths.values()} == {"compare.md", "compare.html", "compare.json",
                                                 "compare.png"}
    md = paths["md"].read_text(encoding="utf-8")
    assert "| Step rate (cadence) (steps/min) | 156 | 168 | +12 (+8%) | better |" in md
    assert "| Overstride" in md and "-12.0 (-33%) | better |" in md
    html = paths["html"].read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "class='good'" in html
    img = mpimg.imread(paths["plot"])
    assert img.shape[0] > 100 and img.shape[1] > 300
    assert json.loads(paths["json"].read_text())["rows"]
    assert not list((tmp_path / "out").glob("*.part"))


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_analysis(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(AnalysisError, match="is not valid JSON"):
        load_analysis(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": 1}))
    with pytest.raises(AnalysisError, match="not a gaitcheck analysis"):
        load_analysis(other)
    with pytest.raises(ConfigError, match="does not exist"):
        write_compare(tmp_path / "nope", other, tmp_path / "out")


# --------------------------------------------------------------------------- report v2 (#13)
def _visible_text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    html = re.sub(r'src="data:[^"]+"', " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def test_not_measured_in_b_is_not_resolved(tmp_path: Path) -> None:
    a = build_analysis("side-left", {"overstride_pct_leg": 36.0})
    b = build_analysis("rear", {"pelvic_drop_deg": 9.0})
    a["findings"], b["findings"] = evaluate(a), evaluate(b)
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pa.write_text(json.dumps(a))
    pb.write_text(json.dumps(b))
    out = write_compare(pa, pb, tmp_path / "cmp")
    md = out["md"].read_text()
    html = _visible_text(out["html"].read_text())
    for page in (md, html):
        assert "No longer flagged" not in page and "Newly flagged" not in page
        assert "Not measured in the second run" in page and "Different camera views" in page
        assert "This is not a change" in page


def test_same_view_resolved_and_new_use_titles(tmp_path: Path) -> None:
    a = build_analysis("side-left", {"overstride_pct_leg": 36.0})
    b = build_analysis("side-left", {"vertical_oscillation_pct_leg": 20.0})
    a["findings"], b["findings"] = evaluate(a), evaluate(b)
    result = compare(a, b)
    assert result["findings_resolved"] == ["overstride"]
    assert result["findings_new"] and result["findings_not_comparable"] == []
    assert result["warnings"] == []
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pa.write_text(json.dumps(a))
    pb.write_text(json.dumps(b))
    out = write_compare(pa, pb, tmp_path / "cmp")
    for page in (out["md"].read_text(), _visible_text(out["html"].read_text())):
        assert "No longer flagged: Landing with the foot well ahead" in page
        # user-facing names only: no rule or metric ids anywhere in the text
        ids = set(result["findings_resolved"] + result["findings_new"])
        ids |= {r["metric"] for r in result["rows"]}
        words = set(re.findall(r"[a-z]+(?:_[a-z]+)+", page))
        assert not (words & ids), words & ids
        assert "side-left" not in page and "side view" in page


def test_activity_and_person_warnings() -> None:
    a = build_analysis("side-left")
    b = build_analysis("side-left")
    a["activity"], b["activity"] = {"label": "running"}, {"label": "walking"}
    a["quality"]["body_proportions"] = {"shank_to_thigh": 1.02, "trunk_to_leg": 0.62}
    b["quality"]["body_proportions"] = {"shank_to_thigh": 0.80, "trunk_to_leg": 0.63}
    warn = compare(a, b)["warnings"]
    assert any("Different activities" in w for w in warn)
    assert any("different people" in w and "shin-to-thigh" in w for w in warn)
    # within the tolerance: same person, no warning
    b["quality"]["body_proportions"] = {"shank_to_thigh": 0.98, "trunk_to_leg": 0.64}
    b["activity"] = {"label": "running"}
    assert compare(a, b)["warnings"] == []


def test_change_within_noise_is_not_coloured(tmp_path: Path) -> None:
    """A -1% step-rate change (within noise) is drawn grey on an axis of at least ±10%, so it
    neither looks large nor red."""
    from gaitcheck.plots import plot_changes

    a = build_analysis("side-left", {"cadence_spm": 170.0})
    b = build_analysis("side-left", {"cadence_spm": 168.3})
    rows = [r for r in compare(a, b)["rows"] if r["metric"] == "cadence_spm"]
    assert rows[0]["verdict"] == "within noise" and rows[0]["direction"] == "worse"
    img = mpimg.imread(plot_changes(rows, tmp_path / "c.png"))[..., :3]
    red = np.all(np.abs(img - np.array([0xC8, 0x37, 0x2D]) / 255) < 0.05, axis=-1)
    green = np.all(np.abs(img - np.array([0x2E, 0x9D, 0x4F]) / 255) < 0.05, axis=-1)
    grey = np.all(np.abs(img - 0x9A / 255) < 0.02, axis=-1)
    assert red.sum() == 0 and green.sum() == 0 and grey.sum() > 50
    # 1% of a span of at least 2 x 11.5%: the bar is under 10% of the plot width
    cols = np.where(grey.sum(axis=0) > 10)[0]  # bar columns, not anti-aliased text
    assert cols.max() - cols.min() < 0.1 * img.shape[1]
