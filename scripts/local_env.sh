# shellcheck shell=bash
# Sourced (from the repository's root) by local_stack.sh and admin_local.sh: the
# environment of a local run is local.env's settings (table, endpoint, the keys' secrets,
# dummy AWS credentials and region) alone. None of the caller's AWS settings reach moto
# (a session token) or redirect the admin CLI.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB \
  AWS_ENDPOINT_URL_SECRETS_MANAGER DYNAMODB_ENDPOINT CLIENT_TOKEN_SECRET SESSION_TOKEN_SECRET
set -a
# shellcheck source=../local.env
. ./local.env
set +a
