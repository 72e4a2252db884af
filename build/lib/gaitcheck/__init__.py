"""gaitcheck: running gait analysis from a phone video."""

from __future__ import annotations

__version__ = "0.1.0"
