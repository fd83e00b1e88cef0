#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md: release builds of the function and of the two hello-world
# lambda_http functions (for this machine, to run them; for arm64 with cargo lambda, to size
# them), then the harness (bench/). Arguments go to the harness (see `--help`).
# BENCH_SHORT=1: a short run that only shows the harness still works (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# cargo-lambda and its zig come from .venv.
export PATH="$PWD/.venv/bin:$PATH"
rustup target add aarch64-unknown-linux-gnu >/dev/null

echo "== release builds (this machine)"
cargo build --release -p biometric-validations --bin biometric-validations
cargo build --release -p bench --bins
echo "== arm64 artifacts (cargo lambda build --arm64 --output-format zip)"
cargo lambda build --release --arm64 --output-format zip -p biometric-validations --bin biometric-validations
cargo lambda build --release --arm64 --output-format zip -p bench --bin hello-ct
cargo lambda build --release --arm64 --output-format zip -p bench --bin hello-mt

# The harness seeds moto with the admin client (dummy credentials, never IMDS).
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
args=()
[ "${BENCH_SHORT:-0}" = 1 ] && args=(--rounds 2 --warm 40)
echo "== harness"
MOTO_PYTHON="$PWD/.venv/bin/python" target/release/bench "${args[@]}" --out target/bench/report.md "$@"
echo "bench: report written to target/bench/report.md"
