"""`payequity report` / `payequity demo` / `pe.report` (issue 8): the HTML report renders in headless
Chromium without console errors and shows the JSON document's headline numbers; it fetches nothing; employee
ids stay out of it unless the worker-level annex is asked for; thresholds exit 2, config errors exit 1 naming
the key; two runs of one config write byte-identical JSON and CSV."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

import payequity as pe

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(os.environ.get("PAYEQUITY_BIN", ROOT / "target" / "debug" / "payequity"))
DEMO = ROOT / "datasets" / "demo"
PLANTED_ID = "PLANTED-ID-7734"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, cwd=ROOT, check=False)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is needed (make test installs the Debian package `chromium`)")


@pytest.fixture(scope="module")
def demo_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    cli = run_cli("demo", "--out", str(out), "--quiet")
    assert cli.returncode == 0, cli.stderr
    assert "Headline figures" in cli.stdout
    return out


def lookup(document: Any, path: str) -> Any:
    for key in path.split("."):
        document = document[int(key)] if isinstance(document, list) else document[key]
    return document


def grouped(value: float) -> str:
    return f"{value:,.2f}"


def shown(unit: str, value: float) -> str:
    """The figure as the report must print it, written here from the unit's rule."""
    return {
        "pct": f"{value:.1f}%",
        "log_points": f"{100 * value:.1f}",
        "currency": grouped(value),
        "count": f"{value:,.0f}",
    }[unit]


class Figures(HTMLParser):
    """Collects the headline figures (`data-key` spans) and their text from the rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, dict[str, str]] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if "data-key" in attributes:
            self._open = attributes["data-key"]
            self.figures[self._open] = {**attributes, "text": ""}

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.figures[self._open]["text"] += data


def test_demo_writes_the_evidence_pack(demo_pack: Path) -> None:
    for name in ["report.html", "report.json", "summary.md", "gap.json", "transparency.json", "ledger.csv"]:
        assert (demo_pack / name).exists(), name
    for table in ["gap_by_group", "oaxaca", "transparency", "equal_value_classes", "entitlement_rules",
                  "entitlement_disparities", "arrears_by_rule_period"]:
        csv = pl.read_csv(demo_pack / f"{table}.csv")
        parquet = pl.read_parquet(demo_pack / f"{table}.parquet")
        assert csv.shape == parquet.shape and csv.height > 0, table
    report = json.loads((demo_pack / "report.json").read_text())
    assert report["kind"] == "audit_report"
    assert json.loads((demo_pack / "gap.json").read_text()) == report["gap"]
    # The arrears by rule and period add up to the audit's total (no worker ids in this table).
    by_period = pl.read_parquet(demo_pack / "arrears_by_rule_period.parquet")
    assert round(by_period["shortfall"].sum(), 2) == pytest.approx(report["entitlements"]["arrears_total"], abs=0.01)
    assert "employee_id" not in by_period.columns
    summary = (demo_pack / "summary.md").read_text()
    assert "joint pay assessment" in summary and "log points" in summary


def test_report_renders_in_headless_chromium_with_the_json_numbers(demo_pack: Path) -> None:
    page = demo_pack / "report.html"
    result = subprocess.run(
        [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    parser = Figures()
    parser.feed(result.stdout)
    report = json.loads((demo_pack / "report.json").read_text())
    expected = {h["key"]: h for h in report["headline"]}
    assert set(parser.figures) == set(expected)
    assert {"mean_gap_pct", "unexplained", "eu_trigger", "arrears_total", "equal_value_cost"} <= set(expected)
    for key, figure in parser.figures.items():
        headline = expected[key]
        if headline["unit"] == "text":
            assert figure["text"] == headline["text"]
            continue
        value = lookup(report, figure["data-path"])
        assert float(figure["data-value"]) == value == headline["value"], key
        assert figure["text"] == shown(headline["unit"], value), key
    # The figures the page shows are the documents' own numbers.
    assert parser.figures["mean_gap_pct"]["text"] == f"{report['gap']['overall']['mean_gap_pct']['estimate']:.1f}%"
    assert parser.figures["arrears_total"]["text"] == grouped(report["entitlements"]["arrears_total"])


def test_report_fetches_nothing(demo_pack: Path) -> None:
    html = (demo_pack / "report.html").read_text()
    assert "<script" not in html.lower() and "<link" not in html.lower() and "<iframe" not in html.lower()
    assert re.search(r"\b(src|href|srcset|poster|action)\s*=", html, re.IGNORECASE) is None
    assert re.search(r"url\s*\(|@import", html, re.IGNORECASE) is None
    # The only URL is the SVG namespace name (an identifier, never fetched).
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}


def cells_by_gender(document: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object of the document with counts by gender (`n`): a published cell."""
    if isinstance(document, dict):
        if isinstance(document.get("n"), dict):
            yield path, document
        for key, value in document.items():
            yield from cells_by_gender(value, f"{path}.{key}")
    elif isinstance(document, list):
        for i, value in enumerate(document):
            yield from cells_by_gender(value, f"{path}.{i}")


