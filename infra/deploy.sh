#!/usr/bin/env bash
# `make deploy`: puts the zips of `make build` into the AWS account the AWS CLI's usual
# configuration points at, with SAM. The first run is guided (it asks for the stack name, the
# region and the template's parameters, and saves the answers in infra/samconfig.toml); later
# runs reuse those answers. SAM_ARGS passes more options to `sam deploy`. The SAM CLI comes from
# PyPI into .tools/sam-venv when `sam` is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.tools/sam-venv
if command -v sam >/dev/null 2>&1; then
  sam=sam
else
  if [ ! -x "$VENV/bin/sam" ]; then
    echo "installing the SAM CLI from PyPI into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check aws-sam-cli
  fi
  sam=$PWD/$VENV/bin/sam
fi

# Every function the template deploys must have been built; say which architecture it was.
machines=()
for manifest in functions/*/Cargo.toml; do
  name=$(basename "$(dirname "$manifest")")
  [ "$name" = dev-server ] && continue
  zip=target/lambda/$name/bootstrap.zip
  if [ ! -f "$zip" ]; then
    echo "$zip is missing: run \`make build\` (ARCH=arm64 make build for arm64) first" >&2
    exit 1
  fi
  machines+=("$(python3 - "$zip" <<'PY'
import sys, zipfile
elf = zipfile.ZipFile(sys.argv[1]).open("bootstrap").read(20)
print({0x3E: "x86_64", 0xB7: "arm64"}.get(int.from_bytes(elf[18:20], "little"), "unknown"))
PY
)")
done
built=$(printf '%s\n' "${machines[@]}" | sort -u | paste -sd, -)
case "$built" in
  x86_64 | arm64) echo "the zips are built for $built: deploying with Architecture=$built" ;;
  *) echo "the zips are built for $built: build them all for one architecture (make build)" >&2; exit 1 ;;
esac

cd infra
if [ -f samconfig.toml ]; then
  # shellcheck disable=SC2086
  "$sam" deploy --parameter-overrides "Architecture=$built" ${SAM_ARGS:-}
else
  # shellcheck disable=SC2086
  "$sam" deploy --guided --template-file template.yaml --capabilities CAPABILITY_IAM \
    --parameter-overrides "Architecture=$built" ${SAM_ARGS:-}
fi
