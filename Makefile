# vmlife: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.vmlife-installed

.DEFAULT_GOAL := help
.PHONY: help demo test lint typecheck pytest azure-test notebooks-test notebooks lab bench venv sysdeps clean

# Debian packages the tests use, as "command:package" pairs. Installed with apt-get when
# missing and running as root; otherwise the pip fallbacks (graphviz-pure) are used.
SYSDEPS := dot:graphviz chromium:chromium npm:npm

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

sysdeps: ## install missing Debian packages (graphviz, chromium) when root
	@missing=""; for pair in $(SYSDEPS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing \
	    || echo "warning: apt-get could not install$$missing; continuing with pip fallbacks"; \
	else echo "note: not root, so$$missing not installed; using pip fallbacks"; fi

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@$(MAKE) --no-print-directory sysdeps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[test]' $(foreach p,$(PLUGINS),-e $(p))
	@touch $@

venv: $(STAMP) ## create .venv and install vmlife (editable) with its test tools

demo: sysdeps $(STAMP) ## the main job: state model, a simulated VM, and the HTML report of the sample Activity Log
	$(VENV)/bin/vmlife demo
	@echo
	$(VENV)/bin/vmlife report vmlife/data/sample_activity_log.json -o out/report --quiet

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check vmlife tests $(PLUGINS)

typecheck: $(STAMP) ## mypy on vmlife/
	$(VENV)/bin/mypy

# The mermaid npm package, loaded from disk by the Mermaid browser test (no network at run time).
MERMAID_JS := out/node/node_modules/mermaid/dist/mermaid.min.js
$(MERMAID_JS):
	@command -v npm >/dev/null 2>&1 || { echo "note: no npm, the Mermaid browser test is skipped"; exit 0; }; \
	npm install --prefix out/node --no-audit --no-fund --silent mermaid@11

mermaid: sysdeps $(MERMAID_JS) ## install the mermaid npm package into out/node (for its browser test)

pytest: sysdeps $(STAMP) mermaid ## the test suite only
	$(PY) -m pytest

azure-test: $(STAMP) ## only the tests that drive the Azure SDK against the local replay
	$(PY) -m pytest -m azure tests/azure

# A kernel's first start in a fresh virtualenv compiles every module it imports; on a busy
# CI machine that exceeds nbval's 60 s default, so the startup allowance is generous.
NBVAL := $(PY) -m pytest -p no:cacheprovider -o testpaths=notebooks --nbval \
	--nbval-current-env --nbval-kernel-startup-timeout=300 \
	--nbval-sanitize-with notebooks/sanitize.cfg notebooks

notebooks-test: sysdeps $(STAMP) ## run every notebook with nbval (stable outputs checked exactly)
	$(NBVAL)

notebooks: $(STAMP) ## re-execute the notebooks in place (refreshes their stored outputs)
	@info=$$(mktemp -d)/replay.json; \
	$(PY) -m tests.azure.replay --info $$info & pid=$$!; \
	for i in $$(seq 100); do test -s $$info && break; sleep 0.2; done; \
	VMLIFE_AZURE_REPLAY=$$info $(VENV)/bin/jupyter nbconvert --to notebook --execute \
	  --inplace notebooks/*.ipynb; rc=$$?; kill $$pid; exit $$rc

lab: $(STAMP) ## open JupyterLab on the notebooks (127.0.0.1 only)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

docs: sysdeps $(STAMP) ## build the docs site (Sphinx + MyST, warnings are errors) into out/docs
	$(PY) -m sphinx -W --keep-going -b html -q docs out/docs
	$(PY) docs/check_built.py out/docs

test: lint typecheck pytest notebooks-test docs ## every check and test

bench: $(STAMP) ## run every benchmark, write benchmarks/RESULTS.md (about 5 minutes)
	$(PIP) install -e '.[bench]'
	$(PY) benchmarks/run_all.py

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
