"""``pe.report``: every analysis of an audit config in one document, its HTML page and the evidence pack,
exactly as ``payequity report --config`` writes them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from payequity import _core
from payequity._document import Document
from payequity._equal_value import EqualValueResult
from payequity._gap import GapResult
from payequity._oaxaca import OaxacaResult
from payequity._transparency import TransparencyResult


class AuditReport(Document):
    """The audit report (``kind = "audit_report"``): each analysis' document under its key (``gap``,
    ``oaxaca``, ``transparency``, ``equal_value``, ``entitlements``), the ``headline`` figures, the
    ``breaches`` of ``[report.fail_if]``, the warnings and the input checksums.

    ``_repr_html_`` is the report page itself, so a notebook shows what ``report.html`` shows.
    """

    def __init__(self, document: str, html: str, summary_md: str, out: Path | None) -> None:
        super().__init__(document)
        self.html = html
        self.summary_md = summary_md
        self.out = out

    @property
    def headline(self) -> list[dict[str, Any]]:
        """Headline figures: ``key``, ``label``, ``path`` (of the value in this document), ``value``, ``unit``."""
        figures: list[dict[str, Any]] = self._data["headline"]
        return figures

    @property
    def breaches(self) -> list[dict[str, Any]]:
        """The thresholds of ``[report.fail_if]`` that the data breaches (each with its key and message); empty when none."""
        breaches: list[dict[str, Any]] = self._data["breaches"]
        return breaches

    @property
    def breached(self) -> bool:
        """True when a ``[report.fail_if]`` threshold is breached (the CLI exits 2)."""
        return bool(self._data["breaches"])

    def _part(self, key: str) -> str | None:
        part = self._data.get(key)
        return None if part is None else json.dumps(part)

    @property
    def gap(self) -> GapResult | None:
        """The gap document of the report (as :func:`payequity.gap`), or ``None`` when the config has no ``[gap]``."""
        part = self._part("gap")
        return None if part is None else GapResult(part)

    @property
    def oaxaca(self) -> OaxacaResult | None:
        """The Oaxaca-Blinder document of the report (as :func:`payequity.oaxaca`), or ``None``."""
        part = self._part("oaxaca")
        return None if part is None else OaxacaResult(part)

    @property
    def transparency(self) -> TransparencyResult | None:
        """The transparency document of the report (as :func:`payequity.transparency`), or ``None``."""
        part = self._part("transparency")
        return None if part is None else TransparencyResult(part)

    @property
    def equal_value(self) -> EqualValueResult | None:
        """The equal-value document of the report (as :func:`payequity.equal_value`), or ``None``."""
        part = self._part("equal_value")
        return None if part is None else EqualValueResult(part)

    def summary(self) -> str:
        """The one-page plain-language summary (``summary.md`` of the evidence pack)."""
        return self.summary_md

    def _repr_html_(self) -> str:
        return self.html


def report(config: str | PathLike[str] | Mapping[str, Any], *, out: str | PathLike[str] | None = None) -> AuditReport:
    """Run every analysis an audit config sets up (the TOML schema: ``docs/config.md``).

    ``config`` is the path of a TOML file, or a dict of the same shape (relative paths in it start at the
    working directory). With ``out``, the evidence pack is written there: ``report.html``, ``report.json``,
    ``summary.md`` and the tables as CSV and Parquet.

    >>> r = pe.report("datasets/demo/audit.toml", out="payequity-demo")  # doctest: +SKIP
    >>> r.headline[0]["label"], r.headline[0]["value"]  # doctest: +SKIP
    """
    out_path = None if out is None else Path(out)
    if isinstance(config, Mapping):
        document, html, summary_md = _core.report(None, json.dumps(dict(config)), out_path)
    else:
        document, html, summary_md = _core.report(Path(config), None, out_path)
    return AuditReport(document, html, summary_md, out_path)
