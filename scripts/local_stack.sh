# shellcheck shell=bash
# Sourced by scripts/run.sh and scripts/schemathesis.sh: checks the ports, starts moto,
# seeds it (admin seed-demo: the keys' secrets, the table, the demo client's project and two
# flows), mints a demo token into $TOKEN; `start_watch` then serves the function with
# `cargo lambda watch` and `wait_ready` waits until it answers. Everything started is
# stopped on exit, and says so.
#
# Settings: PORT (the function, default 9000), MOTO_PORT (default 5005; 0 picks a free
# one), MOTO_HOST (default 127.0.0.1; 0.0.0.0 makes moto reachable from containers).
# The function's environment is scripts/local.env; only AWS_ENDPOINT_URL is set here.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
NAME=${NAME:-run}
say() { echo "$NAME: $*"; }

PORT=${PORT:-9000}
MOTO_PORT=${MOTO_PORT:-5005}
MOTO_HOST=${MOTO_HOST:-127.0.0.1}

# Before anything starts: with a port already held, the curl printed below would talk
# to whatever holds it (an older `make run`, say).
ports=("PORT=$PORT")
[ "$MOTO_PORT" = 0 ] || ports+=("MOTO_PORT=$MOTO_PORT")
scripts/check_ports.sh --as "$NAME" "${ports[@]}" || exit 1
command -v curl >/dev/null || { say "curl not found: install it first" >&2; exit 1; }

WITH_RUN_TOOLS=1 scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

# The function's environment, which the admin CLI below reads too.
# shellcheck source=local_env.sh
. scripts/local_env.sh

# The demo ids (src/demo.rs), for the curl below.
CLIENT=613375a1eab2fe08527f81e2
PROJECT=66df5bf5c4d855fb0bdf5da2
LOGIN_FLOW=66df5c22c4d855fb0bdf5da9
URL="http://127.0.0.1:$PORT/lambda-url/biometric-validations/v2/biometric-validations"

pids=()
started=()
interrupted=
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -f "${moto_log:-}"
    [ -z "${wrote_run_file:-}" ] || rm -f "$RUN_FILE"
    local list
    list=$(printf '%s, ' "${started[@]}")
    say "${interrupted:+$interrupted: }stopped ${list%, }"
  elif [ -n "$interrupted" ]; then
    say "$interrupted: stopped before anything was started"
  fi
  # Ctrl-C is how one stops `make run`: a clean stop, not a failure.
  [ "$interrupted" = "Ctrl-C" ] && status=0
  exit "$status"
}
trap cleanup EXIT
trap 'interrupted=Ctrl-C; exit 130' INT
trap 'interrupted=SIGTERM; exit 143' TERM

# The first time this compiles the dependencies (shared with the tests through sccache,
# if set up, but built with other features); afterwards it takes seconds. The function
# is built here, not by `cargo lambda watch`, so that it is ready when the curl is shown.
say "building the function and the admin CLI (cargo build: the first time 3 to 10 min on 2 cores, then seconds)"
cargo build --bin biometric-validations --bin admin

moto_log=$(mktemp)
.venv/bin/python scripts/moto_server.py --host "$MOTO_HOST" --port "$MOTO_PORT" >"$moto_log" 2>&1 &
pids+=($!)
started+=("moto (pid $!)")
for _ in $(seq 100); do grep -q '^PORT ' "$moto_log" && break; sleep 0.1; done
grep -q '^PORT ' "$moto_log" || { cat "$moto_log" >&2; say "moto did not start" >&2; exit 1; }
moto_port=$(awk '/^PORT /{print $2}' "$moto_log")
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
say "moto (DynamoDB, Secrets Manager) on $AWS_ENDPOINT_URL (its request log: $moto_log)"

admin=target/debug/admin
# The keys in moto's Secrets Manager, holding the documented local keys (the function reads
# them by ARN as on AWS, and the events/ fixtures' tokens verify), and the demo data.
$admin seed-demo | while IFS= read -r line; do say "$line"; done
TOKEN=$($admin mint-token --client-id $CLIENT --ttl-seconds 86400)

# Serves the function with `cargo lambda watch` in the background, with the environment
# of scripts/local.env (and this moto). Extra arguments go to `cargo lambda watch`.
#  --disable-cors: API Gateway adds no CORS here, and the function answers OPTIONS with
#    its 405; without it the watch server answers OPTIONS itself and adds CORS headers.
#  the runner: `cargo lambda watch` sets AWS_LAMBDA_MAX_CONCURRENCY=1 for every function
#    it runs (as Lambda Managed Instances would), and lambda_runtime then warns that its
#    concurrency feature is off. Lambda proper never sets it for this function, so the
#    runner takes it out again.
start_watch() {
  cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$PORT" --disable-cors \
    --env-file scripts/local.env --env-var "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL" \
    --config 'target."cfg(all())".runner=["env","-u","AWS_LAMBDA_MAX_CONCURRENCY"]' \
    "$@" &
  watch_pid=$!
  pids+=("$watch_pid")
  started+=("cargo lambda watch (pid $watch_pid)")
}

# Waits until the function answers: first the watch server's port, then one POST
# without a token, which the function answers 401 (and writes nothing).
wait_ready() {
  until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
    kill -0 "$watch_pid" 2>/dev/null || { say "cargo lambda watch exited before serving; see above" >&2; exit 1; }
    sleep 0.2
  done
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 600 -X POST "$URL" || true)
  if [ "$code" = 401 ]; then
    say "the function answers on 127.0.0.1:$PORT (a POST without a token got its 401)"
    # For `make admin` and `make invoke` in another terminal, whatever ports were picked.
    if [ "$NAME" = run ]; then
      printf 'RUN_PID=%s\nPORT=%s\nAWS_ENDPOINT_URL=%s\n' "$$" "$PORT" "$AWS_ENDPOINT_URL" >"$RUN_FILE"
      wrote_run_file=1
    fi
  else
    say "the function answered a POST without a token with ${code:-nothing}, not 401; see its log above" >&2
    exit 1
  fi
}
