"""Public entry points that run the whole pipeline.

``analyze_video``: video -> pose (cached) -> analysis. ``write_outputs``: analysis -> files
(analysis.json with findings, steps.csv, cycles.csv, report.html/.md, plots, overlay.mp4).
The numeric core (:func:`gaitcheck.analysis.analyze_pose`) stays free of OpenCV and MediaPipe;
only this module reaches for the video and pose rooms, and only inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .analysis import Analysis, analyze_pose
from .config import Config
from .series import PoseSeries


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
    return analyze_pose(series, cfg), series


def write_outputs(
    analysis: Analysis,
    out_dir: str | Path,
    config: Config | None = None,
    *,
    series: PoseSeries | None = None,
    video_path: str | Path | None = None,
    progress: bool = False,
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

    Returns
    -------
    dict of str -> Path
    """
    from .assessment import headline
    from .findings import RunnerContext, evaluate
    from .report import write_report

    cfg = config or Config()
    out = Path(out_dir)
    context = RunnerContext.from_config(cfg.report)
    findings = evaluate(analysis.data, context, cfg.report.rules)
    data = {**analysis.data, "findings": findings}
    if "assessment" in data:
        # The headline can name what stood out only once the findings exist.
        data["assessment"] = {**data["assessment"], "headline": headline(data, findings)}
    full = Analysis(data, analysis.cleaned_xy_px)
    written = dict(full.write(out))

    if series is not None and analysis.cleaned_xy_px is not None:
        # Draw what was measured: swap-repaired, filtered landmarks.
        series = series.with_arrays(xy_px=analysis.cleaned_xy_px)
    key_frames = None
    if video_path is not None and series is not None and cfg.report.plots:
        key_frames = _key_frames(full.data, series, video_path)
    written.update(write_report(full.data, out, findings=findings, context=context,
                                key_frames=key_frames, plots=cfg.report.plots))
    if video_path is not None and series is not None and cfg.report.overlay:
        from .overlay import write_overlay

        written["overlay"] = write_overlay(video_path, series, full.data, out / "overlay.mp4",
                                           progress=progress)
    return written


def _key_frames(data: dict[str, Any], series: PoseSeries, video_path: str | Path) -> Any:
    """Decode the contact frames the key-frame strip needs."""
    from .report import key_frame_steps, make_key_frames
    from .video import read_frames

    wanted = sorted({int(s["ic_frame"]) for s in key_frame_steps(data)})
    if not wanted:
        return None
    frames = dict(zip(wanted, read_frames(video_path, wanted), strict=True))
    assert series.frame_index is not None
    row_of = {int(f): i for i, f in enumerate(series.frame_index.tolist())}
    xy = {f: series.xy_px[row_of[f]] for f in wanted if f in row_of}
    return make_key_frames(data, frames, xy)
