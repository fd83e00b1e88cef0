#!/usr/bin/env bash
# schemathesis against the function served locally (cargo lambda watch + moto), with
# every check on and a bounded number of examples (SCHEMATHESIS_MAX_EXAMPLES, default 100).
# PORT as for `make run` (9000); moto on any free port unless MOTO_PORT is given.
NAME=schemathesis
MOTO_PORT=${MOTO_PORT:-0}
# local_stack.sh's bootstrap then installs schemathesis too (one pip run).
export WITH_CI_TOOLS=1
source "$(dirname "$0")/local_stack.sh"

start_watch --quiet --ignore-changes
wait_ready

# Hooks leave out bodies the local emulator itself cannot carry (see the file).
export SCHEMATHESIS_HOOKS=scripts.schemathesis_hooks
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
st --config-file scripts/schemathesis.toml run docs/openapi.yaml --url "http://127.0.0.1:$PORT/lambda-url/biometric-validations" \
  --header "Authorization: Bearer $TOKEN" \
  --checks all --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-100}" --workers 1 \
  --phases examples,coverage,fuzzing --request-timeout 30 --warnings off --generation-database none
