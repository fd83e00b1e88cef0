#!/usr/bin/env bash
# cargo audit of the lock files against the RustSec advisory database snapshot in
# ../shared/advisory-db (beside the clone, as CI lays it out), offline: no fetch of the
# database, no crates.io look-ups for yanked crates. Fails on any vulnerability.
#
#   scripts/audit.sh                          # Cargo.lock and fuzz/Cargo.lock
#   scripts/audit.sh path/to/Cargo.lock ...   # other lock files
#   ADVISORY_DB=/path/to/advisory-db scripts/audit.sh
#
# Online, with the current database and the yanked check: `cargo audit` (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

db=${ADVISORY_DB:-../shared/advisory-db}
if [ ! -d "$db/crates" ]; then
  where=$db
  parent=$(cd "$(dirname "$db")" 2>/dev/null && pwd) && where="$parent/$(basename "$db")"
  echo "audit: no RustSec advisory database at $where." >&2
  echo "audit: CI has it in ../shared/advisory-db beside the clone; elsewhere set ADVISORY_DB to a copy of" >&2
  echo "audit: the database (a clone of rustsec/advisory-db), or run plain \`cargo audit\` online." >&2
  exit 1
fi

# cargo-audit as a prebuilt binary from PyPI (scripts/requirements-ci.txt): seconds to
# install, where `cargo install --locked cargo-audit` compiles for minutes.
WITH_CI_TOOLS=1 scripts/bootstrap.sh
audit=.venv/bin/cargo-audit

[ $# -gt 0 ] || set -- Cargo.lock fuzz/Cargo.lock
[ -f "$db/SNAPSHOT.txt" ] && echo "audit: $(head -n 1 "$db/SNAPSHOT.txt")"
status=0
for lock in "$@"; do
  echo "== cargo audit $lock"
  "$audit" audit --db "$db" --no-fetch --stale --no-yanked --file "$lock" || status=1
done
exit $status
