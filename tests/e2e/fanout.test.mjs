// Fan-out with coalescing, end to end on wrangler dev with stock y-websocket clients: many
// writers at a high rate converge with the server and a late joiner, and a kill -9 of the whole
// server in the middle of a burst loses no update that any client had received (every relayed
// update was stored first). Latency figures are printed, not asserted; `make bench` compares.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFolio, connect, disconnect, synced, serverDoc } from './folio.mjs';
import { measure, hashText } from '../../bench/load.mjs';

let folio;
before(async () => { folio = await startFolio('fanout'); });
after(async () => { await folio?.stop(); });

test('10 stock clients at 50 edits/s each converge with the server and a late joiner, in merged frames', async () => {
  const doc = `fanout-${Date.now()}`;
  const server = { wsUrl: folio.wsUrl, params: { token: folio.socketToken }, viewerParams: { token: folio.socketToken } };
  const r = await measure(server, { writers: 10, rate: 50, seconds: 8, doc });
  const fpd = r.frames / r.deliveries;
  console.log(`# 10 writers x 50 edits/s for 8 s: ${r.edits} edits, ${r.deliveries}/${r.expected} deliveries, ` +
    `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms, ${fpd.toFixed(2)} frames per delivery`);
  assert.ok(r.edits >= 10 * 50 * 8 * 0.7, `made ${r.edits} edits`);
  assert.equal(r.deliveries, r.expected, 'every edit reached every other client');
  assert.ok(r.converged, `clients and late joiner agree: ${r.texts} / ${r.joinerText}`);
  const stored = hashText((await serverDoc(folio, doc)).getText('t').toString());
  assert.equal(stored, r.joinerText, 'the server holds what the clients hold');
  // One frame per update per receiver would be 1.0 or more; merged flushes make it less.
  assert.ok(fpd < 0.95, `updates were coalesced: ${fpd.toFixed(2)} frames per delivery`);
});

test('kill -9 during a burst loses no update that any client received', async () => {
  const doc = `burst-${Date.now()}`;
  const clients = Array.from({ length: 5 }, () => connect(folio, doc));
  await Promise.all(clients.map((c) => synced(c.provider)));
  // What each client received from the others, by `${writer}:${seq}`.
  const received = new Set();
  for (const c of clients) {
    c.doc.getMap('e').observe((event) => {
      if (!event.transaction.local) for (const key of event.keysChanged) received.add(key);
    });
  }
  let typing = true;
  const writers = clients.map(async (c, me) => {
    for (let seq = 0; typing; seq++) {
      c.doc.transact(() => {
        c.text.insert(0, 'x');
        c.doc.getMap('e').set(`${me}:${seq}`, seq);
      });
      await sleep(10);
    }
  });
  await sleep(1500 + Math.random() * 1000);
  process.kill(-folio.child.pid, 'SIGKILL');
  // The clients go with it, so no author re-sends anything: what the server has after the
  // restart is what it had stored.
  const seen = new Set(received);
  typing = false;
  for (const c of clients) disconnect(c);
  await Promise.all(writers);
  await folio.restart();
  const stored = new Set((await serverDoc(folio, doc)).getMap('e').keys());
  const lost = [...seen].filter((k) => !stored.has(k));
  console.log(`# ${seen.size} updates received by a client before the kill; ${stored.size} stored; lost: ${lost.length}`);
  assert.ok(seen.size > 100, `the burst was relayed (${seen.size} updates received)`);
  assert.deepEqual(lost, [], 'every update a client received was stored');
});
