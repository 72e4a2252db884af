"""Group outputs of a batch: ``group.html``, ``summary.csv`` and ``athletes/<name>.html``.

Everything comes from the store (rows and headline metrics) plus, for "what moved", the two
latest sessions' ``analysis.json`` files, compared with :func:`gaitcheck.compare.compare`.
Pages are self-contained (inline CSS and SVG); links to each session's own report are
relative, so the report folder and the data folder can be moved together.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..compare import compare, load_analysis
from ..findings import metric_info
from ..plots import write_text_atomic
from ..store import Session, Store
from ..store.db import utc_now
from .sources import BatchItem
from .summary import GROUP_METRICS
from .svg import strip_plot, trend_plot

MIN_GROUP_FOR_Z = 3  # a z-score against fewer than 3 sessions says nothing
Z_95 = 1.96


def slug(name: str) -> str:
    """File-name-safe form of an athlete's name (``Ana Ruiz`` -> ``ana-ruiz``)."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "athlete"


def athlete_files(names: Sequence[str]) -> dict[str, str]:
    """Athlete name -> page file name, unique even when two names share a slug."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in sorted(set(names), key=str.casefold):
        base = slug(name)
        stem, i = base, 2
        while stem in used:
            stem, i = f"{base}-{i}", i + 1
        used.add(stem)
        out[name] = f"{stem}.html"
    return out


def _value(session: Session, key: str) -> float | None:
    m = session.metrics.get(key) or {}
    v = m.get("value")
    return float(v) if isinstance(v, int | float) and math.isfinite(v) else None


def z_scores(sessions: Sequence[Session], key: str) -> list[float | None]:
    """Each session's value as a z-score within the group (sample SD); None without a value
    or when fewer than :data:`MIN_GROUP_FOR_Z` sessions have one."""
    values = [_value(s, key) for s in sessions]
    have = [v for v in values if v is not None]
    if len(have) < MIN_GROUP_FOR_Z:
        return [None] * len(values)
    mean = sum(have) / len(have)
    sd = math.sqrt(sum((v - mean) ** 2 for v in have) / (len(have) - 1))
    if sd == 0:
        return [None if v is None else 0.0 for v in values]
    return [None if v is None else (v - mean) / sd for v in values]


def group_rows(sessions: Sequence[Session]) -> list[dict[str, Any]]:
    """One row per session: identity, verdict, each group metric's value, confidence and
    z-score, top finding. Sorted by athlete, date, session id."""
    ordered = sorted(sessions, key=lambda s: (s.athlete.casefold(), s.date, s.id))
    zs = {key: z_scores(ordered, key) for key in GROUP_METRICS}
    rows = []
    for i, s in enumerate(ordered):
        row: dict[str, Any] = {"athlete": s.athlete, "date": s.date, "session_id": s.id,
                               "video": s.video_name, "view": s.view, "verdict": s.verdict}
        for key in GROUP_METRICS:
            v = _value(s, key)
            row[key] = None if v is None else round(v, 2)
            row[f"{key}_confidence"] = (s.metrics.get(key) or {}).get("confidence") \
                if v is not None else None
            z = zs[key][i]
            row[f"{key}_z"] = None if z is None else round(z, 2)
        row["top_finding"] = s.top_finding
        row["headline"] = s.headline
        rows.append(row)
    return rows


def summary_csv(rows: Sequence[dict[str, Any]]) -> str:
    """``summary.csv`` text: the group table's rows (blank cells for missing values)."""
    cols = ["athlete", "date", "session_id", "video", "view", "verdict"]
    for key in GROUP_METRICS:
        cols += [key, f"{key}_confidence", f"{key}_z"]
    cols += ["top_finding", "headline"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row[c] for c in cols})
    return buf.getvalue()


def _env() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("gaitcheck.batch", "templates"),
        autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _metric_heads() -> list[dict[str, Any]]:
    heads = []
    for key in GROUP_METRICS:
        info = metric_info(key)
        heads.append({"key": key, "name": info["name"], "unit": info["unit"],
                      "decimals": info["decimals"]})
    return heads


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def noise_of(key: str, metric: dict[str, Any]) -> float:
    """Half-width of a session value's noise band: the published smallest detectable
    difference when there is one, else the 95% interval of the step mean (1.96 SD / sqrt n);
    0 when neither is known."""
    info = metric_info(key)
    if isinstance(info.get("noise"), int | float):
        return float(info["noise"])
    sd, n = metric.get("sd"), metric.get("n_steps")
    if isinstance(sd, int | float) and isinstance(n, int | float) and n > 0:
        return Z_95 * float(sd) / math.sqrt(float(n))
    return 0.0


