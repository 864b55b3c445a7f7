// Bisects how deep yrs may nest values and shared types before it overflows the stack of
// the wasm that ships (`make stack`; see examples/stack_depth.rs). Runs the wasm32-wasip1
// build under Node's WASI (V8, as workerd) and prints the deepest N that survived.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const wasmPath = process.argv[2];
if (process.argv[3]) {
  // Child: run one case.
  const { WASI } = await import('node:wasi');
  const wasi = new WASI({ version: 'preview1', args: ['stack_depth', process.argv[3], process.argv[4]], returnOnExit: true });
  const module = await WebAssembly.compile(readFileSync(wasmPath));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  process.exit(wasi.start(instance));
}

const survives = (kind, n) => spawnSync(process.execPath, ['--no-warnings', import.meta.filename, wasmPath, kind, String(n)], { stdio: 'ignore' }).status === 0;

for (const kind of ['value', 'types']) {
  let lo = 1;
  let hi = 2;
  while (survives(kind, hi) && hi < 1 << 22) { lo = hi; hi *= 2; }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (survives(kind, mid)) lo = mid; else hi = mid;
  }
  console.log(`${kind}: survives ${lo} levels, fails at ${hi} (about ${Math.round((1 << 20) / lo)} bytes of stack a level against a 1 MiB stack)`);
}
