# shellcheck shell=bash
# Sourced (from the repository's root) by local_stack.sh and the Makefile's `admin` and
# `invoke`: the environment of a local run is scripts/local.env's settings (table, endpoint,
# the keys' secrets, dummy AWS credentials and region) alone. None of the caller's AWS
# settings reach moto (a session token) or redirect the admin CLI.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB \
  AWS_ENDPOINT_URL_SECRETS_MANAGER
set -a
# shellcheck source=local.env
. scripts/local.env
set +a

# Where a running `make run` serves: it writes this file when ready and removes it when it stops.
RUN_FILE=target/run.env

# Loads the ports of the running `make run` (PORT, AWS_ENDPOINT_URL), or says how to start one.
# $1: the command that needs it, for the message.
running_stack() {
  if [ -f "$RUN_FILE" ]; then
    # shellcheck source=/dev/null
    . "$RUN_FILE"
    if [ -n "${RUN_PID:-}" ] && kill -0 "$RUN_PID" 2>/dev/null; then
      return 0
    fi
  fi
  echo "$1: no \`make run\` is running here (no live $RUN_FILE): start \`make run\` in another terminal first" >&2
  return 1
}
