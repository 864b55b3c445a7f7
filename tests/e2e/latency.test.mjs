// A short run of bench/latency.mjs, so that every test run prints the propagation latency
// (the figures are printed, not asserted: timing depends on the machine). It asserts only
// that every edit reached every other client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio } from './folio.mjs';
import { measureLatency, report } from '../../bench/latency.mjs';

let folio;
before(async () => { folio = await startFolio('latency'); });
after(async () => { await folio?.stop(); });

test('10 stock y-websocket clients at 5 edits/s each: every edit reaches every peer', async () => {
  const r = await measureLatency(folio, { clients: 10, rate: 5, seconds: 10 });
  console.log(`# ${report(r)}`);
  assert.equal(r.samples, r.expected, 'every edit was delivered to every other client');
  assert.ok(r.edits >= 10 * 5 * 10 * 0.8, `made ${r.edits} edits`);
});
