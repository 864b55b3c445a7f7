#!/usr/bin/env bash
# The editor's API types, generated from the OpenAPI document the server answers at
# /api/openapi.json (a Folio with only the built-in posts collection: `examples/openapi.rs`
# prints exactly that document) by openapi-typescript, pinned in package.json.
#   scripts/api-types.sh          writes client/src/api-schema.ts
#   scripts/api-types.sh --check  fails if the committed file differs from what the document gives
set -euo pipefail
cd "$(dirname "$0")/.."
out=client/src/api-schema.ts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cargo run -q --example openapi >"$tmp/openapi.json"
openapi-typescript "$tmp/openapi.json" -o "$tmp/api-schema.ts" >/dev/null
if [ "${1:-}" = "--check" ]; then
  if ! diff -u "$out" "$tmp/api-schema.ts" >"$tmp/diff"; then
    head -40 "$tmp/diff" >&2
    echo "$out is stale: the OpenAPI document changed; run 'make api-types' and commit it" >&2
    exit 1
  fi
  echo "client API types match the OpenAPI document"
else
  cp "$tmp/api-schema.ts" "$out"
  echo "wrote $out"
fi