def breakdowns(document: Any, path: str = "") -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Every list of cells with counts by gender: a published breakdown (its total is published too)."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from breakdowns(value, f"{path}.{key}")
    elif isinstance(document, list):
        cells = [c for c in document if isinstance(c, dict) and isinstance(c.get("n"), dict)]
        if cells:
            yield path, cells
        for i, value in enumerate(document):
            yield from breakdowns(value, f"{path}.{i}")


def restricted(cell: dict[str, Any]) -> bool:
    """An Art. 10 flag of a small category: its figures are for the joint pay assessment (workers'
    representatives, Directive Art. 12(3)) and marked `suppressed_in_publication`; the page withholds them."""
    return bool(cell.get("suppressed_in_publication"))


def test_no_published_figure_describes_fewer_than_min_cell_people(demo_pack: Path) -> None:
    """Disclosure control across every document of the pack, from the rule (spec: transparency.md): no
    mean or median pay of a gender group with fewer than `min_cell` members; no count of women or men below
    `min_cell`; no lone withheld cell in a breakdown, whose value the total minus the others would give."""
    report = json.loads((demo_pack / "report.json").read_text())
    min_cell = report["min_cell"]
    assert min_cell == 10
    pay_figures = 0
    for path, cell in cells_by_gender(report):
        if restricted(cell):
            continue
        for statistic in ("mean", "median", "mean_pay"):
            for gender, value in (cell.get(statistic) or {}).items():
                if value is not None:
                    count = cell["n"].get(gender)
                    assert count is not None and count >= min_cell, (path, statistic, gender, count)
                    pay_figures += 1
        for gender in ("F", "M"):
            count = cell["n"].get(gender)
            assert count is None or count >= min_cell or ".overall" in path, (path, gender, count)
    assert pay_figures > 50
    seen = set()
    for path, cells in breakdowns(report):
        cells = [c for c in cells if not restricted(c)]
        seen.add(path.rsplit(".", 1)[-1])
        for gender in ("F", "M"):
            hidden = [c for c in cells if gender in c["n"] and c["n"][gender] is None]
            assert len(hidden) != 1, f"{path}: one cell withholds the count of {gender}"
        for gender in {g for c in cells for g in c.get("mean") or {}}:
            hidden = [c for c in cells if c["mean"].get(gender, 0.0) is None and c["n"].get(gender) != 0]
            assert len(hidden) != 1, f"{path}: one cell withholds the mean pay of {gender}"
    assert {"by", "g_by_category", "classes"} <= seen
    # A withheld job class keeps no female share (with its headcount it would give the counts).
    for job_class in report["equal_value"]["classes"]:
        assert (job_class["female_share"] is None) == job_class["suppressed"], job_class["job"]


def planted_config(tmp_path: Path, annex: bool, fail_if: str = "") -> Path:
    """The demo config on a copy of the demo payroll where one worker owed arrears has a planted id."""
    payroll = pl.read_parquet(DEMO / "payroll.parquet")
    arrears = pl.read_parquet(demo_arrears(tmp_path))
    victim = arrears.filter(pl.col("shortfall") > 0)["employee_id"][0]
    payroll = payroll.with_columns(
        pl.when(pl.col("employee_id") == victim).then(pl.lit(PLANTED_ID)).otherwise(pl.col("employee_id"))
        .alias("employee_id")
    )
    payroll.write_parquet(tmp_path / "payroll.parquet")
    text = (DEMO / "audit.toml").read_text()
    text = text.replace("../equal_value/", f"{(DEMO.parent / 'equal_value').as_posix()}/")
    text = text.replace("../rules/", f"{(DEMO.parent / 'rules').as_posix()}/")
    text = re.sub(r"(?ms)^\[report\].*", "", text)
    text += f"\n[report]\nout = \"out\"\nworker_annex = {'true' if annex else 'false'}\n{fail_if}\n"
    path = tmp_path / "audit.toml"
    path.write_text(text)
    return path


def demo_arrears(tmp_path: Path) -> Path:
    path = tmp_path / "arrears.parquet"
    pe.audit_entitlements(DEMO / "payroll.parquet", config=DEMO / "audit.toml").arrears().write_parquet(path)
    return path


