#!/usr/bin/env bash
# `make sam-invoke EVENT=events/http-api-login.json`: with Docker, `sam local invoke` runs
# the built function (make sam-build) in a Lambda container on one event. Its settings are
# env.json's: moto at host.docker.internal:5005, which `MOTO_HOST=0.0.0.0 make run` serves,
# seeded (0.0.0.0: a container reaches the host through the Docker bridge, not loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
event=${1:-events/http-api-login.json}
[ -f "$event" ] || { echo "sam-invoke: $event not found" >&2; exit 1; }
if ! docker info >/dev/null 2>&1; then
  echo "sam-invoke: Docker is not available (\`docker info\` failed): sam local invoke runs the function in a container; without Docker: make run, then make invoke EVENT=$event" >&2
  exit 1
fi
[ -f .aws-sam/build/CreateBiometricValidationFunction/bootstrap ] || { echo "sam-invoke: no build in .aws-sam/build: run \`make sam-build\` first" >&2; exit 1; }
if ! (exec 3<>/dev/tcp/127.0.0.1/5005) 2>/dev/null; then
  echo "sam-invoke: nothing serves port 5005: start \`MOTO_HOST=0.0.0.0 make run\` in another terminal first" >&2
  exit 1
fi
WITH_CI_TOOLS=1 scripts/bootstrap.sh
export SAM_CLI_TELEMETRY=0
# --add-host: Linux's Docker does not define host.docker.internal (Docker Desktop does).
exec .venv/bin/sam local invoke CreateBiometricValidationFunction --env-vars env.json \
  --add-host host.docker.internal:host-gateway -e "$event"
