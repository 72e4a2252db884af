"""The bibliography behind every report: one file (``gaitcheck/data/references.toml``), one
References section, and in-text mentions ("Heiderscheit 2011") linked to their entry."""

from __future__ import annotations

import functools
import re
import tomllib
from html import escape
from importlib import resources
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError

Text = Annotated[str, Field(min_length=1)]


class Reference(BaseModel):
    """One ``[[ref]]`` entry; ``label`` is how texts cite it."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    label: Text
    authors: Text
    year: int | None = None
    title: Text
    journal: Text
    volume: str = ""
    doi: str = ""
    verified: bool = True

    @property
    def anchor(self) -> str:
        """HTML id of the entry, e.g. ``ref-heiderscheit-2011``."""
        return "ref-" + re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")

    def citation(self) -> str:
        """Plain-text full citation: authors (year). Title. Journal volume. doi:..."""
        year = f" ({self.year})" if self.year else ""
        title = self.title if self.title[-1] in ".?!" else f"{self.title}."
        if not self.verified:
            return f"{self.authors}{year}. {title} Full reference not verified."
        vol = f" {self.volume}" if self.volume else ""
        doi = f" doi:{self.doi}" if self.doi else ""
        return f"{self.authors}{year}. {title} {self.journal}{vol}.{doi}"


class _File(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    ref: list[Reference]


@functools.lru_cache(maxsize=1)
def load_references() -> tuple[Reference, ...]:
    """All entries of the bibliography, in file order (validated once).

    Raises
    ------
    ConfigError
        When the packaged file is malformed (a packaging bug, named precisely).
    """
    text = resources.files("gaitcheck").joinpath("data", "references.toml").read_text("utf-8")
    try:
        refs = _File.model_validate(tomllib.loads(text)).ref
    except ValidationError as exc:  # pragma: no cover - packaging error
        raise ConfigError(f"references.toml: {exc.errors()[0]['msg']}") from None
    labels = [r.label for r in refs]
    if len(set(labels)) != len(labels):  # pragma: no cover - packaging error
        raise ConfigError("references.toml: a label is used twice.")
    return tuple(refs)


def _pattern() -> re.Pattern[str]:
    # Longest labels first so "Bramah 2019" never matches inside something longer.
    labels = sorted((r.label for r in load_references()), key=len, reverse=True)
    return re.compile("|".join(re.escape(escape(lab)) for lab in labels))


def cited(texts: list[str]) -> list[Reference]:
    """Entries mentioned in any of ``texts``, in bibliography order."""
    pat = _pattern()
    found = {m.group(0) for t in texts for m in pat.finditer(escape(t))}
    return [r for r in load_references() if escape(r.label) in found]


def link_citations(html_text: str) -> str:
    """Wrap every mention of a bibliography label in already-escaped HTML in a link to its
    entry (``<a href="#ref-...">``)."""
    by_label = {escape(r.label): r.anchor for r in load_references()}
    pat = _pattern()
    out: list[str] = []
    in_link = 0
    # Only text between tags is touched, never attributes, and never text already in a link.
    for part in re.split(r"(<[^>]+>)", html_text):
        if part.startswith("<"):
            if re.match(r"<a[\s>]", part):
                in_link += 1
            elif part.startswith("</a"):
                in_link = max(0, in_link - 1)
            out.append(part)
        elif in_link:
            out.append(part)
        else:
            out.append(pat.sub(
                lambda m: f'<a class="cite" href="#{by_label[m.group(0)]}">{m.group(0)}</a>', part
            ))
    return "".join(out)


def references_html(refs: list[Reference]) -> str:
    """The ``<ol>`` of full citations with DOI links."""
    items = []
    for r in refs:
        # DOIs as text: the report stays free of any web address (it opens offline).
        items.append(f'<li id="{r.anchor}"><strong>{escape(r.label)}</strong>: '
                     f"{escape(r.citation())}</li>")
    return "<ol class=\"refs\">" + "".join(items) + "</ol>"
