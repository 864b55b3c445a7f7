#!/usr/bin/env bash
# Makes sure .dev.vars (git-ignored; wrangler dev reads it as the worker's secrets) has an
# ADMIN_KEY: 256 random bits, created once and kept, and ALLOW_PRIVATE_WEBHOOKS=on (webhooks to
# receivers on this machine). Prints nothing unless asked (--print).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! grep -qs '^ADMIN_KEY=' .dev.vars; then
  key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf 'ADMIN_KEY=%s\n' "$key" >>.dev.vars
  chmod 600 .dev.vars
  echo "created .dev.vars with a new random ADMIN_KEY" >&2
fi
# Local receivers (tests, a server on this machine) may get webhooks; off when deployed.
if ! grep -qs '^ALLOW_PRIVATE_WEBHOOKS=' .dev.vars; then
  printf 'ALLOW_PRIVATE_WEBHOOKS=on\n' >>.dev.vars
fi
if [[ "${1:-}" == "--print" ]]; then
  sed -n 's/^ADMIN_KEY=//p' .dev.vars | head -n1
fi
