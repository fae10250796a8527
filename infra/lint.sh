#!/usr/bin/env bash
# `make lint-infra`: cfn-lint on the SAM template, on the example stack of a marketplace API
# protected by the authorizer (infra/examples/seller-api.yaml) and on the example webhook
# (infra/examples/webhook.yaml). cfn-lint comes from PyPI into
# .tools/cfn-lint-venv the first time, pinned: 1.51 still runs the real SAM transform
# (aws-sam-translator) and lints the CloudFormation it yields, where later versions only check
# the SAM resources against a schema and miss, for instance, an unknown Lambda runtime.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.51.0
VENV=.tools/cfn-lint-venv
if [ "$("$VENV/bin/cfn-lint" --version 2>/dev/null)" != "cfn-lint $VERSION" ]; then
  echo "installing cfn-lint $VERSION from PyPI into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$VERSION"
fi
TEMPLATES=(infra/template.yaml infra/examples/seller-api.yaml infra/examples/webhook.yaml)
"$VENV/bin/cfn-lint" "${TEMPLATES[@]}"
echo "cfn-lint: ${TEMPLATES[*]} pass"
