# The README's two commands (make run, make test), the local paths docs/development.md
# describes, and the checks CI runs (bash .ci/run). `make` alone, or `make help`, lists them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.PHONY: help run test lint invoke admin load audit fuzz schemathesis sam-build sam-checks sam-base-image sam-invoke sam-start-api sam-test bench docs-check ci

# Settings the targets take: make invoke EVENT=events/rest-api-login.json, PORT=9001 make run,
# make admin ARGS='reactivate-client --client-id ...', make test ARGS='-- keys::'.
PORT ?= 9000
EVENT ?= events/http-api-login.json
ARGS ?=
export PORT

help: ## List the targets, one line each (this).
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Settings: PORT=$(PORT) (the function), MOTO_PORT=5005 (moto; 0: any free port), MOTO_HOST=127.0.0.1, EVENT=$(EVENT), ARGS"

run: ## Run the function locally against moto, seeded, and print a working curl; Ctrl-C stops it.
	@scripts/run.sh

# Dummy credentials and no IMDS: the SDK must never look for real AWS from a test.
test: export AWS_REGION := us-east-1
test: export AWS_ACCESS_KEY_ID := test
test: export AWS_SECRET_ACCESS_KEY := test
test: export AWS_EC2_METADATA_DISABLED := true
test: export MOTO_PYTHON := $(CURDIR)/.venv/bin/python
# The tests mostly wait (for re-read periods, for moto): 16 at a time, not one per core.
test: export RUST_TEST_THREADS ?= 16
test: ## Run every test: unit tests and tests/api against moto (installs what it needs into .venv first).
	@scripts/bootstrap.sh & venv=$$!; \
	built=0; cargo test --no-run $(ARGS) || built=$$?; \
	wait $$venv || exit 1; exit $$built
	cargo test $(ARGS)

lint: ## cargo fmt --check and clippy with warnings as errors, as CI runs them (the bench: make bench).
	cargo fmt --all --check
	cargo clippy --all-targets -- -D warnings

invoke: ## Send EVENT (an API Gateway event file) to the function that `make run` serves.
	@[ -f "$(EVENT)" ] || { echo "invoke: $(EVENT) not found; events/ holds: $$(ls events | paste -sd ' ' -)" >&2; exit 1; }
	@WITH_RUN_TOOLS=1 scripts/bootstrap.sh
	@. scripts/local_env.sh && running_stack invoke && \
	  echo "invoke: $(EVENT) -> biometric-validations on 127.0.0.1:$$PORT (cargo lambda invoke)" >&2 && \
	  .venv/bin/cargo-lambda lambda invoke biometric-validations --invoke-address 127.0.0.1 --invoke-port "$$PORT" --data-file "$(EVENT)"

admin: ## The admin CLI against `make run`'s moto and table: make admin ARGS='put-flow ...'.
	@. scripts/local_env.sh && running_stack admin && cargo run --quiet --bin admin -- $(or $(ARGS),--help)

load: ## The full load test: 1000 requests from 32 tasks (make test runs 200).
	LOAD_REQUESTS=1000 $(MAKE) test ARGS='--test api -- load:: --nocapture'

audit: ## cargo audit of both lock files, offline, against the RustSec snapshot in ../shared/advisory-db (ADVISORY_DB=...).
	@db="$${ADVISORY_DB:-../shared/advisory-db}"; \
	[ -d "$$db/crates" ] || { echo "audit: no RustSec advisory database at $$db: set ADVISORY_DB to a clone of rustsec/advisory-db, or run plain \`cargo audit\` online" >&2; exit 1; }; \
	WITH_CI_TOOLS=1 scripts/bootstrap.sh; \
	[ ! -f "$$db/SNAPSHOT.txt" ] || echo "audit: $$(head -n 1 "$$db/SNAPSHOT.txt")"; \
	status=0; for lock in Cargo.lock tests/fuzz/Cargo.lock; do \
	  echo "== cargo audit $$lock"; .venv/bin/cargo-audit audit --db "$$db" --no-fetch --stale --no-yanked --file "$$lock" || status=1; \
	done; exit $$status

fuzz: ## The cargo-fuzz target over raw bodies and headers: 10 minutes (FUZZ_SECONDS=60 FUZZ_DEV=1: CI's short run).
	@command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
	mkdir -p tests/fuzz/corpus/check_request
	RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir tests/fuzz $(if $(filter 1,$(FUZZ_DEV)),--dev) check_request \
	  tests/fuzz/corpus/check_request tests/fuzz/seeds/check_request -- \
	  -max_total_time=$(or $(FUZZ_SECONDS),600) -print_final_stats=1

schemathesis: ## schemathesis against the function served locally (cargo lambda watch + moto).
	@scripts/schemathesis.sh

sam-build: ## sam build, offline: cross-compiles the function for arm64 with progress (minutes the first time).
	@WITH_CI_TOOLS=1 scripts/bootstrap.sh
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	@echo "sam-build: cargo lambda build --release --arm64 (fat LTO: the first time 5 to 15 min on 2 cores, then seconds)"
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --arm64 --bin biometric-validations
	@echo "sam-build: sam build (finds the build up to date and copies it to .aws-sam/build)"
	PATH="$(CURDIR)/.venv/bin:$$PATH" SAM_CLI_TELEMETRY=0 sam build --no-cached

sam-checks: ## The deployment checks CI runs, no AWS account: cfn-lint, sam validate, sam build, arm64 artifact.
	@scripts/sam_checks.sh

sam-base-image: ## Offline only (root): build SAM's Lambda base image from Debian packages, and QEMU for arm64 containers.
	@scripts/sam_base_image.sh

sam-invoke: ## Docker: sam local invoke of the built artifact on EVENT, against `MOTO_HOST=0.0.0.0 make run`'s moto.
	@scripts/sam_local.sh invoke "$(EVENT)"

sam-start-api: ## Docker: sam local start-api of the built template on 127.0.0.1:3000, against `MOTO_HOST=0.0.0.0 make run`'s moto.
	@scripts/sam_local.sh start-api

sam-test: ## Docker (CI): every fixture through sam local invoke, the HTTP checks through sam local start-api (after make sam-build).
	@scripts/sam_local.sh test

bench: ## docs/performance.md: the function beside the SDK floor and hello worlds, over HTTP and HTTPS (~25 min).
	@scripts/bench.sh

docs-check: ## Every relative link and anchor in README.md and docs/ resolves, and every `make X` they name exists.
	@python3 scripts/check_docs.py

ci: ## Everything CI runs (bash .ci/run): lint, tests, schemathesis, SAM checks, bench and fuzz (~20 min); keeps target/.
	CI_KEEP_BUILDS=1 bash .ci/run
