"""The demo data that ships with payequity: the synthetic health-and-care payroll, its audit config, the job
evaluation scheme and ratings, and the rule sets. Inside an installed wheel they are package data
(``payequity/data``); in a repository checkout they are ``datasets/``."""

from __future__ import annotations

from pathlib import Path

from payequity._report import AuditReport, report


def data_dir() -> Path:
    """The folder holding ``demo/``, ``equal_value/`` and ``rules/`` (package data, else the repository's)."""
    packaged = Path(__file__).resolve().parent / "data"
    repository = Path(__file__).resolve().parents[2] / "datasets"
    for folder in (packaged, repository):
        if (folder / "demo" / "audit.toml").is_file():
            return folder
    raise FileNotFoundError(
        f"the payequity demo data is not installed (looked in {packaged} and {repository}); "
        "reinstall the wheel, or run from a repository checkout"
    )


def demo_files() -> dict[str, Path]:
    """Paths of the demo data: ``payroll`` (Parquet, 5,000 employees × 12 months), ``config`` (the audit
    TOML), ``truth`` (the planted truths), ``scheme`` and ``ratings`` (equal value) and ``rules`` (the demo
    hospital's pay rules) and ``scenarios`` (three bargaining scenarios).

    >>> files = pe.demo_files()  # doctest: +SKIP
    >>> pe.gap(files["payroll"], config=str(files["config"]))  # doctest: +SKIP
    """
    root = data_dir()
    return {
        "payroll": root / "demo" / "payroll.parquet",
        "config": root / "demo" / "audit.toml",
        "truth": root / "demo" / "truth.json",
        "scheme": root / "equal_value" / "health-and-care-scheme.toml",
        "ratings": root / "equal_value" / "demo-ratings.csv",
        "rules": root / "rules" / "demo-hospital.toml",
        "scenarios": root / "demo" / "scenarios.toml",
    }


def demo(out: str | Path | None = "payequity-demo") -> AuditReport:
    """The audit report on the demo payroll (what ``payequity demo`` runs), with the evidence pack written to
    ``out`` (``None``: no files)."""
    return report(demo_files()["config"], out=out)
