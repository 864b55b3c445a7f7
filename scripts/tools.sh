#!/usr/bin/env bash
# Installs everything Folio's build and tests need, idempotently, from the package registries
# only (crates.io, npm, Debian). Safe to run on every `make dev` / `make test`: each step checks
# what is already there first. See README "How it is built".
#
# Cargo tools go into a per-user directory keyed by version, outside the clone, so every fresh
# clone (CI) reuses them while a fresh machine still installs them by itself (~13 min once).
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
# Must equal the wasm-bindgen version in Cargo.lock (Cargo.toml pins it with `=`).
WASM_BINDGEN_VERSION=0.2.130
CARGO_FUZZ_VERSION=0.13.2
TOOLS_ROOT="${FOLIO_TOOLS_DIR:-$HOME/.cache/folio-tools}"

log() { printf '[tools] %s\n' "$*" >&2; }

install_cargo_tool() { # crate version binary [--locked]
  local crate=$1 version=$2 bin=$3 locked=${4:-}
  local root="$TOOLS_ROOT/$crate-$version"
  if [ -x "$root/bin/$bin" ]; then return 0; fi
  log "installing $crate $version into $root (once per machine; takes minutes)"
  # Build in a temp root and move into place so an interrupted install never looks complete.
  rm -rf "$root.partial"
  cargo install --quiet --root "$root.partial" "$crate" --version "=$version" $locked
  rm -rf "$root" && mv "$root.partial" "$root"
}

# wasm32 target for the worker.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
# A 32-bit target for the tests and fuzzing of what ships: production is wasm32, where `usize`
# is 32 bits and declared lengths that cannot overflow on this 64-bit host can wrap. i686 runs
# natively with Debian's multilib C runtime (libFuzzer is C++, hence g++-multilib).
if ! rustup target list --installed | grep -qx i686-unknown-linux-gnu; then
  log "adding rust target i686-unknown-linux-gnu"
  rustup target add i686-unknown-linux-gnu
fi
if ! dpkg -s gcc-multilib g++-multilib >/dev/null 2>&1; then
  log "installing gcc-multilib and g++-multilib from Debian (once per machine)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq gcc-multilib g++-multilib >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt

install_cargo_tool worker-build "$WORKER_BUILD_VERSION" worker-build --locked
# No --locked: wasm-bindgen-cli's own lock pins a crate version the registry no longer serves.
install_cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
# The fuzzer driver for `make fuzz` and the short fuzz run in `make test` (~30 s to install).
install_cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz --locked

# Node 22 (wrangler 4 needs >= 22.12; the system Node is 20), wrangler, yjs clients: from npm,
# pinned by package-lock.json; installed only when the lock changed since the last install.
# `npm install`, not `npm ci`: the lock cannot list workerd's macOS/Windows builds (the registry
# these machines reach does not serve them), and `npm ci` refuses a lock without them.
stamp=node_modules/.folio-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  log "installing npm packages (package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'Unknown user config' >&2 || true
  [ -x node_modules/.bin/wrangler ] && [ -x node_modules/.bin/node ] || { log "npm install failed"; exit 1; }
  cp package-lock.json "$stamp"
fi
