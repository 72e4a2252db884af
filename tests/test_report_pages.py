"""report.html and compare.html in headless Chromium at phone and desktop widths: no text runs
out of its box, and screenshots are saved for a human to look at.

Screenshots go to ``$GAITCHECK_SCREENSHOT_DIR`` when set (else the test's temp folder). Skips
like ``tests/test_browser.py`` when Chromium or playwright is missing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from test_findings import build_analysis

from gaitcheck.compare import write_compare
from gaitcheck.findings import RunnerContext, evaluate
from gaitcheck.report import write_report

WIDTHS = (390, 1280)  # a phone in portrait, a laptop

# Elements whose content is wider than their own box, outside the containers that scroll on
# purpose (wide tables), and the page being wider than the window.
OVERFLOW_JS = """() => {
  const bad = [];
  for (const e of document.querySelectorAll('main *')) {
    if (e.closest('.table-wrap, .wrap') || e.clientWidth === 0) continue;
    if (e.scrollWidth > e.clientWidth + 1)
      bad.push(e.tagName + ': ' + (e.textContent || '').trim().slice(0, 60));
  }
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) bad.push('page wider than the window');
  return bad;
}"""




@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pages")
    side = build_analysis("side-left", {"overstride_pct_leg": 38.0, "cadence_spm": 152.0,
                                        "shank_angle_ic_deg": 13.0})
    ctx = RunnerContext(pain=("outer-hip:left",), red_flags=("night-pain",), height_cm=178)
    flagged = write_report(side, root / "flagged", context=ctx)["html"]
    care = write_report(side, root / "care", context=RunnerContext(pain=("outer-hip",)),
                        plots=False)["html"]
    rear = build_analysis("rear", {"pelvic_drop_deg": 9.0})
    side["findings"], rear["findings"] = evaluate(side), evaluate(rear)
    (root / "a.json").write_text(json.dumps(side))
    (root / "b.json").write_text(json.dumps(rear))
    cmp = write_compare(root / "a.json", root / "b.json", root / "cmp")["html"]
    return {"report_flagged": flagged, "report_care": care, "compare": cmp}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["report_flagged", "report_care", "compare"])
def test_no_text_overflows_and_screenshot(browser: Any, pages: dict[str, Path], name: str,
                                          width: int, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(pages[name].as_uri())
        assert page.evaluate(OVERFLOW_JS) == []
        # every figure fits the column: no plot is cut by the page edge
        widths = page.evaluate("() => [...document.querySelectorAll('img, video')]"
                               ".map(e => [e.getBoundingClientRect().right, window.innerWidth])")
        assert all(right <= inner + 1 for right, inner in widths)
        out = Path(os.environ.get("GAITCHECK_SCREENSHOT_DIR") or tmp_path)
        out.mkdir(parents=True, exist_ok=True)
        shot = out / f"{name}_{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        page.close()


def test_red_flag_is_the_first_thing_on_screen(browser: Any, pages: dict[str, Path]) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 800})
    try:
        page.goto(pages["report_flagged"].as_uri())
        top = page.evaluate(
            "() => document.querySelector('#red-flags').getBoundingClientRect().top")
        assert 0 <= top < 800  # visible without scrolling on a phone
        first = page.evaluate("() => document.querySelector('main section').id")
        assert first == "red-flags"
    finally:
        page.close()
