"""User-facing errors: each carries one sentence saying what is wrong and what to do."""

from __future__ import annotations


class GaitcheckError(Exception):
    """Base class for errors shown to the user as one sentence (exit code 2)."""

    exit_code = 2


class VideoError(GaitcheckError):
    """The file cannot be read as a video (missing, empty, truncated, unsupported codec)."""


class NoPersonError(GaitcheckError):
    """No person, or too little of one, was found in the video."""


class ModelError(GaitcheckError):
    """The pose model cannot be found, downloaded or verified."""


class SeriesError(GaitcheckError):
    """A pose series file is malformed or inconsistent."""


class AnalysisError(GaitcheckError):
    """The pose series does not support the analysis (too short, no steps, wrong view)."""


class ConfigError(GaitcheckError):
    """A configuration file or option is invalid."""
