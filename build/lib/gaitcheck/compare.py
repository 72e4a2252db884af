"""Compare two analyses of the same runner: what moved, in which direction, beyond noise?

:func:`compare` works on two ``analysis.json`` dicts; :func:`write_compare` reads two files and
writes ``compare.md``, ``compare.html``, ``compare.json`` and a bar plot ``compare.png``.
Each metric's preferred direction and its measurement noise come from the ``[metrics.*]``
entries of ``gaitcheck/data/rules.toml``.
"""

from __future__ import annotations

import base64
import functools
import json
import math
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import AnalysisError, ConfigError
from .findings import KNOWN_METRICS, limits_statement, metric_info
from .plots import plot_changes, write_text_atomic

Z_95 = 1.96


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _statistical_noise(ma: dict[str, Any], mb: dict[str, Any]) -> float | None:
    sd_a, sd_b = _num(ma.get("sd")), _num(mb.get("sd"))
    n_a, n_b = _num(ma.get("n_steps")), _num(mb.get("n_steps"))
    if None in (sd_a, sd_b, n_a, n_b) or not n_a or not n_b:
        return None
    assert sd_a is not None and sd_b is not None and n_a is not None and n_b is not None
    return Z_95 * math.sqrt(sd_a**2 / n_a + sd_b**2 / n_b)


def _direction(better: str, before: float, after: float, decimals: int) -> str:
    change = round(after - before, decimals)
    if change == 0:
        return "same"
    if better == "higher":
        return "better" if change > 0 else "worse"
    if better == "lower":
        return "better" if change < 0 else "worse"
    if better == "toward_zero":
        if round(abs(after) - abs(before), decimals) == 0:
            return "same"
        return "better" if abs(after) < abs(before) else "worse"
    return "neutral"


