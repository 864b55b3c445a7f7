#!/usr/bin/env bash
# Makes sure .dev.vars (git-ignored; wrangler dev reads it as the worker's secrets) has an
# ADMIN_KEY: 256 random bits, created once and kept. Prints nothing unless asked (--print).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! grep -qs '^ADMIN_KEY=' .dev.vars; then
  key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf 'ADMIN_KEY=%s\n' "$key" >>.dev.vars
  chmod 600 .dev.vars
  echo "created .dev.vars with a new random ADMIN_KEY" >&2
fi
if [[ "${1:-}" == "--print" ]]; then
  sed -n 's/^ADMIN_KEY=//p' .dev.vars | head -n1
fi
