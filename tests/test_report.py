"""Report: report.html carries every section with decodable images; report.md is short."""

from __future__ import annotations

import base64
import io
import re
from html import escape
from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
import numpy as np
import pytest
from test_findings import build_analysis

from gaitcheck.findings import RunnerContext, evaluate
from gaitcheck.report import (
    SECTION_IDS,
    key_frame_steps,
    make_key_frames,
    render_html,
    render_markdown,
    write_report,
)

IMG_RE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
CITE_RE = re.compile(r'<a class="cite" href="#[^"]+">(.*?)</a>')


def _plain_cites(html: str) -> str:
    """The page with citation links reduced to their text (to count sentences)."""
    return CITE_RE.sub(r"\1", html)


def _overstrider() -> dict[str, Any]:
    return build_analysis(
        "side-left",
        {"overstride_pct_leg": 38.0, "cadence_spm": 152.0, "shank_angle_ic_deg": 13.0},
    )


def _images(html: str) -> list[np.ndarray]:
    out = []
    for b64 in IMG_RE.findall(html):
        raw = base64.b64decode(b64, validate=True)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        out.append(mpimg.imread(io.BytesIO(raw), format="png"))
    return out


def test_write_report_side_view(tmp_path: Path) -> None:
    a = _overstrider()
    ctx = RunnerContext(height_cm=180, pace="5:15/km", pain=("outer-hip",))
    paths = write_report(a, tmp_path / "out", context=ctx)
    html = paths["html"].read_text(encoding="utf-8")
    assert paths["html"].name == "report.html" and paths["md"].name == "report.md"
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in html, sid
    assert 'id="relief"' in html  # pain was reported
    assert 'id="red-flags"' not in html
    # every plot is embedded and decodes to a sensible image
    pngs = [p for k, p in paths.items() if k.startswith("plot_")]
    assert len(pngs) == 3 + 6 + 1  # 3 cycle curves, 6 per-step metrics, left/right
    images = _images(html)
    assert len(images) == len(pngs)
    for img in images:
        assert img.shape[0] >= 150 and img.shape[1] >= 300 and img.shape[2] in (3, 4)
    for p in pngs:
        assert p.is_file() and p.parent.name == "plots"
    assert not list((tmp_path / "out").rglob("*.part"))
    # content
    assert "Landing with the foot well ahead of the hips" in html
    assert "Your step-rate guide" in html and "160-167 steps/min" in html
    assert "Glute bridge" in html and "Progression" in html
    assert "What a single phone video can and cannot tell" in html
    assert "Bramah 2018" in html and "Dingenen 2018" in html
    assert "10%" in html and "300-500 miles" in html
    assert "The far leg is partly hidden" in html
    assert "Not measured from this view" in html and "pelvic drop" in html
    assert "outer hip" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert 'name="viewport"' in html


