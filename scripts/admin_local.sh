#!/usr/bin/env bash
# `make admin ARGS='...'`: the admin CLI (cargo run --bin admin) against the moto and
# table of `make run`, with local.env's settings (table, endpoint, the keys' secrets):
#
#     make admin ARGS='put-flow --project-id 66df5bf5c4d855fb0bdf5da2 --type login --status paused'
#     make admin ARGS='mint-token --client-id 613375a1eab2fe08527f81e2'
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- --help
# Only local.env's settings: none of the caller's AWS ones reach moto (a session token)
# or redirect the admin CLI.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB \
  AWS_ENDPOINT_URL_SECRETS_MANAGER DYNAMODB_ENDPOINT CLIENT_TOKEN_SECRET SESSION_TOKEN_SECRET
set -a
# shellcheck source=../local.env
. ./local.env
set +a
# MOTO_PORT as `make run` was given it.
[ -z "${MOTO_PORT:-}" ] || [ "$MOTO_PORT" = 0 ] || AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
exec cargo run --quiet --bin admin -- "$@"
