"""The base of every result object: a JSON document (the CLI's `--format json`) with dict-like access."""

from __future__ import annotations

import json
from typing import Any

from payequity import _core


class Document:
    """A result document; ``kind``, ``version``, ``ledger`` and ``warnings`` are in every one."""

    def __init__(self, document: str) -> None:
        self._json = document
        self._data: dict[str, Any] = json.loads(document)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    @property
    def ledger(self) -> dict[str, Any]:
        """Rows ``read``, ``used`` and ``excluded`` by reason; ``read == used + sum(excluded)``."""
        ledger: dict[str, Any] = self._data["ledger"]
        return ledger

    @property
    def warnings(self) -> list[str]:
        warnings: list[str] = self._data["warnings"]
        return warnings

    def to_dict(self) -> dict[str, Any]:
        """The result document as a fresh dict (same structure as the CLI's JSON)."""
        document: dict[str, Any] = json.loads(self._json)
        return document

    def to_json(self) -> str:
        return self._json

    def _repr_html_(self) -> str:
        """The result's section of the HTML report (the same template as ``payequity report``)."""
        return _core.render_html(self._json)
