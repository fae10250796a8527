#!/usr/bin/env bash
# Installs what the browser tests drive, once: Debian's Chromium (apt) and the pinned npm packages
# of tests/browser/package-lock.json (playwright-core, axe-core) into tests/browser/node_modules.
# Idempotent, so `make test` can call it every time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v chromium >/dev/null; then
    echo "installing Debian's chromium (apt)"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
command -v chromium >/dev/null || { echo "chromium did not install" >&2; exit 1; }

if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
    echo "installing playwright-core and axe-core (npm ci) into $here/node_modules"
    (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
