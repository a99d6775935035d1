"""The plan of passes shared by :mod:`payequity.spark` and :mod:`payequity.dask`.

An engine adapter numbers the rows in input order (``__pe_row``), puts each employee's rows in one
partition, and maps a function over the partitions (each a ``pyarrow.Table`` sorted by ``__pe_row``),
returning the states (bytes). The driver merges the states and finishes them in the Rust core, so the
result is the document the in-memory function gives on the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from payequity import _core
from payequity._entitlements import EntitlementAudit, entitlement_options_json
from payequity._equal_value import EqualValueResult, equal_value_options_json
from payequity._gap import GapResult, gap_options_json
from payequity._oaxaca import OaxacaResult, oaxaca_options_json
from payequity._transparency import TransparencyResult, transparency_options_json

ROW_COLUMN = "__pe_row"
DUPLICATE_COLUMN = "__pe_duplicate"

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


def with_duplicate_flags(table: Any, key: tuple[str, str] | None) -> Any:
    """Adds ``__pe_duplicate``: true for a later row (by ``__pe_row``) of an (employee_id, period) key."""
    if key is None:
        return table
    import pyarrow as pa  # type: ignore[import-untyped]

    frame = table.select([key[0], key[1]]).to_pandas()
    flags = frame.duplicated(subset=[key[0], key[1]], keep="first").to_numpy()
    return table.append_column(DUPLICATE_COLUMN, pa.array(flags, type=pa.bool_()))


def run_gap(engine: Engine, keywords: dict[str, Any]) -> GapResult:
    options_json = gap_options_json(**keywords)
    # The same column checks and messages as for a file: the in-memory function on the (empty) schema.
    _core.gap(engine.empty_table().drop_columns([ROW_COLUMN]), options_json)
    employee = _core.gap_partition_column(engine.columns(), options_json)
    engine.prepare(employee)
    try:
        states = engine.map_partitions(lambda table: _core.gap_partial(table, options_json))
        if not states:
            states = [_core.gap_partial(engine.empty_table(), options_json)]
        return GapResult(_core.gap_finish(tree_merge(states, _core.gap_merge), options_json))
    finally:
        engine.release()


def run_oaxaca(engine: Engine, keywords: dict[str, Any]) -> OaxacaResult:
    options_json = oaxaca_options_json(**keywords)
    parsed = json.loads(options_json)
    if parsed.get("draw") == "multinomial" and parsed.get("se") == "bootstrap":
        raise _core.PayEquityError(
            "multinomial bootstrap draws need every row in memory at once; on Spark and Dask use draw='poisson' "
            "(the default)")
    empty = engine.empty_table()
    _core.oaxaca_facts(empty.drop_columns([ROW_COLUMN]), options_json)
    key = _core.oaxaca_key_columns(engine.columns(), options_json)
    engine.prepare(key[0] if key else None)
    try:
        facts = tree_merge(
            engine.map_partitions(lambda table: _core.oaxaca_facts(table, options_json)) or
            [_core.oaxaca_facts(empty, options_json)], _core.oaxaca_facts_merge)

        def moments(table: Any) -> bytes:
            return _core.oaxaca_moments(with_duplicate_flags(table, key), facts, options_json)

        states = engine.map_partitions(moments) or [moments(empty)]
        merged = tree_merge(states, _core.oaxaca_moments_merge)
        status, value = _core.oaxaca_finish(facts, merged, None, key is not None, options_json)
        if status == "residuals":
            assert isinstance(value, bytes)
            models = value

            def scores(table: Any) -> bytes:
                return _core.oaxaca_scores(with_duplicate_flags(table, key), facts, models, options_json)

            grams = tree_merge(engine.map_partitions(scores) or [scores(empty)], _core.oaxaca_scores_merge)
            status, value = _core.oaxaca_finish(facts, merged, grams, key is not None, options_json)
        return OaxacaResult(str(value))
    finally:
        engine.release()


def run_transparency(engine: Engine, keywords: dict[str, Any]) -> TransparencyResult:
    options_json = transparency_options_json(**keywords)
    columns = engine.columns()
    empty = engine.empty_table()
    # The same column checks and messages as for a file.
    _core.transparency_check_columns(empty.drop_columns([ROW_COLUMN]), options_json)
    period = _core.transparency_period_column(columns, options_json)
    engine.prepare(_core.transparency_partition_column(columns, options_json))
    try:
        periods: bytes | None = None
        if period is not None:
            periods = tree_merge(
                engine.map_partitions(lambda table: _core.transparency_periods(table, period)) or
                [_core.transparency_periods(empty, period)], _core.transparency_periods_merge)

        def partial(table: Any) -> bytes:
            return _core.transparency_partial(table, options_json, periods)

        states = engine.map_partitions(partial) or [partial(empty)]
        merged = tree_merge(states, _core.transparency_merge)
        return TransparencyResult(_core.transparency_finish(merged, options_json, columns, periods))
    finally:
        engine.release()



def run_equal_value(engine: Engine, keywords: dict[str, Any]) -> EqualValueResult:
    options_json = equal_value_options_json(**keywords)
    empty = engine.empty_table()
    # The same file and column checks and messages as for a file.
    _core.equal_value_check_columns(empty.drop_columns([ROW_COLUMN]), options_json)
    engine.prepare(_core.equal_value_partition_column(engine.columns(), options_json))
    try:
        states = engine.map_partitions(lambda table: _core.equal_value_partial(table, options_json))
        if not states:
            states = [_core.equal_value_partial(empty, options_json)]
        return EqualValueResult(_core.equal_value_finish(tree_merge(states, _core.equal_value_merge), options_json))
    finally:
        engine.release()


ARREARS_SPARK_SCHEMA = ("employee_id string, rule string, period string, expected double, paid double, "
                        "shortfall double, status string")


def arrears_arrow_schema() -> Any:
    import pyarrow as pa

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


def run_audit(engine: Engine, keywords: dict[str, Any]) -> DistributedEntitlementAudit:
    rules_json, options_json = entitlement_options_json(**keywords)
    # The rules are read once here; the workers get them as JSON (rule files need not exist there).
    rules_json = _core.audit_rules(rules_json, options_json)
    empty = engine.empty_table()
    _core.audit_check(empty.drop_columns([ROW_COLUMN]), rules_json, options_json)
    engine.prepare(_core.audit_partition_column(options_json))
    try:
        states = engine.map_partitions(lambda table: _core.audit_partial(table, rules_json, options_json))
        if not states:
            states = [_core.audit_partial(empty, rules_json, options_json)]
        document = _core.audit_finish(tree_merge(states, _core.audit_merge), rules_json, options_json)
        arrears = engine.map_to_frame(lambda table: _core.audit_arrears(table, rules_json, options_json),
                                      ARREARS_SPARK_SCHEMA, arrears_arrow_schema())
        return DistributedEntitlementAudit(document, arrears)
    finally:
        engine.release()
