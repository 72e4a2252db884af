"""One typed, frozen configuration; every default and every bound is defined here only.

The CLI, a TOML file (``--config FILE``) and the Python API all build a :class:`Config` with
:func:`load_config`; precedence is defaults < file < explicit overrides.

A TOML file mirrors the sections::

    [pose]
    model = "full"
    [clean]
    cutoff_hz = 8.0

The sections are pydantic dataclasses: types and bounds are declared next to each default and
checked whenever a section is built (also ``PoseConfig(...)`` from Python), so a wrong type or
value becomes one :class:`~gaitcheck.errors.ConfigError` sentence naming the file (or option),
the key and what is wrong.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.dataclasses import dataclass

from .errors import ConfigError

# Strict: no "8" -> 8.0, no 1 -> True; finite numbers only.
_STRICT = ConfigDict(strict=True, allow_inf_nan=False)


def _whole(value: Any) -> Any:
    """4.0 -> 4 (TOML writers often emit floats); everything else is judged by the type."""
    if isinstance(value, float) and not isinstance(value, bool) and value.is_integer():
        return int(value)
    return value


def _text_list(value: Any) -> Any:
    """A single text or a list of texts -> tuple of texts (other shapes fail the type)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


Int = Annotated[int, BeforeValidator(_whole)]
Texts = Annotated[tuple[str, ...], BeforeValidator(_text_list)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
View = Literal["auto", "side-left", "side-right", "rear", "front"]

# Capture rates a camera can have: 1 Hz time-lapse to 2000 Hz high-speed cameras.
MIN_CAPTURE_FPS = 1.0
MAX_CAPTURE_FPS = 2000.0
# Longest clip position accepted for --start/--end: a day (values beyond are typos).
MAX_TIME_S = 86_400.0


@dataclass(frozen=True, config=_STRICT)
class PoseConfig:
    """Video decoding and pose extraction settings."""

    model: Annotated[str, Field(min_length=1)] = "full"  # lite | full | heavy | .task path
    # Real capture rate for slow-motion exports.
    capture_fps: Annotated[float, Field(ge=MIN_CAPTURE_FPS, le=MAX_CAPTURE_FPS)] | None = None
    start_s: Annotated[float, Field(ge=0.0, le=MAX_TIME_S)] | None = None
    end_s: Annotated[float, Field(gt=0.0, le=MAX_TIME_S)] | None = None
    # Frames larger than this on their long side are downscaled before the model (its
    # landmark crop is 256 px, so 720x1280 keeps the runner well above it; a 1080p frame
    # at full size only costs conversion time). 720x1280 clips are not scaled at all; a
    # whole-factor shrink is preferred when it keeps 3/4 of the bound (1080x1920 -> 540x960,
    # basis in video.WHOLE_FACTOR_MIN_SHARE).
    max_side_px: Annotated[Int, Field(ge=64, le=16384)] = 1280
    min_pose_detection_confidence: Share = 0.5
    min_pose_presence_confidence: Share = 0.5
    min_tracking_confidence: Share = 0.5
    min_pose_share: Share = 0.2  # below this share of frames with a pose: "no person"
    min_legs_share: Share = 0.5  # below this share of pose frames with a leg in view: error
    min_leg_visibility: Share = 0.5  # a landmark counts as seen at this visibility
    use_cache: bool = True
    # Pose segments tracked at once (see gaitcheck.segments); None: all cores. Capped by the
    # cores, and 1 inside a batch or web job (its siblings fill the cores). Results are the
    # same for any value.
    workers: Annotated[Int, Field(ge=1, le=256)] | None = None


@dataclass(frozen=True, config=_STRICT)
class CleanConfig:
    """Landmark cleaning settings (see ``gaitcheck.clean``)."""

    min_visibility: Share = 0.3
    max_gap_s: Annotated[float, Field(ge=0.0, le=10.0)] = 0.1  # gaps this long are filled
    hampel_window_s: Annotated[float, Field(gt=0.0, le=10.0)] = 0.1  # outlier half-window
    hampel_n_sigma: Positive = 3.0
    cutoff_hz: Positive = 10.0  # Butterworth low-pass cut-off in real Hz
    # Sharper copy for timing foot contact (an abrupt event); capped at 0.8 x Nyquist.
    event_cutoff_hz: Positive = 20.0
    # Orders above 8 make the filter numerically fragile at low cut-offs.
    filter_order: Annotated[Int, Field(ge=1, le=8)] = 4
    repair_swaps: bool = True


@dataclass(frozen=True, config=_STRICT)
class EventConfig:
    """Gait event detection settings (see ``gaitcheck.events``)."""

    min_step_s: Annotated[float, Field(gt=0.0, le=10.0)] = 0.2  # shortest step (300/min)
    max_step_s: Annotated[float, Field(gt=0.0, le=10.0)] = 1.2  # longest step (50/min)
    # Fewer steps than this: the clip is too short to analyse (a stride needs two steps).
    min_steps: Annotated[Int, Field(ge=2, le=10_000)] = 4


@dataclass(frozen=True, config=_STRICT)
class AnalysisConfig:
    """Analysis settings: camera view and which foot counts as near."""

    view: View = "auto"
    min_steps_confident: Annotated[Int, Field(ge=1, le=10_000)] = 7  # Dingenen 2018: >= 7


@dataclass(frozen=True, config=_STRICT)
class ReportConfig:
    """Report and visuals settings."""

    overlay: bool = True
    # The overlay video's long side at most (smaller sources keep their size): 960 px fills a
    # report or phone screen (the report shows it at most 80 % of the window's height) and
    # costs 1.8x fewer pixels to decode, draw and encode than 1280 px (issue 12); 1280 or
    # more for a sharper picture on high-density screens.
    overlay_max_side_px: Annotated[Int, Field(ge=240, le=4096)] = 960
    plots: bool = True
    rules: Annotated[str, Field(min_length=1)] | None = None  # a coach's own rules table
    height_cm: Positive | None = None  # plausible range checked by findings.RunnerContext
    pace: str | None = None  # e.g. "5:30/km"
    pain: Texts = ()
    weekly_mileage_change_pct: Annotated[float, Field(ge=-100.0, le=10_000.0)] | None = None
    red_flags: Texts = ()  # e.g. ("night-pain",); see gaitcheck.findings.RED_FLAGS


@dataclass(frozen=True, config=_STRICT)
class Config:
    """The whole configuration."""

    pose: PoseConfig = dataclasses.field(default_factory=PoseConfig)
    clean: CleanConfig = dataclasses.field(default_factory=CleanConfig)
    events: EventConfig = dataclasses.field(default_factory=EventConfig)
    analysis: AnalysisConfig = dataclasses.field(default_factory=AnalysisConfig)
    report: ReportConfig = dataclasses.field(default_factory=ReportConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-serialisable)."""
        return dataclasses.asdict(self)


SECTIONS: dict[str, type] = {
    "pose": PoseConfig, "clean": CleanConfig, "events": EventConfig,
    "analysis": AnalysisConfig, "report": ReportConfig,
}

# Settings that have a command-line option: errors in overrides name the option.
OPTION_NAMES = {
    "pose.model": "--model", "pose.capture_fps": "--capture-fps", "pose.start_s": "--start",
    "pose.end_s": "--end", "analysis.view": "--view", "report.rules": "--rules",
    "report.height_cm": "--height-cm", "report.pace": "--pace", "report.pain": "--pain",
    "report.weekly_mileage_change_pct": "--mileage-change", "report.red_flags": "--red-flag",
}


def _problem(err: Any) -> str:
    """One pydantic error -> 'must be ...' phrase."""
    kind, ctx = err["type"], err.get("ctx") or {}
    bounds = {
        "greater_than": "must be greater than {gt:g}",
        "greater_than_equal": "must be at least {ge:g}",
        "less_than": "must be less than {lt:g}",
        "less_than_equal": "must be at most {le:g}",
    }
    if kind in bounds:
        return bounds[kind].format(**ctx)
    phrases = {
        "finite_number": "must be a finite number",
        "bool_type": "must be true or false",
        "int_type": "must be a whole number",
        "float_type": "must be a number",
        "string_type": "must be text",
        "string_too_short": "must not be empty",
        "tuple_type": "must be a list of texts",
        "literal_error": f"must be one of {ctx.get('expected', '')}",
    }
    return phrases.get(kind, str(err.get("msg", "is invalid")).lower())


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def _build_section(name: str, values: dict[str, Any], origin: str | None) -> Any:
    """Build one section from ``values``; ``origin`` names the file (None: options)."""
    cls = SECTIONS[name]
    known = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in known:
            where = f"{origin}: " if origin else ""
            raise ConfigError(
                f"{where}Unknown setting '{name}.{key}'; known settings in [{name}]: "
                f"{', '.join(sorted(known))}."
            )
    try:
        return cls(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = f"{name}.{err['loc'][0]}" if err["loc"] else name
        got = values.get(str(err["loc"][0])) if err["loc"] else None
        if origin is None and key in OPTION_NAMES:
            label = OPTION_NAMES[key]
        elif origin is None:
            label = f"Setting '{key}'"
        else:
            label = f"{origin}: setting '{key}'"
        raise ConfigError(f"{label} {_problem(err)} (got {_fmt_value(got)}).") from None


def read_toml(path: str | Path, what: str = "Configuration file") -> dict[str, Any]:
    """Parse a TOML file, turning every read or syntax problem into one sentence.

    Raises
    ------
    ConfigError
        Missing, unreadable, not UTF-8 text, or not valid TOML.
    """
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"Cannot read {what.lower()} {p}: it does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(f"Cannot read {what.lower()} {p}: it is a folder.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {what.lower()} {p} ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{what} {p} is not UTF-8 text; save it as UTF-8 TOML."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {p} is not valid TOML ({exc}).") from None


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
        For a missing/unreadable file, an unknown section or key, or a value of the wrong type
        or out of bounds; the sentence names the file (or option), the key and the problem.
    """
    layers: list[tuple[dict[str, Any], str | None]] = []
    if path is not None:
        layers.append((read_toml(path), f"Configuration file {path}"))
    if overrides:
        layers.append(
            ({s: {k: v for k, v in vals.items() if v is not None}
              for s, vals in overrides.items()}, None)
        )
    sections = {name: getattr(Config(), name) for name in SECTIONS}
    for layer, origin in layers:
        for name, values in layer.items():
            where = f"{origin}: " if origin else ""
            if name not in SECTIONS:
                raise ConfigError(
                    f"{where}Unknown configuration section [{name}]; use one of "
                    f"{', '.join(SECTIONS)}."
                )
            if not isinstance(values, dict):
                raise ConfigError(f"{where}Configuration section [{name}] must be a table.")
            merged = {**dataclasses.asdict(sections[name]), **values}
            sections[name] = _build_section(name, merged, origin)
    cfg = Config(**sections)
    _validate(cfg)
    return cfg


def _validate(cfg: Config) -> None:
    """Checks that relate two settings."""
    s, e = cfg.pose.start_s, cfg.pose.end_s
    if s is not None and e is not None and e <= s:
        raise ConfigError("--end must be later than --start.")
    if cfg.events.max_step_s <= cfg.events.min_step_s:
        raise ConfigError("Setting 'events.max_step_s' must be larger than 'events.min_step_s'.")
    if cfg.report.height_cm is not None and not math.isfinite(cfg.report.height_cm):
        raise ConfigError("--height-cm must be a finite number.")  # pragma: no cover
