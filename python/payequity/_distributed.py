"""The one driver loop of :mod:`payequity.spark` and :mod:`payequity.dask`.

An engine adapter numbers the rows in input order (``__pe_row``), puts each value of the analysis'
partition column (the employee id of per-employee analyses) in one partition, and maps a function over the
partitions (each a ``pyarrow.Table`` sorted by ``__pe_row``), returning the states (bytes). The plan of
passes is the analysis' own, in the Rust core: this loop asks it for the first pass, runs each pass over
the partitions, merges the states in a tree, and asks for the next pass or the document, so the result is
the document the in-memory function gives on the same rows. Every analysis runs through :func:`run`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from payequity import _core
from payequity._dfl import QuantileProfileResult, profile_jsons
from payequity._entitlements import EntitlementAudit, entitlement_options_json
from payequity._equal_value import EqualValueResult, equal_value_options_json
from payequity._gap import GapResult, gap_options_json
from payequity._oaxaca import OaxacaResult, oaxaca_options_json
from payequity._rif import RifResult, rif_jsons
from payequity._transparency import TransparencyResult, transparency_options_json

ROW_COLUMN = "__pe_row"

PartitionFn = Callable[[Any], bytes]


class Engine(Protocol):
    """What a distributed engine does for payequity; the rest is Rust."""

    def columns(self) -> list[str]:
        """Column names of the user's DataFrame."""

    def empty_table(self) -> Any:
        """An empty ``pyarrow.Table`` with the DataFrame's schema plus ``__pe_row`` (int64)."""

    def prepare(self, employee: str | None) -> None:
        """Number the rows and, with ``employee``, put each employee's rows in one partition."""

    def map_partitions(self, fn: PartitionFn) -> list[bytes]:
        """``fn`` over every partition (a ``pyarrow.Table`` sorted by ``__pe_row``), the states collected."""

    def map_to_frame(self, fn: Callable[[Any], bytes], spark_schema: str, arrow_schema: Any) -> Any:
        """A lazy engine DataFrame of ``fn`` over every partition (Arrow IPC bytes of rows, ``arrow_schema``)."""

    def release(self) -> None:
        """Drop what ``prepare`` cached."""


def tree_merge(states: Sequence[bytes], merge: Callable[[bytes, bytes], bytes]) -> bytes:
    """Pairwise merge in a balanced tree (merges are associative; a fixed order keeps results reproducible)."""
    level = list(states)
    if not level:
        raise ValueError("no partial states to merge")
    while len(level) > 1:
        level = [merge(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
    return level[0]


def run(engine: Engine, kind: str, options_json: str, rows: Callable[[Any, bytes], None] | None = None) -> str:
    """The document (JSON) of analysis ``kind`` on the engine's rows; ``rows(engine, last_pass)`` is called
    before the engine's cache is released, for analyses with a row-level table."""
    empty = engine.empty_table()
    # The same column checks and messages as for a file: the analysis' own, on the (empty) schema.
    _, partition_by, pass_ = _core.analysis_plan(kind, options_json, empty.drop_columns([ROW_COLUMN]))
    engine.prepare(partition_by)
    try:
        while True:
            current = pass_

            # The pass is bound when the functions are made (a lazy engine may call them later).
            def partial(table: Any, current: bytes = current) -> bytes:
                return _core.analysis_partial(kind, options_json, current, table)

            def merge(a: bytes, b: bytes, current: bytes = current) -> bytes:
                return _core.analysis_merge(kind, options_json, current, a, b)

            states = engine.map_partitions(partial) or [partial(empty)]
            status, value = _core.analysis_next(kind, options_json, current, tree_merge(states, merge))
            if status == "done":
                assert isinstance(value, str)
                if rows is not None:
                    rows(engine, current)
                return value
            assert isinstance(value, bytes)
            pass_ = value
    finally:
        engine.release()


def rif_job_json(**keywords: Any) -> str:
    """The ``rif`` kind's options: ``{"oaxaca": …, "rif": …}`` from :func:`payequity.rif`'s keywords."""
    oaxaca, rif = rif_jsons(keywords)
    return json.dumps({"oaxaca": json.loads(oaxaca), "rif": json.loads(rif)})


def profile_job_json(**keywords: Any) -> str:
    """The ``quantile-profile`` kind's options: ``{"oaxaca": …, "profile": …}``."""
    oaxaca, profile = profile_jsons(keywords)
    return json.dumps({"oaxaca": json.loads(oaxaca), "profile": json.loads(profile)})


# Kind → (options JSON from the in-memory function's keywords, result class). Every analysis of the engine's
# registry (`payequity::scale::distributed::KINDS`) but the audit, whose arrears table is the engine's own.
ANALYSES: dict[str, tuple[Callable[..., str], Callable[[str], Any]]] = {
    "gap": (gap_options_json, GapResult),
    "oaxaca": (oaxaca_options_json, OaxacaResult),
    "rif": (rif_job_json, RifResult),
    "quantile-profile": (profile_job_json, QuantileProfileResult),
    "transparency": (transparency_options_json, TransparencyResult),
    "equal-value": (equal_value_options_json, EqualValueResult),
}


def analysis(engine: Engine, kind: str, keywords: dict[str, Any]) -> Any:
    """The result of analysis ``kind`` with the in-memory function's ``keywords``, on the engine's rows."""
    options_json, result = ANALYSES[kind]
    return result(run(engine, kind, options_json(**keywords)))


ARREARS_SPARK_SCHEMA = ("employee_id string, rule string, period string, expected double, paid double, "
                        "shortfall double, status string")


def arrears_arrow_schema() -> Any:
    import pyarrow as pa  # type: ignore[import-untyped]

    return pa.schema([("employee_id", pa.string()), ("rule", pa.string()), ("period", pa.string()),
                      ("expected", pa.float64()), ("paid", pa.float64()), ("shortfall", pa.float64()),
                      ("status", pa.string())])


class DistributedEntitlementAudit(EntitlementAudit):
    """The audit document, with the worker-level arrears table as a DataFrame of the engine (lazy, in no
    particular order: sort it by ``employee_id, period, rule`` for the in-memory order)."""

    def __init__(self, document: str, arrears: Any) -> None:
        super().__init__(document, b"")
        self._engine_arrears = arrears

    def arrears(self) -> Any:
        """Lines underpaid, not paid or late, as a Spark or Dask DataFrame."""
        return self._engine_arrears


def audit(engine: Engine, keywords: dict[str, Any]) -> DistributedEntitlementAudit:
    """The entitlement audit on the engine's rows, with its arrears table as an engine DataFrame."""
    rules_json, options_json = entitlement_options_json(**keywords)
    # The rules are read once here; the workers get them as JSON (rule files need not exist there).
    rules = json.loads(_core.audit_rules(rules_json, options_json))
    job = json.dumps({"rules": rules, "options": json.loads(options_json)})
    arrears: list[Any] = []

    def table(engine: Engine, last: bytes) -> None:
        def partition_rows(part: Any) -> bytes:
            out = _core.analysis_rows("audit-entitlements", job, last, part)
            assert out is not None
            return out

        arrears.append(engine.map_to_frame(partition_rows, ARREARS_SPARK_SCHEMA, arrears_arrow_schema()))

    document = run(engine, "audit-entitlements", job, table)
    return DistributedEntitlementAudit(document, arrears[0])
