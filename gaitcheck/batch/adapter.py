"""The one place where batch jobs call the analysis: video -> output folder.

It calls the public :func:`gaitcheck.api.analyze_video_to_dir` (inputs checked first, the
whole output set written together with its ``outputs.json`` manifest); nothing else in
``gaitcheck.batch`` calls the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config

StageCallback = Callable[[str], None]
"""Called with the name of the stage about to start (``analysing``)."""


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
        Told each stage's name as it starts. The public entry runs pose, analysis and
        report in one call, so a job reports ``analysing`` and then (from the caller)
        ``saving``.

    Returns
    -------
    dict
        The ``analysis.json`` content, findings included.
    """
    from ..api import analyze_video_to_dir

    if progress is not None:
        progress("analysing")
    analysis, _ = analyze_video_to_dir(video, out_dir, config, progress=False)
    return analysis.data
