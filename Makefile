# The two commands of the README, and the checks CI runs.
.PHONY: run test lint ci load bench

run:   ## Run the function locally against moto, seeded, and print a working curl.
	scripts/run.sh

test:  ## Run every test (installs what it needs into .venv first).
	scripts/test.sh

lint:
	cargo fmt --check
	cargo clippy --workspace --all-targets -- -D warnings

ci:
	bash .ci/run

load:  ## The full load test: 1000 requests from 32 tasks (make test runs 200).
	LOAD_REQUESTS=1000 scripts/test.sh --test load -- --nocapture

bench: ## BENCHMARKS.md: the function beside the SDK floor and hello worlds, over HTTP and HTTPS (~25 min).
	scripts/bench.sh
