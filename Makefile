# The two commands a newcomer needs: `make demo` and `make test`.
# Both install what they need (Debian packages, a virtualenv, the package) and are safe to re-run.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest bench dashboards deps venv clean

deps:
	@scripts/install-debian-packages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## make demo: start private Mosquitto + InfluxDB + a simulated reader, tap cards, show what was stored.
demo: deps venv
	@# No __pycache__ in the source tree: the demo writes only to its temp folder and .venv.
	PYTHONDONTWRITEBYTECODE=1 $(BIN)/python -m sandbox.demo

## make test: lint, type-check (mypy strict) and the whole test suite against real servers.
test: deps venv lint typecheck pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

pytest: deps venv
	$(BIN)/pytest

## make bench: benchmarks (not timed tests); results are printed and kept under bench/results/.
bench: deps venv
	$(BIN)/python -m sandbox.bench

## make dashboards: regenerate the checked-in Grafana dashboards and provisioning files.
dashboards: venv
	$(BIN)/pelangi-collector dashboards export dashboards --config config/collector.example.yaml

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build *.egg-info
