"""Shared fixtures: paths of the bundled data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "datasets" / "demo"


@pytest.fixture(scope="session")
def demo_path() -> Path:
    return DEMO / "payroll.parquet"


@pytest.fixture(scope="session")
def demo_config() -> Path:
    return DEMO / "audit.toml"
