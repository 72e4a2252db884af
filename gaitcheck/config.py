"""One typed, frozen configuration; every default is defined here and only here.

The CLI, a TOML file (``--config FILE``) and the Python API all build a :class:`Config` with
:func:`load_config`; precedence is defaults < file < explicit overrides.

A TOML file mirrors the sections::

    [pose]
    model = "full"
    [clean]
    cutoff_hz = 8.0
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class PoseConfig:
    """Video decoding and pose extraction settings."""

    model: str = "full"  # lite | full | heavy | path to a .task file
    capture_fps: float | None = None  # real capture rate for slow-motion exports
    start_s: float | None = None
    end_s: float | None = None
    max_side_px: int = 1920  # frames larger than this on their long side are downscaled
    min_pose_detection_confidence: float = 0.5
    min_pose_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    min_pose_share: float = 0.2  # below this share of frames with a pose: "no person"
    min_legs_share: float = 0.5  # below this share of pose frames with a leg in view: error
    min_leg_visibility: float = 0.5  # a landmark counts as seen at this visibility
    use_cache: bool = True


@dataclass(frozen=True)
class CleanConfig:
    """Landmark cleaning settings (see ``gaitcheck.clean``)."""

    min_visibility: float = 0.3
    max_gap_s: float = 0.1  # gaps up to this long are interpolated
    hampel_window_s: float = 0.1  # half-window of the outlier filter
    hampel_n_sigma: float = 3.0
    cutoff_hz: float = 10.0  # Butterworth low-pass cut-off in real Hz
    # Sharper copy for timing foot contact (an abrupt event); capped at 0.8 x Nyquist.
    event_cutoff_hz: float = 20.0
    filter_order: int = 4
    repair_swaps: bool = True


@dataclass(frozen=True)
class EventConfig:
    """Gait event detection settings (see ``gaitcheck.events``)."""

    min_step_s: float = 0.2  # shortest plausible step (300 steps/min)
    max_step_s: float = 1.2  # longest plausible step (50 steps/min)
    min_steps: int = 4  # fewer steps than this: the clip is too short to analyse


@dataclass(frozen=True)
class AnalysisConfig:
    """Analysis settings: camera view and which foot counts as near."""

    view: str = "auto"  # auto | side-left | side-right | rear | front
    min_steps_confident: int = 7  # Dingenen 2018: average at least 7 steps


@dataclass(frozen=True)
class ReportConfig:
    """Report and visuals settings."""

    overlay: bool = True
    plots: bool = True
    rules: str | None = None  # path to a coach's own rules table
    height_cm: float | None = None
    pace: str | None = None  # e.g. "5:30/km"
    pain: tuple[str, ...] = ()
    weekly_mileage_change_pct: float | None = None
    red_flags: tuple[str, ...] = ()  # e.g. ("night-pain",); see gaitcheck.findings.RED_FLAGS


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    pose: PoseConfig = field(default_factory=PoseConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    events: EventConfig = field(default_factory=EventConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    report: ReportConfig = field(default_factory=ReportConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-serialisable)."""
        return dataclasses.asdict(self)


SECTIONS = {f.name: f.type for f in dataclasses.fields(Config)}


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against a field's type hint; return it in the field's type."""
    args = typing.get_args(hint)
    if type(None) in args:  # Optional[X]
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"Setting '{where}' must be true or false, got {value!r}.")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ConfigError(f"Setting '{where}' must be a whole number, got {value!r}.")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"Setting '{where}' must be a number, got {value!r}.")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"Setting '{where}' must be text, got {value!r}.")
        return value
    if typing.get_origin(hint) is tuple:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
            raise ConfigError(f"Setting '{where}' must be a list of text, got {value!r}.")
        return tuple(items)
    return value


def _apply(section: Any, values: dict[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(type(section))
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(
                f"Unknown setting '{where}.{key}'; known settings in [{where}]: "
                f"{', '.join(sorted(hints))}."
            )
        clean[key] = _coerce(value, hints[key], f"{where}.{key}")
    return dataclasses.replace(section, **clean)


def load_config(
    path: str | Path | None = None, overrides: dict[str, dict[str, Any]] | None = None
) -> Config:
    """Build a :class:`Config` from defaults, an optional TOML file and overrides.

    Parameters
    ----------
    path : str or Path, optional
        TOML file with sections ``[pose]``, ``[clean]``, ``[events]``, ``[analysis]``,
        ``[report]``.
    overrides : dict, optional
        ``{section: {key: value}}``; ``None`` values are ignored (unset CLI options).

    Raises
    ------
    ConfigError
        For a missing/unreadable file, an unknown section or key, or a value of the wrong type.
    """
    cfg = Config()
    layers: list[dict[str, Any]] = []
    if path is not None:
        p = Path(path)
        try:
            layers.append(tomllib.loads(p.read_text()))
        except OSError:
            raise ConfigError(f"Cannot read configuration file {p}.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Configuration file {p} is not valid TOML ({exc}).") from None
    if overrides:
        layers.append(
            {s: {k: v for k, v in vals.items() if v is not None} for s, vals in overrides.items()}
        )
    for layer in layers:
        for name, values in layer.items():
            if name not in SECTIONS:
                raise ConfigError(
                    f"Unknown configuration section [{name}]; use one of {', '.join(SECTIONS)}."
                )
            if not isinstance(values, dict):
                raise ConfigError(f"Configuration section [{name}] must be a table.")
            cfg = dataclasses.replace(cfg, **{name: _apply(getattr(cfg, name), values, name)})
    _validate(cfg)
    return cfg


def _validate(cfg: Config) -> None:
    if cfg.analysis.view not in ("auto", "side-left", "side-right", "rear", "front"):
        raise ConfigError(
            f"View '{cfg.analysis.view}' is not one of auto, side-left, side-right, rear, front."
        )
    if cfg.clean.cutoff_hz <= 0:
        raise ConfigError("clean.cutoff_hz must be positive.")
    if cfg.pose.capture_fps is not None and cfg.pose.capture_fps <= 0:
        raise ConfigError("--capture-fps must be a positive frame rate.")
    s, e = cfg.pose.start_s, cfg.pose.end_s
    if s is not None and s < 0:
        raise ConfigError("--start must be zero or positive (seconds).")
    if s is not None and e is not None and e <= s:
        raise ConfigError("--end must be later than --start.")
