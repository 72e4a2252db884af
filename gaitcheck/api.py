"""Public entry points that run the whole pipeline.

``analyze_video``: video -> pose (cached) -> analysis. ``write_outputs``: analysis -> files
(analysis.json with findings, steps.csv, cycles.csv, report.html/.md, plots, overlay.mp4).
``analyze_video_to_dir`` is the one entry the CLI (and batch and web) call: it checks every input
first (:func:`check_inputs`), then writes the whole set atomically (``gaitcheck.outputs``).
The numeric core (:func:`gaitcheck.analysis.analyze_pose`) stays free of OpenCV and MediaPipe;
only this module reaches for the video and pose rooms, and only inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config
from .errors import ConfigError, VideoError
from .outputs import check_out_dir, output_set
from .series import PoseSeries

if TYPE_CHECKING:
    from .analysis import Analysis
    from .video import VideoInfo


def check_options(config: Config) -> None:
    """Check the runner context and the rules table of a configuration (no video needed).

    Raises
    ------
    ConfigError
        For an implausible height, an unknown pace, pain location or red flag, or a rules
        table that cannot be read or has a wrong key, type or value.
    """
    from .findings import RunnerContext, load_rules

    RunnerContext.from_config(config.report)
    load_rules(config.report.rules)


def check_inputs(
    video_path: str | Path | None, config: Config, out_dir: str | Path | None = None
) -> VideoInfo | None:
    """Check every input of a run before any expensive work starts.

    Order: options and rules (instant), the output folder, the pose model, then the video
    (probed, not decoded) and ``--start``/``--end`` against its length.

    Parameters
    ----------
    video_path : str or Path, optional
    config : Config
        Already type- and bound-checked by :func:`gaitcheck.config.load_config`.
    out_dir : str or Path, optional
        Created when missing; must be a writable folder.

    Returns
    -------
    VideoInfo or None
        The probe of the video, when one was given.

    Raises
    ------
    ConfigError, OutputError, ModelError, VideoError
        One sentence naming the problem and the fix.
    """
    check_options(config)
    if out_dir is not None:
        check_out_dir(out_dir)
    if video_path is None:
        return None
    from .models import resolve_model
    from .video import probe

    resolve_model(config.pose.model)
    info = probe(video_path)
    start = config.pose.start_s
    if start is not None and start >= info.duration_s:
        raise ConfigError(
            f"--start {start:g} s is not inside {Path(video_path).name}, which lasts "
            f"{info.duration_s:.1f} s; choose a start before the end of the video."
        )
    from .pose import MIN_TRUNCATED_S

    if info.truncated and info.n_frames / info.nominal_fps - (start or 0.0) < MIN_TRUNCATED_S:
        raise VideoError(
            f"{video_path} ends at {info.n_frames / info.nominal_fps:.1f} s of "
            f"{info.announced_s:.1f} s, too little to analyse; it is incomplete, so copy or "
            "export it again."
        )
    return info


StageCallback = Callable[[str], None]
"""Told the name of each stage as it starts: ``check``, ``pose``, ``analysis``, ``report``."""


def analyze_video_to_dir(
    path: str | Path,
    out_dir: str | Path,
    config: Config | None = None,
    progress: bool | StageCallback | None = None,
) -> tuple[Analysis, dict[str, Path]]:
    """Analyse a video and write its complete output set into ``out_dir``.

    The one entry the CLI, batch jobs and the web app call. Every input is checked first
    (:func:`check_inputs`); the files are written into a staging folder and published together
    with an ``outputs.json`` manifest, replacing the previous set (see :mod:`gaitcheck.outputs`).
    A run that fails or is interrupted leaves the previous set as it was.

    Parameters
    ----------
    path : str or Path
        The video file.
    out_dir : str or Path
        The output folder (created when missing).
    config : Config, optional
    progress : bool or callable, optional
        True: progress bars on stderr. A callable is told each stage's name as it starts
        (``check``, ``pose``, ``analysis``, ``report``) and no bars are drawn.

    Returns
    -------
    analysis : Analysis
        With findings.
    written : dict of str -> Path
        Final paths of the files written (``analysis``, ``steps``, ``html``, ``pose``, ...).

    Raises
    ------
    GaitcheckError
        One sentence for every bad input (subclasses: ConfigError, OutputError, VideoError,
        ModelError, NoPersonError, AnalysisError).
    """
    from .pose import load_or_extract

    bars = progress is True
    stage: StageCallback = progress if callable(progress) else (lambda name: None)
    cfg = config or Config()
    stage("check")
    check_inputs(path, cfg, out_dir)
    out = Path(out_dir)
    stage("pose")
    series = load_or_extract(path, cfg, out, progress=bars, cache=cfg.pose.use_cache,
                             save=False)
    stage("analysis")
    from .analysis import Analysis, analyze_pose

    analysis = analyze_pose(series, cfg)
    stage("report")
    with output_set(out, "analyze") as oset:
        written = {"pose": series.save(oset.staging / "pose.npz")}
        written.update(write_outputs(analysis, oset.staging, cfg, series=series,
                                     video_path=path, progress=bars,
                                     reuse_overlay=out / "overlay.mp4"))
        full = Analysis(_read_json(written["analysis"]), analysis.cleaned_xy_px,
                        analysis.frame_index)
    return full, {k: oset.final(v) for k, v in written.items()}


def pose_video_to_dir(
    path: str | Path,
    out_dir: str | Path,
    config: Config | None = None,
    *,
    trc: bool = False,
    progress: bool = False,
    height_cm: float | None = None,
) -> tuple[PoseSeries, list[Path]]:
    """Extract (or reuse) a video's pose series and write ``pose.npz``, ``pose.csv`` (and
    ``pose.trc``) as one output set into ``out_dir``.

    Returns
    -------
    series : PoseSeries
    written : list of Path
        Final paths of the files written.
    """
    from .pose import load_or_extract, save_outputs

    cfg = config or Config()
    check_inputs(path, cfg, out_dir)
    series = load_or_extract(path, cfg, out_dir, progress=progress, cache=cfg.pose.use_cache,
                             save=False)
    with output_set(out_dir, "pose") as oset:
        staged = save_outputs(series, oset.staging, trc=trc, height_cm=height_cm)
    return series, [oset.final(p) for p in staged]


def _read_json(path: Path) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def analyze_video(
    path: str | Path,
    config: Config | None = None,
    out_dir: str | Path | None = None,
    *,
    progress: bool = False,
) -> tuple[Analysis, PoseSeries]:
    """Extract (or load the cached) pose of a video and analyse it.

    Parameters
    ----------
    path : str or Path
        The video file.
    config : Config, optional
    out_dir : str or Path, optional
        Where ``pose.npz`` is saved and reused.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    analysis : Analysis
    series : PoseSeries
    """
    from .pose import load_or_extract

    cfg = config or Config()
    series = load_or_extract(path, cfg, out_dir, progress=progress, cache=cfg.pose.use_cache)
    from .analysis import analyze_pose

    return analyze_pose(series, cfg), series


def write_outputs(
    analysis: Analysis,
    out_dir: str | Path,
    config: Config | None = None,
    *,
    series: PoseSeries | None = None,
    video_path: str | Path | None = None,
    progress: bool = False,
    reuse_overlay: str | Path | None = None,
) -> dict[str, Path]:
    """Write every result file of an analysis into ``out_dir``.

    Parameters
    ----------
    analysis : Analysis
    out_dir : str or Path
    config : Config, optional
        ``report`` settings: rules table, runner context, overlay and plots switches.
    series : PoseSeries, optional
        Needed for the overlay and the key-frame strip.
    video_path : str or Path, optional
        Source video for the overlay and key frames; without it neither is made.
    progress : bool
    reuse_overlay : str or Path, optional
        An earlier ``overlay.mp4`` copied instead of rendering when it shows the same thing.

    Returns
    -------
    dict of str -> Path
    """
    from .analysis import Analysis
    from .assessment import headline
    from .findings import RunnerContext, evaluate
    from .report import write_figures, write_report

    cfg = config or Config()
    out = Path(out_dir)
    context = RunnerContext.from_config(cfg.report)
    findings = evaluate(analysis.data, context, cfg.report.rules)
    data = {**analysis.data, "findings": findings}
    if "assessment" in data:
        # The headline can name what stood out only once the findings exist.
        data["assessment"] = {**data["assessment"], "headline": headline(data, findings)}
    full = Analysis(data, analysis.cleaned_xy_px, analysis.frame_index)
    written = dict(full.write(out))

    if series is not None:
        # Draw what was measured: swap-repaired, filtered landmarks of the analysed frames.
        series = analysis.drawn_series(series)
    overlay = None

    def figures_job() -> Any:
        key_frames = None
        if video_path is not None and series is not None and cfg.report.plots:
            key_frames = _key_frames(full.data, series, video_path)
        return write_figures(full.data, out, key_frames=key_frames,
                             rules_path=cfg.report.rules, plots=cfg.report.plots)

    # The key frames and plots are made on a second thread while the overlay renders: its
    # decoding and encoding run in FFmpeg without Python's lock, so the two overlap on a second
    # core.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gaitcheck-plots") as pool:
        figures = pool.submit(figures_job)
        if video_path is not None and series is not None and cfg.report.overlay:
            from .overlay import write_overlay

            # Before the report, which shows the overlay as a <video> with this poster. The
            # overlay already in the folder the set replaces is kept when nothing drawn changed.
            written["overlay"] = write_overlay(
                video_path, series, full.data, out / "overlay.mp4", progress=progress,
                poster_path=out / "overlay_poster.jpg", reuse=reuse_overlay,
                max_side_px=cfg.report.overlay_max_side_px)
            overlay = written["overlay"]
            if (out / "overlay_poster.jpg").is_file():
                written["overlay_poster"] = out / "overlay_poster.jpg"
        done = figures.result()
    written.update(write_report(full.data, out, findings=findings, context=context,
                                overlay=overlay, figures=done))
    return written


def _key_frames(data: dict[str, Any], series: PoseSeries, video_path: str | Path) -> Any:
    """Decode the contact frames the key-frame strip needs."""
    from .report import key_frame_steps, make_key_frames
    from .video import read_frames

    wanted = sorted({int(s["ic_frame"]) for s in key_frame_steps(data)})
    if not wanted:
        return None
    turn = int(series.meta.get("turn_deg") or 0)
    frames = dict(zip(wanted, read_frames(video_path, wanted, turn_deg=turn), strict=True))
    assert series.frame_index is not None
    row_of = {int(f): i for i, f in enumerate(series.frame_index.tolist())}
    xy = {f: series.xy_px[row_of[f]] for f in wanted if f in row_of}
    return make_key_frames(data, frames, xy)
