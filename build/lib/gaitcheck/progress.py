"""Progress bars on stderr (tqdm), or a silent stand-in when progress is off."""

from __future__ import annotations

import sys
from typing import IO, Any


def progress_bar(
    total: int | None, *, enabled: bool = True, desc: str = "", file: IO[str] | None = None
) -> Any:
    """A tqdm bar counting frames (shows done/total and frames per second) on stderr.

    Parameters
    ----------
    total : int or None
        Expected number of frames (``None`` when unknown).
    enabled : bool
        ``False`` returns a disabled bar with the same interface.
    desc : str
        Label in front of the bar.
    file : text stream, optional
        Where to draw (default ``sys.stderr``).
    """
    from tqdm import tqdm

    return tqdm(
        total=total, desc=desc, unit="frame", file=file or sys.stderr, disable=not enabled,
        dynamic_ncols=True, leave=False,
    )
