"""The wheel on a machine without Rust (issue 19): `make wheel-test` builds it and this suite installs it into
a fresh virtualenv whose PATH holds only the venv and /usr/bin:/bin, then checks that the `payequity` command
(demo, gap on a CSV, version), `python -m payequity` and `pe.oaxaca` on pandas data give the same JSON as the
in-repository build, that the example notebooks execute with a plot and an HTML result each, and that bad
installs and bad output folders fail with a clear message."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHEELS = ROOT / "target" / "wheels"
CLI = Path(os.environ.get("PAYEQUITY_BIN", ROOT / "target" / "debug" / "payequity"))
DEMO = ROOT / "datasets" / "demo"
EXAMPLES = ROOT / "examples"


def clean_env(venv: Path) -> dict[str, str]:
    return {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    python = os.environ.get("PAYEQUITY_WHEEL_PYTHON")
    if not python:
        pytest.skip("the wheel suite runs from `make wheel-test`")
    wheels = sorted(WHEELS.glob("payequity-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {WHEELS}: {wheels}"
    folder = tmp_path_factory.mktemp("wheel") / "venv"
    subprocess.run([python, "-m", "venv", str(folder)], check=True)
    install = subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{wheels[0]}[pandas,polars,notebook]"],
        env=clean_env(folder), capture_output=True, text=True, timeout=1800)
    assert install.returncode == 0, install.stderr[-3000:]
    return folder


def run_in(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), env=clean_env(venv), cwd=cwd, capture_output=True, text=True, timeout=900)


def test_the_clean_environment_has_no_rust(venv: Path) -> None:
    assert shutil.which("cargo", path=clean_env(venv)["PATH"]) is None
    assert shutil.which("payequity", path=clean_env(venv)["PATH"]) == str(venv / "bin" / "payequity")


def test_version_and_commit_match_the_repository_build(venv: Path, tmp_path: Path) -> None:
    repo = subprocess.run([str(CLI), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    installed = run_in(venv, "payequity", "--version", cwd=tmp_path)
    assert installed.returncode == 0 and installed.stdout.strip() == repo and "commit" in repo
    module = run_in(venv, "python", "-m", "payequity", "--version", cwd=tmp_path)
    assert module.stdout.strip() == repo
    commit = repo.split("commit ")[1].rstrip(")")
    version = run_in(venv, "python", "-c", "import payequity as pe; print(pe.__version__)", cwd=tmp_path)
    assert version.stdout.strip().endswith(f"+g{commit}")


# Fields that name where the files were (package data against the repository) or when the pack was made.
VOLATILE = {"generated_at", "config_path", "path", "paths", "inputs", "sha256", "config_text", "files"}


def comparable(document: Any) -> Any:
    if isinstance(document, dict):
        return {k: comparable(v) for k, v in document.items() if k not in VOLATILE}
    if isinstance(document, list):
        return [comparable(v) for v in document]
    return document


def test_demo_from_the_wheel_equals_the_repository_demo(venv: Path, tmp_path: Path) -> None:
    installed = run_in(venv, "payequity", "demo", "--out", str(tmp_path / "wheel-pack"), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert str(tmp_path / "wheel-pack") in installed.stdout
    repo = subprocess.run([str(CLI), "demo", "--out", str(tmp_path / "repo-pack"), "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert repo.returncode == 0, repo.stderr
    for name in ("gap.json", "oaxaca.json", "transparency.json", "equal_value.json", "entitlement_audit.json"):
        wheel_doc = json.loads((tmp_path / "wheel-pack" / name).read_text())
        repo_doc = json.loads((tmp_path / "repo-pack" / name).read_text())
        assert comparable(wheel_doc) == comparable(repo_doc), name


def test_gap_on_a_csv_equals_the_repository_build(venv: Path, tmp_path: Path) -> None:
    csv = tmp_path / "payroll.csv"
    rows = ["employee_id,gender,grade,pay,hours"]
    rows += [f"e{i:04d},{'F' if i % 3 else 'M'},{'g' + str(i % 4)},{1800 + 37 * (i % 29)},{140 + i % 20}"
             for i in range(400)]
    csv.write_text("\n".join(rows) + "\n")
    args = ["gap", str(csv), "--pay-column", "pay", "--hours-column", "hours", "--by", "grade", "--format", "json"]
    installed = run_in(venv, "payequity", *args, cwd=tmp_path)
    repo = subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0 and repo.returncode == 0, installed.stderr
    assert json.loads(installed.stdout) == json.loads(repo.stdout)


OAXACA = ("import json, sys, pandas as pd, payequity as pe\n"
          "frame = pd.read_parquet(sys.argv[1])\n"
          "frame = frame[frame['period'] == '2025-12']\n"
          "r = pe.oaxaca(frame, outcome='base_hourly_rate', log=True, group='gender', group_a='M', group_b='F',\n"
          "              covariates=['tenure_years', 'age'], categorical=['occupation'])\n"
          "print(r.to_json())\n")


def test_oaxaca_on_pandas_equals_the_repository_build(venv: Path, tmp_path: Path) -> None:
    script = tmp_path / "oaxaca.py"
    script.write_text(OAXACA)
    installed = run_in(venv, "python", str(script), str(DEMO / "payroll.parquet"), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    repo = subprocess.run([sys.executable, str(script), str(DEMO / "payroll.parquet")], capture_output=True,
                          text=True, timeout=600)
    assert repo.returncode == 0, repo.stderr
    assert json.loads(installed.stdout) == json.loads(repo.stdout)


NOTEBOOK = ("import sys, nbformat\n"
            "from nbclient import NotebookClient\n"
            "book = nbformat.read(sys.argv[1], as_version=4)\n"
            "NotebookClient(book, timeout=900, kernel_name='python3').execute()\n"
            "kinds = {k for c in book.cells if c.cell_type == 'code' for o in c.get('outputs', [])\n"
            "         for k in o.get('data', {})}\n"
            "errors = [o for c in book.cells if c.cell_type == 'code' for o in c.get('outputs', [])\n"
            "          if o.get('output_type') == 'error']\n"
            "print(sorted(kinds), len(errors))\n"
            "assert not errors and 'image/png' in kinds and 'text/html' in kinds, (kinds, errors)\n")


@pytest.mark.parametrize("name", ["economist", "auditor", "union"])
def test_the_example_notebooks_execute_with_a_plot_and_html(venv: Path, tmp_path: Path, name: str) -> None:
    script = tmp_path / "execute.py"
    script.write_text(NOTEBOOK)
    result = run_in(venv, "python", str(script), str(EXAMPLES / f"{name}.ipynb"), cwd=tmp_path)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-4000:])


def test_demo_into_a_place_it_cannot_write_is_an_error_with_a_hint(venv: Path, tmp_path: Path) -> None:
    result = run_in(venv, "payequity", "demo", "--out", "/proc/payequity-pack", cwd=tmp_path)
    assert result.returncode == 1 and "hint:" in result.stderr and "panicked" not in result.stderr


def test_an_unsupported_python_gets_a_clear_error(venv: Path, tmp_path: Path) -> None:
    candidates = [shutil.which("python3.8"), *map(str, Path.home().glob(".pyenv/versions/3.8*/bin/python3.8"))]
    working = [c for c in candidates if c and subprocess.run([c, "-c", "pass"], capture_output=True).returncode == 0]
    if not working:
        pytest.skip("no Python 3.8 on this machine")
    old = working[0]
    site = next((venv / "lib").glob("python3*/site-packages"))
    result = subprocess.run([old, "-c", f"import sys; sys.path.insert(0, {str(site)!r}); import payequity"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1 and "payequity needs Python 3.9 or newer" in result.stderr


def test_the_committed_notebooks_have_no_outputs() -> None:
    for path in sorted(EXAMPLES.glob("*.ipynb")):
        book = json.loads(path.read_text())
        code = [c for c in book["cells"] if c["cell_type"] == "code"]
        assert code and all(not c["outputs"] and c["execution_count"] is None for c in code), path.name


def test_the_sdist_carries_the_sources_the_data_and_the_commit() -> None:
    import tarfile

    sdists = sorted(WHEELS.glob("payequity-*.tar.gz"))
    if not sdists:
        pytest.skip("the sdist is built by `make wheel`")
    with tarfile.open(sdists[0]) as archive:
        names = {Path(n).as_posix().split("/", 1)[1] for n in archive.getnames() if "/" in n}
    for required in ("pyproject.toml", "Cargo.toml", "Cargo.lock", "crates/payequity/src/lib.rs",
                     "crates/payequity-cli/src/lib.rs", "crates/payequity-py/src/lib.rs", "crates/payequity/COMMIT",
                     "python/payequity/__init__.py", "python/payequity/data/demo/payroll.parquet",
                     "python/payequity/data/demo/audit.toml", "python/payequity/data/rules/demo-hospital.toml"):
        assert required in names, required
