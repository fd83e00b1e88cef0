#!/usr/bin/env bash
# Runs the function locally: moto on loopback, the table with a demo client, project and
# two flows, a demo token and a ready-to-paste curl, then `cargo lambda watch`.
# Ctrl-C stops everything it started.
source "$(dirname "$0")/local_stack.sh"

cat <<MSG

run: seeded client $CLIENT, project $PROJECT,
     login flow $LOGIN_FLOW and onboarding flow $ONBOARDING_FLOW.
run: demo bearer token (24 h): $TOKEN

run: once "cargo lambda watch" says it is serving, paste (the first call compiles, ~1 min):

curl -sS -X POST '$URL' \\
  --header 'Content-Type: application/json' \\
  --header 'Authorization: Bearer $TOKEN' \\
  --data-raw '{"project":"$PROJECT","projectFlow":"$LOGIN_FLOW","identifier":"03da12fba","type":"login"}'

MSG
start_watch
wait "${pids[-1]}"
