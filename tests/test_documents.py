"""Every streamed command gives the in-memory document on the demo payroll (the commands of
tests/documents/compare.py, which also compares two builds field by field after a refactoring)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "documents"))
import compare  # noqa: E402

CLI = os.environ.get("PAYEQUITY_BIN", str(Path(__file__).resolve().parents[1] / "target/debug/payequity"))


@pytest.mark.parametrize("name", [n for n, (_, streams) in compare.COMMANDS.items() if streams])
def test_streamed_document_equals_the_in_memory_one(name: str) -> None:
    args, _ = compare.COMMANDS[name]
    memory = compare.document(CLI, args, "memory")
    streamed = compare.document(CLI, args, "stream")
    assert compare.first_difference(memory, streamed, tol=1e-10) is None


def test_the_comparison_sees_a_changed_field() -> None:
    a = {"x": [1.0, {"y": "F"}], "commit": "1"}
    assert compare.first_difference(compare.without_commit(a), {"x": [1.0, {"y": "F"}]}) is None
    assert compare.first_difference(a, {"x": [1.0 + 1e-6, {"y": "F"}], "commit": "1"}, tol=1e-10) == \
        ".x[0]: 1.0 != 1.000001"
    assert compare.first_difference({"x": 1}, {"x": 1, "z": 2}) == ".z (only in one)"
