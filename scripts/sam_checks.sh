#!/usr/bin/env bash
# `make sam-checks`: the deployment checks that need no AWS account: cfn-lint, sam
# validate --lint, an offline `sam build` (scripts/sam_build.sh), and that the artifact
# is an aarch64 `bootstrap` ELF. CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_CI_TOOLS=1 scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_REGION=${AWS_REGION:-us-east-1}

echo "== cfn-lint template.yaml"
cfn-lint template.yaml
echo "== sam validate --lint"
sam validate --lint --region "$AWS_REGION"
echo "== sam build"
scripts/sam_build.sh
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
