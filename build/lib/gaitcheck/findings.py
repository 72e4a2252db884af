"""Findings engine: metrics of ``analysis.json`` + a rules table -> ranked, actionable findings.

Thresholds live in data (``gaitcheck/data/rules.toml``), advice texts and exercise dosing in
``gaitcheck/data/advice.toml``; this module only applies them. Each finding says what was seen
(value, side, typical range and its source), why it matters for hip pain, and what to do (form
cues, strength and stability work). Low-confidence metrics never produce a firm finding.

The public entry point is :func:`evaluate`; :class:`RunnerContext` carries the runner's own
answers (height, pace, where it hurts, mileage change, red flags). See ``docs/findings.md``.
"""

from __future__ import annotations

import copy
import functools
import math
import re
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .confidence import LEVELS as CONFIDENCE_LEVELS
from .confidence import cap, measurement_error, near_cutoff
from .errors import ConfigError
from .metrics.summary import FRONTAL_METRICS, METRICS, SIDE_METRICS
from .rules_schema import check_rules_file

SEVERITIES: tuple[str, ...] = ("info", "mild", "moderate", "marked")
"""Severity levels, least to most severe."""

SEVERITY_RANK: dict[str, int] = {name: i for i, name in enumerate(SEVERITIES)}

KNOWN_METRICS: tuple[str, ...] = tuple(METRICS)
"""Metric keys of ``analysis.json`` (docs/analysis-format.md)."""

SIDE_VIEW_METRICS: tuple[str, ...] = SIDE_METRICS
FRONTAL_VIEW_METRICS: tuple[str, ...] = FRONTAL_METRICS

_BETTER = ("higher", "lower", "toward_zero", "none")
_RULE_KEYS = {
    "id",
    "metric",
    "kind",
    "statistic",
    "direction",
    "info",
    "mild",
    "moderate",
    "marked",
    "min_abs_diff",
    "typical_range",
    "source",
    "sourced_cutoff",
    "title",
    "why",
    "cues",
    "exercises",
    "priority",
    "note",
    "skip_if_approximate",
    "applies_to",
}
ACTIVITIES = ("running", "walking")
_REQUIRED_RULE_KEYS = ("id", "metric", "kind", "direction", "typical_range", "source", "title")
_METRIC_KEYS = {"name", "unit", "better", "decimals", "noise", "noise_source"}
_TOP_KEYS = {"version", "mode", "disable", "metrics", "context", "rules"}
_CONTEXT_KEYS = {"mileage_change_mild_pct", "mileage_change_moderate_pct", "mileage_source"}


# ---------------------------------------------------------------------------------------------
# data files
# ---------------------------------------------------------------------------------------------
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
"""Pain locations a runner can report (``--pain LOCATION``)."""


# ---------------------------------------------------------------------------------------------
# runner context
# ---------------------------------------------------------------------------------------------
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
        ``front-hip``, ``radiating``, ``other``).
    weekly_mileage_change_pct : float, optional
        Change of weekly distance over the last week(s), in percent (+25 = a quarter more).
    red_flags : tuple of str
        Warning signs: ids from :data:`RED_FLAGS` or their aliases (e.g. ``night-pain``,
        ``numbness``, ``pop``). Any red flag makes every report print a "see a professional"
        block.

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

    def __post_init__(self) -> None:
        if self.height_cm is not None and not 100.0 <= float(self.height_cm) <= 230.0:
            raise ConfigError(f"Height {self.height_cm} cm is outside 100-230 cm; give it in cm.")
        if self.pace is not None:
            parse_pace(self.pace)
        pain = tuple(str(p).strip().lower() for p in self.pain)
        for p in pain:
            if p not in PAIN_LOCATIONS:
                raise ConfigError(
                    f"Pain location '{p}' is not known; use one of {', '.join(PAIN_LOCATIONS)}."
                )
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
        return out


