"""Identities of stored things: content hash of a video, hash of the settings, session id.

The same athlete, video content and settings give the same session id on any machine and in
any data folder, which is what makes a batch (or an upload) analyse each video once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..config import Config


def settings_dict(cfg: Config) -> dict[str, Any]:
    """The settings that shape a session's results (the cache switch does not)."""
    d = cfg.to_dict()
    d["pose"].pop("use_cache", None)
    return d


def settings_hash(cfg: Config) -> str:
    """Short content hash of :func:`settings_dict`."""
    text = json.dumps(settings_dict(cfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def session_id_for(athlete: str, content: str, settings: str) -> str:
    """Session id from the athlete's name (case-insensitive), the video's content hash (or
    another stand-in for a file that cannot be read) and the settings hash."""
    key = f"{athlete.casefold()}|{content}|{settings}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]
