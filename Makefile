# One command per intent. Every target builds on `setup`, which is idempotent: it only
# reinstalls when pyproject.toml or constraints.txt changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup lint test demo bench package clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

lint: setup
	@status=0; \
	$(BIN)/ruff check shared functions tests bench || status=1; \
	$(BIN)/ruff format --check shared functions tests bench || status=1; \
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

package: setup
	$(BIN)/python -m lzsync.devtools.package dist/functions

clean:
	rm -rf $(VENV) .demo .cache dist .mypy_cache .ruff_cache .pytest_cache .hypothesis