def test_report_for_rear_view(tmp_path: Path) -> None:
    a = build_analysis("rear", {"pelvic_drop_deg": (4.0, 9.5)})
    paths = write_report(a, tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    assert "Pelvis dropping on the swing side" in html
    assert "overstride" in html.lower()  # listed as not measured from this view
    assert "plot_cycle_pelvic_obliquity_deg" in paths
    assert "plot_key_frames" not in paths


def test_red_flag_block_exactly_when_given(tmp_path: Path) -> None:
    a = _overstrider()
    plain = write_report(a, tmp_path / "a", plots=False)
    assert 'id="red-flags"' not in plain["html"].read_text(encoding="utf-8")
    assert "See a professional" not in plain["md"].read_text(encoding="utf-8")
    ctx = RunnerContext(red_flags=("night-pain", "numbness"))
    flagged = write_report(a, tmp_path / "b", context=ctx, plots=False)
    html = flagged["html"].read_text(encoding="utf-8")
    md = flagged["md"].read_text(encoding="utf-8")
    assert html.count('id="red-flags"') == 1
    assert html.index('id="red-flags"') < html.index('id="findings"')
    assert "Pain at rest or at night" in html and "Numbness, tingling or weakness" in html
    assert md.index("See a professional") < md.index("What to work on")
    assert "Pain at rest or at night" in md
    # the red-flag entry is not repeated as a numbered finding
    assert "finding-see_a_professional" not in html


def test_markdown_is_short_and_plain() -> None:
    a = _overstrider()
    findings = evaluate(a)
    md = render_markdown(a, findings)
    assert md.startswith("# Running gait check")
    assert "1. **Landing with the foot well ahead of the hips" in md
    assert "Try: Let the foot land closer under your hips." in md
    assert "Glute bridge: 3 sets" in md
    assert "**Step rate:** Aim for about 160-167 steps/min" in md
    assert "## Habits" in md and "not a diagnosis" in md
    assert "<" not in md and "base64" not in md
    assert len(md.splitlines()) < 60


def test_clean_run_says_nothing_stood_out(tmp_path: Path) -> None:
    a = build_analysis("side-right")
    paths = write_report(a, tmp_path, plots=False)
    html = paths["html"].read_text(encoding="utf-8")
    assert "Nothing in this clip stood out" in html
    assert "No plots were made" in html
    assert "Nothing stood out" in paths["md"].read_text(encoding="utf-8")


def test_low_confidence_note_in_report() -> None:
    a = build_analysis("rear", {"pelvic_drop_deg": 12.0}, levels={"pelvic_drop_deg": "low"})
    findings = evaluate(a)
    html = render_html(a, findings)
    assert "Could not judge pelvic drop reliably" in html
    assert "could not be judged reliably" in html
    md = render_markdown(a, findings)
    assert "Could not judge reliably from this clip: pelvic drop" in md
    assert "What to work on" not in md


def test_text_is_escaped() -> None:
    a = build_analysis("side-left", notes=["<script>alert(1)</script> & more"])
    html = render_html(a, [])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


def test_findings_passed_in_are_used(tmp_path: Path) -> None:
    a = _overstrider()
    findings = evaluate(a)[:1]
    html = write_report(a, tmp_path, findings=findings, plots=False)["html"].read_text("utf-8")
    assert html.count('class="card finding') == 1


def test_key_frame_strip(tmp_path: Path) -> None:
    a = _overstrider()
    chosen = key_frame_steps(a, 3)
    assert len(chosen) == 3
    frames = {s["ic_frame"]: np.full((320, 240, 3), 120, np.uint8) for s in chosen}
    xy = {}
    for s in chosen:
        lm = np.full((33, 2), 120.0)
        lm[23], lm[24] = (120, 150), (124, 150)
        lm[25], lm[26] = (100, 220), (104, 220)
        lm[27], lm[28] = (80, 290), (84, 290)
        lm[29], lm[30] = (70, 300), (74, 300)
        xy[s["ic_frame"]] = lm
    kfs = make_key_frames(a, frames, xy)
    assert len(kfs) == 3 and kfs[0].facing == -1
    assert kfs[0].leg_length_px is not None
    paths = write_report(a, tmp_path, key_frames=kfs)
    assert "plot_key_frames" in paths
    html = paths["html"].read_text(encoding="utf-8")
    assert "Landing frames" in html
    assert key_frame_steps(build_analysis("rear")) == []
    assert make_key_frames(a, {}, {}) == []


@pytest.mark.parametrize("view", ["side-left", "rear"])
def test_report_without_optional_sections(tmp_path: Path, view: str) -> None:
    a = build_analysis(view)
    for key in ("cycle_curves", "steps", "events"):
        a.pop(key)
    a["quality"] = {}
    paths = write_report(a, tmp_path)
    html = paths["html"].read_text(encoding="utf-8")
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in html
    assert "No capture-quality remarks" in html


def test_end_to_end_synthetic_runner(tmp_path: Path) -> None:
    """synthetic series -> analyze_pose -> evaluate -> write_report (and the schema holds)."""
    synthetic = pytest.importorskip("gaitcheck.synthetic")
    analysis_mod = pytest.importorskip("gaitcheck.analysis")
    import json

    run = synthetic.generate(duration_s=6.0, cadence_spm=150, overstride_pct_leg=40.0)
    a = analysis_mod.analyze_pose(run.series).to_dict()
    findings = evaluate(a, RunnerContext(pain=("outer-hip",)))
    ids = [f["id"] for f in findings]
    assert "overstride" in ids and "cadence_low" in ids
    a["findings"] = findings
    # The schema ships inside the package: a missing schema is a failure, not a skip.
    import jsonschema

    schema_path = Path(analysis_mod.__file__).parent / "schema" / "analysis.schema.json"
    jsonschema.validate(json.loads(json.dumps(a)), json.loads(schema_path.read_text()))
    paths = write_report(a, tmp_path, findings=findings)
    html = paths["html"].read_text(encoding="utf-8")
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in html
    assert len(_images(html)) >= 4
    assert "overstriding" in paths["md"].read_text(encoding="utf-8")

    rear = synthetic.generate(duration_s=6.0, view="rear")
    b = analysis_mod.analyze_pose(rear.series).to_dict()
    assert [f for f in evaluate(b) if f["kind"] != "unreliable"] == []


def test_shared_advice_is_spelled_out_once() -> None:
    """Overstriding and a reaching shin share their form cues: the second finding refers back
    to the first instead of repeating the same paragraphs."""
    analysis = _overstrider()
    findings = evaluate(analysis)
    firm = [f for f in findings if f.get("form_cues")]
    assert len(firm) >= 2
    shared = {c["text"] for c in firm[0]["form_cues"]} & {c["text"] for c in firm[1]["form_cues"]}
    assert shared, "the fixture should produce two findings with a common cue"
    html = _plain_cites(render_html(analysis, findings))
    for text in shared:
        assert html.count(escape(text)) == 1
    assert f"as in finding {firm[0]['rank']}" in html


# --------------------------------------------------------------------------- report v2 (#13)
def _section_order(html: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', html)


def _finding_numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<div class="card finding[^"]*" id="finding-[^"]+">'
                                       r"<h3>(\d+)\. ", html)]


