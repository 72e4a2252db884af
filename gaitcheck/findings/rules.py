"""The rules table: typical ranges and severity bands per metric (``gaitcheck/data/rules.toml``
or a coach's ``--rules FILE.toml``), checked first by the declarative layer of
:mod:`gaitcheck.rules_schema` (types) and then here (meanings: known metrics, advice ids, band
order)."""

from __future__ import annotations

import functools
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..metrics.summary import FRONTAL_METRICS, METRICS, SIDE_METRICS
from ..rules_schema import check_rules_file
from .data import _advice_cached, _read_package_toml

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
