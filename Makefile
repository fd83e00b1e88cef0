# The two commands of the README (make run, make test), the local paths it documents,
# and the checks CI runs. `make` alone, or `make help`, lists them.
.PHONY: help run test invoke admin sam-build sam-checks sam-invoke lint ci load bench
.DEFAULT_GOAL := help

# Settings the targets take: make invoke EVENT=events/rest-api-login.json, PORT=9001 make run.
PORT ?= 9000
EVENT ?= events/http-api-login.json
export PORT

help:  ## List the targets, one line each (this).
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Settings: PORT=$(PORT) (the function), MOTO_PORT=5005 (moto; 0: any free port), EVENT=$(EVENT)"

run:   ## Run the function locally against moto, seeded, and print a working curl; Ctrl-C stops it.
	@scripts/run.sh

test:  ## Run every test (installs what it needs into .venv first).
	@scripts/test.sh

invoke: ## Send EVENT (an API Gateway event file) to the function that `make run` serves.
	@scripts/invoke.sh "$(EVENT)"

admin: ## The admin CLI against `make run`'s moto and table: make admin ARGS='put-flow ...'.
	@scripts/admin_local.sh $(ARGS)

sam-build: ## sam build, offline: cross-compiles the function for arm64 with progress (minutes the first time).
	@scripts/sam_build.sh

sam-checks: ## The deployment checks CI runs, no AWS account: cfn-lint, sam validate, sam build, arm64 artifact.
	@scripts/sam_checks.sh

sam-invoke: ## With Docker: sam local invoke on EVENT, against `MOTO_HOST=0.0.0.0 make run`'s moto (env.json).
	@scripts/sam_invoke.sh "$(EVENT)"

lint:  ## cargo fmt --check and clippy with warnings as errors, as CI runs them.
	cargo fmt --check
	cargo clippy --workspace --all-targets -- -D warnings

ci:    ## Everything CI runs (bash .ci/run): lint, tests, schemathesis, SAM checks, bench and fuzz (~30 min).
	bash .ci/run

load:  ## The full load test: 1000 requests from 32 tasks (make test runs 200).
	LOAD_REQUESTS=1000 scripts/test.sh --test load -- --nocapture

bench: ## BENCHMARKS.md: the function beside the SDK floor and hello worlds, over HTTP and HTTPS (~25 min).
	scripts/bench.sh
