# snn-limits — the two entry points a new user needs are `make bench` and `make test`.
CARGO ?= cargo
BIN := target/release/snn-bench
# Model time of each workstation-suite run (seconds) and repetitions per configuration.
SIMTIME ?= 60
REPEATS ?= 3

# The MPI build (cargo feature `mpi`) is used when an MPI compiler wrapper is present.
MPI_FEATURE = $$(command -v mpicc >/dev/null 2>&1 && echo --features bench-suite/mpi)

.PHONY: bench bench-kernels bench-novec bench-compare compare build build-mpi deps test lint fmt clean sweep-mpi report figures peers peers-env profile

# `make bench` runs the peers (scripts/jobs/peers.toml) when their environments exist;
# PEERS=0 switches that off.
PEERS ?= 1
# The peers whose environments are missing (scripts/peers/setup.sh makes both; the
# peers' spec needs both: zenke25k is Brian2's alone).
PEERS_MISSING = $$(for p in nest brian2; do [ -x .venv-peers/$$p/bin/python ] || printf '%s ' $$p; done)

## Release build, then the workstation suite: va on 1 and 2 threads x f32 and f64,
## each repeated (timers on and off, for the timer overhead); prints a table of medians
## and appends one record per run to results/<host>/runs.jsonl (configurations already
## recorded there are skipped). Then the runs behind the figures (scripts/jobs/figures.toml;
## a run is skipped only if its record and its spike file or trace are there), this
## machine's limits, and the report:
## results/<host>/report/index.html. About 12 minutes on 2 cores.
bench: build
	$(BIN) suite --spec scripts/jobs/workstation.toml --simtime $(SIMTIME) --repeats $(REPEATS) --timer-overhead
	$(BIN) figures --spec scripts/jobs/figures.toml
	@missing="$(PEERS_MISSING)"; if [ "$(PEERS)" != 0 ] && [ -z "$$missing" ]; then \
		echo "peers: NEST and Brian2 (PEERS=0 skips them)"; \
		$(BIN) figures --spec scripts/jobs/peers.toml; \
	else echo "peers: skipped (PEERS=0, or no environment for: $$missing; make peers sets them up and runs them)"; fi
	$(BIN) machine
	$(BIN) report

## The runs behind the report's figures (scripts/jobs/figures.toml; about 7 minutes on 2 cores).
figures: build
	$(BIN) figures --spec scripts/jobs/figures.toml

## The peers (NEST 3.10, Brian2 2.11) beside snn-limits on the same networks: makes their
## Python environments (scripts/peers/setup.sh, from PyPI), runs scripts/jobs/peers.toml
## (runs already recorded are skipped), then the report.
peers: build peers-env
	$(BIN) figures --spec scripts/jobs/peers.toml
	$(BIN) report

peers-env:
	bash scripts/peers/setup.sh

## The report of results/<host> from the records already there.
report: build
	$(BIN) report

build:
	$(CARGO) build --release --workspace

## Results directories side by side (snn-bench compare): make compare A=DIR B=DIR [C=DIR]
## [OUT=results/compare]; each machine in each directory is a side.
compare: build
	@if [ -z "$(A)" ] || [ -z "$(B)" ]; then echo "usage: make compare A=DIR B=DIR [C=DIR] [OUT=DIR]" >&2; exit 2; fi
	$(BIN) compare $(A) $(B) $(C) --out $(or $(OUT),results/compare)

## A regression check of this tree against BASE (a commit): scripts/bench-compare.sh
## builds BASE in a worktree, runs va interleaved, exits non-zero on a slowdown beyond
## THRESHOLD % (default 5) whose interval excludes no change.
bench-compare: build
	bash scripts/bench-compare.sh $(BASE)

## Flamegraphs (pprof, `snn-bench run --profile`) of the workstation suite's runs, va 10 s
## on 1 and 2 threads in f32 and f64, of va f32 40 s on 1 thread restricted to evolve
## and to propagate (long enough for a phase's samples), and of plastic brunel's plasticity: SVG files in $(PROFILE_DIR) (open them
## in a browser), replacing the previous ones. About a minute on 2 cores.
PROFILE_DIR ?= results/profile
profile: build
	mkdir -p $(PROFILE_DIR)
	for p in f32 f64; do for t in 1 2; do \
		$(BIN) run va --simtime 10 --precision $$p --threads $$t --quiet --force \
			--profile $(PROFILE_DIR)/va-$$p-t$$t.svg || exit 1; done; done
	for ph in evolve propagate; do \
		$(BIN) run va --simtime 40 --threads 1 --quiet --force \
			--profile $(PROFILE_DIR)/va-f32-t1-$$ph.svg --profile-phase $$ph || exit 1; done
	$(BIN) run brunel --plastic --simtime 1 --threads 1 --quiet --force \
		--profile $(PROFILE_DIR)/brunel-plastic-t1-plasticity.svg --profile-phase plasticity

## Fig. 10's unvectorised half: a build with LLVM's loop and SLP vectorisers off (its own
## target directory, target/novec; the flags reach every record's build.rustflags) runs
## scripts/jobs/fig10-novec.toml beside the vectorised runs of `make bench`, then the
## report. About 3 minutes to build and 3 to run on 2 cores.
NOVEC_FLAGS = -C target-cpu=native -C llvm-args=-vectorize-loops=false -C llvm-args=-vectorize-slp=false
bench-novec: build
	RUSTFLAGS="$(NOVEC_FLAGS)" $(CARGO) build --release -p bench-suite --target-dir target/novec
	target/novec/release/snn-bench figures --spec scripts/jobs/fig10-novec.toml
	$(BIN) report

## Criterion micro-benchmarks of the kernels (evolve per model, propagate, Poisson), f32/f64.
bench-kernels:
	$(CARGO) bench -p sim-core --bench kernels

## snn-bench with MPI support, for mpirun (needs scripts/install-deps.sh).
build-mpi:
	$(CARGO) build --release --workspace --features bench-suite/mpi

## System packages (as root), formatting, lints, a release build of the workspace, then
## every test; the MPI tests (2 ranks) run when MPI is installed.
test: deps lint build
	@if [ -z "$(MPI_FEATURE)" ]; then echo "note: MPI not found, MPI tests skipped (scripts/install-deps.sh installs it)"; fi
	$(CARGO) test --workspace --all-targets $(MPI_FEATURE)

deps:
	bash scripts/install-deps.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets $(MPI_FEATURE) -- -D warnings

## A scaling sweep over ranks, threads, delays… under mpirun:
##   make sweep-mpi [SPEC=scripts/sweeps/va-cluster.toml] [HOSTFILE=hosts]
SPEC ?= scripts/sweeps/va-workstation.toml
sweep-mpi: build-mpi
	bash scripts/sweep-mpi.sh $(SPEC) $(HOSTFILE)

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
