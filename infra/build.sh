#!/usr/bin/env bash
# `make build`: every deployed function as a Lambda zip, target/lambda/<function>/bootstrap.zip,
# then a table of their sizes (`make bench` judges them against their budgets). The deployed
# functions are the crates in functions/ except the dev server. ARCH=x86_64 (default) or
# ARCH=arm64 (needs the aarch64-unknown-linux-gnu target).
# cargo-lambda comes from PyPI (it brings zig, the linker, along) when `cargo lambda` is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
ARCH=${ARCH:-x86_64}
VENV=.tools/cargo-lambda-venv

case "$ARCH" in
  x86_64) arch_flag=() target=x86_64-unknown-linux-gnu ;;
  arm64) arch_flag=(--arm64) target=aarch64-unknown-linux-gnu ;;
  *) echo "ARCH must be x86_64 or arm64, not \`$ARCH\`" >&2; exit 2 ;;
esac

if ! "$CARGO" lambda --version >/dev/null 2>&1; then
  if [ ! -x "$VENV/bin/cargo-lambda" ]; then
    echo "installing cargo-lambda from PyPI into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check cargo-lambda
  fi
  # cargo finds `cargo-lambda` on PATH; the venv also holds the zig it links with.
  export PATH="$PWD/$VENV/bin:$PATH"
fi

if [ "$ARCH" = arm64 ] && command -v rustup >/dev/null 2>&1 &&
  ! rustup target list --installed | grep -qx "$target"; then
  echo "ARCH=arm64 needs the Rust target $target: rustup target add $target" >&2
  exit 2
fi

functions=()
for manifest in functions/*/Cargo.toml; do
  name=$(basename "$(dirname "$manifest")")
  [ "$name" = dev-server ] || functions+=("$name")
done

# The cold-start baselines of `make bench` (tests/baselines/), built the same way; never deployed.
baselines=(hello hello-dynamodb)

packages=()
for name in "${functions[@]}" "${baselines[@]}"; do packages+=(-p "$name"); done
# The release profile aborts on panic, so nothing unwinds: the linker drops every unwind table
# (infra/no-unwind-tables.ld says what is lost).
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-T,$PWD/infra/no-unwind-tables.ld"
"$CARGO" lambda build --release --output-format zip "${arch_flag[@]}" "${packages[@]}"

printf '\n%-16s %10s %8s  (%s, release)\n' function "zip bytes" KiB "$ARCH"
total=0
for name in "${functions[@]}"; do
  zip=target/lambda/$name/bootstrap.zip
  if [ ! -f "$zip" ]; then
    echo "$name: $zip was not built" >&2
    exit 1
  fi
  bytes=$(wc -c <"$zip")
  total=$((total + bytes))
  printf '%-16s %10d %8d\n' "$name" "$bytes" $((bytes / 1024))
done
printf '%-16s %10d %8d\n' total "$total" $((total / 1024))
