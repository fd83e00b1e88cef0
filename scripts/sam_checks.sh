#!/usr/bin/env bash
# `make sam-checks`: the deployment checks that need no AWS account: cfn-lint (the stack's
# template and the pipeline's), sam validate --lint, the transformed template
# (scripts/check_template.py), actionlint on the GitHub workflows, an offline `sam build`
# (make sam-build), that the built template passes no key to the function, and that
# the artifact is an aarch64 `bootstrap` ELF (make sam-test then runs it). CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_CI_TOOLS=1 scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_REGION=${AWS_REGION:-us-east-1}

echo "== cfn-lint template.yaml .github/github-oidc.yaml"
cfn-lint template.yaml .github/github-oidc.yaml
echo "== sam validate --lint"
sam validate --lint --region "$AWS_REGION"
echo "== the transformed template (routes on the alias, WAF, keys and their protection, rollback alarms, metrics, samconfig.toml, role boundaries, the execution role)"
python scripts/check_template.py template.yaml
echo "== actionlint .github/workflows"
actionlint
echo "== sam build"
make sam-build
echo "== the built template holds no key: only the secrets' ARNs reach the function"
built=.aws-sam/build/template.yaml
if grep -nE 'resolve:secretsmanager|^[[:space:]]+(CLIENT|SESSION)_TOKEN_SECRET:|local-(client|session)-token-secret' "$built"; then
  echo "sam_checks: $built passes a key (or a dynamic reference to one) to the function" >&2
  exit 1
fi
grep -qE '^[[:space:]]+CLIENT_TOKEN_SECRET_ARN:' "$built" && grep -qE '^[[:space:]]+SESSION_TOKEN_SECRET_ARN:' "$built" \
  || { echo "sam_checks: $built lacks CLIENT_TOKEN_SECRET_ARN / SESSION_TOKEN_SECRET_ARN" >&2; exit 1; }
echo "$built: keys by ARN only"
artifact=.aws-sam/build/CreateBiometricValidationFunction/bootstrap
python3 - "$artifact" <<'PY'
import struct, sys
path = sys.argv[1]
with open(path, "rb") as f:
    head = f.read(20)
assert head[:4] == b"\x7fELF", f"{path} is not an ELF file"
assert head[4] == 2, f"{path} is not 64-bit"
(machine,) = struct.unpack("<H", head[18:20])
assert machine == 183, f"{path} is not aarch64 (e_machine={machine})"
print(f"{path}: ELF 64-bit aarch64 OK")
PY
