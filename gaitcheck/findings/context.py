"""What the runner tells gaitcheck: height, pace, where it hurts (and on which side), mileage
change and red flags (:class:`RunnerContext`)."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ConfigError
from .data import _advice_cached


def _red_flag_aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for key, entry in _advice_cached()["red_flags"].items():
        out[key] = key
        for alias in entry.get("aliases", []):
            out[alias] = key
    return out


RED_FLAGS: tuple[str, ...] = tuple(_advice_cached()["red_flags"])
"""Red-flag ids a runner can report (``--red-flag ID``); aliases are accepted too."""

PAIN_LOCATIONS: tuple[str, ...] = tuple(_advice_cached()["pain"])
"""Pain locations a runner can report (``--pain LOCATION`` or ``--pain LOCATION:SIDE``)."""

PAIN_SIDES: tuple[str, ...] = ("left", "right", "both")
"""Sides a pain location can name (``--pain outer-hip:left``)."""


_PACE_RE = re.compile(
    r"^\s*(?P<num>\d+(?::\d{1,2})?(?:\.\d+)?)\s*(?:min)?\s*/?\s*(?P<unit>km|mi|mile|"
    r"km/h|kmh|kph|mph|m/s)\s*$",
    re.IGNORECASE,
)


def parse_pace(pace: str) -> float:
    """Convert a pace or speed string to metres per second.

    Parameters
    ----------
    pace : str
        ``"5:30/km"``, ``"8:50/mi"``, ``"5:30 min/km"``, ``"12 km/h"``, ``"7.5 mph"`` or
        ``"3.2 m/s"``.

    Returns
    -------
    float
        Speed in m/s.

    Raises
    ------
    ConfigError
        When the text is not a pace or speed gaitcheck understands.
    """
    match = _PACE_RE.match(pace)
    bad = ConfigError(
        f"Pace '{pace}' is not understood; write it like 5:30/km, 8:50/mi, 12 km/h or 3.2 m/s."
    )
    if match is None:
        raise bad
    num, unit = match["num"], match["unit"].lower()
    if ":" in num:
        minutes, seconds = num.split(":")
        value = int(minutes) * 60 + float(seconds)  # seconds per unit distance
        if unit not in ("km", "mi", "mile") or float(seconds) >= 60:
            raise bad
    else:
        value = float(num)
    if value <= 0:
        raise bad
    if unit in ("km", "mi", "mile"):
        seconds_per_unit = value if ":" in num else value * 60.0  # "6/km" means 6 min/km
        metres = 1000.0 if unit == "km" else 1609.344
        speed = metres / seconds_per_unit
    elif unit in ("km/h", "kmh", "kph"):
        speed = value / 3.6
    elif unit == "mph":
        speed = value * 1609.344 / 3600.0
    else:
        speed = value
    if not 0.5 <= speed <= 12.0:
        raise ConfigError(
            f"Pace '{pace}' gives {speed:.1f} m/s, outside running speeds (0.5-12 m/s)."
        )
    return speed


@dataclass(frozen=True)
class RunnerContext:
    """What the runner tells gaitcheck about themselves (all optional).

    Parameters
    ----------
    height_cm : float, optional
        Body height in cm; used to phrase the step-rate target.
    pace : str, optional
        Running pace or speed during the clip, e.g. ``"5:30/km"`` (see :func:`parse_pace`).
    pain : tuple of str
        Where it hurts: ids from :data:`PAIN_LOCATIONS` (``outer-hip``, ``groin``, ``buttock``,
        ``front-hip``, ``radiating``, ``other``), optionally with a side from
        :data:`PAIN_SIDES` (``outer-hip:left``); stored as the bare locations.
    weekly_mileage_change_pct : float, optional
        Change of weekly distance over the last week(s), in percent (+25 = a quarter more).
    red_flags : tuple of str
        Warning signs: ids from :data:`RED_FLAGS` or their aliases (e.g. ``night-pain``,
        ``numbness``, ``pop``). Any red flag makes every report print a "see a professional"
        block first and hold back self-treatment advice.
    pain_sides : tuple of (str, str)
        ``(location, side)`` pairs; filled from ``pain`` entries such as ``outer-hip:left``.

    Raises
    ------
    ConfigError
        For an unknown pain location or red flag, or an implausible height or pace.
    """

    height_cm: float | None = None
    pace: str | None = None
    pain: tuple[str, ...] = ()
    weekly_mileage_change_pct: float | None = None
    red_flags: tuple[str, ...] = field(default_factory=tuple)
    pain_sides: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.height_cm is not None and not 100.0 <= float(self.height_cm) <= 230.0:
            raise ConfigError(f"Height {self.height_cm} cm is outside 100-230 cm; give it in cm.")
        if self.pace is not None:
            parse_pace(self.pace)
        pain: list[str] = []
        sides = dict(self.pain_sides)
        for raw in self.pain:
            # "outer-hip:left" names the side; a bare location leaves it open.
            loc, _, side = str(raw).strip().lower().partition(":")
            loc, side = loc.strip(), side.strip()
            if loc not in PAIN_LOCATIONS:
                raise ConfigError(
                    f"Pain location '{loc}' is not known; use one of {', '.join(PAIN_LOCATIONS)}"
                    " (optionally with a side, e.g. outer-hip:left)."
                )
            if side and side not in PAIN_SIDES:
                raise ConfigError(
                    f"Pain side '{side}' in '{raw}' is not known; use left, right or both "
                    "(e.g. outer-hip:left)."
                )
            pain.append(loc)
            if side:
                sides[loc] = side
        aliases = _red_flag_aliases()
        flags: list[str] = []
        for raw in self.red_flags:
            key = str(raw).strip().lower().replace("_", "-").replace(" ", "-")
            if key not in aliases:
                raise ConfigError(
                    f"Red flag '{raw}' is not known; use one of {', '.join(RED_FLAGS)}."
                )
            if aliases[key] not in flags:
                flags.append(aliases[key])
        if "radiating" in pain and "radiating" not in flags:
            flags.append("radiating")
        object.__setattr__(self, "pain", tuple(dict.fromkeys(pain)))
        object.__setattr__(self, "pain_sides", tuple(sorted(sides.items())))
        object.__setattr__(self, "red_flags", tuple(flags))
        if self.weekly_mileage_change_pct is not None and not math.isfinite(
            float(self.weekly_mileage_change_pct)
        ):
            raise ConfigError("The weekly mileage change must be a number (percent).")

    @property
    def speed_m_s(self) -> float | None:
        """Running speed in m/s from :attr:`pace`, or ``None``."""
        return None if self.pace is None else parse_pace(self.pace)

    @classmethod
    def from_config(cls, report: Any) -> RunnerContext:
        """Build a context from a :class:`gaitcheck.config.ReportConfig`.

        Parameters
        ----------
        report : ReportConfig
            The ``report`` section of the configuration.

        Returns
        -------
        RunnerContext
        """
        return cls(
            height_cm=report.height_cm,
            pace=report.pace,
            pain=tuple(report.pain),
            weekly_mileage_change_pct=report.weekly_mileage_change_pct,
            red_flags=tuple(getattr(report, "red_flags", ())),
        )

    def is_empty(self) -> bool:
        """True when the runner gave no information at all."""
        return self == RunnerContext()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (tuples become lists)."""
        out = asdict(self)
        out["pain"] = list(self.pain)
        out["red_flags"] = list(self.red_flags)
        out["pain_sides"] = dict(self.pain_sides)
        return out

    def pain_side(self, location: str) -> str | None:
        """Side (``left``, ``right`` or ``both``) the runner gave for a pain location."""
        return dict(self.pain_sides).get(location)

    @property
    def self_treatment_allowed(self) -> bool:
        """False when a red flag was reported: self-care, exercise and form advice could then
        delay the professional assessment the report asks for, so reports hold it back."""
        return not self.red_flags
