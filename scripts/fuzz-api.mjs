// The OpenAPI document held to what the server does: schemathesis (PyPI, pinned in
// scripts/fuzz-api.sh) fuzzes every operation of /api/openapi.json against a fresh Folio on
// wrangler dev, as the operator (admin key), with every check. Bounded: FUZZ_API_EXAMPLES
// examples per operation (default 15) and 300 s at most. Exits with schemathesis' status.
import { startFolio } from '../tests/e2e/folio.mjs';
import { spawnSync } from 'node:child_process';

const [bin] = process.argv.slice(2);
const folio = await startFolio('fuzz-api');
let status = 1;
try {
  const run = spawnSync('timeout', ['300', bin, 'run', `${folio.url}/api/openapi.json`, '--checks', 'all',
    '--url', folio.url, '-H', `Authorization: Bearer ${folio.adminKey}`,
    '--max-examples', process.env.FUZZ_API_EXAMPLES ?? '15', '--no-color'], { stdio: 'inherit' });
  status = run.status ?? 1;
} finally {
  await folio.stop();
}
process.exit(status);
