# Sourced by scripts/run.sh and scripts/schemathesis.sh: moto on loopback, the table,
# the demo client with one project and two flows, and a demo token in $TOKEN.
# Everything started is stopped on exit.

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_EC2_METADATA_DISABLED=true
export TABLE_NAME=biometric-validations-local
# The documented local test secrets: never use them on AWS.
export CLIENT_TOKEN_SECRET=local-client-token-secret-0123456789abcdef
export SESSION_TOKEN_SECRET=local-session-token-secret-0123456789abcdef
export APP_BASE_URL=https://app.verifik.co
PORT=${PORT:-9000}
CLIENT=613375a1eab2fe08527f81e2
PROJECT=66df5bf5c4d855fb0bdf5da2
LOGIN_FLOW=66df5c22c4d855fb0bdf5da9
ONBOARDING_FLOW=66df5c22c4d855fb0bdf5daa

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

moto_log=$(mktemp)
.venv/bin/python scripts/moto_server.py --port "${MOTO_PORT:-0}" >"$moto_log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '^PORT ' "$moto_log" && break; sleep 0.1; done
grep -q '^PORT ' "$moto_log" || { cat "$moto_log" >&2; echo "moto did not start" >&2; exit 1; }
export DYNAMODB_ENDPOINT="http://127.0.0.1:$(awk '/^PORT /{print $2}' "$moto_log")"
echo "moto (DynamoDB) on $DYNAMODB_ENDPOINT"

cargo build --quiet --bin admin
admin=target/debug/admin
$admin create-table
$admin put-project --client-id $CLIENT --id $PROJECT --name "Demo project" \
  --assigned-collection 66df5bf5c4d855fb0bdf5da4 --collection-code d29fe454-3ecc-4f58-8666-4021ac575d9c >/dev/null
$admin put-flow --project-id $PROJECT --id $LOGIN_FLOW --type login >/dev/null
$admin put-flow --project-id $PROJECT --id $ONBOARDING_FLOW --type onboarding >/dev/null
TOKEN=$($admin mint-token --client-id $CLIENT --ttl-seconds 86400)
URL="http://127.0.0.1:$PORT/lambda-url/biometric-validations/v2/biometric-validations"

# Serves the function with `cargo lambda watch` in the background.
start_watch() {
  cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$PORT" "$@" \
    --env-var "TABLE_NAME=$TABLE_NAME,DYNAMODB_ENDPOINT=$DYNAMODB_ENDPOINT,CLIENT_TOKEN_SECRET=$CLIENT_TOKEN_SECRET" \
    --env-var "SESSION_TOKEN_SECRET=$SESSION_TOKEN_SECRET,APP_BASE_URL=$APP_BASE_URL,AWS_REGION=$AWS_REGION" \
    --env-var "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY,AWS_EC2_METADATA_DISABLED=true" &
  pids+=($!)
}
