# One command each: `make demo` sets up and runs the laptop demo, `make test` sets up and runs the tests.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CORES ?= 2

.PHONY: setup cp2k slurm demo demo-intervals demo-naoh test lint format clean-demo

setup: $(VENV)/.installed cp2k

# torch first, pinned: pip takes the CPU wheel where one is configured, and no later resolver step
# may swap it for a newer CUDA build. On a GPU cluster, name a CUDA wheel index:
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cu128
TORCH_INDEX ?=
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# CP2K 2023.1 from Debian/Ubuntu; elsewhere install CP2K yourself and put cp2k.psmp on PATH.
cp2k:
	@command -v cp2k.psmp >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cp2k; }

# SLURM, munge and PMIx (for MPI programs started by srun) for the test suite's one-node cluster on
# localhost (tests/local_slurm.py).
slurm:
	@dpkg -s slurm-wlm munge libpmix-dev >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge libpmix-dev; }

# --prioritize: the pretraining AIMD and foundation model gate every fine-tune, so they go first.
# Each ends with the answer on screen (the recommendation, printed when the run succeeds) and in the report.
demo: setup
	$(BIN)/snakemake --cores $(CORES) --configfile config/demo.yaml --prioritize results/demo/models/foundation.model
	$(BIN)/snakemake --configfile config/demo.yaml --report results/demo/report.html

# the demo with 800 fs test AIMDs: an interval on every test set (config/demo_intervals.yaml)
demo-intervals: setup
	$(BIN)/snakemake --cores $(CORES) --configfile config/demo.yaml config/demo_intervals.yaml --prioritize results/demo/models/foundation.model
	$(BIN)/snakemake --configfile config/demo.yaml config/demo_intervals.yaml --report results/demo/report.html

# the same question for aqueous NaOH, by config alone
demo-naoh: setup
	$(BIN)/snakemake --cores $(CORES) --configfile config/demo_naoh.yaml --prioritize results/demo_naoh/models/foundation.model
	$(BIN)/snakemake --configfile config/demo_naoh.yaml --report results/demo_naoh/report.html

test: setup slurm
	$(BIN)/pytest -v -rs --durations=25 tests

lint: setup
	$(BIN)/ruff check src tests workflow/scripts benchmarks
	$(BIN)/ruff format --check src tests workflow/scripts benchmarks
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint --configfile config/demo.yaml

format: setup
	$(BIN)/ruff check --fix src tests workflow/scripts benchmarks
	$(BIN)/ruff format src tests workflow/scripts benchmarks
	$(BIN)/snakefmt Snakefile workflow/rules

clean-demo:
	rm -rf results/demo results/demo_naoh
