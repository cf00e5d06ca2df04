# One command per intent. Every target builds on `setup`, which is idempotent: it only
# reinstalls when pyproject.toml or constraints.txt changed (.venv-bq, .venv-checkov: when their
# requirements did).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The BigQuery emulator lives in its own virtualenv: its ~70 pins (protobuf 6, duckdb) would
# clash with ours, and it registers a pytest plugin we do not want in the suite.
BQ_VENV := .venv-bq
BQ_STAMP := $(BQ_VENV)/.installed
BQ_REQUIREMENTS := tools/bqemulator/requirements.txt
# The Portal's sync-status page (portal/): npm installs the exact versions of package-lock.json,
# Vite builds portal/dist. Rebuilt only when the lock file or a source of the page changed.
PORTAL := portal
PORTAL_STAMP := $(PORTAL)/dist/.built
PORTAL_SOURCES := $(PORTAL)/package.json $(PORTAL)/package-lock.json $(PORTAL)/.npmrc \
	$(PORTAL)/index.html $(PORTAL)/vite.config.js $(shell find $(PORTAL)/src $(PORTAL)/public -type f)

# Browser tests drive the machine's Chromium: Playwright must never fetch a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

# checkov (Terraform static analysis for tests/infra) has its own virtualenv too: its pins
# clash with ours.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
CHECKOV_REQUIREMENTS := tools/checkov/requirements.txt

.PHONY: setup lint test demo bench bench-load package clean fuzz

setup: $(STAMP) $(BQ_STAMP) $(CHECKOV_STAMP) $(PORTAL_STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(BQ_STAMP): $(BQ_REQUIREMENTS)
	$(PYTHON) -m venv $(BQ_VENV)
	$(BQ_VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(BQ_VENV)/bin/pip install --quiet -r $(BQ_REQUIREMENTS)
	touch $(BQ_STAMP)

$(PORTAL_STAMP): $(PORTAL_SOURCES)
	cd $(PORTAL) && npm ci --loglevel=error && ./node_modules/.bin/vite build --logLevel warn
	touch $(PORTAL_STAMP)

$(CHECKOV_STAMP): $(CHECKOV_REQUIREMENTS)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip==25.3
	$(CHECKOV_VENV)/bin/pip install --quiet -r $(CHECKOV_REQUIREMENTS)
	touch $(CHECKOV_STAMP)

lint: setup
	@status=0; \
	$(BIN)/ruff check shared functions tests bench tools || status=1; \
	$(BIN)/ruff format --check shared functions tests bench tools || status=1; \
	$(BIN)/mypy shared/lzsync || status=1; \
	exit $$status

test: lint
	$(BIN)/pytest

demo: setup
	$(BIN)/python -m lzsync.devtools.demo $(ARGS)

bench: setup
	$(BIN)/python -m bench.git_webhook
	$(BIN)/python -m bench.asset_snapshot
	$(BIN)/python -m bench.asset_events
	$(BIN)/python -m bench.history_export
	$(BIN)/python -m bench.cold_import
	$(BIN)/python -m bench.compliance
	$(BIN)/python -m bench.asset_policies
	$(MAKE) bench-load

# The load section alone (about 6 minutes): concurrent webhook clients, the feed held at fixed
# rates, a 100,000-asset snapshot during a feed. Knobs: LOAD_* variables (bench/load.py).
bench-load: setup
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.report

# Coverage-guided fuzzing of every parser an entry point uses (tests/fuzz/), FUZZ_SECONDS in all.
# Not part of `make test` (which runs a hypothesis smoke of the same targets).
FUZZ_SECONDS ?= 60
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python -m tests.fuzz.drive

package: setup
	$(BIN)/python -m lzsync.devtools.package dist/functions

clean:
	rm -rf $(VENV) $(BQ_VENV) $(CHECKOV_VENV) .demo .cache dist .mypy_cache .ruff_cache \
		.pytest_cache .hypothesis .fuzz
	rm -rf $(PORTAL)/node_modules $(PORTAL)/dist test-artifacts