# ---------------------------------------------------------------------------------------------
# rules table
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One validated row of the rules table (see the header of ``rules.toml``)."""

    id: str
    metric: str
    kind: str
    statistic: str
    direction: str
    bands: tuple[tuple[str, float], ...]  # (severity, edge), least severe first
    typical_range: tuple[float, float]
    source: str
    sourced_cutoff: bool
    title: str
    why: str | None
    cues: tuple[str, ...]
    exercises: tuple[str, ...]
    priority: float = 0.0
    min_abs_diff: float = 0.0
    note: str | None = None
    skip_if_approximate: bool = False
    applies_to: tuple[str, ...] = ("running",)

    @property
    def above(self) -> bool:
        """True when values above the band edges are the concern (asymmetry is always so)."""
        return self.kind == "asymmetry" or self.direction == "high"

    def severity_of(self, value: float) -> str | None:
        """Most severe band that ``value`` lies beyond, or ``None``."""
        hit: str | None = None
        for severity, edge in self.bands:
            beyond = value > edge if self.above else value < edge
            if beyond:
                hit = severity
        return hit


@dataclass(frozen=True)
class RulesTable:
    """The rules, metric facts and context thresholds in force."""

    rules: tuple[Rule, ...]
    metrics: dict[str, dict[str, Any]]
    context: dict[str, Any]
    origin: str = "built-in"


def _fail(where: str, problem: str) -> ConfigError:
    return ConfigError(f"Rules table {where}: {problem}")


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(where, f"'{key}' must be a number, got {value!r}.")
    return float(value)


def _str_list(value: Any, where: str, key: str, known: dict[str, Any]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, f"'{key}' must be a list of ids (strings).")
    for v in value:
        if v not in known:
            raise _fail(where, f"{key} id '{v}' is not in advice.toml; known: {', '.join(known)}.")
    return tuple(value)


def _parse_rule(raw: Any, where: str, advice: dict[str, Any]) -> Rule:
    if not isinstance(raw, dict):
        raise _fail(where, "each [[rules]] entry must be a table.")
    rid = raw.get("id")
    if isinstance(rid, str):
        where = f"{where} (rule '{rid}')"
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise _fail(
            where,
            f"unknown key(s) {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(sorted(_RULE_KEYS))}.",
        )
    for key in _REQUIRED_RULE_KEYS:
        if key not in raw:
            raise _fail(where, f"the key '{key}' is missing.")
    if not isinstance(rid, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", rid):
        raise _fail(where, "'id' must be a name made of letters, digits, _ and -.")
    metric = raw["metric"]
    if metric not in KNOWN_METRICS:
        raise _fail(where, f"metric '{metric}' is not one of {', '.join(KNOWN_METRICS)}.")
    kind = raw["kind"]
    if kind not in ("threshold", "asymmetry"):
        raise _fail(where, f"kind must be 'threshold' or 'asymmetry', got {kind!r}.")
    statistic = raw.get("statistic", "value" if kind == "threshold" else "asymmetry_pct")
    if kind == "threshold" and statistic not in ("value", "worst_side"):
        raise _fail(where, f"statistic must be 'value' or 'worst_side', got {statistic!r}.")
    direction = raw["direction"]
    if direction not in ("high", "low"):
        raise _fail(where, f"direction must be 'high' or 'low', got {direction!r}.")
    bands = [(s, _number(raw[s], where, s)) for s in SEVERITIES if s in raw]
    if not bands:
        raise _fail(where, "give at least one band edge (info, mild, moderate or marked).")
    edges = [edge for _, edge in bands]
    above = kind == "asymmetry" or direction == "high"
    ordered = edges == sorted(edges) if above else edges == sorted(edges)[::-1]
    if not ordered or len(set(edges)) != len(edges):
        word = "rise" if above else "fall"
        raise _fail(
            where,
            f"band edges must {word} strictly from info to marked for {kind} rules with "
            f"direction '{direction}' "
            f"(got {', '.join(f'{s}={e:g}' for s, e in bands)}).",
        )
    tr = raw["typical_range"]
    if not isinstance(tr, list) or len(tr) != 2:
        raise _fail(where, "'typical_range' must be [low, high].")
    lo, hi = _number(tr[0], where, "typical_range"), _number(tr[1], where, "typical_range")
    if lo > hi:
        raise _fail(where, f"typical_range low ({lo:g}) is above high ({hi:g}).")
    for key in ("source", "title"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise _fail(where, f"'{key}' must be a non-empty text.")
    why = raw.get("why")
    if why is not None and why not in advice["why"]:
        raise _fail(
            where, f"why id '{why}' is not in advice.toml; known: {', '.join(advice['why'])}."
        )
    sourced = raw.get("sourced_cutoff", False)
    skip = raw.get("skip_if_approximate", False)
    if not isinstance(sourced, bool) or not isinstance(skip, bool):
        raise _fail(where, "'sourced_cutoff' and 'skip_if_approximate' must be true or false.")
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise _fail(where, "'note' must be a text.")
    applies = raw.get("applies_to", ["running"])
    if (not isinstance(applies, list) or not applies
            or not all(a in ACTIVITIES for a in applies)):
        raise _fail(where, f"'applies_to' must be a non-empty list of {', '.join(ACTIVITIES)}.")
    return Rule(
        id=rid,
        metric=metric,
        kind=kind,
        statistic=statistic,
        direction=direction,
        bands=tuple(bands),
        typical_range=(lo, hi),
        source=raw["source"].strip(),
        sourced_cutoff=sourced,
        title=raw["title"].strip(),
        why=why,
        cues=_str_list(raw.get("cues", []), where, "cues", advice["cues"]),
        exercises=_str_list(raw.get("exercises", []), where, "exercises", advice["exercises"]),
        priority=_number(raw.get("priority", 0), where, "priority"),
        min_abs_diff=_number(raw.get("min_abs_diff", 0.0), where, "min_abs_diff"),
        note=note,
        skip_if_approximate=skip,
        applies_to=tuple(applies),
    )


def _parse_metrics(raw: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise _fail(where, "[metrics] must be a table of tables.")
    out: dict[str, dict[str, Any]] = {}
    for name, entry in raw.items():
        w = f"{where} [metrics.{name}]"
        if name not in KNOWN_METRICS:
            raise _fail(w, f"'{name}' is not one of {', '.join(KNOWN_METRICS)}.")
        if not isinstance(entry, dict):
            raise _fail(w, "must be a table.")
        unknown = set(entry) - _METRIC_KEYS
        if unknown:
            raise _fail(w, f"unknown key(s) {', '.join(sorted(unknown))}.")
        if "better" in entry and entry["better"] not in _BETTER:
            raise _fail(w, f"'better' must be one of {', '.join(_BETTER)}.")
        if "noise" in entry and _number(entry["noise"], w, "noise") < 0:
            raise _fail(w, "'noise' must not be negative.")
        out[name] = dict(entry)
    return out


def _parse_table(data: dict[str, Any], where: str, advice: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _fail(
            where,
            f"unknown top-level key(s) {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(sorted(_TOP_KEYS))}.",
        )
    if data.get("version", 1) != 1:
        raise _fail(where, f"version {data.get('version')!r} is not supported (use 1).")
    mode = data.get("mode", "merge")
    if mode not in ("merge", "replace"):
        raise _fail(where, f"mode must be 'merge' or 'replace', got {mode!r}.")
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise _fail(where, "rules must be written as [[rules]] entries.")
    rules = [_parse_rule(r, f"{where} [[rules]] #{i + 1}", advice) for i, r in enumerate(raw_rules)]
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise _fail(where, f"rule id(s) used twice: {', '.join(dupes)}.")
    disable = data.get("disable", [])
    if not isinstance(disable, list) or not all(isinstance(d, str) for d in disable):
        raise _fail(where, "'disable' must be a list of rule ids.")
    context = data.get("context", {})
    if not isinstance(context, dict) or set(context) - _CONTEXT_KEYS:
        raise _fail(where, f"[context] may only hold {', '.join(sorted(_CONTEXT_KEYS))}.")
    return {
        "mode": mode,
        "rules": rules,
        "disable": disable,
        "metrics": _parse_metrics(data.get("metrics", {}), where),
        "context": context,
    }


@functools.lru_cache(maxsize=1)
def _builtin_table() -> RulesTable:
    parsed = _parse_table(
        _read_package_toml("rules.toml"), "gaitcheck/data/rules.toml", _advice_cached()
    )
    return RulesTable(tuple(parsed["rules"]), parsed["metrics"], parsed["context"])


def load_rules(path: str | Path | None = None) -> RulesTable:
    """Load the built-in rules table, merged with (or replaced by) a coach's table.

    Parameters
    ----------
    path : str or Path, optional
        A coach's TOML table in the format of ``gaitcheck/data/rules.toml``. By default
        (``mode = "merge"``) its rules replace built-in rules of the same id and add new ones,
        ``disable = [ids]`` switches built-in rules off; ``mode = "replace"`` uses only its rules.

    Returns
    -------
    RulesTable

    Raises
    ------
    ConfigError
        With one sentence naming the file, the rule and the problem.
    """
    base = _builtin_table()
    if path is None:
        return base
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"Rules table {p} does not exist; check the --rules path.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"Rules table {p} is not UTF-8 text; save it as UTF-8 TOML.") from None
    except OSError as exc:
        raise ConfigError(f"Rules table {p} cannot be read ({exc.strerror}).") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Rules table {p} is not valid TOML ({exc}).") from None
    check_rules_file(data, str(p))  # types first (one declarative layer), then meanings
    parsed = _parse_table(data, str(p), _advice_cached())
    metrics = {k: dict(v) for k, v in base.metrics.items()}
    for name, entry in parsed["metrics"].items():
        metrics.setdefault(name, {}).update(entry)
    context = {**base.context, **parsed["context"]}
    if parsed["mode"] == "replace":
        rules = list(parsed["rules"])
        if not rules:
            raise ConfigError(f'Rules table {p} uses mode = "replace" but holds no [[rules]].')
    else:
        known = {r.id for r in base.rules} | {r.id for r in parsed["rules"]}
        for rid in parsed["disable"]:
            if rid not in known:
                raise ConfigError(
                    f"Rules table {p}: 'disable' names rule '{rid}', which does not exist."
                )
        own = {r.id: r for r in parsed["rules"]}
        rules = [own.pop(r.id, r) for r in base.rules] + list(own.values())
        rules = [r for r in rules if r.id not in parsed["disable"]]
    return RulesTable(tuple(rules), metrics, context, origin=str(p))


def metric_info(metric: str, table: RulesTable | None = None) -> dict[str, Any]:
    """Display name, unit, preferred direction and noise level of a metric.

    Parameters
    ----------
    metric : str
        Metric key, e.g. ``"pelvic_drop_deg"``.
    table : RulesTable, optional
        Defaults to the built-in table.

    Returns
    -------
    dict
        ``name``, ``unit``, ``better`` (higher|lower|toward_zero|none), ``decimals``,
        ``noise`` (float or None) and ``noise_source`` (str or None).
    """
    entry = (table or _builtin_table()).metrics.get(metric, {})
    return {
        "name": entry.get("name", metric),
        "unit": entry.get("unit", ""),
        "better": entry.get("better", "none"),
        "decimals": int(entry.get("decimals", 1)),
        "noise": entry.get("noise"),
        "noise_source": entry.get("noise_source"),
    }


# ---------------------------------------------------------------------------------------------
# helpers for texts
# ---------------------------------------------------------------------------------------------
def _fmt(value: float | None, decimals: int) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{decimals}f}"


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: Any) -> float | None:
    return float(value) if _is_num(value) else None


def cadence_target(analysis: dict[str, Any], context: RunnerContext | None = None) -> dict | None:
    """Personal step-rate target: +5-10% of the measured cadence, phrased as guidance.

    Parameters
    ----------
    analysis : dict
        ``analysis.json`` content.
    context : RunnerContext, optional
        Height and pace refine the wording.

    Returns
    -------
    dict or None
        ``current_spm``, ``low_spm``, ``high_spm`` (rounded), ``text`` and ``notes`` (list of
        str); ``None`` when cadence is missing or of low confidence.
    """
    metric = analysis.get("metrics", {}).get("cadence_spm")
    if not metric or not _is_num(metric.get("value")):
        return None
    # Running step-rate targets mean nothing for walking or for a clip that was not judged.
    if (analysis.get("activity") or {}).get("label", "running") != "running":
        return None
    if (analysis.get("assessment") or {}).get("verdict") == "not_judged":
        return None
    if metric.get("confidence", {}).get("level") == "low":
        return None
    current = float(metric["value"])
    high_factor = 1.05 if current >= 180 else 1.10
    low, high = round(current * 1.05), round(current * high_factor)
    notes: list[str] = []
    if current >= 180:
        notes.append(
            "Your step rate is already high, so keep any change small (about +5%) and mostly use "
            "the other cues."
        )
    ctx = context or RunnerContext()
    if ctx.height_cm is not None:
        if ctx.height_cm >= 185:
            notes.append(
                "Taller runners with longer legs tend to settle at a lower step rate, so start at "
                "the lower end of the target and compare with your own runs rather than averages."
            )
        elif ctx.height_cm <= 160:
            notes.append(
                "Shorter runners tend to take quicker steps, so a rate above the typical range can "
                "be perfectly natural for you."
            )
    speed = ctx.speed_m_s
    if speed is not None:
        notes.append(
            f"Step rate rises with speed; you ran at about {speed:.1f} m/s ({ctx.pace}). Re-test "
            "at the same pace so the runs can be compared."
        )
        if 2.7 <= speed <= 3.8:
            notes.append(
                "For reference, treadmill runners at 2.7-3.8 m/s took about 169-178 steps/min "
                "(values summarised with van Oeveren 2020)."
            )
    text = (
        f"Aim for about {low}-{high} steps/min (now {current:.0f}). Build up over 2-3 weeks; this "
        "is guidance, not a fixed number."
    )
    return {
        "current_spm": current,
        "low_spm": low,
        "high_spm": high,
        "text": text,
        "notes": notes,
        "source": "Heiderscheit 2011 (+5-10% step rate); Lieberman 2015",
    }


def _cues(rule: Rule, advice: dict[str, Any], target: dict | None) -> list[dict[str, str]]:
    out = []
    for cid in rule.cues:
        entry = advice["cues"][cid]
        text = entry["text"]
        if cid == "step_rate" and target is not None:
            text = f"{text} For you: {target['text']}"
        out.append({"id": cid, "title": entry["title"], "text": text})
    return out


def _exercises(ids: tuple[str, ...], advice: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for eid in ids:
        entry = advice["exercises"][eid]
        out.append(
            {
                "id": eid,
                "name": entry["name"],
                "targets": entry.get("targets", ""),
                "dose": entry["dose"],
                "progression": entry["progression"],
            }
        )
    return out


def _pain_relevant(rule: Rule, context: RunnerContext, advice: dict[str, Any]) -> list[str]:
    labels = []
    for p in context.pain:
        entry = advice["pain"][p]
        if rule.why is not None and rule.why in entry.get("relevant", []):
            labels.append(entry["label"])
    return labels


def _base_finding(rule: Rule, metric: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    conf = metric.get("confidence") or {}
    return {
        "id": rule.id,
        "rule_id": rule.id,
        "kind": rule.kind,
        "title": rule.title,
        "severity": "info",
        "metric": rule.metric,
        "metric_name": info["name"],
        "unit": metric.get("unit") or info["unit"],
        "value": None,
        "side": None,
        "left": metric.get("left"),
        "right": metric.get("right"),
        "asymmetry_pct": metric.get("asymmetry_pct"),
        "typical_range": {
            "low": rule.typical_range[0],
            "high": rule.typical_range[1],
            "unit": "%" if rule.kind == "asymmetry" else (metric.get("unit") or info["unit"]),
            "source": rule.source,
        },
        "source": rule.source,
        "sourced_cutoff": rule.sourced_cutoff,
        "what_we_saw": "",
        "why_it_matters": "",
        "form_cues": [],
        "exercises": [],
        "confidence": {
            "level": conf.get("level", "medium"),
            "reasons": list(conf.get("reasons", [])),
        },
        "is_screening_cue": not rule.sourced_cutoff,
        "relevant_to_pain": [],
        "note": rule.note,
        "priority": rule.priority,
    }


def _comparison_sentence(rule: Rule) -> str:
    if rule.sourced_cutoff:
        return f"The bands come from a published cut-off ({rule.source})."
    return (
        "No published cut-off exists for this measure, so gaitcheck compares it with typical "
        "values and, over time, with your own earlier runs; it is a screening cue, not a "
        "diagnosis."
    )


def _apply_rule(
    rule: Rule,
    metric: dict[str, Any],
    table: RulesTable,
    advice: dict[str, Any],
    context: RunnerContext,
    target: dict | None,
) -> dict[str, Any] | None:
    info = metric_info(rule.metric, table)
    d = info["decimals"]
    unit = metric.get("unit") or info["unit"]
    left, right = _num(metric.get("left")), _num(metric.get("right"))
    if rule.skip_if_approximate and metric.get("approximate"):
        return None
    side: str | None
    if rule.kind == "asymmetry":
        asym = _num(metric.get("asymmetry_pct"))
        if left is None or right is None or asym is None:
            return None
        diff = abs(left - right)
        if diff <= rule.min_abs_diff:
            return None
        value = asym
        severity = rule.severity_of(value)
        worse_left = left > right if rule.direction == "high" else left < right
        side = "left" if worse_left else "right"
        shown_value = value
        saw = (
            f"{info['name']}: left {_fmt(left, d)} {unit}, right {_fmt(right, d)} {unit}, a "
            f"difference of {diff:.{d}f} {unit} ({value:.0f}% of the mean); the {side} side "
            f"stands out. Differences up to about {rule.typical_range[1]:g}% are common "
            f"({rule.source})."
        )
    else:
        value_all = _num(metric.get("value"))
        both = left is not None and right is not None
        if rule.statistic == "worst_side" and left is not None and right is not None:
            pick = max if rule.direction == "high" else min
            shown_value = pick(left, right)
            side = "both" if left == right else ("left" if shown_value == left else "right")
        elif value_all is not None:
            shown_value = value_all
            side = "both"
        else:
            return None
        severity = rule.severity_of(shown_value)
        lo, hi = rule.typical_range
        sides = f" (left {_fmt(left, d)}, right {_fmt(right, d)})" if both else ""
        where = "" if side == "both" else f" on the {side} side"
        saw = (
            f"{info['name']}{where}: {shown_value:.{d}f} {unit}{sides}; typical range "
            f"{lo:g}-{hi:g} {unit} ({rule.source})."
        )
    if severity is None:
        return None
    finding = _base_finding(rule, metric, info)
    finding["value"] = round(shown_value, 3)
    finding["side"] = side
    finding["severity"] = severity
    edge = dict(rule.bands)[severity]
    span = max(abs(rule.typical_range[1] - rule.typical_range[0]), 1e-9)
    finding["exceedance"] = round(abs(shown_value - edge) / span, 3)
    finding["borderline"] = False
    level = _finding_level(rule, metric, info, finding, shown_value, left, right)
    if level == "low":
        reasons = "; ".join(finding["confidence"]["reasons"]) or "too few or unclear steps"
        finding.update(
            id=f"{rule.id}_unreliable",
            kind="unreliable",
            title=f"Could not judge {info['name'].lower()} reliably",
            severity="info",
            what_we_saw=(
                f"{saw} The measurement's confidence is low ({reasons}), so gaitcheck draws no "
                "conclusion from it. Film again (see the capture notes) before acting on it."
            ),
            why_it_matters="",
            is_screening_cue=True,
        )
        return finding
    finding["what_we_saw"] = f"{saw} {_comparison_sentence(rule)}"
    if finding.get("borderline"):
        finding["what_we_saw"] += (
            " Borderline: the value lies within the known 2D measurement error of a cut-off, so "
            "the true value may be on either side of it.")
    why = advice["why"][rule.why] if rule.why else ""
    pain_labels = _pain_relevant(rule, context, advice)
    if pain_labels:
        why = (
            f"{why} You reported pain at the {' and '.join(pain_labels)}, where this pattern "
            "is worth addressing first."
        )
    finding["why_it_matters"] = why.strip()
    finding["relevant_to_pain"] = pain_labels
    finding["form_cues"] = _cues(rule, advice, target)
    finding["exercises"] = _exercises(rule.exercises, advice)
    return finding


def _finding_level(
    rule: Rule, metric: dict[str, Any], info: dict[str, Any], finding: dict[str, Any],
    value: float, left: float | None, right: float | None,
) -> str:
    """Confidence of a finding: the sides it rests on, capped when it is borderline.

    A one-side finding takes that side's level; a left/right difference takes the lower of the
    two sides (both must be at least medium, or it is not judged). A value within the known 2D
    measurement error of a band edge is at most medium and called borderline.
    """
    conf = finding["confidence"]
    sides = (metric.get("confidence") or {}).get("sides") or {}
    level = str(conf["level"])
    if rule.kind == "asymmetry" and sides:
        level = min((sides.get("left", level), sides.get("right", level)),
                    key=CONFIDENCE_LEVELS.index)
        if level == "low":
            conf["reasons"].append("a left/right difference needs both sides measured with at "
                                   "least medium confidence")
    elif finding["side"] in ("left", "right") and sides:
        level = sides.get(finding["side"], level)
    unit = metric.get("unit") or info["unit"]
    error = measurement_error(rule.metric, unit, info.get("noise"))
    if rule.kind == "asymmetry":
        # The difference of two readings carries sqrt(2) times the error of one.
        borderline = (error is not None and left is not None and right is not None
                      and abs(left - right) < error * 2 ** 0.5)
    else:
        borderline = near_cutoff(value, [e for _, e in rule.bands], error)
    if borderline and error is not None:
        level = cap(level, "medium")
        finding["borderline"] = True
        conf["reasons"].append(
            f"within the known 2D measurement error (about {error:g} {unit}) of a cut-off")
    conf["level"] = level
    return level


def _mileage_finding(
    context: RunnerContext, table: RulesTable, advice: dict[str, Any]
) -> dict | None:
    change = context.weekly_mileage_change_pct
    if change is None:
        return None
    mild = float(table.context.get("mileage_change_mild_pct", 10.0))
    moderate = float(table.context.get("mileage_change_moderate_pct", 20.0))
    if change <= mild:
        return None
    severity = "moderate" if change > moderate else "mild"
    source = str(table.context.get("mileage_source", "10% rule"))
    load = advice["prevention"]["load"]
    cross = advice["prevention"]["cross_training"]
    return {
        "id": "mileage_jump",
        "rule_id": "mileage_jump",
        "kind": "context",
        "title": "Weekly distance went up quickly",
        "severity": severity,
        "metric": "weekly_mileage_change_pct",
        "metric_name": "Weekly mileage change",
        "unit": "%",
        "value": float(change),
        "side": None,
        "left": None,
        "right": None,
        "asymmetry_pct": None,
        "typical_range": {"low": None, "high": mild, "unit": "%", "source": source},
        "source": source,
        "sourced_cutoff": False,
        "what_we_saw": (
            f"You reported a {change:+.0f}% change in weekly distance; the usual guidance is at "
            f"most +{mild:g}% per week ({source})."
        ),
        "why_it_matters": advice["why"]["mileage"],
        "form_cues": [
            {"id": "load", "title": load["title"], "text": load["text"]},
            {"id": "cross_training", "title": cross["title"], "text": cross["text"]},
        ],
        "exercises": [],
        "confidence": {"level": "high", "reasons": ["reported by the runner"]},
        "is_screening_cue": True,
        "relevant_to_pain": [],
        "note": None,
        "priority": 4.0,
        "exceedance": round((change - mild) / max(mild, 1e-9), 3),
    }


def red_flags(context: RunnerContext | None) -> dict[str, Any] | None:
    """The "see a professional" block for the runner's red flags.

    Parameters
    ----------
    context : RunnerContext or None

    Returns
    -------
    dict or None
        ``title``, ``text`` and ``flags`` (list of ``{id, label, text}``); ``None`` when no
        red flag was given.
    """
    if context is None or not context.red_flags:
        return None
    advice = _advice_cached()
    block = advice["red_flag_block"]
    flags = [
        {"id": f, "label": advice["red_flags"][f]["label"], "text": advice["red_flags"][f]["text"]}
        for f in context.red_flags
    ]
    return {"title": block["title"], "text": block["text"], "flags": flags}


def _red_flag_finding(block: dict[str, Any]) -> dict[str, Any]:
    labels = "; ".join(f["label"].lower() for f in block["flags"])
    return {
        "id": "see_a_professional",
        "rule_id": "red_flags",
        "kind": "red_flag",
        "title": block["title"],
        "severity": "marked",
        "metric": None,
        "metric_name": None,
        "unit": None,
        "value": None,
        "side": None,
        "left": None,
        "right": None,
        "asymmetry_pct": None,
        "typical_range": None,
        "source": "The runner's hip-pain guide: when to seek professional help",
        "sourced_cutoff": False,
        "what_we_saw": f"You reported: {labels}.",
        "why_it_matters": block["text"],
        "form_cues": [],
        "exercises": [],
        "confidence": {"level": "high", "reasons": ["reported by the runner"]},
        "is_screening_cue": False,
        "relevant_to_pain": [],
        "note": None,
        "priority": 100.0,
        "exceedance": 0.0,
        "flags": block["flags"],
    }


def _rank_key(f: dict[str, Any]) -> tuple:
    kind_order = {"red_flag": 0, "unreliable": 2}.get(f["kind"], 1)
    return (
        kind_order,
        -SEVERITY_RANK.get(f["severity"], 0),
        -(1 if f.get("relevant_to_pain") else 0),
        -float(f.get("priority") or 0.0),
        -float(f.get("exceedance") or 0.0),
        f["id"],
    )


def evaluate(
    analysis: dict[str, Any],
    context: RunnerContext | None = None,
    rules_path: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Turn the metrics of an analysis into ranked findings.

    Parameters
    ----------
    analysis : dict
        ``analysis.json`` content (docs/analysis-format.md); only ``metrics`` is required.
    context : RunnerContext, optional
        The runner's answers: personalise the step-rate target and the "why" texts, add a
        training-load finding and the red-flag entry.
    rules_path : str or Path, optional
        A coach's rules table (see :func:`load_rules`).

    Returns
    -------
    list of dict
        JSON-serialisable findings, most important first. Keys: ``id``, ``rule_id``, ``kind``
        (threshold | asymmetry | context | unreliable | red_flag), ``title``, ``severity``
        (info | mild | moderate | marked), ``metric``, ``metric_name``, ``unit``, ``value``,
        ``side`` (left | right | both | None), ``left``, ``right``, ``asymmetry_pct``,
        ``typical_range`` ({low, high, unit, source}), ``source``, ``sourced_cutoff``,
        ``what_we_saw``, ``why_it_matters``, ``form_cues`` ([{id, title, text}]), ``exercises``
        ([{id, name, targets, dose, progression}]), ``confidence`` ({level, reasons}),
        ``is_screening_cue``, ``relevant_to_pain``, ``note``, ``priority``, ``exceedance``.
        A metric of low confidence yields at most an ``unreliable`` note of severity info.

    Raises
    ------
    ConfigError
        When the rules table is invalid.
    """
    table = load_rules(rules_path)
    advice = _advice_cached()
    ctx = context or RunnerContext()
    metrics = analysis.get("metrics") or {}
    target = cadence_target(analysis, ctx)
    findings: list[dict[str, Any]] = []
    activity = str((analysis.get("activity") or {}).get("label", "running"))
    verdict = str((analysis.get("assessment") or {}).get("verdict", "judged"))
    # A clip that was not judged raises no metric findings; a rule judges only the activity
    # its ranges were made for.
    rules = [] if verdict == "not_judged" else [r for r in table.rules if activity in r.applies_to]
    for rule in rules:
        metric = metrics.get(rule.metric)
        if not isinstance(metric, dict):
            continue
        finding = _apply_rule(rule, metric, table, advice, ctx, target)
        if finding is not None:
            findings.append(finding)
    # one "could not judge" note per metric is enough
    seen_unreliable: set[str] = set()
    kept: list[dict[str, Any]] = []
    for f in findings:
        if f["kind"] == "unreliable":
            if f["metric"] in seen_unreliable:
                continue
            seen_unreliable.add(f["metric"])
        kept.append(f)
    mileage = _mileage_finding(ctx, table, advice)
    if mileage is not None:
        kept.append(mileage)
    block = red_flags(ctx)
    if block is not None:
        kept.append(_red_flag_finding(block))
    kept.sort(key=_rank_key)
    for rank, f in enumerate(kept, start=1):
        f["rank"] = rank
    return kept


