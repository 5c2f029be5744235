# vmlife: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.vmlife-installed

.DEFAULT_GOAL := help
.PHONY: help demo test lint typecheck pytest venv clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[test]' $(foreach p,$(PLUGINS),-e $(p))
	@touch $@

venv: $(STAMP) ## create .venv and install vmlife (editable) with its test tools

demo: $(STAMP) ## run the main job: print the state model and a simulated VM's history
	$(VENV)/bin/vmlife demo

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check vmlife tests $(PLUGINS)

typecheck: $(STAMP) ## mypy on vmlife/
	$(VENV)/bin/mypy

pytest: $(STAMP) ## the test suite only
	$(PY) -m pytest

test: lint typecheck pytest ## every check and test

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
