#!/usr/bin/env bash
# The benchmark of docs/performance.md: release builds of the function, the SDK floor and the two
# hello-world lambda_http functions (for this machine, to run them; for arm64 with cargo
# lambda, to size them), then the harness (bench/), over plain HTTP and HTTPS. Arguments go
# to the harness (see `--help`).
# BENCH_SHORT=1: a short run, both modes, that only shows the harness still works (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_RUN_TOOLS=1 scripts/bootstrap.sh
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

# .cargo/config.toml builds AWS-LC without CPU-jitter entropy (docs/performance.md): show that the
# builds above got it — aws-lc-sys's build script saw the variable, and its static library
# has no jitter code (with it, the library defines `tree_jitter_*` and calls `jent_*`).
jitter_check() {
  local dir=$1 out lib syms
  out=$(ls -t "$dir"/build/aws-lc-sys-*/output 2>/dev/null | head -1)
  [ -n "$out" ] || { echo "aws-lc-sys build output not found under $dir" >&2; return 1; }
  lib=$(ls "$(dirname "$out")"/out/libaws_lc_*_crypto.a)
  grep -q "Environment Variable found 'AWS_LC_SYS_NO_JITTER_ENTROPY': '1'" "$out" ||
    { echo "$dir: aws-lc-sys was built WITH jitter entropy ($out)" >&2; return 1; }
  syms=$(nm "$lib" 2>/dev/null) || { echo "nm cannot read $lib" >&2; return 1; }
  grep -q "FIPS_is_entropy_cpu_jitter" <<<"$syms" || { echo "$lib: unexpected symbols" >&2; return 1; }
  if grep -qE "jent_|tree_jitter_" <<<"$syms"; then
    echo "$dir: $lib has the jitter entropy source (jent_*, tree_jitter_*)" >&2; return 1
  fi
  echo "AWS-LC without jitter entropy: $dir ($(basename "$lib"): no jent_*/tree_jitter_* symbols)"
}
echo "== AWS-LC build settings"
jitter_check target/release
jitter_check target/aarch64-unknown-linux-gnu/release

args=()
[ "${BENCH_SHORT:-0}" = 1 ] && args=(--rounds 2 --warm 40 --keyed 10 --freezes 2)
echo "== harness"
cargo clippy -p bench --all-targets -- -D warnings
MOTO_PYTHON="$PWD/.venv/bin/python" target/release/bench "${args[@]}" --out target/bench/report.md "$@"
echo "bench: report written to target/bench/report.md"
