"""Declared types of a rules table file (``--rules FILE.toml``), checked before it is used.

``gaitcheck.findings`` checks what the values mean (known metric ids, advice ids, band order);
this module checks their shapes and types first, declaratively, so a wrong type anywhere in a
coach's file (``why = ["x"]``, ``decimals = "two"``, ``[metrics] name = 5``) becomes one
sentence naming the file, the key and the problem.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError

_STRICT = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)
Number = float  # strict float accepts TOML integers too, never booleans or text
Text = Annotated[str, Field(min_length=1)]


class RuleEntry(BaseModel):
    """One ``[[rules]]`` entry (meanings: header of ``gaitcheck/data/rules.toml``)."""

    model_config = _STRICT

    id: Text
    metric: Text
    kind: Text
    statistic: Text | None = None
    direction: Text
    info: Number | None = None
    mild: Number | None = None
    moderate: Number | None = None
    marked: Number | None = None
    min_abs_diff: Annotated[Number, Field(ge=0)] | None = None
    typical_range: Annotated[list[Number], Field(min_length=2, max_length=2)]
    source: Text
    sourced_cutoff: bool | None = None
    title: Text
    why: Text | None = None
    cues: list[Text] | None = None
    exercises: list[Text] | None = None
    priority: Number | None = None
    note: str | None = None
    skip_if_approximate: bool | None = None
    applies_to: Annotated[list[Text], Field(min_length=1)] | None = None


class MetricEntry(BaseModel):
    """One ``[metrics.NAME]`` table: facts used by findings, the report and compare."""

    model_config = _STRICT

    name: Text | None = None
    unit: str | None = None
    better: Text | None = None
    decimals: Annotated[int, Field(ge=0, le=6)] | None = None
    noise: Annotated[Number, Field(ge=0)] | None = None
    noise_source: str | None = None


class ContextEntry(BaseModel):
    """The ``[context]`` table: thresholds for the runner's own answers."""

    model_config = _STRICT

    mileage_change_mild_pct: Annotated[Number, Field(ge=0)] | None = None
    mileage_change_moderate_pct: Annotated[Number, Field(ge=0)] | None = None
    mileage_source: Text | None = None


class RulesFile(BaseModel):
    """A whole rules table file."""

    model_config = _STRICT

    version: int | None = None
    mode: Text | None = None
    disable: list[Text] | None = None
    metrics: dict[str, MetricEntry] | None = None
    context: ContextEntry | None = None
    rules: list[RuleEntry] | None = None


_PHRASES = {
    "string_type": "must be text",
    "string_too_short": "must not be empty",
    "float_type": "must be a number",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "missing": "is missing",
    "extra_forbidden": "is not a known key",
    "finite_number": "must be a finite number",
    "too_short": "must have {min_length} items",
    "too_long": "must have {max_length} items",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
}


def _message(err: Any, data: dict[str, Any]) -> str:
    """'[[rules]] #2 (rule 'x'): 'why' must be text (got ['x'])' from one pydantic error."""
    loc = list(err["loc"])
    section = ""
    if loc and loc[0] == "rules" and len(loc) > 1 and isinstance(loc[1], int):
        section = f" [[rules]] #{loc[1] + 1}"
        entry = (data.get("rules") or [None] * (loc[1] + 1))[loc[1]]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            section += f" (rule '{entry['id']}')"
        loc = loc[2:]
    elif loc and loc[0] == "metrics" and len(loc) > 2:
        section, loc = f" [metrics.{loc[1]}]", loc[2:]
    elif loc and loc[0] in ("context", "metrics") and len(loc) > 1:
        section, loc = f" [{loc[0]}]", loc[1:]
    key = ".".join(str(k + 1) if isinstance(k, int) else str(k) for k in loc)
    if err["type"] == "missing":
        return f"{section}: the key '{key}' is missing."
    if err["type"] == "extra_forbidden":
        where = "top-level key(s)" if not section else "key(s)"
        return f"{section}: unknown {where} {key}."
    phrase = _PHRASES.get(err["type"], str(err["msg"]).lower()).format(**(err.get("ctx") or {}))
    return f"{section}: '{key}' {phrase} (got {err['input']!r:.60})."


def check_rules_file(data: dict[str, Any], origin: str) -> None:
    """Check the types of a parsed rules table.

    Parameters
    ----------
    data : dict
        The TOML content.
    origin : str
        The file name, for the message.

    Raises
    ------
    ConfigError
        "Rules table FILE: KEY: what is wrong (got VALUE)."
    """
    try:
        RulesFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"Rules table {origin}{_message(exc.errors()[0], data)}") from None
