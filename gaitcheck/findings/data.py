"""Packaged data of the findings engine: the advice texts and dosing of
``gaitcheck/data/advice.toml`` (read once, handed out as copies)."""

from __future__ import annotations

import copy
import functools
import tomllib
from importlib import resources
from typing import Any


def _read_package_toml(name: str) -> dict[str, Any]:
    text = resources.files("gaitcheck").joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


@functools.lru_cache(maxsize=1)
def _advice_cached() -> dict[str, Any]:
    return _read_package_toml("advice.toml")


def load_advice() -> dict[str, Any]:
    """Return the advice texts (a deep copy of ``gaitcheck/data/advice.toml``).

    Returns
    -------
    dict
        Sections ``cues``, ``exercises``, ``why``, ``pain``, ``red_flags``, ``red_flag_block``,
        ``prevention``, ``relief`` and ``limits``.
    """
    return copy.deepcopy(_advice_cached())