def test_red_flag_first_outside_numbering_and_switches_off_self_treatment() -> None:
    """With a red flag and outer-hip pain: the see-a-professional block is the first section,
    findings are numbered 1..n (the same numbers in the summary, HTML and Markdown), and every
    self-treatment block (relief, care plan, cues, exercises, step-rate target) is held back."""
    a = _overstrider()
    ctx = RunnerContext(pain=("outer-hip",), red_flags=("night-pain",))
    findings = evaluate(a, ctx)
    html = render_html(a, findings, ctx)
    order = _section_order(html)
    assert order[0] == "red-flags"
    assert "relief" not in order and "pain-care" not in order
    assert "While it hurts" not in html and "anti-inflammator" not in html.lower()
    assert "Your step-rate guide" not in html
    assert "Glute bridge" not in html and "What to try while running" not in html
    assert html.count("held-back") >= 1
    nums = _finding_numbers(html)
    assert nums == list(range(1, len(nums) + 1)) and len(nums) >= 2
    summary = html[html.index('id="summary"'):html.index('id="findings"')]
    assert [int(v) for v in re.findall(r'<li value="(\d+)">', summary)] == nums[:3]
    md = render_markdown(a, findings, ctx)
    assert md.index("See a professional") < md.index("## What to work on")
    md_nums = [int(n) for n in re.findall(r"^(\d+)\. \*\*", md, flags=re.M)]
    assert md_nums == nums[: len(md_nums)]
    assert "Glute bridge" not in md and "Advice held back" in md
    # the same finding has the same number in both
    first_html = re.search(r"<h3>1\. ([^<]+)</h3>", html)
    assert first_html is not None and f"1. **{first_html.group(1)}**" in md


def test_without_red_flag_outer_hip_pain_gets_a_dosed_abductor_plan() -> None:
    a = _overstrider()
    ctx = RunnerContext(pain=("outer-hip",))
    html = render_html(a, evaluate(a, ctx), ctx)
    order = _section_order(html)
    assert order[0] == "summary" and "pain-care" in order and "relief" in order
    care = html[html.index('id="pain-care"'):html.index('id="metrics"')]
    # progressive hip-abductor work, load management and what to avoid
    for name in ("Hip abduction hold", "Side-lying hip abduction", "Hip hitch", "Side plank"):
        assert name in care, name
    assert care.index("Hip abduction hold") < care.index("Side-lying hip abduction")
    assert "Load." in care and "crossing your legs" in care and "3 on a 0-10 scale" in care
    assert 'href="#ref-grimaldi-2015"' in care and 'href="#ref-mellor-2018"' in care


