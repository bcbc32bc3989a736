# snn-limits — the two entry points a new user needs are `make bench` and `make test`.
CARGO ?= cargo
BIN := target/release/snn-bench
# Model time of each workstation-suite run (seconds) and repetitions per configuration.
SIMTIME ?= 60
REPEATS ?= 3

.PHONY: bench build test lint fmt clean

## Release build, then the workstation suite: va on 1 and 2 threads x f32 and f64,
## each repeated (timers on and off, for the timer overhead); prints a table of medians
## and appends one record per run to results/<host>/runs.jsonl.
bench: build
	$(BIN) suite --simtime $(SIMTIME) --repeats $(REPEATS) --timer-overhead

build:
	$(CARGO) build --release --workspace

## Formatting, lints, a release build of the workspace, then every test.
test: lint build
	$(CARGO) test --workspace --all-targets

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