def _run_summary(analysis: dict[str, Any]) -> dict[str, Any]:
    video = analysis.get("video") or {}
    return {
        "video": Path(str(video.get("path", ""))).name or None,
        "created_utc": analysis.get("created_utc"),
        "view": (analysis.get("view") or {}).get("label"),
        "n_steps": len(analysis.get("steps") or []),
        "fps": video.get("fps"),
    }


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Table of what moved between run ``a`` (before) and run ``b`` (after).

    Parameters
    ----------
    a, b : dict
        ``analysis.json`` contents; ``a`` is the earlier run.

    Returns
    -------
    dict
        ``before`` and ``after`` (run summaries), ``rows`` and ``notes`` (list of str), plus
        ``findings_resolved`` / ``findings_new`` (ids) when both runs carry findings. Each row:
        ``metric``, ``name``, ``unit``, ``before``, ``after``, ``change`` (after - before),
        ``change_pct`` (of ``|before|``, None when before is 0), ``better`` (the metric's
        preferred direction: higher | lower | toward_zero | none), ``direction`` (better |
        worse | same | neutral), ``noise`` and ``noise_source`` (smallest change beyond
        measurement noise: a published smallest detectable difference where one exists, else
        the 95% limit of the difference of two step means), ``exceeds_noise`` (bool or None),
        ``verdict`` (better | worse | within noise | changed | unknown), per-side values and
        ``low_confidence`` (either run).
    """
    ma_all = a.get("metrics") or {}
    mb_all = b.get("metrics") or {}
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    order = [k for k in KNOWN_METRICS if k in ma_all and k in mb_all]
    order += [k for k in ma_all if k in mb_all and k not in order]
    for key in order:
        ma, mb = ma_all[key], mb_all[key]
        if not isinstance(ma, dict) or not isinstance(mb, dict):
            continue
        before, after = _num(ma.get("value")), _num(mb.get("value"))
        if before is None or after is None:
            continue
        info = metric_info(key)
        d = info["decimals"]
        change = after - before
        noise = _num(info["noise"])
        noise_source = info["noise_source"]
        if noise is None:
            noise = _statistical_noise(ma, mb)
            noise_source = (
                "95% limit of the difference between the two runs' step means (from the "
                "steps' own spread); no published smallest detectable difference"
                if noise is not None
                else None
            )
        exceeds = None if noise is None else abs(change) > noise
        direction = _direction(info["better"], before, after, d)
        if exceeds is None:
            verdict = "unknown"
        elif not exceeds:
            verdict = "within noise"
        elif direction in ("better", "worse"):
            verdict = direction
        else:
            verdict = "changed"
        low = any((m.get("confidence") or {}).get("level") == "low" for m in (ma, mb))
        rows.append(
            {
                "metric": key,
                "name": info["name"],
                "unit": mb.get("unit") or info["unit"],
                "before": round(before, 3),
                "after": round(after, 3),
                "change": round(change, 3),
                "change_pct": None if before == 0 else round(100.0 * change / abs(before), 2),
                "better": info["better"],
                "direction": direction,
                "noise": None if noise is None else round(noise, 3),
                "noise_source": noise_source,
                "exceeds_noise": exceeds,
                "verdict": verdict,
                "before_left": _num(ma.get("left")),
                "before_right": _num(ma.get("right")),
                "after_left": _num(mb.get("left")),
                "after_right": _num(mb.get("right")),
                "low_confidence": low,
            }
        )
    sa, sb = _run_summary(a), _run_summary(b)
    if sa["view"] != sb["view"]:
        notes.append(
            f"The runs were filmed from different views ({sa['view']} and {sb['view']}); only "
            "the measures both share are compared."
        )
    if any(r["low_confidence"] for r in rows):
        names = ", ".join(r["name"].lower() for r in rows if r["low_confidence"])
        notes.append(
            f"Low confidence in at least one run for: {names}; treat those changes with caution."
        )
    if not rows:
        notes.append("The two runs share no measured metric.")
    notes.append(
        "Compare runs filmed the same way (same camera position, speed and surface); step rate "
        "and landing position change with speed."
    )
    out: dict[str, Any] = {"before": sa, "after": sb, "rows": rows, "notes": notes}
    fa, fb = a.get("findings"), b.get("findings")
    if isinstance(fa, list) and isinstance(fb, list):
        ids_a = [f.get("id") for f in fa if isinstance(f, dict) and f.get("kind") != "red_flag"]
        ids_b = [f.get("id") for f in fb if isinstance(f, dict) and f.get("kind") != "red_flag"]
        out["findings_resolved"] = [i for i in ids_a if i not in ids_b]
        out["findings_new"] = [i for i in ids_b if i not in ids_a]
    return out


def load_analysis(path: str | Path) -> dict[str, Any]:
    """Read an ``analysis.json`` file (or a folder holding one).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict

    Raises
    ------
    ConfigError
        When the file does not exist or cannot be read.
    AnalysisError
        When it is not JSON or not a gaitcheck analysis.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "analysis.json"
    if not p.exists():
        raise ConfigError(
            f"Analysis file {p} does not exist; give the analysis.json written by "
            "'gaitcheck analyze'."
        )
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Analysis file {p} cannot be read ({exc}).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnalysisError(
            f"Analysis file {p} is not valid JSON ({exc.msg}, line {exc.lineno})."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise AnalysisError(
            f"File {p} is not a gaitcheck analysis (it has no 'metrics' table); give the "
            "analysis.json written by 'gaitcheck analyze'."
        )
    _check_schema(data, p)
    return data


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads(resources.files("gaitcheck").joinpath(
        "schema/analysis.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _check_schema(data: dict[str, Any], path: Path) -> None:
    """Raise :class:`AnalysisError` naming the first field that breaks the analysis schema."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
    if error is None:
        return
    if error.validator == "required" and not error.absolute_path:
        raise AnalysisError(
            f"Analysis file {path} is from an older or different format ({error.message}); "
            "run 'gaitcheck analyze' again with this version to compare it."
        )
    field = ".".join(str(k) for k in error.absolute_path) or "(top level)"
    value = json.dumps(error.instance)[:40]
    raise AnalysisError(
        f"Analysis file {path}: field '{field}' is wrong ({value} does not fit: "
        f"{error.validator} {json.dumps(error.validator_value)[:60]}); give an unedited "
        "analysis.json written by 'gaitcheck analyze'."
    )


def _finite(obj: Any) -> Any:
    """NaN and infinities (from absurd inputs) -> None, so the JSON stays strict."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _fmt(value: Any, decimals: int, signed: bool = False) -> str:
    v = _num(value)
    if v is None:
        return "–"
    return f"{v:+.{decimals}f}" if signed else f"{v:.{decimals}f}"


_VERDICT_MARK = {
    "better": "better",
    "worse": "worse",
    "within noise": "within noise",
    "changed": "changed",
    "unknown": "?",
}


def render_compare_markdown(result: dict[str, Any]) -> str:
    """Markdown table of :func:`compare` output (short, for a coaching message)."""
    sa, sb = result["before"], result["after"]
    lines = [
        "# What moved between two runs",
        "",
        f"Before: {sa['video'] or 'run A'} ({sa['created_utc'] or '?'}, {sa['view']}, "
        f"{sa['n_steps']} steps). After: {sb['video'] or 'run B'} ({sb['created_utc'] or '?'}, "
        f"{sb['view']}, {sb['n_steps']} steps).",
        "",
        "| Measure | Before | After | Change | Verdict |",
        "|---|---:|---:|---:|---|",
    ]
    for r in result["rows"]:
        d = metric_info(r["metric"])["decimals"]
        pct = f" ({r['change_pct']:+.0f}%)" if r["change_pct"] is not None else ""
        lines.append(
            f"| {r['name']} ({r['unit']}) | {_fmt(r['before'], d)} | {_fmt(r['after'], d)} | "
            f"{_fmt(r['change'], d, True)}{pct} | {_VERDICT_MARK[r['verdict']]} |"
        )
    lines.append("")
    if result.get("findings_resolved"):
        lines.append(f"No longer flagged: {', '.join(result['findings_resolved'])}.")
    if result.get("findings_new"):
        lines.append(f"Newly flagged: {', '.join(result['findings_new'])}.")
    lines += [f"- {n}" for n in result["notes"]]
    lines += [
        "",
        "_'Within noise' means the change is smaller than what repeated filming of "
        "the same running would show; it is not evidence of a real change._",
        "",
    ]
    return "\n".join(lines)


def render_compare_html(result: dict[str, Any], plot_png: Path | None = None) -> str:
    """Self-contained HTML page of :func:`compare` output (plot embedded as base64 PNG)."""
    sa, sb = result["before"], result["after"]
    rows = []
    for r in result["rows"]:
        d = metric_info(r["metric"])["decimals"]
        cls = {"better": "good", "worse": "bad"}.get(r["verdict"], "")
        pct = f" ({r['change_pct']:+.0f}%)" if r["change_pct"] is not None else ""
        rows.append(
            f"<tr class='{cls}'><td>{escape(r['name'])}</td><td>{escape(str(r['unit']))}</td>"
            f"<td class='num'>{_fmt(r['before'], d)}</td><td class='num'>{_fmt(r['after'], d)}"
            f"</td><td class='num'>{_fmt(r['change'], d, True)}{pct}</td>"
            f"<td class='num'>{_fmt(r['noise'], d)}</td><td>{escape(r['verdict'])}</td></tr>"
        )
    img = ""
    if plot_png is not None:
        data = base64.b64encode(plot_png.read_bytes()).decode("ascii")
        img = f'<figure><img src="data:image/png;base64,{data}" alt="change per metric"></figure>'
    notes = "".join(f"<li>{escape(n)}</li>" for n in result["notes"])
    sources = sorted({r["noise_source"] for r in result["rows"] if r["noise_source"]})
    src_html = "".join(f"<li>{escape(s)}</li>" for s in sources)
    lim = limits_statement()
    css = (
        "body{font:16px/1.5 system-ui,sans-serif;color:#1d2330;margin:0}main{max-width:860px;"
        "margin:0 auto;padding:14px}table{border-collapse:collapse;width:100%;font-size:.9rem}"
        "th,td{border-bottom:1px solid #dde2ea;padding:5px 7px;text-align:left}td.num{text-align:"
        "right;font-variant-numeric:tabular-nums}tr.good td{background:#eaf7ee}tr.bad td{"
        "background:#fdecea}.wrap{overflow-x:auto}img{max-width:100%;height:auto}.muted{color:"
        "#5b6473;font-size:.9rem}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width,initial-scale=1"><title>gaitcheck: what moved</title>'
        f"<style>{css}</style></head><body><main><h1>What moved between two runs</h1>"
        f"<p>Before: {escape(str(sa['video'] or 'run A'))} ({escape(str(sa['view']))}, "
        f"{sa['n_steps']} steps). After: {escape(str(sb['video'] or 'run B'))} "
        f"({escape(str(sb['view']))}, {sb['n_steps']} steps).</p>"
        '<div class="wrap"><table><tr><th>Measure</th><th>Unit</th><th>Before</th><th>After</th>'
        f"<th>Change</th><th>Noise</th><th>Verdict</th></tr>{''.join(rows)}</table></div>{img}"
        f"<h2>Notes</h2><ul>{notes}</ul><h2>Noise levels used</h2><ul>{src_html}</ul>"
        f"<p class='muted'>{escape(lim['cannot'][-1])}</p></main></body></html>\n"
    )


def write_compare(a_path: str | Path, b_path: str | Path, out_dir: str | Path) -> dict[str, Path]:
    """Compare two analysis files and write the results.

    Parameters
    ----------
    a_path, b_path : str or Path
        ``analysis.json`` of the earlier and the later run (or folders holding one).
    out_dir : str or Path
        Created when missing.

    Returns
    -------
    dict of str to Path
        ``md`` (compare.md), ``html`` (compare.html), ``json`` (compare.json) and ``plot``
        (compare.png); all written atomically.

    Raises
    ------
    ConfigError, AnalysisError
        For a missing, unreadable or malformed analysis file.
    """
    from .outputs import output_set

    a, b = load_analysis(a_path), load_analysis(b_path)
    result = _finite(compare(a, b))
    with output_set(out_dir, "compare") as oset:
        out = oset.staging
        plot = plot_changes(result["rows"], out / "compare.png")
        staged = {
            "plot": plot,
            "json": write_text_atomic(out / "compare.json",
                                      json.dumps(result, indent=2, allow_nan=False) + "\n"),
            "md": write_text_atomic(out / "compare.md", render_compare_markdown(result)),
            "html": write_text_atomic(out / "compare.html", render_compare_html(result, plot)),
        }
    return {k: oset.final(v) for k, v in staged.items()}
