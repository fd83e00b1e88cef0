#!/usr/bin/env bash
# The built function (make sam-build: the arm64 artifact that ships) under SAM's local
# runtime in Docker: AWS's Runtime Interface Emulator in a Lambda container.
#
#   scripts/sam_local.sh invoke EVENT   make sam-invoke: one API Gateway event through
#                                       `sam local invoke`, against `make run`'s moto
#   scripts/sam_local.sh start-api      make sam-start-api: `sam local start-api` on
#                                       http://127.0.0.1:3000, against `make run`'s moto
#   scripts/sam_local.sh test           make sam-test (CI): every events/ fixture through
#                                       `sam local invoke`, and the contract's HTTP checks and
#                                       docs/openapi.yaml through `sam local start-api`, as
#                                       tests/api asserts them in process (SUBJECT)
#
# For invoke and start-api, `MOTO_HOST=0.0.0.0 make run` must serve in another terminal (a
# container reaches moto through the Docker bridge, not loopback): scripts/env.json gives
# the function its settings, with moto at host.docker.internal. Nothing is pulled but the
# base image, once, when it is missing (offline: make sam-base-image builds a stand-in).
# Docker: a running daemon is used and left alone, else dockerd is started without
# iptables rules or forwarding and stopped on exit (scripts/docker.sh); everything this
# script starts is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=sam-${1:-}
# shellcheck source=docker.sh
source scripts/docker.sh

mode=${1:-}
case $mode in invoke | start-api | test) ;; *) die "usage: $0 invoke EVENT | start-api | test" ;; esac
shift

BUILT=.aws-sam/build/template.yaml
IMAGE=public.ecr.aws/lambda/provided:al2023-arm64
[ -f "$BUILT" ] || die "no $BUILT: run \`make sam-build\` first"

# SAM_STAND_IN=1 (.ci/run sets it): a machine that reaches only package registries. The
# Debian packages missing are installed, and the base image is the stand-in built here.
stand_in=$([ "${SAM_STAND_IN:-0}" = 1 ] && echo 1 || true)
if [ "$mode" = test ] && [ -n "$stand_in" ]; then
  missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
  command -v update-binfmts >/dev/null || missing+=(binfmt-support)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (apt-get)"
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

WITH_CI_TOOLS=1 scripts/bootstrap.sh >&2
docker_up
if [ "$mode" = test ] && [ -n "$stand_in" ]; then
  # Nothing can be pulled: the stand-in (and QEMU for arm64), built once and kept with
  # Docker's images.
  scripts/sam_base_image.sh
elif ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "no $IMAGE yet: SAM pulls it now (once); offline, \`make sam-base-image\` builds a stand-in"
fi
about=$(docker image inspect --format '{{index .Config.Labels "org.opencontainers.image.description"}}' "$IMAGE" 2>/dev/null || true)
case $about in "offline stand-in"*)
  say "NOTE: $IMAGE here is the $about (make sam-base-image), not AWS's image: the function, SAM and the emulator are real; the OS under them is Debian's" ;;
esac
bridge=$(bridge_ip)
[ -n "$bridge" ] || die "Docker's default bridge has no address"
# SAM's version check (a weekly request to PyPI) and its telemetry, kept here.
export __SAM_CLI_APP_DIR=$PWD/target/sam-app SAM_CLI_TELEMETRY=0
mkdir -p "$__SAM_CLI_APP_DIR"
[ -f "$__SAM_CLI_APP_DIR/metadata.json" ] ||
  echo '{"telemetryEnabled": false, "lastVersionCheck": 4102444800.0}' >"$__SAM_CLI_APP_DIR/metadata.json"

if [ "$mode" = test ]; then
  # The tests start their own moto on the bridge's address (helpers/moto.rs), build each
  # subject's --env-vars file and call SAM themselves (helpers/subject.rs).
  # One container per test thread, each under QEMU: two at a time.
  export MOTO_HOST=$bridge SAM_TEMPLATE=$PWD/$BUILT RUST_TEST_THREADS=2
  say "every fixture through sam local invoke"
  SUBJECT=sam-invoke make test ARGS='--test api -- fixtures::'
  say "the contract's HTTP answers and docs/openapi.yaml through sam local start-api"
  SUBJECT=sam-api make test ARGS='--test api -- http:: openapi::real_answers'
  exit 0
fi

# invoke, start-api: against `make run`'s moto (target/run.env), which must listen on the bridge.
# shellcheck source=local_env.sh
. scripts/local_env.sh
running_stack "sam-$mode"
moto_port=${AWS_ENDPOINT_URL##*:}
(exec 3<>"/dev/tcp/$bridge/$moto_port") 2>/dev/null ||
  die "make run's moto (port $moto_port) is not reachable from containers: start it with \`MOTO_HOST=0.0.0.0 make run\`"
# scripts/env.json names moto's default port; another one gets a copy saying so.
env_json=target/sam-env.json
sed "s#host.docker.internal:5005#host.docker.internal:$moto_port#" scripts/env.json >"$env_json"
# SAM hands the function its own credentials and region (Lambda reserves those names, so
# env.json cannot): dummy ones, as local.env's. SAM asks STS for the account: moto answers.
sam=(env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  AWS_ENDPOINT_URL_STS="$AWS_ENDPOINT_URL" .venv/bin/sam local)
common=(--template "$BUILT" --env-vars "$env_json" --skip-pull-image --add-host host.docker.internal:host-gateway)
case $mode in
  invoke)
    event=${1:?an event file}
    [ -f "$event" ] || die "$event not found; events/ holds: $(ls events | paste -sd ' ' -)"
    "${sam[@]}" invoke CreateBiometricValidationFunction "${common[@]}" --event "$event"
    ;;
  start-api)
    trap 'exit 0' INT # Ctrl-C is how one stops it: a clean stop, not a failure.
    say "serving http://127.0.0.1:3000 (the REST API's routes; HTTP, no WAF, throttling or gateway responses); Ctrl-C stops it"
    "${sam[@]}" start-api "${common[@]}" --host 127.0.0.1 --port 3000 --warm-containers EAGER &
    sam_pid=$!
    on_exit "$sam_pid" "sam local start-api"
    # sam's own end, not every child's: a dockerd started here runs until the cleanup.
    wait "$sam_pid"
    ;;
esac
