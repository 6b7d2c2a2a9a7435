# The README's commands. `make demo` and `make test` work on a machine with only Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Parallel test workers: one per core.
PYTEST_WORKERS ?= auto

.PHONY: demo test bench clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/auditlib demo

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests
	$(BIN)/python -m pytest -p no:randomly --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/audit_report.ipynb notebooks/portfolio_overview.ipynb

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean-venv:
	rm -rf $(VENV)
