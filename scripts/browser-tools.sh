#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests, once per machine (playwright-core drives
# it; `npx playwright install` cannot download a browser here). Needs root, as on these
# machines; set CHROMIUM to use another binary.
set -euo pipefail
if [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi
echo "[tools] installing chromium from Debian (once per machine)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
