# Responsible-party classifier for Chinese e-commerce disputes. `make` lists the targets.
# The first target that needs Python creates .venv and installs the project into it.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?=
ARGS ?=

.DEFAULT_GOAL := help

help: ## List the targets with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its dev tools

data: $(STAMP) ## Regenerate the synthetic demo corpus data/demo/disputes.csv
	$(BIN)/liability demo

train: $(STAMP) ## Train and register a model (DATA=path/to/export to use your own labeled data)
	$(BIN)/liability train $(if $(DATA),--data "$(DATA)") $(ARGS)

test: $(STAMP) ## Run the whole test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## Check the code with ruff
	$(BIN)/ruff check .

clean: ## Remove the virtualenv, caches and the local MLflow store (mlflow.db, mlartifacts/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis mlflow.db mlartifacts mlruns
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: help install data train test lint clean
