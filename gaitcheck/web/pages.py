"""What the pages show: the upload form's fields and their checks, and the data behind each
template (``templates/``; the shared table style comes from ``gaitcheck/batch/templates``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batch.group import MIN_GROUP_FOR_Z, athlete_trends, group_rows, metric_order
from ..batch.summary import GROUP_METRICS
from ..batch.svg import strip_plot
from ..compare import compare, load_analysis
from ..config import load_config
from ..errors import ConfigError
from ..findings import PAIN_LOCATIONS, RED_FLAGS, RunnerContext, load_advice, metric_info
from ..store import Job, Session, Store
from ..store.db import utc_now
from ..store.keys import settings_dict, settings_hash
from .queue import STAGE_PROGRESS, UPLOADS_DIR
from .uploads import Upload

VIEWS = (("auto", "detect it for me"), ("side-left", "side, runner facing left"),
         ("side-right", "side, runner facing right"), ("rear", "from behind"),
         ("front", "from the front"))
PAIN_SIDES = ("left", "right", "both")
STEPS = (("queued", "waiting"), ("analysing", "analysing"), ("saving", "saving"),
         ("done", "done"))
"""The job page's steps; every stage the analysis reports falls in ``analysing``."""
STAGE_LABELS = {"queued": "waiting", "starting": "starting", "check": "checking the video",
                "pose": "finding the body in every frame", "analysis": "measuring the steps",
                "report": "writing the report", "overlay": "drawing the annotated video",
                "analysing": "analysing the video", "saving": "saving the results",
                "done": "done", "failed": "failed"}
MAX_ATHLETE_CHARS = 80


@dataclass(frozen=True)
class UploadForm:
    """The checked fields of an upload: who, when, and the settings of its analysis."""

    athlete: str
    date: str
    settings: dict[str, Any]
    settings_hash: str
    context: dict[str, Any]
    notes: str


def _number(up: Upload, name: str, label: str) -> float | None:
    text = up.first(name).replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{label} must be a number, not '{text[:40]}'.") from None


def parse_form(up: Upload, config_path: Path | None = None) -> UploadForm:
    """Check the upload form's fields and turn them into analysis settings.

    Raises
    ------
    ConfigError
        With one sentence naming the field that is wrong.
    """
    athlete = " ".join(up.first("athlete").split())
    if not athlete:
        raise ConfigError("Give the athlete's name (a new name adds the athlete).")
    if len(athlete) > MAX_ATHLETE_CHARS:
        raise ConfigError(f"The athlete's name is longer than {MAX_ATHLETE_CHARS} characters.")
    date = up.first("date") or dt.date.today().isoformat()
    try:
        date = dt.date.fromisoformat(date).isoformat()
    except ValueError:
        raise ConfigError(f"The date '{date[:20]}' is not a date like 2026-05-31.") from None
    view = up.first("view") or "auto"
    if view not in dict(VIEWS):
        raise ConfigError(f"The view '{view[:20]}' is not one of {', '.join(dict(VIEWS))}.")
    capture_fps = _number(up, "capture_fps", "The slow-motion frame rate") \
        if up.first("slowmo") else None
    if capture_fps is not None and not 1 <= capture_fps <= 2000:
        raise ConfigError("The slow-motion frame rate must be between 1 and 2000 fps.")
    pain = tuple(p for p in up.fields.get("pain", []) if p)
    side = up.first("pain_side")
    if side and side not in PAIN_SIDES:
        raise ConfigError(f"The pain side must be one of {', '.join(PAIN_SIDES)}.")
    overrides: dict[str, dict[str, Any]] = {
        "pose": {"capture_fps": capture_fps},
        "analysis": {"view": view},
        "report": {
            "height_cm": _number(up, "height_cm", "The height"),
            "pace": up.first("pace") or None,
            "pain": pain or None,
            "weekly_mileage_change_pct": _number(up, "mileage_change", "The mileage change"),
            "red_flags": tuple(f for f in up.fields.get("red_flag", []) if f) or None,
            "overlay": False if up.first("no_overlay") else None,
        },
    }
    cfg = load_config(config_path, overrides)
    context = RunnerContext.from_config(cfg.report).to_dict()
    notes = f"Pain side: {side}." if side and pain else ""
    return UploadForm(athlete, date, settings_dict(cfg), settings_hash(cfg), context, notes)


def step_of(stage: str | None, state: str) -> int:
    """Index in :data:`STEPS` of a job's state and stage."""
    if state in ("queued", "done"):
        return 0 if state == "queued" else len(STEPS) - 1
    return 2 if stage == "saving" else 1


def job_json(job: Job, position: int) -> dict[str, Any]:
    """A job's state for the job page and API clients."""
    progress = job.progress if job.progress is not None else (
        1.0 if job.state == "done" else STAGE_PROGRESS.get(job.stage or "", 0.0))
    return {
        "session_id": job.session_id, "state": job.state, "stage": job.stage,
        "stage_label": STAGE_LABELS.get(job.stage or job.state, job.stage or job.state),
        "step": step_of(job.stage, job.state),
        "progress": round(float(progress), 3), "error": job.error, "attempts": job.attempts,
        "queue_position": position, "athlete": job.athlete, "date": job.date,
        "video": str(job.context.get("upload_name") or ""),
        "session_url": f"/sessions/{job.session_id}" if job.state == "done" else None,
    }


