#!/usr/bin/env bash
# `make admin ARGS='...'`: the admin CLI (cargo run --bin admin) against the moto and
# table of `make run`, with local.env's settings (table, endpoint, the keys' secrets):
#
#     make admin ARGS='put-flow --project-id 66df5bf5c4d855fb0bdf5da2 --type login --status paused'
#     make admin ARGS='mint-token --client-id 613375a1eab2fe08527f81e2'
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- --help
# shellcheck source=local_env.sh
. scripts/local_env.sh
# MOTO_PORT as `make run` was given it.
[ -z "${MOTO_PORT:-}" ] || [ "$MOTO_PORT" = 0 ] || AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
exec cargo run --quiet --bin admin -- "$@"
