# OneSEND: `make run` opens the app, `make test` checks everything; both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_DATA := $(CURDIR)/.onesend-dev

.PHONY: setup run test test-fast lint dist bench clean

# Re-install when the dependencies change or a top-level package appears (editable installs
# only map the packages that existed when they were made).
$(STAMP): pyproject.toml constraints.txt $(wildcard */__init__.py) build_scripts/system-deps.sh
	@sh build_scripts/system-deps.sh pdf
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# Opens the window on a local profile folder in this checkout (never your real profile).
run: $(STAMP)
	@sh build_scripts/system-deps.sh run
	ONESEND_DATA_DIR="$${ONESEND_DATA_DIR:-$(DEV_DATA)}" $(BIN)/onesend

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/vulture

# The tests' compiled modules (and pytest's rewritten test modules) are kept in __pycache__
# even where the environment says not to (PYTHONDONTWRITEBYTECODE): otherwise every run, and
# every worker of the fast tier, compiles some 500 modules again (4 s each).
PYTEST := PYTHONDONTWRITEBYTECODE= QT_QPA_PLATFORM=offscreen $(BIN)/pytest

# The full tier, with branch coverage (the total is printed last).
test: lint
	@sh build_scripts/test-deps.sh
	$(PYTEST) --cov --cov-branch --cov-report=term:skip-covered
	@$(BIN)/coverage report --format=total | sed 's/^/Branch coverage (total, %): /'

# The fast tier: unit and in-process tests (the `onesend` command in-process), on every core
# (pytest-xdist; `-n auto` is half as many workers again as cores, tests/conftest.py). What is marked `slow` (FULL_TIER in tests/conftest.py: processes, the bundle,
# whole journeys, PostgreSQL, the 10,000-record vault) runs only in `make test`.
test-fast: $(STAMP)
	@sh build_scripts/test-deps.sh
	$(PYTEST) -m "not slow" -q -n auto

# The packaged executable (PyInstaller, onedir) in dist/onesend/, then its self-test.
dist: $(STAMP)
	@sh build_scripts/system-deps.sh dist
	$(BIN)/python build_scripts/build_dist.py

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache
