"""User-facing errors: each carries one sentence saying what is wrong and what to do."""

from __future__ import annotations

from pathlib import Path


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


class OutputError(GaitcheckError):
    """The output folder cannot be created or written."""


class GaitcheckWarning(UserWarning):
    """Something the user should know, though the run goes on (shown as one line)."""


class Interrupted(KeyboardInterrupt):  # noqa: N818 - reads as "gaitcheck was interrupted"
    """SIGTERM, turned into an exception so clean-up code runs as for Ctrl-C."""


# The exit codes of every command (documented in README.md, "Exit codes").
EXIT_OK = 0
EXIT_INTERNAL = 1  # a bug: one line on stderr plus the path of a log file with the traceback
EXIT_USER = 2  # bad input: one sentence naming the problem and the fix
EXIT_PARTIAL = 3  # some items of a batch failed
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT) or SIGTERM


def write_crash_log(exc: BaseException, argv: list[str] | None = None) -> Path | None:
    """Write the traceback of an unexpected error to ``<cache root>/logs``; return its path.

    Returns None when no log can be written (the caller still prints one line).
    """
    import os
    import time
    import traceback

    from .models import cache_root

    folder = cache_root() / "logs"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = folder / f"crash-{stamp}-{os.getpid()}.log"
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(f"gaitcheck {' '.join(argv or [])}\n\n{text}", encoding="utf-8")
    except OSError:
        return None
    return path
