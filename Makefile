# ReviewPulse developer commands. `make test` and `make demo` do all set-up on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
OPENAPI_VENV := .venv-openapi

.PHONY: setup venv sam-venv openapi-client-venv chromium dev demo bench bench-quick chaos soak quality calibrate lint checkov test test-fast validate build openapi clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# aws-sam-cli lives in its own virtual environment: its pins clash with the project's.
$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet 'aws-sam-cli==1.170.0'
	touch $@

sam-venv: $(SAM_VENV)/.installed

# openapi-python-client, in its own environment like a client's: the test generates a client from
# openapi.json there, installs it and drives the local stack with it (tests/local/test_generated_client.py).
$(OPENAPI_VENV)/.installed:
	$(PYTHON) -m venv $(OPENAPI_VENV)
	$(OPENAPI_VENV)/bin/pip install --quiet --upgrade pip
	$(OPENAPI_VENV)/bin/pip install --quiet 'openapi-python-client==0.29.1'
	touch $@

openapi-client-venv: $(OPENAPI_VENV)/.installed

# checkov, also in its own environment (its pins are many).
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov==3.3.30'
	touch $@

# Security checks of template.yaml: zero failures; every skip says why (.checkov.yaml, Metadata).
checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --config-file .checkov.yaml

validate: sam-venv
	$(SAM) validate --lint --region us-east-1

build: sam-venv
	$(SAM) build --no-cached

# The local stack in the foreground: API on http://127.0.0.1:$(PORT), AWS (moto) on $(AWS_PORT);
# Ctrl-C stops it. `PORT=8080 AWS_PORT=5006 make dev` moves both (REVIEWPULSE_PORT and
# REVIEWPULSE_AWS_PORT are the defaults when set).
PORT ?= $(or $(REVIEWPULSE_PORT),3000)
AWS_PORT ?= $(or $(REVIEWPULSE_AWS_PORT),5005)
dev: venv
	$(VENV)/bin/reviewpulse dev --port $(PORT) --aws-port $(AWS_PORT) $(DEV)

# The main job on the embedded local default: analyse samples/reviews.csv, no AWS account needed.
demo: venv
	$(PY) -m reviewpulse_tools.dev.demo

# Benchmarks (not tests): calls per review, end-to-end time, splitter memory, cold starts, … .
# Every benchmark (or those in BENCH) runs and prints its table even when another fails; failures
# are listed at the end and the exit status is 1. bench-quick runs every one at small sizes, as
# `make test` does (tests/bench/test_quick_bench.py): it proves they run; its figures mean nothing.
bench: venv
	$(PY) -m reviewpulse_tools.bench.performance $(BENCH)

bench-quick: venv
	$(PY) -m reviewpulse_tools.bench.performance --quick $(BENCH)

# The pipeline under chaos at full size (10,000 rows): duplicates, crashes, flaky and poison rows.
chaos: venv
	$(PY) -m reviewpulse_tools.bench.chaos

# Load and soak: 1,000 Locust users against a local stack of its own (usage plan raised, the chaos
# of `make chaos` in its workers), then the pass criteria (no 5xx, 429s with Retry-After, every
# task ends, every batch row exactly once, result retrieval p99 under 1 s), p50/p95/p99 per route
# and per function, and where the CPU went; exits non-zero on a failure. SOAK="--users 200 --seconds 60" changes the run (--help lists all).
# The stack it starts runs 4 analyzer pollers, 3 pollers on every other queue and up to 6 environments per
# function (docs/local-stack.md): one finalizer at a time could not keep up with 1,000 users. The busy
# API functions' 6 start with the stack, as provisioned concurrency would (no cold start in the burst).
SOAK_PROVISIONED := GetTaskFunction=10,CreateTaskFunction=6,AnalyzeTextsFunction=6,ListTasksFunction=6,CreateBatchFunction=6
SOAK ?= --users 1000 --spawn-rate 50 --seconds 180 --wait 15 45 --faults --analyzers 4 --queue-pollers 3 --environments 10 --environment-niceness 19 --provisioned $(SOAK_PROVISIONED)
soak: venv
	$(PY) -m reviewpulse_tools.bench.load $(SOAK)

# Labelled sentences for quality and calibration: ../shared/data beside this repository by default.
DATA ?=
DATA_ARG := $(if $(DATA),--data $(DATA),)
# Lexicon, llm and auto (routing at several thresholds) on the labelled sets; then tenant models
# (bench/learning.py: learning curves, the oracle student, speed; LEARNING=--parts/--sets narrows). ENGINE=oracle (the
# fake OpenAI server answering gold labels 90% right) or ENGINE=llm / auto (OPENAI_BASE_URL/_API_KEY).
ENGINE ?= oracle
quality: venv
	$(PY) -m reviewpulse_tools.bench.quality --engine $(ENGINE) $(DATA_ARG) $(QUALITY)
	$(PY) -m reviewpulse_tools.bench.learning $(DATA_ARG) $(LEARNING)

# Fit the lexicon's confidence calibration: writes shared/reviewpulse/analysis/calibration.json.
calibrate: venv
	$(PY) -m reviewpulse_tools.bench.calibrate $(DATA_ARG)

# Headless Chromium for the report's browser test, from the operating system's packages (the
# browser downloads of Playwright itself cannot be fetched here). CI runs as root.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get install -y chromium || (apt-get update && apt-get install -y chromium)

chromium: $(CHROMIUM)

# The environments and Chromium side by side: each is mostly downloading and unpacking.
setup:
	$(MAKE) -j4 venv sam-venv openapi-client-venv $(CHECKOV_VENV)/.installed chromium

# The suite on one pytest-xdist worker per core (PYTEST_WORKERS=0: in this process alone). The tests
# that share the local stack, or `sam build`, run on one worker: tests/conftest.py groups them and
# hands the longest groups out first (hence --no-loadscope-reorder).
# PYTEST_ARGS adds options (e.g. PYTEST_ARGS=--durations=30).
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)
test: setup
	$(MAKE) lint checkov
	SAM_CLI=$(abspath $(SAM)) $(PY) -m pytest $(PYTEST_PARALLEL)

# Everything but the SAM build and packaging checks.
test-fast: venv
	$(PY) -m pytest $(PYTEST_PARALLEL) -m "not packaging"

openapi: venv
	$(PY) -m reviewpulse_tools.dev.openapi_export > openapi.json

clean:
	rm -rf .aws-sam $(VENV) $(SAM_VENV) $(CHECKOV_VENV) $(OPENAPI_VENV) .pytest_cache .import_linter_cache demo-results.csv demo-report.html .artifacts

# ruff, then the import contracts (.importlinter): the allowed imports between packages, no cycles.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