class Pages:
    """Renders each page from the store."""

    def __init__(self, store: Store) -> None:
        import jinja2

        self.store = store
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([
                jinja2.PackageLoader("gaitcheck.web", "templates"),
                jinja2.PackageLoader("gaitcheck.batch", "templates"),
            ]),
            autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True,
            lstrip_blocks=True, undefined=jinja2.StrictUndefined)
        self.env.globals["metric_info"] = metric_info
        self.env.filters["fmt"] = _fmt

    def _render(self, name: str, **values: Any) -> str:
        return self.env.get_template(name).render(**values)

    def error(self, status: int, sentence: str) -> str:
        """Error page: the status and its one sentence."""
        return self._render("error.html", status=status, sentence=sentence)

    def upload(self, max_upload_bytes: int) -> str:
        """The upload form with the athletes already known and the latest sessions."""
        advice = load_advice()
        recent = sorted(self.store.sessions(), key=lambda s: s.created_utc, reverse=True)[:8]
        active = [j for j in self.store.jobs() if j.state in ("queued", "running")
                  and j.video_path.startswith(f"{UPLOADS_DIR}/")]
        return self._render(
            "upload.html", athletes=self.store.athletes(), today=dt.date.today().isoformat(),
            views=VIEWS, pains=[(p, advice["pain"][p]["label"]) for p in PAIN_LOCATIONS],
            sides=PAIN_SIDES, flags=[(f, advice["red_flags"][f]["label"]) for f in RED_FLAGS],
            max_mb=max_upload_bytes / (1 << 20), recent=recent, active=active)

    def job(self, job: Job, position: int) -> str:
        """Live progress of one job (the page polls ``/api/jobs/<id>``)."""
        return self._render("job.html", job=job, status=job_json(job, position),
                            steps=STEPS, current=step_of(job.stage, job.state))

    def session(self, s: Session, files: dict[str, tuple[str, str]]) -> str:
        """One session: verdict, headline numbers, overlay, downloads, the full report."""
        folder = self.store.data_dir / s.output_dir
        present = [name for name, (file, _) in files.items() if (folder / file).is_file()]
        keys = metric_order([s])
        heads = [{"key": k, **metric_info(k)} for k in keys]
        return self._render("session.html", s=s, heads=heads, files=present,
                            has_overlay="overlay.mp4" in present,
                            has_report="report.html" in present)

    def athletes(self) -> str:
        """Every athlete with their number of sessions."""
        return self._render("athletes.html", athletes=self.store.athletes())

    def athlete(self, athlete_id: int, a: str | None, b: str | None) -> str | None:
        """One athlete's history: sessions, trends, and any two sessions compared."""
        found = [x for x in self.store.athletes() if x.id == athlete_id]
        if not found:
            return None
        athlete = found[0]
        history = self.store.sessions(athlete.name)
        keys = metric_order(history)
        trends = athlete_trends(history, keys)
        ids = [s.id for s in history]
        moved, compare_error = None, None
        if len(history) >= 2:
            a = a if a in ids else ids[-2]
            b = b if b in ids else ids[-1]
            sa, sb = (next(s for s in history if s.id == x) for x in (a, b))
            if a == b:
                compare_error = "Pick two different sessions to compare."
            else:
                try:
                    moved = compare(load_analysis(self.store.data_dir / sa.output_dir /
                                                  "analysis.json"),
                                    load_analysis(self.store.data_dir / sb.output_dir /
                                                  "analysis.json"))
                    moved["before_date"], moved["after_date"] = sa.date, sb.date
                except Exception:  # noqa: BLE001 - a damaged folder only loses this section
                    compare_error = "These two sessions cannot be compared (files missing)."
        jobs = [j for j in self.store.jobs() if j.athlete_id == athlete.id
                and j.state != "done" and j.video_path.startswith(f"{UPLOADS_DIR}/")]
        heads = [{"key": k, **metric_info(k)} for k in keys]
        return self._render("athlete.html", athlete=athlete, sessions=list(reversed(history)),
                            heads=heads, trends=trends, moved=moved, a=a, b=b,
                            compare_error=compare_error, jobs=jobs)

    def group(self) -> str:
        """The group table of every stored session, with z-scores within the group."""
        sessions = self.store.sessions()
        rows = group_rows(sessions)
        ids = {a.name: a.id for a in self.store.athletes()}
        for row in rows:
            row["athlete_href"] = f"/athletes/{ids.get(row['athlete'], 0)}"
            row["report_href"] = f"/sessions/{row['session_id']}"
        heads = [{"key": k, **metric_info(k)} for k in GROUP_METRICS]
        distributions = []
        for h in heads:
            points = [(f"{r['athlete']} {r['date']}", float(r[h["key"]])) for r in rows
                      if r[h["key"]] is not None]
            if points:
                distributions.append({"name": h["name"], "svg": strip_plot(
                    points, h["unit"], f"{h['name']} across the group")})
        failed = [j for j in self.store.jobs("failed")
                  if j.video_path.startswith(f"{UPLOADS_DIR}/")]
        queued = [j for j in self.store.jobs() if j.state in ("queued", "running")]
        return self._render("group.html", rows=rows, heads=heads, failed=failed,
                            queued=queued, generated=utc_now(), distributions=distributions,
                            min_group=MIN_GROUP_FOR_Z)


def _fmt(value: Any, decimals: int = 1) -> str:
    return "-" if not isinstance(value, int | float) else f"{value:.{decimals}f}"
