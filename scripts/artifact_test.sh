#!/usr/bin/env bash
# Tests the artifact that ships: `sam build`'s arm64 `bootstrap` (scripts/sam_checks.sh
# builds it) runs as Lambda runs it — a process polling a Runtime API emulator, on moto —
# under user-mode emulation (qemu-aarch64 with Debian's arm64 C library), and must pass the
# fixture and contract tests with the same expectations as the handler in process
# (tests/common/subject.rs). A cross-compilation or linking fault fails here, not in a deploy.
#   scripts/artifact_test.sh
#   ARTIFACT=target/debug/biometric-validations ARTIFACT_RUNNER= scripts/artifact_test.sh   # a native build
# In CI (CI=true) it installs qemu-user and libc6-arm64-cross with apt when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

artifact=${ARTIFACT:-.aws-sam/build/CreateBiometricValidationFunction/bootstrap}
sysroot=/usr/aarch64-linux-gnu
runner=${ARTIFACT_RUNNER-qemu-aarch64 -L $sysroot}

[ -f "$artifact" ] || { echo "artifact_test: $artifact is missing: build it first (scripts/sam_checks.sh runs sam build)" >&2; exit 1; }
# Lambda executes the file itself: without the executable bit it cannot start.
[ -x "$artifact" ] || { echo "artifact_test: $artifact is not executable" >&2; exit 1; }

if [ -z "${ARTIFACT_RUNNER+set}" ] && { ! command -v qemu-aarch64 >/dev/null || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; }; then
  if [ "${CI:-}" = true ]; then
    echo "== installing qemu-user and libc6-arm64-cross"
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends qemu-user libc6-arm64-cross
  else
    echo "artifact_test: needs qemu-aarch64 and $sysroot: apt-get install qemu-user libc6-arm64-cross" >&2
    exit 1
  fi
fi

echo "== fixture and contract tests against: ${runner:+$runner }$artifact"
ARTIFACT="$artifact" ARTIFACT_RUNNER="$runner" make test ARGS="--test api -- fixtures:: openapi::"
