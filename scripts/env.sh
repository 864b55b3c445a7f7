# Sourced by the Makefile's recipes: the environment every build and run needs.
# Node 22 from npm (node_modules/.bin/node) must come before the system's Node 20.
TOOLS_ROOT="${FOLIO_TOOLS_DIR:-$HOME/.cache/folio-tools}"
export PATH="$PWD/node_modules/.bin:$TOOLS_ROOT/worker-build-0.8.7/bin:$TOOLS_ROOT/wasm-bindgen-cli-0.2.130/bin:$TOOLS_ROOT/cargo-fuzz-0.13.2/bin:$HOME/.cargo/bin:$PATH"
# worker-build downloads wasm-bindgen/esbuild from the internet unless pointed at local ones.
export WASM_BINDGEN_BIN="$TOOLS_ROOT/wasm-bindgen-cli-0.2.130/bin/wasm-bindgen"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export XDG_CONFIG_HOME="$PWD/.cache/config"
