"""Self-contained HTML report (inline CSS, plots embedded as base64 PNG; opens offline)."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from .. import __version__
from ..findings import (
    RunnerContext,
    cadence_target,
    limits_statement,
    metric_info,
    pain_care,
    pain_notes,
    prevention_advice,
    prevention_exercises,
    red_flags,
    relief_advice,
    unmeasured_metrics,
)
from ._common import (
    SEVERITY_LABEL,
    SOURCES,
    VERDICT_LABEL,
    activity_word,
    firm,
    fmt,
    is_num,
    metric_decimals,
    n_steps,
    verdict_block,
    view_label,
)
from .references import cited, link_citations, references_html

CSS = """
:root{--fg:#1d2330;--muted:#5b6473;--line:#dde2ea;--card:#f7f9fc;--accent:#1f6fb4;
--info:#6b7785;--mild:#c59a00;--moderate:#d9731e;--marked:#c8372d}
*{box-sizing:border-box}
body{margin:0;font:16px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,
sans-serif;color:var(--fg);background:#fff}
main{max-width:880px;margin:0 auto;padding:16px}
h1{font-size:1.6rem;margin:.4em 0 .2em}h2{font-size:1.25rem;margin:1.6em 0 .5em;
border-bottom:2px solid var(--line);padding-bottom:.2em}h3{font-size:1.05rem;margin:.2em 0}
p{margin:.4em 0}.muted{color:var(--muted);font-size:.92rem}
nav{display:flex;flex-wrap:wrap;gap:.4em .9em;font-size:.9rem;margin:.6em 0 1em}
nav a{color:var(--accent);text-decoration:none}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px;
margin:10px 0}
.finding{border-left:6px solid var(--info)}
.finding.mild{border-left-color:var(--mild)}.finding.moderate{border-left-color:var(--moderate)}
.finding.marked{border-left-color:var(--marked)}
.badge{display:inline-block;font-size:.75rem;font-weight:600;color:#fff;border-radius:99px;
padding:1px 9px;margin-right:6px;vertical-align:middle;background:var(--info)}
.badge.mild{background:var(--mild)}.badge.moderate{background:var(--moderate)}
.badge.marked{background:var(--marked)}.badge.conf{background:#8a94a6}
.redflag{background:#fdecea;border:2px solid var(--marked);border-radius:10px;padding:12px 16px}
.redflag h2{border:none;color:var(--marked);margin-top:0}
a.cite{color:inherit;text-decoration:underline dotted}.refs li{margin:.35em 0}
h4{font-size:.98rem;margin:.8em 0 .2em}
.target{background:#eaf3fb;border:1px solid #bcd6ee}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--card)}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.low td{color:var(--muted)}
figure.overlay video{max-width:100%;max-height:80vh;background:#000;border-radius:6px}
figure{margin:12px 0}figure img{max-width:100%;height:auto;border:1px solid var(--line);
border-radius:6px}figcaption{font-size:.85rem;color:var(--muted)}
details summary{cursor:pointer;font-weight:600}
ul{padding-left:1.2em}li{margin:.2em 0}
@media (max-width:600px){body{font-size:15px}main{padding:10px}th,td{padding:4px 5px}}
.verdict.not_judged{border-color:#c0392b;background:#fdf0ee}
.verdict.partly_judged{border-color:#d9a400;background:#fdf8e6}
@media print{nav{display:none}.card{break-inside:avoid}}
"""

SECTION_IDS = (
    "summary",
    "findings",
    "metrics",
    "plots",
    "quality",
    "prevention",
    "method",
    "limits",
    "references",
)
"""Section ids every report carries (``red-flags``, ``pain-care`` and ``relief`` are added when
relevant; ``red-flags`` always comes first)."""

HELD_BACK = (
    "Held back until a professional has assessed the warning sign you reported (see the top "
    "of this report); take this finding to that appointment."
)
"""What a finding shows instead of its cues and exercises when a red flag was reported."""

DEMO_NOTE = (
    "Made by 'gaitcheck demo' from the bundled landmarks of a sample treadmill clip, not from "
    "your video; run 'gaitcheck analyze VIDEO' for your own report."
)


_TAG = re.compile(r"<[^>]+>")


def _img_tag(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _exercise_li(e: dict[str, Any]) -> str:
    return (f"<li><strong>{escape(e['name'])}</strong>: {escape(e['dose'])}. "
            f"<em>Progression:</em> {escape(e['progression'])}</li>")


def _finding_html(
    f: dict[str, Any], seen: dict[str, Any] | None = None, advice: bool = True
) -> str:
    """One finding card. ``seen`` maps advice ids already shown to the rank that showed them, so
    a cue or exercise shared by several findings is spelled out once and referred to after.
    ``advice=False`` (a red flag was reported) replaces cues and exercises by a note."""
    seen = {} if seen is None else seen
    sev = str(f.get("severity", "info"))
    conf = (f.get("confidence") or {}).get("level", "")
    head = (
        f'<span class="badge {escape(sev)}">{escape(SEVERITY_LABEL.get(sev, sev))}</span>'
        f'<span class="badge conf">confidence: {escape(str(conf))}</span>'
    )
    parts = [
        f'<div class="card finding {escape(sev)}" id="finding-{escape(str(f["id"]))}">',
        f"<h3>{f.get('rank') or ''}. {escape(str(f['title']))}</h3><p>{head}</p>",
        f"<p><strong>What we saw.</strong> {escape(str(f.get('what_we_saw', '')))}</p>",
    ]
    if f.get("why_it_matters"):
        parts.append(
            f"<p><strong>Why it matters for the hip.</strong> "
            f"{escape(str(f['why_it_matters']))}</p>"
        )
    if f.get("note"):
        parts.append(f'<p class="muted">{escape(str(f["note"]))}</p>')
    rank = f.get("rank", "")

    def again(key: str, label: str) -> str | None:
        first = seen.get(key)
        if first is None:
            seen[key] = rank
            return None
        return f'<li class="muted"><strong>{escape(label)}</strong>: as in finding {first}.</li>'

    cues = f.get("form_cues") or []
    exercises = f.get("exercises") or []
    if not advice:
        if cues or exercises:
            parts.append(f'<p class="muted held-back">{escape(HELD_BACK)}</p>')
        cues, exercises = [], []
    if cues:
        items = "".join(
            again(f"cue:{c.get('id', c['title'])}", c["title"])
            or f"<li><strong>{escape(c['title'])}.</strong> {escape(c['text'])}</li>"
            for c in cues
        )
        parts.append(f"<p><strong>What to try while running</strong></p><ul>{items}</ul>")
    if exercises:
        items = "".join(
            again(f"ex:{e.get('id', e['name'])}", e["name"]) or _exercise_li(e)
            for e in exercises
        )
        parts.append(f"<p><strong>Strength and stability work</strong></p><ul>{items}</ul>")
    parts.append("</div>")
    return "".join(parts)


def _metrics_table(analysis: dict[str, Any], height_cm: float | None = None) -> str:
    from ..scale import pct_leg_to_cm

    rows = []
    for key, m in (analysis.get("metrics") or {}).items():
        if not isinstance(m, dict):
            continue
        d = metric_decimals(key)
        name = metric_info(key)["name"]
        conf = m.get("confidence") or {}
        level = str(conf.get("level", ""))
        reasons = "; ".join(conf.get("reasons") or [])
        extra = ""
        if key == "foot_strike" and m.get("pattern"):
            shares = m.get("shares") or {}
            share_txt = ", ".join(
                f"{k} {100 * float(v):.0f}%" for k, v in shares.items() if is_num(v)
            )
            extra = (
                f"<br><span class='muted'>{escape(str(m['pattern']))}: {escape(share_txt)}</span>"
            )
        if m.get("approximate"):
            extra += "<br><span class='muted'>approximate</span>"
        if height_cm is not None and m.get("unit") == "% leg" and is_num(m.get("value")):
            cm = pct_leg_to_cm(float(m["value"]), height_cm)
            extra += f"<br><span class='muted'>about {cm:.1f} cm for your height</span>"
        reason_html = f"<br><span class='muted'>{escape(reasons)}</span>" if reasons else ""
        sd = f" ± {fmt(m.get('sd'), d)}" if is_num(m.get("sd")) else ""
        rows.append(
            f'<tr class="{"low" if level == "low" else ""}"><td>{escape(name)}{extra}</td>'
            f'<td class="num">{fmt(m.get("value"), d)}{sd}</td>'
            f'<td class="num">{fmt(m.get("left"), d)}</td>'
            f'<td class="num">{fmt(m.get("right"), d)}</td>'
            f'<td class="num">{fmt(m.get("asymmetry_pct"), 0)}</td>'
            f"<td>{escape(str(m.get('unit', '')))}</td>"
            f'<td class="num">{escape(str(m.get("n_steps", "–")))}</td>'
            f"<td>{escape(level)}{reason_html}</td>"
            f"<td class='muted'>{escape(str(m.get('source', '')))}</td></tr>"
        )
    head = (
        "<tr><th>Metric</th><th>Mean ± SD</th><th>Left</th><th>Right</th><th>Asym. %</th>"
        "<th>Unit</th><th>Steps</th><th>Confidence</th><th>Source</th></tr>"
    )
    body = "".join(rows) or '<tr><td colspan="9">No metrics.</td></tr>'
    return f'<div class="table-wrap"><table>{head}{body}</table></div>'


def _quality_html(analysis: dict[str, Any]) -> str:
    video = analysis.get("video") or {}
    view = analysis.get("view") or {}
    q = analysis.get("quality") or {}
    vis = q.get("mean_visibility") or {}
    facts = [
        (
            "Camera view",
            f"{view_label(analysis)} (confidence {fmt(view.get('confidence'), 2)}, "
            f"{view.get('source', 'auto')})",
        ),
        (
            "Frame rate used",
            f"{fmt(video.get('fps'), 1)} fps"
            + (
                f" (file says {fmt(video.get('nominal_fps'), 1)})"
                if is_num(video.get("nominal_fps")) and video.get("nominal_fps") != video.get("fps")
                else ""
            )
            + (", variable frame rate" if video.get("variable_frame_rate") else ""),
        ),
        (
            "Clip",
            f"{fmt(video.get('duration_s'), 1)} s, {video.get('n_frames', '–')} frames, "
            f"{video.get('width_px', '–')}×{video.get('height_px', '–')} px",
        ),
        (
            "Pose found in",
            f"{fmt(100 * video['pose_share'], 0)}% of frames"
            if is_num(video.get("pose_share"))
            else "–",
        ),
        ("Steps analysed", str(n_steps(analysis))),
        ("Leg nearer the camera", str(q.get("near_leg") or "–")),
        ("Camera roll", f"{fmt(q.get('camera_roll_deg'), 1)} deg"),
        (
            "Repairs",
            f"{q.get('swap_frames_repaired', 0)} left/right swaps, "
            f"{q.get('gap_frames_filled', 0)} gap frames filled, "
            f"{q.get('outliers_removed', 0)} outliers removed",
        ),
        (
            "Mean visibility",
            ", ".join(f"{k.replace('_', ' ')} {fmt(v, 2)}" for k, v in vis.items()) or "–",
        ),
    ]
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    notes = q.get("notes") or []
    notes_html = (
        "<ul>" + "".join(f"<li>{escape(str(n))}</li>" for n in notes) + "</ul>"
        if notes
        else "<p>No capture-quality remarks.</p>"
    )
    missing = unmeasured_metrics(analysis)
    miss_html = ""
    if missing:
        other = "from behind" if str(view.get("label", "")).startswith("side") else "from the side"
        names = ", ".join(metric_info(m)["name"].lower() for m in missing)
        miss_html = (
            f"<p><strong>Not measured from this view:</strong> {escape(names)}. Film a "
            f"second clip {other} to check them.</p>"
        )
    return (
        f'<div class="table-wrap"><table>{rows}</table></div><h3>Notes</h3>{notes_html}{miss_html}'
    )


def render_html(
    analysis: dict[str, Any],
    findings: list[dict[str, Any]],
    context: RunnerContext | None = None,
    images: Sequence[tuple[str, Path, str]] = (),
    video: tuple[str, Path | None] | None = None,
) -> str:
    """Build the report page.

    Parameters
    ----------
    analysis : dict
        ``analysis.json`` content.
    findings : list of dict
        From :func:`gaitcheck.findings.evaluate`.
    context : RunnerContext, optional
    images : sequence of (group, path, caption)
        PNG files to embed; ``group`` is one of ``cycle``, ``steps``, ``left_right``,
        ``key_frames``.
    video : (str, Path or None), optional
        File name of the overlay video next to the report (linked relatively, so the page
        stays self-contained otherwise) and its poster JPEG (embedded).

    Returns
    -------
    str
        A complete HTML document.
    """
    ctx = context or RunnerContext()
    block = red_flags(ctx)
    advice_ok = ctx.self_treatment_allowed
    shown = firm(findings)
    notes = [f for f in findings if f.get("kind") == "unreliable"]
    target = cadence_target(analysis, ctx) if advice_ok else None
    care = pain_care(ctx)
    vinfo = analysis.get("video") or {}
    title = f"gaitcheck {activity_word(analysis)} gait report"
    src = Path(str(vinfo.get("path", ""))).name

    sec: list[str] = []
    nav: list[str] = []
    if block:
        nav.append('<a href="#red-flags">See a professional</a>')
    nav += ['<a href="#summary">Summary</a>', '<a href="#findings">Findings</a>']
    if care:
        nav.append('<a href="#pain-care">Your hip pain</a>')
    nav += [
        '<a href="#metrics">Metrics</a>',
        '<a href="#plots">Plots</a>',
        '<a href="#quality">Capture quality</a>',
        '<a href="#prevention">Prevention</a>',
        '<a href="#method">Method</a>',
        '<a href="#limits">Limits</a>',
        '<a href="#references">References</a>',
    ]

    # Red flags first, outside the numbered findings: nothing below should be read before it.
    if block:
        flags = "".join(
            f"<li><strong>{escape(fl['label'])}.</strong> {escape(fl['text'])}</li>"
            for fl in block["flags"]
        )
        sec.append(
            f'<section id="red-flags" class="redflag"><h2>{escape(block["title"])}</h2>'
            f"<p>{escape(block['text'])}</p><ul>{flags}</ul>"
            "<p>Until then this report holds back its exercise, form and self-care advice; "
            "what it measured is still shown so you can take it to the appointment.</p>"
            "</section>"
        )

    # summary
    by_sev = {
        s: sum(1 for f in shown if f["severity"] == s)
        for s in ("marked", "moderate", "mild", "info")
    }
    counts = ", ".join(f"{n} {SEVERITY_LABEL[s]}" for s, n in by_sev.items() if n)
    top = "".join(
        f"<li value=\"{f.get('rank') or i}\"><a href=\"#finding-{escape(str(f['id']))}\">"
        f"{escape(f['title'])}</a> "
        f"<span class='muted'>({escape(SEVERITY_LABEL.get(f['severity'], f['severity']))})</span>"
        "</li>"
        for i, f in enumerate(shown[:3], start=1)
    )
    cad = (analysis.get("metrics") or {}).get("cadence_spm") or {}
    lines = [
        f"<p>{escape(view_label(analysis).capitalize())}, {n_steps(analysis)} steps analysed"
        + (f", step rate {fmt(cad.get('value'), 0)} steps/min" if is_num(cad.get("value")) else "")
        + ".</p>"
    ]
    verdict = verdict_block(analysis, findings)
    if verdict is not None:
        head, verdict_name, reasons = verdict
        items = "".join(f"<li>{escape(r)}</li>" for r in reasons)
        lines.insert(0, f'<div class="card verdict {verdict_name}"><p><strong>'
                        f"{escape(VERDICT_LABEL[verdict_name])}.</strong> {escape(head)}</p>"
                        + (f"<ul>{items}</ul>" if items else "") + "</div>")
    if shown:
        lines.append(
            f"<p>{len(shown)} finding(s): {escape(counts)}. Most important:</p><ol>{top}</ol>"
        )
    elif verdict is None:
        lines.append(
            "<p>Nothing in this clip stood out against the typical ranges gaitcheck "
            "uses. Keep the prevention habits below and re-check after training "
            "changes.</p>"
        )
    if notes:
        lines.append(
            f"<p class='muted'>{len(notes)} measure(s) could not be judged reliably "
            "from this clip (see the findings).</p>"
        )
    if target:
        extra = "".join(f"<li>{escape(n)}</li>" for n in target["notes"])
        lines.append(
            f'<div class="card target"><strong>Your step-rate guide.</strong> '
            f"{escape(target['text'])}{'<ul>' + extra + '</ul>' if extra else ''}"
            f"<p class='muted'>Based on {escape(target['source'])}.</p></div>"
        )
    for p in pain_notes(ctx):
        lines.append(
            f"<p><strong>You reported pain at the {escape(p['label'])}.</strong> "
            f"{escape(p['text'])}</p>"
        )
    lines.append(
        "<p class='muted'>These are screening cues from a single 2D video, not a "
        "diagnosis; see the limits at the end.</p>"
    )
    sec.append(f'<section id="summary"><h2>Summary</h2>{"".join(lines)}</section>')

    seen: dict[str, Any] = {}
    body = "".join(_finding_html(f, seen, advice_ok) for f in shown + notes)
    if not body and verdict is not None and verdict[1] == "not_judged":
        body = "<p>No findings: this clip could not be judged (see the summary).</p>"
    elif not body:
        body = "<p>No findings: every judged measure was within its typical range.</p>"
    sec.append(f'<section id="findings"><h2>Findings, most important first</h2>{body}</section>')

    for c in care:
        stages = "".join(
            f"<h4>{escape(st['title'])}</h4><ul>"
            + "".join(_exercise_li(e) for e in st["exercises"]) + "</ul>"
            for st in c["stages"]
        )
        sec.append(
            f'<section id="pain-care"><h2>{escape(c["title"])}</h2>'
            f"<p><strong>Load.</strong> {escape(c['load'])}</p>"
            f"<p><strong>Avoid.</strong> {escape(c['avoid'])}</p>"
            f"<p><strong>Strengthen, step by step.</strong> Move to the next stage when the "
            f"current one is easy and pain stays at or below 3 out of 10.</p>{stages}"
            f"<p class='muted'>Sources: {escape(c['source'])}.</p></section>"
        )

    sec.append(
        '<section id="metrics"><h2>Measurements</h2><p class="muted">Mean over all '
        "analysed steps, per side, left/right asymmetry (100 × |L − R| / mean) and how "
        f"much to trust each value.</p>{_metrics_table(analysis, ctx.height_cm)}"
        + ("<p class='muted'>Centimetres assume a leg (hip to ankle) of 49% of your height "
           "(Winter 2009); proportions vary by a few percent between people.</p>"
           if ctx.height_cm is not None else "")
        + "</section>"
    )

    groups = {
        "cycle": "Stride-cycle curves",
        "steps": "Every step over the clip",
        "left_right": "Left and right side by side",
        "key_frames": "Landing frames",
    }
    plots_html = []
    for group, heading in groups.items():
        figs = [(p, c) for g, p, c in images if g == group]
        if not figs:
            continue
        plots_html.append(f"<h3>{escape(heading)}</h3>")
        plots_html += [
            f"<figure>{_img_tag(p, c)}<figcaption>{escape(c)}</figcaption></figure>"
            for p, c in figs
        ]
    if video is not None:
        name, poster = video
        poster_attr = ""
        if poster is not None:
            data = base64.b64encode(Path(poster).read_bytes()).decode("ascii")
            poster_attr = f' poster="data:image/jpeg;base64,{data}"'
        plots_html.insert(0, (
            f'<h3>The video with what was measured</h3><figure class="overlay"><video '
            f'controls muted playsinline preload="metadata"{poster_attr} '
            f'src="{escape(name)}">Your browser cannot play the video; open '
            f'<a href="{escape(name)}">{escape(name)}</a> next to this report.</video>'
            "<figcaption>The skeleton as measured (the leg nearer the camera in colour, the "
            "far leg grey), the vertical through the hips, and each landing with how far the "
            "heel lands ahead of the hips. The panel shows values only for frames with a "
            f"usable pose. The file {escape(name)} must stay next to this report.</figcaption>"
            "</figure>"))
    if not plots_html:
        plots_html.append("<p>No plots were made for this report.</p>")
    sec.append(f'<section id="plots"><h2>Plots</h2>{"".join(plots_html)}</section>')

    sec.append(f'<section id="quality"><h2>Capture quality</h2>{_quality_html(analysis)}</section>')

    prev = []
    for p in prevention_advice():
        item = f"<li><strong>{escape(p['title'])}.</strong> {escape(p['text'])}"
        if p["id"] == "strength" and advice_ok:
            item += "<ul>" + "".join(_exercise_li(e) for e in prevention_exercises()) + "</ul>"
        elif p["id"] == "strength":
            item += " <span class='muted held-back'>Exercises and doses once a professional " \
                    "has cleared you.</span>"
        prev.append(item + "</li>")
    sec.append(
        f'<section id="prevention"><h2>Prevention habits</h2><ul>{"".join(prev)}</ul>'
        "<p class='muted'>From the runner's hip-pain guide, in gaitcheck's words.</p>"
        "</section>"
    )

    if ctx.pain and advice_ok:
        rel = "".join(
            f"<li><strong>{escape(r['title'])}.</strong> {escape(r['text'])}</li>"
            for r in relief_advice()
        )
        sec.append(f'<section id="relief"><h2>While it hurts</h2><ul>{rel}</ul></section>')

    uses = "".join(f"<li><strong>{escape(a)}</strong>: {escape(b)}.</li>" for a, b in SOURCES)
    sec.append(
        '<section id="method"><h2>Method and sources</h2><p>gaitcheck finds the runner\'s '
        "body landmarks in every frame with a pose-estimation model, cleans and smooths them, "
        "detects when each foot lands and leaves the ground, and measures each step. Values "
        "are averaged over all steps; a measure gets low confidence with too few steps (at "
        "least 7 are advised, Dingenen 2018), poor visibility or when the camera view does not "
        "suit it. Findings come from a rules table of typical ranges; where no published "
        "cut-off exists the report says so and compares with typical values and your own "
        "earlier runs.</p>"
        f"<p>What each source is used for:</p><ul>{uses}</ul></section>"
    )

    lim = limits_statement()
    can = "".join(f"<li>{escape(x)}</li>" for x in lim["can"])
    cannot = "".join(f"<li>{escape(x)}</li>" for x in lim["cannot"])
    sec.append(
        f'<section id="limits"><h2>{escape(lim["title"])}</h2><h3>It can show</h3>'
        f"<ul>{can}</ul><h3>It cannot</h3><ul>{cannot}</ul></section>"
    )
    body_html = link_citations("".join(sec))
    refs = cited([_TAG.sub(" ", body_html)])
    body_html += (
        '<section id="references"><h2>References</h2><p class="muted">Every source named in '
        f"this report, in full.</p>{references_html(refs)}</section>"
    )

    meta = (
        f"{escape(src) + ' · ' if src else ''}"
        f"analysed {escape(str(analysis.get('created_utc', '')))}"
        f" · gaitcheck {escape(str(analysis.get('gaitcheck_version', __version__)))}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{escape(title)}</h1><p class='muted'>{meta}</p>"
        + (f'<p class="card demo"><strong>Demo report.</strong> {escape(DEMO_NOTE)}</p>'
           if analysis.get("demo") else "")
        + f"<nav>{''.join(nav)}</nav>"
        + body_html
        + "</main></body></html>\n"
    )