def prevention_advice() -> list[dict[str, str]]:
    """Training-habit advice printed in every report (``[prevention.*]`` of advice.toml)."""
    return [{"id": k, **v} for k, v in _advice_cached()["prevention"].items()]


def relief_advice() -> list[dict[str, str]]:
    """First self-care steps when the hip already hurts (``[relief.*]`` of advice.toml)."""
    return [{"id": k, **v} for k, v in _advice_cached()["relief"].items()]


def pain_notes(context: RunnerContext | None) -> list[dict[str, str]]:
    """What gaitcheck keeps an eye on for each pain location the runner reported."""
    if context is None:
        return []
    pain = _advice_cached()["pain"]
    return [{"id": p, "label": pain[p]["label"], "text": pain[p]["text"]} for p in context.pain]


def limits_statement() -> dict[str, Any]:
    """What single-camera 2D video can and cannot measure: ``{title, can, cannot}``."""
    return copy.deepcopy(_advice_cached()["limits"])


def unmeasured_metrics(analysis: dict[str, Any]) -> list[str]:
    """Metric keys the other camera view would add (what this clip could not see).

    Parameters
    ----------
    analysis : dict

    Returns
    -------
    list of str
    """
    have = set((analysis.get("metrics") or {}).keys())
    label = str((analysis.get("view") or {}).get("label", ""))
    wanted = FRONTAL_VIEW_METRICS if label.startswith("side") else SIDE_VIEW_METRICS
    return [m for m in wanted if m not in have and m != "contact_time_ms"]
