# Tidepool — the commands users and CI run. `make help` lists them.
SHELL := /bin/bash
CARGO ?= cargo
VENV := .venv
API := $(CARGO) run -q -p tidepool-crds --bin tidepool-api --

.PHONY: help demo describe test deps check lint fmt crds catalogue bench bench-agent bench-sim-year

help:
	@echo "make demo       simulate the built-in group cloud under each policy and compare (no cluster needed)"
	@echo "make describe   show the catalogue and the example group cloud's manifests as tables"
	@echo "make test       install test dependencies, then run every check and test"
	@echo "make crds       regenerate crds/manifests/*.yaml from the Rust types"
	@echo "make catalogue  print the built-in accelerator catalogue as JSON"
	@echo "make bench      time one engine cycle: 5,000 nodes x 8 devices, 50,000 pending pods (JSON)"
	@echo "make bench-agent  run tidepool-agent for 60 s (16 fake devices, 1 s sampling): RSS and CPU (JSON)"
	@echo "make bench-sim-year  time the simulator on a generated year of ~1,000,800 jobs (JSON; DAYS=n for fewer, YEAR=FILE for another scenario)"
	@echo "make fmt        format the code"

demo:
	@$(CARGO) run -q -p tidepool-sim -- run --scenario builtin:group-cloud

describe:
	@$(API) describe examples/group-cloud/*.yaml

test: deps check

deps:
	@scripts/install-test-deps.sh

check: lint
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc
	$(VENV)/bin/python -m pytest -q tests/python

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

fmt:
	$(CARGO) fmt --all

crds:
	@$(API) crds --out crds/manifests

catalogue:
	@$(API) catalogue --json

bench:
	@$(CARGO) run -q --release -p tidepool-sim -- bench engine --nodes 5000 --devices-per-node 8 --pending 50000 --seed 1 --json

bench-agent:
	@$(CARGO) run -q --release -p tidepool-agent --example agent-footprint -- --seconds 60 --json

YEAR ?= simulations/scenarios/group-cloud-year-2x.yaml
bench-sim-year:
	@$(CARGO) build -q --release -p tidepool-sim
	@scripts/bench-sim.sh $(YEAR) $(DAYS)
