#!/usr/bin/env bash
# `make sam-build`: `sam build` for template.yaml, offline (no AWS account needed), with
# SAM from .venv. SAM's rust-cargolambda builder runs `cargo lambda build --release
# --arm64` and shows nothing until it ends; this runs that same build first, with cargo's
# progress, so SAM only finds it up to date and copies the artifact to .aws-sam/build.
# --no-cached: SAM's own build cache hashes its CodeUri, the whole repository with
# target/ (gigabytes: a minute each time), where cargo already knows what is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_CI_TOOLS=1 scripts/bootstrap.sh
# cargo-lambda (and its zig) must come first on PATH for SAM's builder.
export PATH="$PWD/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  echo "sam-build: adding the Rust target aarch64-unknown-linux-gnu (rustup, once)"
  rustup target add aarch64-unknown-linux-gnu
fi

echo "sam-build: cross-compiling the function for arm64 (cargo lambda build --release --arm64;"
echo "sam-build: fat LTO, one codegen unit: the first time 5 to 15 min on 2 cores, then seconds)"
start=$SECONDS
cargo lambda build --release --arm64 --bin biometric-validations
echo "sam-build: sam build (finds the build up to date and copies it to .aws-sam/build)"
sam build --no-cached
echo "sam-build: done in $((SECONDS - start)) s: .aws-sam/build/CreateBiometricValidationFunction/bootstrap"
