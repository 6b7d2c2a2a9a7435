# The README's commands. `make demo` and `make test` work on a machine with only Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Parallel test workers: one per core.
PYTEST_WORKERS ?= auto

# Debian's chromium for the meeting's browser test (tests/test_meeting_browser.py): Playwright
# drives it and never downloads a browser of its own. Installed as root when missing.
CHROMIUM := /usr/bin/chromium

.PHONY: demo test lint mutate bench clean-venv browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/auditlib demo

browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is missing: run 'sudo make browser' (apt-get install chromium) for the browser test"; fi; }

# Lint and types first: ruff (pyproject [tool.ruff]) and mypy (pyproject [tool.mypy]) must pass.
lint: $(STAMP)
	$(BIN)/ruff check auditlib tests tools benchmarks
	$(BIN)/mypy

# mypy checks beside the tests rather than before them (a cold cache costs it ~35 s of one core, which
# the suite's waits on subprocesses absorb); both must pass, and its report is printed after the tests.
test: $(STAMP) browser
	$(BIN)/ruff check auditlib tests tools benchmarks
	@$(BIN)/mypy > $(VENV)/mypy.log 2>&1 & typing=$$!; \
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup tests; tests=$$?; \
	wait $$typing; typed=$$?; echo "mypy:"; cat $(VENV)/mypy.log; \
	[ $$tests = 0 ] && [ $$typed = 0 ]
	$(BIN)/python -m pytest -p no:randomly --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks/audit_report.ipynb notebooks/portfolio_overview.ipynb notebooks/interpretation_meeting.ipynb

# Mutation testing (slow: not part of `make test`). One module with its own test file:
#   make mutate MODULE=scoring        (tests/test_scoring.py; results: .venv/bin/mutmut results)
# MUTATE_CHILDREN: mutants tested in parallel (default 1: the machine is shared).
MUTATE_CHILDREN ?= 1
mutate: $(STAMP)
	$(BIN)/python tools/mutate.py $(MODULE) --max-children $(MUTATE_CHILDREN)

# make bench BENCH_ARGS="--clients 20": fewer synthetic clients for the full-format scale run (default 200)
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)