def write_group_report(store: Store, session_ids: Sequence[str], report_dir: str | Path,
                       failures: Sequence[tuple[BatchItem, str]] = ()) -> dict[str, Path]:
    """Write ``group.html``, ``summary.csv`` and one history page per athlete.

    Parameters
    ----------
    store : Store
    session_ids : sequence of str
        The sessions of the group table (e.g. those of one batch).
    report_dir : str or Path
    failures : sequence of (BatchItem, reason)
        Videos that could not be analysed, listed on the page.

    Returns
    -------
    dict of str -> Path
        ``group``, ``summary`` and ``athlete:<name>`` entries.
    """
    out = Path(report_dir)
    (out / "athletes").mkdir(parents=True, exist_ok=True)
    sessions = [s for s in (store.session(i) for i in session_ids) if s is not None]
    rows = group_rows(sessions)
    names = sorted({s.athlete for s in sessions} | {i.athlete for i, _ in failures},
                   key=str.casefold)
    files = athlete_files([a.name for a in store.athletes()] + names)
    for row in rows:
        s = store.session(row["session_id"])
        assert s is not None
        row["report_href"] = _rel(store.data_dir / s.output_dir / "report.html", out)
        row["athlete_href"] = f"athletes/{files[row['athlete']]}"
    heads = _metric_heads()
    distributions = []
    for head in heads:
        points = [(f"{r['athlete']} {r['date']}", float(r[head["key"]])) for r in rows
                  if r[head["key"]] is not None]
        if points:
            distributions.append({"head": head, "svg": strip_plot(
                points, head["unit"], f"{head['name']} across the group")})
    written: dict[str, Path] = {}
    env = _env()
    html = env.get_template("group.html").render(
        rows=rows, heads=heads, distributions=distributions, generated=utc_now(),
        min_group=MIN_GROUP_FOR_Z,
        failures=[{"athlete": i.athlete, "video": i.video.name, "reason": r}
                  for i, r in failures])
    written["group"] = write_text_atomic(out / "group.html", html)
    written["summary"] = write_text_atomic(out / "summary.csv", summary_csv(rows))
    for name in names:
        path = out / "athletes" / files[name]
        written[f"athlete:{name}"] = write_text_atomic(
            path, athlete_page(store, name, path.parent, env=env))
    return written


def athlete_trends(history: Sequence[Session], keys: Sequence[str]) -> list[dict[str, Any]]:
    """One trend per metric measured in any session: name, unit, count, SVG plot, noise basis."""
    trends = []
    for key in keys:
        pts = [(s.date, float(v), noise_of(key, s.metrics[key])) for s in history
               if (v := _value(s, key)) is not None]
        if pts:
            info = metric_info(key)
            trends.append({"name": info["name"], "unit": info["unit"], "n": len(pts),
                           "svg": trend_plot(pts, info["unit"], f"{info['name']} over time"),
                           "noise_source": info.get("noise_source")
                           or "95% interval of the session's step mean"})
    return trends


def athlete_page(store: Store, name: str, page_dir: Path, *, env: Any = None) -> str:
    """HTML of one athlete's history: sessions, trend per metric, what moved last time."""
    env = env or _env()
    history = store.sessions(name)
    keys = [k for k in metric_order(history)]
    trends = athlete_trends(history, keys)
    moved = None
    if len(history) >= 2:
        a, b = history[-2], history[-1]
        try:
            moved = compare(load_analysis(store.data_dir / a.output_dir / "analysis.json"),
                            load_analysis(store.data_dir / b.output_dir / "analysis.json"))
            moved["before_date"], moved["after_date"] = a.date, b.date
        except Exception:  # noqa: BLE001 - a deleted folder only loses this section
            moved = None
    sessions = [{"s": s, "href": _rel(store.data_dir / s.output_dir / "report.html", page_dir),
                 "values": {k: _value(s, k) for k in keys}} for s in reversed(history)]
    heads = [{"key": k, "name": metric_info(k)["name"], "decimals": metric_info(k)["decimals"]}
             for k in keys]
    return str(env.get_template("athlete.html").render(
        name=name, sessions=sessions, heads=heads, trends=trends, moved=moved,
        generated=utc_now()))


def metric_order(sessions: Sequence[Session]) -> list[str]:
    """Metric keys present in any of the sessions, group metrics first."""
    present = {k for s in sessions for k in s.metrics if _value(s, k) is not None}
    first = [k for k in GROUP_METRICS if k in present]
    return first + sorted(present - set(first))
