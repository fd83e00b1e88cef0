#!/usr/bin/env bash
# Runs every test: unit tests, and integration tests through the real handler against a
# moto server that the tests start themselves (from .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

# Dummy credentials and no IMDS: the SDK must never look for real AWS from a test.
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
export MOTO_PYTHON="$PWD/.venv/bin/python"
# No arguments: everything. Arguments: passed to cargo test (e.g. --test load -- --nocapture).
[ $# -gt 0 ] || set -- --workspace --all-targets
cargo test "$@"