def test_no_compressive_outer_thigh_stretch_is_advised() -> None:
    """Stretching the outer thigh (IT band) compresses the gluteal tendons (Grimaldi 2015):
    every sentence of the report that mentions it must advise against it."""
    a = _overstrider()
    ctx = RunnerContext(pain=("outer-hip:left",))
    text = re.sub(r"<[^>]+>", " ", render_html(a, evaluate(a, ctx), ctx))
    sentences = [x for x in re.split(r"(?<=[.;])\s", text)
                 if re.search(r"outer.thigh|IT band\)? stretch|stretches that pull", x, re.I)]
    assert sentences
    for sentence in sentences:
        assert re.search(r"leave out|skip|avoid", sentence, re.I), sentence


@pytest.mark.parametrize("pain", [("outer-hip",), ()])
def test_every_exercise_named_has_a_visible_dose(pain: tuple[str, ...]) -> None:
    from gaitcheck.findings import load_advice

    a = _overstrider()
    ctx = RunnerContext(pain=pain)
    html = _plain_cites(render_html(a, evaluate(a, ctx), ctx))
    md = render_markdown(a, evaluate(a, ctx), ctx)
    for ex in load_advice()["exercises"].values():
        stem = ex["name"].lower().rstrip("s")
        for page in (html, md):
            if stem in page.lower():
                assert escape(ex["dose"]) in page or ex["dose"] in page, ex["name"]


def test_side_specific_pain_note() -> None:
    a = build_analysis("rear", {"pelvic_drop_deg": (4.0, 9.0)})
    left = RunnerContext(pain=("outer-hip:left",))
    right = RunnerContext(pain=("outer-hip:right",))
    assert left.pain == ("outer-hip",) and left.pain_side("outer-hip") == "left"
    f_left = {f["id"]: f for f in evaluate(a, left)}["pelvic_drop"]
    f_right = {f["id"]: f for f in evaluate(a, right)}["pelvic_drop"]
    assert "not the left side" in f_left["why_it_matters"]
    assert "the side of your outer hip pain" in f_right["why_it_matters"]
    html = render_html(a, evaluate(a, left), left)
    assert "pain at the left outer hip" in html and "steps on the left leg" in html


def test_references_section_resolves_every_citation() -> None:
    from gaitcheck.report.references import load_references

    a = _overstrider()
    ctx = RunnerContext(pain=("outer-hip",))
    html = render_html(a, evaluate(a, ctx), ctx)
    assert _section_order(html)[-1] == "references"
    refs_html = html[html.index('id="references"'):]
    anchors = set(re.findall(r'<li id="(ref-[^"]+)"', refs_html))
    links = set(re.findall(r'<a class="cite" href="#(ref-[^"]+)"', html))
    assert links and links <= anchors  # every in-text link lands on an entry
    assert {"ref-heiderscheit-2011", "ref-bramah-2018", "ref-dingenen-2018"} <= anchors
    by_anchor = {r.anchor: r for r in load_references()}
    for anchor in anchors:
        ref = by_anchor[anchor]
        assert ref.authors and ref.title and ref.journal
        assert ref.doi or not ref.verified or ref.label == "hip-pain guide", ref.label
        if ref.doi:
            assert f"doi:{ref.doi}" in refs_html
    md = render_markdown(a, evaluate(a, ctx), ctx)
    assert "## References" in md and "doi:10.1177/0363546518793657" in md  # Bramah 2018


def test_overlay_video_embedded_with_poster(tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "out"
    out.mkdir()
    (out / "overlay.mp4").write_bytes(b"\x00")  # the report only links it by name
    Image.new("RGB", (90, 160), (10, 200, 30)).save(out / "overlay_poster.jpg")
    paths = write_report(_overstrider(), out, plots=False, overlay=out / "overlay.mp4")
    html = paths["html"].read_text(encoding="utf-8")
    video = re.search(r"<video [^>]*>", html)
    assert video is not None
    assert 'src="overlay.mp4"' in video.group(0)  # relative: works wherever the folder goes
    assert 'poster="data:image/jpeg;base64,' in video.group(0)
    assert str(tmp_path) not in html
    # without an overlay there is no <video>
    plain = write_report(_overstrider(), tmp_path / "plain", plots=False)
    assert "<video" not in plain["html"].read_text(encoding="utf-8")
