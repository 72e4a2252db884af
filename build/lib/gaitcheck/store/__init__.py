"""The athlete store: SQLite database plus one output folder per session.

Shared by ``gaitcheck batch``/``history``/``athletes`` and the web app. See :mod:`.db`.
"""

from .db import (
    Athlete,
    Job,
    Session,
    SessionRecord,
    Store,
    StoreError,
    resolve_data_dir,
)

__all__ = ["Athlete", "Job", "Session", "SessionRecord", "Store", "StoreError",
           "resolve_data_dir"]