def test_employee_ids_stay_out_unless_the_annex_is_configured(tmp_path: Path) -> None:
    config = planted_config(tmp_path, annex=False)
    cli = run_cli("report", "--config", str(config), "--quiet")
    assert cli.returncode == 0, cli.stderr
    out = tmp_path / "out"
    ids = re.compile(r"\bE\d{5}\b")
    for path in out.iterdir():
        if path.suffix in {".html", ".json", ".md", ".csv"}:
            text = path.read_text()
            assert PLANTED_ID not in text, path.name
            assert ids.search(text) is None, path.name
    assert not (out / "arrears_by_worker.csv").exists()

    annexed = tmp_path / "annexed"
    annexed.mkdir()
    config = planted_config(annexed, annex=True)
    cli = run_cli("report", "--config", str(config), "--quiet")
    assert cli.returncode == 0, cli.stderr
    assert PLANTED_ID in (annexed / "out" / "report.html").read_text()
    assert PLANTED_ID in (annexed / "out" / "arrears_by_worker.csv").read_text()


def test_threshold_breach_exits_2_and_config_errors_exit_1(tmp_path: Path) -> None:
    breach = run_cli("report", "--config", str(DEMO / "audit.toml"), "--out", str(tmp_path / "a"), "--quiet")
    assert breach.returncode == 2, breach.stderr
    assert "arrears_total_above" in breach.stdout and "eu_trigger" in breach.stdout
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert {b["key"] for b in report["breaches"]} == {"eu_trigger", "arrears_total_above"}

    calm = tmp_path / "calm"
    calm.mkdir()
    config = planted_config(calm, annex=False, fail_if="fail_if = { arrears_total_above = 1e12 }")
    assert run_cli("report", "--config", str(config), "--quiet").returncode == 0

    typo = tmp_path / "typo"
    typo.mkdir()
    config = planted_config(typo, annex=False, fail_if="fail_if = { eu_triger = true }")
    error = run_cli("report", "--config", str(config), "--quiet")
    assert error.returncode == 1
    assert "report.fail_if.eu_triger" in error.stderr
    assert "panicked" not in error.stderr


def test_two_runs_write_identical_json_and_csv(tmp_path: Path) -> None:
    outputs = []
    for run in ("first", "second"):
        out = tmp_path / run
        cli = run_cli("demo", "--out", str(out), "--quiet")
        assert cli.returncode == 0, cli.stderr
        outputs.append(out)
    names = sorted(p.name for p in outputs[0].iterdir())
    assert names == sorted(p.name for p in outputs[1].iterdir())
    for name in names:
        first, second = (out / name for out in outputs)
        if name.endswith((".json", ".csv", ".md")):
            assert first.read_bytes() == second.read_bytes(), name
    stamp = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
    html = [stamp.sub("", (out / "report.html").read_text()) for out in outputs]
    assert html[0] == html[1]


def test_python_report_matches_the_cli(tmp_path: Path, demo_pack: Path) -> None:
    result = pe.report(DEMO / "audit.toml", out=tmp_path / "py")
    cli = json.loads((demo_pack / "report.json").read_text())
    assert result.to_dict() == cli
    assert (tmp_path / "py" / "report.json").read_text() == (demo_pack / "report.json").read_text()
    assert result.breached and result.gap is not None
    assert result.gap.to_dict() == cli["gap"]
    assert "Headline figures" in result._repr_html_()
    # Every result's notebook view is its section of the report.
    section = result.gap._repr_html_()
    assert "Factor-weighted gap" in section and "<svg" in section
    assert result.transparency is not None and "Art. 10" in result.transparency._repr_html_()


def test_python_report_takes_a_dict(tmp_path: Path) -> None:
    config = {
        "input": {"path": str(DEMO / "payroll.parquet")},
        "columns": {"employee_id": "employee_id", "gender": "gender", "period": "period", "hours": "hours_paid"},
        "pay": {"ordinary": ["base_pay"]},
        "gap": {"by": ["occupation"], "min_cell": 10},
        "report": {"title": "dict config"},
    }
    result = pe.report(config)
    assert result["title"] == "dict config"
    assert result.oaxaca is None and result.transparency is None
    direct = pe.gap(DEMO / "payroll.parquet", pay=["base_pay"], hours="hours_paid", by=["occupation"])
    assert result["gap"]["overall"]["mean_gap_pct"] == direct.to_dict()["overall"]["mean_gap_pct"]
    with pytest.raises(pe.ConfigError, match="report.colour"):
        pe.report({**config, "report": {"colour": "red"}})
