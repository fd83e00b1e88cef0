#!/usr/bin/env bash
# `make invoke EVENT=events/http-api-login.json`: sends an API Gateway event file to the
# function that `make run` serves (cargo lambda invoke) and prints the function's answer,
# the API Gateway response object. The events' tokens are for local.env's secret and the
# projects and flows are the ones `make run` seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
event=${1:-events/http-api-login.json}
PORT=${PORT:-9000}
[ -f "$event" ] || { echo "invoke: $event not found; events/ holds: $(ls events | paste -sd ' ' -)" >&2; exit 1; }
scripts/bootstrap.sh
if ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "invoke: nothing serves 127.0.0.1:$PORT: start \`make run\` in another terminal first" >&2
  exit 1
fi
echo "invoke: $event -> biometric-validations on 127.0.0.1:$PORT (cargo lambda invoke)" >&2
exec .venv/bin/cargo-lambda lambda invoke biometric-validations \
  --invoke-address 127.0.0.1 --invoke-port "$PORT" --data-file "$event"
