# stormwatch — `make demo` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo run test lint typecheck unit integration sam scan lock lock-upgrade venv check clean \
        bench bench-sentiment bench-surge bench-pipeline bench-channels bench-cost train-sentiment

DEV_LOCK := requirements-dev.lock

# The dependencies exactly as locked (versions and hashes), then the package itself, editable.
$(STAMP): pyproject.toml $(DEV_LOCK)
	@test -x $(PY) || $$(scripts/find-python.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

## update layers/common/requirements.lock and requirements-dev.lock to their inputs, keeping
## the pins they still allow (needs PyPI); lock-upgrade: everything to the newest allowed
lock:
	scripts/lock.sh

lock-upgrade:
	scripts/lock.sh --upgrade

## one offline cycle from recorded responses; e-mails land in out/
demo: $(STAMP)
	$(VENV)/bin/stormwatch demo

## one live cycle (needs internet) against an embedded AWS endpoint
run: $(STAMP)
	$(VENV)/bin/stormwatch run

check: $(STAMP)
	$(VENV)/bin/stormwatch check

## the whole suite: lint, types, unit + integration + infrastructure tests, IaC scan, sam
test: lint typecheck unit scan sam

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## mypy with the pydantic plugin on the package ([tool.mypy] in pyproject.toml)
typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -q

sam: $(STAMP)
	scripts/sam-check.sh

## checkov on every CloudFormation template, offline; fails on any unjustified finding
scan:
	scripts/scan-templates.sh

## retrain the sentiment models from ../shared/data (fixed seeds, ~2.5 min on 2 cores)
train-sentiment: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,train]"
	$(PY) bench/train_sentiment.py

bench-sentiment: $(STAMP)
	$(PY) bench/sentiment_accuracy.py

bench-surge: $(STAMP)
	$(PY) bench/surge_nab.py --all-sensitivities
	$(PY) bench/surge_inject.py --trials 40

bench-pipeline: $(STAMP)
	$(PY) bench/pipeline.py

bench-channels: $(STAMP)
	$(PY) bench/channel_latency.py

## the real handlers through a simulated day against moto: request units, GB-s, US$ a month;
## rewrites the cost sections of docs/benchmarks.md and README.md and stormwatch/cost_units.json
COST_RUNS ?= 5x2000 25x400
bench-cost: $(STAMP)
	$(PY) bench/cost.py --write $(COST_RUNS)

bench: bench-sentiment bench-surge bench-pipeline bench-channels bench-cost

clean:
	rm -rf out .aws-sam .pytest_cache .ruff_cache .mypy_cache
