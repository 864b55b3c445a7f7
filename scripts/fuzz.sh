#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 60): `make fuzz` (FUZZ_SECONDS=N), and a
# short run inside `make test`. libFuzzer through cargo-fuzz, on the machine's stable Rust:
# RUSTC_BOOTSTRAP=1 lets it accept the -Z flags cargo-fuzz passes. `-O` builds like what
# ships (no debug assertions), `-s none` skips ASan (the targets are safe Rust; invariants
# are asserted as panics). New inputs go to fuzz/corpus/ (not checked in); a failing input
# is saved under fuzz/artifacts/ — add it to fuzz/regressions/<target>/ with the fix.
#
# The fuzzers run on a 32-bit target (i686, FUZZ_TRIPLE to change): `usize` is 32 bits there
# as in the wasm32 that ships, so a declared length that wraps is found here, not in
# production (on x86_64 yrs's own decoder returns an error where the worker panics).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-60}
triple=${FUZZ_TRIPLE:-i686-unknown-linux-gnu}
export RUSTC_BOOTSTRAP=1
status=0
for target in frames update token render schema media write; do
  mkdir -p "corpus/$target" "regressions/$target"
  log=$(mktemp)
  if cargo fuzz run --target "$triple" -O -s none "$target" "corpus/$target" "seeds/$target" "regressions/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
      -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/.*DONE .*exec\/s: \([0-9]*\).*/\1/p' "$log")
    echo "fuzz $target ($triple): ${runs:-?} executions in ${seconds} s (${rate:-?} exec/s), no failure"
  else
    echo "fuzz $target: FAILED" >&2
    grep -E "panicked|ERROR|SUMMARY|artifact|Test unit" "$log" | head -20 >&2
    status=1
  fi
  rm -f "$log"
done
exit $status
