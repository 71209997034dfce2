# Two commands for a new machine: `make run` and `make test`. Both make .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest workers for `make test` (pytest-xdist); each module runs whole in one worker.
TEST_WORKERS ?= 3

# The real XForm engine the form tests run (enketo-transformer, versions pinned by the
# lock file). Its native libxslt links against node1-libxmljsmt-myh, which must be built
# first: npm builds the two in no fixed order, so they are built one after the other.
XFORM_ENGINE := tests/xform_engine
ENGINE_STAMP := $(XFORM_ENGINE)/node_modules/.installed-$(shell cat $(XFORM_ENGINE)/package-lock.json | cksum | cut -d' ' -f1)

# enketo-core, the form engine Enketo runs in the browser, in one file for Chromium
# (tests/test_openrosa_enketo.py): esbuild bundles tests/xform_engine/enketo.js. It lives
# in node_modules, so every npm ci makes it anew. package.json overrides two of
# enketo-core's dependencies: leaflet-draw (named as a git repository there, which npm
# cannot reach here) is the registry's 1.0.4, and openrosa-xpath-evaluator is 3.1.0 (its
# 3.2.0 changed only the Node versions it supports, and the registry has no 3.2.0).
ENKETO_BUNDLE := $(XFORM_ENGINE)/node_modules/.bundle/enketo-core.js

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

$(ENGINE_STAMP): $(XFORM_ENGINE)/package-lock.json
	cd $(XFORM_ENGINE) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	cd $(XFORM_ENGINE) && npm rebuild node1-libxmljsmt-myh --loglevel=error && npm rebuild libxslt --loglevel=error
	@rm -f $(XFORM_ENGINE)/node_modules/.installed-*
	@touch $@

$(ENKETO_BUNDLE): $(ENGINE_STAMP) $(XFORM_ENGINE)/enketo.js
	cd $(XFORM_ENGINE) && node_modules/.bin/esbuild enketo.js --bundle --format=iife \
		--platform=browser --target=chrome110 --log-level=warning \
		--outfile=node_modules/.bundle/enketo-core.js

run: $(STAMP)
	$(BIN)/inspect-app init
	$(BIN)/inspect-app demo --if-empty
	$(BIN)/inspect-app serve --host $(HOST) --port $(PORT)

test: $(STAMP) $(ENGINE_STAMP) $(ENKETO_BUNDLE)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache $(XFORM_ENGINE)/node_modules
