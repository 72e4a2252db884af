"""Terminal side of the report: red flags first, finding numbers as in the report, help text
listing only accepted values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_findings import build_analysis

from gaitcheck.cli import analysis_summary, build_parser
from gaitcheck.findings import RunnerContext, evaluate
from gaitcheck.report import render_html


def _help(command: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return re.sub(r"\s+", " ", sub.choices[command].format_help())


@pytest.mark.parametrize("command", ["analyze", "demo"])
def test_red_flag_help_lists_only_accepted_values(command: str) -> None:
    text = _help(command)
    listed = re.search(r"a warning sign you have: (.*?) \(repeatable\)", text)
    assert listed is not None
    values = [v.strip().replace("- ", "-") for v in listed.group(1).split(",")]
    assert "sudden-sharp" not in text and len(values) >= 5
    for v in values:
        RunnerContext(red_flags=(v,))  # raises ConfigError for a value it would reject
    assert "outer-hip:left" in text


def test_terminal_puts_red_flags_first_and_numbers_like_the_report(tmp_path: Path) -> None:
    a = build_analysis("side-left", {"overstride_pct_leg": 38.0, "cadence_spm": 152.0,
                                     "shank_angle_ic_deg": 13.0})
    a["assessment"] = {"verdict": "judged", "reasons": []}
    a["activity"] = {"label": "running"}
    a["video"] = {"fps": 30.0, "path": "x.mp4"}
    a["view"]["confidence"] = 0.9
    ctx = RunnerContext(red_flags=("night-pain",))
    a["findings"] = evaluate(a, ctx)
    path = tmp_path / "analysis.json"
    path.write_text(json.dumps(a))
    out = analysis_summary({"analysis": path}, tmp_path)
    assert out.index("SEE A PROFESSIONAL") < out.index("VERDICT")
    terminal = re.findall(r"^  (\d+)\. (.+) \((?:marked|moderate|mild|info), ", out, flags=re.M)
    html = render_html(a, a["findings"], ctx)
    report = re.findall(r"<h3>(\d+)\. ([^<]+)</h3>", html)
    assert terminal and terminal == report[: len(terminal)]


def test_demo_report_is_marked_as_a_demo(tmp_path: Path) -> None:
    from gaitcheck.cli import main

    assert main(["demo", "-o", str(tmp_path / "d"), "--no-plots", "-q"]) == 0
    data = json.loads((tmp_path / "d" / "analysis.json").read_text())
    assert data["demo"] is True
    html = (tmp_path / "d" / "report.html").read_text()
    md = (tmp_path / "d" / "report.md").read_text()
    assert "Demo report." in html and "Demo report." in md
    assert html.index("Demo report.") < html.index('id="summary"')
