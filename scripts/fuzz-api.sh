#!/usr/bin/env bash
# Installs schemathesis (pinned, from PyPI) into a per-user venv keyed by version, once per
# machine, then runs scripts/fuzz-api.mjs with it. See `make fuzz-api`.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.32.5
VENV="${FOLIO_TOOLS_DIR:-$HOME/.cache/folio-tools}/schemathesis-$VERSION"
# A venv cannot be moved (its scripts name their own path): built in place, and marked done
# last, so an interrupted install is started again.
if [ ! -f "$VENV/.installed" ]; then
  echo "[tools] installing schemathesis $VERSION into $VENV (once per machine)" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$VERSION"
  touch "$VENV/.installed"
fi
exec node scripts/fuzz-api.mjs "$VENV/bin/schemathesis"
