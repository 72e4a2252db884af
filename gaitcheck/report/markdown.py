"""Short, plain Markdown report for pasting into a message to a runner or coach."""

from __future__ import annotations

from typing import Any

from ..findings import (
    RunnerContext,
    cadence_target,
    limits_statement,
    pain_care,
    pain_notes,
    prevention_advice,
    prevention_exercises,
    red_flags,
)
from ._common import (
    SEVERITY_LABEL,
    VERDICT_LABEL,
    activity_word,
    firm,
    fmt,
    is_num,
    n_steps,
    verdict_block,
    view_label,
)
from .references import cited

MAX_FINDINGS = 5


def render_markdown(
    analysis: dict[str, Any],
    findings: list[dict[str, Any]],
    context: RunnerContext | None = None,
) -> str:
    """Build the Markdown report.

    Parameters
    ----------
    analysis : dict
        ``analysis.json`` content.
    findings : list of dict
        From :func:`gaitcheck.findings.evaluate`.
    context : RunnerContext, optional

    Returns
    -------
    str
        At most :data:`MAX_FINDINGS` findings, each with one line of what was seen, the first
        form cue and the exercises with their dose; then the step-rate guide, prevention
        headlines and the 2D limits in one line.
    """
    ctx = context or RunnerContext()
    out: list[str] = [f"# {activity_word(analysis).capitalize()} gait check", ""]
    if analysis.get("demo"):
        from .html import DEMO_NOTE

        out += [f"_Demo report. {DEMO_NOTE}_", ""]
    block = red_flags(ctx)
    advice_ok = ctx.self_treatment_allowed
    if block:
        out += [f"**{block['title']}.** {block['text']}", ""]
        out += [f"- {f['label']}" for f in block["flags"]]
        out += ["", "Exercise, form and self-care advice is held back until then.", ""]
    verdict = verdict_block(analysis, findings)
    if verdict is not None:
        head, name, reasons = verdict
        out += [f"**{VERDICT_LABEL[name]}.** {head}", ""]
        out += [f"- {r}" for r in reasons]
        if reasons:
            out.append("")
    cad = (analysis.get("metrics") or {}).get("cadence_spm") or {}
    summary = f"{view_label(analysis).capitalize()}, {n_steps(analysis)} steps"
    if is_num(cad.get("value")):
        summary += f", step rate {fmt(cad['value'], 0)} steps/min"
    out += [summary + ".", ""]
    shown = firm(findings)
    if not shown:
        if verdict is None:  # an analysis made before verdicts existed
            out += ["Nothing stood out against the typical ranges in this clip.", ""]
    else:
        out += ["## What to work on", ""]
        for i, f in enumerate(shown[:MAX_FINDINGS], start=1):
            sev = SEVERITY_LABEL.get(f["severity"], f["severity"])
            out.append(f"{f.get('rank') or i}. **{f['title']}** ({sev})")
            out.append(f"   - Seen: {f['what_we_saw'].split(' No published')[0]}")
            cues = f.get("form_cues") or []
            if not advice_ok:
                if cues or f.get("exercises"):
                    out.append("   - Advice held back until a professional has seen you.")
                continue
            if cues:
                out.append(f"   - Try: {cues[0]['title']}.")
            for e in f.get("exercises") or []:
                out.append(f"   - {e['name']}: {e['dose']}.")
        if len(shown) > MAX_FINDINGS:
            out.append(f"\n({len(shown) - MAX_FINDINGS} more in the full report.)")
        out.append("")
    unreliable = [f for f in findings if f.get("kind") == "unreliable"]
    if unreliable:
        names = ", ".join(str(f.get("metric_name") or f["metric"]).lower() for f in unreliable)
        out += [f"Could not judge reliably from this clip: {names}.", ""]
    target = cadence_target(analysis, ctx) if advice_ok else None
    if target:
        out += [f"**Step rate:** {target['text']}", ""]
    for p in pain_notes(ctx):
        out += [f"**Pain at the {p['label']}.** {p['text']}", ""]
    for c in pain_care(ctx):
        out += [f"## {c['title']}", "", f"- Load: {c['load']}", f"- Avoid: {c['avoid']}"]
        for st in c["stages"]:
            out.append(f"- {st['title']}:")
            out += [f"   - {e['name']}: {e['dose']}." for e in st["exercises"]]
        out.append("")
    out += ["## Habits", ""]
    for p in prevention_advice():
        out.append(f"- {p['title']}.")
        if p["id"] == "strength" and advice_ok:
            out += [f"   - {e['name']}: {e['dose']}." for e in prevention_exercises()]
    lim = limits_statement()
    out += [
        "",
        "_Screening cues from one 2D phone video, not a diagnosis. The video cannot measure "
        "forces, strength or the cause of pain, and 2D angles carry errors of several degrees "
        f"({lim['title'].lower()}: see the full report)._",
        "",
    ]
    refs = cited(out)
    if refs:
        out += ["## References", ""]
        out += [f"- {r.label}: {r.citation()}" for r in refs]
        out.append("")
    return "\n".join(out)
