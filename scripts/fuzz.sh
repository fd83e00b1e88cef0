#!/usr/bin/env bash
# The cargo-fuzz target over raw body bytes and header values (fuzz/fuzz_targets/).
#   scripts/fuzz.sh            # 10 minutes, optimised
#   FUZZ_SECONDS=60 FUZZ_DEV=1 scripts/fuzz.sh   # CI's short run
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP lets the stable toolchain use them.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
mkdir -p fuzz/corpus/check_request
dev=()
[ "${FUZZ_DEV:-0}" = 1 ] && dev=(--dev)
cd fuzz
cargo fuzz run "${dev[@]}" check_request corpus/check_request seeds/check_request -- \
  -max_total_time="${FUZZ_SECONDS:-600}" -print_final_stats=1
