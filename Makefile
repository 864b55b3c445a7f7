# Folio: the two commands a newcomer needs are `make dev` and `make test` (see README).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ENV := source scripts/env.sh &&
PORT ?= 8787

.PHONY: help dev test tools build check api-types fuzz-api unit fuzz fuzz-smoke e2e chaos chaos-smoke browser bench bench-content bench-readers profile stack deploy clean
FUZZ_SECONDS ?= 60

## List the targets, one line each.
help:
	@awk '/^## /{d = d ? d : substr($$0, 4); next} /^[a-z0-9-]+:/{if (d) printf "  %-12s %s\n", substr($$1, 1, length($$1) - 1), d; d = ""} /^$$/{d = ""}' $(MAKEFILE_LIST)

## Start Folio on http://127.0.0.1:$(PORT) with state under .wrangler/ (installs what it needs).
dev: tools build
	@$(ENV) wrangler d1 migrations apply DB --local >/dev/null
	@key=$$(scripts/dev-vars.sh --print); \
	echo; \
	echo "Folio is starting: open http://127.0.0.1:$(PORT) and sign in with the admin key"; \
	echo "  admin key:    $$key   (ADMIN_KEY in .dev.vars, git-ignored)"; \
	echo "  a token:      curl -X POST -H 'Authorization: Bearer $$key' http://127.0.0.1:$(PORT)/api/tokens"; \
	echo "  y-websocket:  new WebsocketProvider('ws://127.0.0.1:$(PORT)/sync', '<doc-id>', ydoc, { params: { token } })"; \
	echo "  state:        curl -H 'Authorization: Bearer $$key' http://127.0.0.1:$(PORT)/api/docs/<doc-id>/state"; \
	echo "  health:       curl http://127.0.0.1:$(PORT)/health"; \
	echo
	@$(ENV) CI=true wrangler dev --ip 127.0.0.1 --port $(PORT) --show-interactive-dev-session=false

## Run every check and test: format, lint, unit tests, then end-to-end tests on wrangler dev.
test: tools check unit fuzz-smoke build e2e chaos-smoke browser

## Install the toolchain and packages, once per machine (idempotent).
tools:
	@scripts/tools.sh

## Build the worker (release, without wasm-opt: see README "How it is built") and the editor.
build: tools
	@$(ENV) worker-build --release --no-opt >build.log 2>&1 || { cat build.log; exit 1; }
	@ls -l build/index_bg.wasm | awk '{printf "built build/index_bg.wasm: %d bytes\n", $$5}'
	@$(ENV) npm run --silent build:client 2>&1 | grep -v 'Unknown user config' || true
	@test -f client/dist/index.html && echo "built client/dist (the editor)"

## Format, lint (native and wasm32, warnings are errors), type-check the editor (strict TypeScript)
## against API types that must match the OpenAPI document.
check: tools
	@$(ENV) scripts/api-types.sh --check
	@$(ENV) tsc --noEmit -p client
	@$(ENV) cargo fmt --check
	@$(ENV) cargo clippy --all-targets -q -- -D warnings
	@$(ENV) cargo clippy --target wasm32-unknown-unknown -q -- -D warnings

## Regenerate the editor's API types (client/src/api-schema.ts) from the OpenAPI document.
api-types: tools
	@$(ENV) scripts/api-types.sh

## Unit, integration and corpus tests, natively and on 32-bit i686 (`usize` as in wasm32); the
## editor's pure modules in Node.
unit: tools
	@$(ENV) node --test --test-reporter=dot tests/client/*.test.mjs
	@$(ENV) cargo test -q
	@echo "the same tests on i686 (32-bit usize, as in the wasm32 that ships):"
	@$(ENV) cargo test -q --target i686-unknown-linux-gnu

## Fuzz every target for FUZZ_SECONDS each (default 60; prints executions and exec/s).
fuzz: tools
	@$(ENV) scripts/fuzz.sh $(FUZZ_SECONDS)

## The OpenAPI document against the server: schemathesis (PyPI, pinned) over every operation of a
## fresh Folio, every check (not yet in `make test`: it still finds contract failures, README).
fuzz-api: build
	@scripts/dev-vars.sh
	@$(ENV) scripts/fuzz-api.sh

## The short fuzz run of `make test`: 5 s per target on i686, after the corpus replay in `unit`.
fuzz-smoke: tools
	@$(ENV) scripts/fuzz.sh 5

## End-to-end tests against the real worker on wrangler dev, with stock Yjs clients.
e2e: build
	@scripts/dev-vars.sh
	@$(ENV) node --test --test-concurrency=1 --test-timeout=600000 tests/e2e/*.test.mjs

## The whole server killed (-9) at random moments while authors type, publish, unpublish and
## schedule, CHAOS_CYCLES times (default 50); checks no seen edit is lost and that the object,
## D1, KV and readers agree after every restart. CHAOS_SEED replays a run.
CHAOS_CYCLES ?= 50
chaos: build
	@scripts/dev-vars.sh
	@$(ENV) node tests/chaos/chaos.mjs $(CHAOS_CYCLES) $(CHAOS_SEED)

## The short chaos run of `make test` (5 cycles).
chaos-smoke: build
	@scripts/dev-vars.sh
	@$(ENV) node tests/chaos/chaos.mjs 5 | tail -n 2

## The editor in Debian's Chromium (installed on first use), against wrangler dev.
browser: build
	@scripts/browser-tools.sh
	@scripts/dev-vars.sh
	@$(ENV) node --test --test-concurrency=1 --test-timeout=600000 tests/browser/*.test.mjs

## Folio against the reference y-websocket server and a no-op relay in the same workerd, with
## the same stock-client load: 2/10/50 writers, a rate sweep, 200 viewers (README "Performance").
## BENCH_ARGS passes options, e.g. BENCH_ARGS="--servers folio --only sweep".
bench: tools build
	@scripts/dev-vars.sh
	@$(ENV) node bench/fanout.mjs $(BENCH_ARGS)

## The reader API on a collection of 10,000 published entries: list and filter latency against
## /health and /api/posts in the same run, and the D1 query plans (README "Content types").
bench-content: tools build
	@scripts/dev-vars.sh
	@$(ENV) node bench/content.mjs $(BENCH_ARGS)

## Reader throughput with wrk: /health, a cached post, an uncached post (KV), a D1 list and a
## 1 MB image, in one run (README "Performance").
bench-readers: tools build
	@scripts/dev-vars.sh
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@$(ENV) node bench/readers.mjs

## A CPU profile of Folio's isolate under load (10 writers x 50 edits/s), as self time by function.
profile: tools build
	@scripts/dev-vars.sh
	@$(ENV) node bench/profile.mjs $(PROFILE_ARGS)

## How deep yrs can nest values and types on the wasm stack that ships (wasm32-wasip1 under
## Node's WASI, release profile): the measurement behind MAX_VALUE_NESTING / MAX_TYPE_NESTING.
stack: tools
	@rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
	@$(ENV) cargo build -q --release --example stack_depth --target wasm32-wasip1
	@$(ENV) node bench/stack.mjs target/wasm32-wasip1/release/examples/stack_depth.wasm

## Deploy to the Cloudflare account wrangler is logged in to (README "Deploying").
deploy: tools build
	@$(ENV) wrangler deploy

## Remove build outputs and local state.
clean:
	rm -rf build target .wrangler tests/e2e/.state fuzz/target fuzz/artifacts
