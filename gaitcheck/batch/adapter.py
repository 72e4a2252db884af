"""The one place where batch jobs call the analysis: video -> output folder.

Re-point :func:`analyze_to_dir` here when the public API grows its own
``analyze_video_to_dir``; nothing else in ``gaitcheck.batch`` calls the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config

StageCallback = Callable[[str], None]
"""Called with the name of the stage about to start: ``pose``, ``analysis``, ``report``."""


def analyze_to_dir(
    video: str | Path, out_dir: str | Path, config: Config,
    progress: StageCallback | None = None,
) -> dict[str, Any]:
    """Analyse one video and write the files ``gaitcheck analyze`` writes into ``out_dir``.

    Parameters
    ----------
    video : str or Path
    out_dir : str or Path
        Created if missing; the caller makes it atomic (temporary folder + rename).
    config : Config
    progress : callable, optional
        Told each stage's name as it starts.

    Returns
    -------
    dict
        The ``analysis.json`` content, findings included.
    """
    from ..api import analyze_video, write_outputs
    from ..compare import load_analysis

    def stage(name: str) -> None:
        if progress is not None:
            progress(name)

    stage("pose")
    analysis, series = analyze_video(video, config, out_dir, progress=False)
    stage("report")
    write_outputs(analysis, out_dir, config, series=series, video_path=video, progress=False)
    return load_analysis(Path(out_dir) / "analysis.json")
