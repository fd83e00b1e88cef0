#!/usr/bin/env bash
# `make run`: the function locally against moto, seeded, with a demo token and a
# ready-to-paste curl, served by `cargo lambda watch` (which rebuilds on every change).
# Refuses to start when PORT or MOTO_PORT is taken; Ctrl-C stops everything it started.
source "$(dirname "$0")/local_stack.sh"

say "starting the function with cargo lambda watch on 127.0.0.1:$PORT"
start_watch
wait_ready

cat <<MSG

$NAME: ready. Demo bearer token (24 h): $TOKEN
$NAME: paste this (or \`make invoke EVENT=events/http-api-login.json\` in another terminal):

curl -sS -X POST '$URL' \\
  --header 'Content-Type: application/json' \\
  --header 'Authorization: Bearer $TOKEN' \\
  --data-raw '{"project":"$PROJECT","projectFlow":"$LOGIN_FLOW","identifier":"03da12fba","type":"login"}'

$NAME: Ctrl-C stops moto and the function.

MSG
status=0
wait "$watch_pid" || status=$?
say "cargo lambda watch exited on its own (status $status); see its output above" >&2
exit 1
