# The two commands a newcomer runs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint vendor bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Migrate, seed the demo site and serve it on http://127.0.0.1:5000 with simulated chargers.
run: $(STAMP)
	$(BIN)/voltspot demo --port 5000

## Install everything (Debian's Chromium for the browser tests too) and run the whole suite.
test: $(STAMP)
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check backend tests bench

## Refresh static/vendor/ from npm (pinned in package.json); needs Node only here.
vendor:
	bash scripts/vendor.sh

## OCPP load benchmark (figures, not a test).
bench: $(STAMP)
	$(BIN)/python bench/ocpp_load.py

clean:
	rm -rf $(VENV) instance .pytest_cache
