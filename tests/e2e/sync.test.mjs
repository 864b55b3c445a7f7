// Stock y-websocket clients co-editing through the real worker under wrangler dev.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, connect, disconnect, synced, waitFor, serverDoc, Y } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('sync'); });
after(async () => { await folio?.stop(); });

test('two stock y-websocket providers see each other\'s edits and awareness', async () => {
  const a = connect(folio, 'pair');
  const b = connect(folio, 'pair');
  try {
    await Promise.all([synced(a.provider), synced(b.provider)]);
    a.text.insert(0, 'Hello from A. ');
    await waitFor(() => b.text.toString() === 'Hello from A. ', 10_000, 'A→B');
    b.text.insert(b.text.length, 'Hello from B.');
    await waitFor(() => a.text.toString() === 'Hello from A. Hello from B.', 10_000, 'B→A');

    a.provider.awareness.setLocalStateField('user', { name: 'Ada', color: '#f00' });
    const aId = a.doc.clientID;
    await waitFor(() => b.provider.awareness.getStates().get(aId)?.user?.name === 'Ada', 10_000, 'awareness A→B');

    // A vanishes without saying goodbye (no awareness removal from A itself): the server
    // must tell B that A's cursor is gone.
    a.provider.shouldConnect = false;
    a.provider.ws.terminate();
    await waitFor(() => !b.provider.awareness.getStates().has(aId), 10_000, 'server-sent awareness removal');
  } finally {
    disconnect(a);
    disconnect(b);
  }
});

test('a client joining later receives the awareness states already there', async () => {
  const a = connect(folio, 'late-join');
  a.provider.awareness.setLocalStateField('user', { name: 'Grace' });
  await synced(a.provider);
  const b = connect(folio, 'late-join');
  try {
    await synced(b.provider);
    await waitFor(() => b.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === 'Grace',
      10_000, 'greeting awareness');
  } finally {
    disconnect(a);
    disconnect(b);
  }
});

test('ten providers making 100 concurrent random edits each converge, equal to /state', async () => {
  const seed = Number(process.env.FOLIO_SEED ?? Date.now() % 100000);
  let s = seed;
  const rand = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
  const clients = Array.from({ length: 10 }, () => connect(folio, 'ten'));
  try {
    await Promise.all(clients.map((c) => synced(c.provider)));
    // Interleave: each round, every client makes one edit, without waiting for the others.
    for (let round = 0; round < 100; round++) {
      for (const [i, c] of clients.entries()) {
        const len = c.text.length;
        if (len > 0 && rand() < 0.25) {
          const at = Math.floor(rand() * len);
          c.text.delete(at, Math.min(len - at, 1 + Math.floor(rand() * 3)));
        } else {
          c.text.insert(Math.floor(rand() * (len + 1)), String.fromCharCode(97 + i));
        }
        c.doc.getMap('meta').set(`k${i}`, round);
      }
      if (round % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    // State vectors compared as sorted (client, clock) pairs: encodings list them in any order.
    const sv = (doc) => JSON.stringify(
      [...Y.decodeStateVector(Y.encodeStateVector(doc))].sort((x, y) => x[0] - y[0]));
    // Every edit of every client has arrived everywhere once all state vectors are equal.
    await waitFor(() => clients.every((c) => sv(c.doc) === sv(clients[0].doc)), 30_000,
      `convergence (seed ${seed})`);
    const sv0 = sv(clients[0].doc);
    assert.equal(JSON.parse(sv0).length, 10);
    const expected = () => clients[0].text.toString();
    for (const c of clients) assert.equal(c.text.toString(), expected(), `seed ${seed}`);
    // Every client's own edits are in: 100 meta writes each ended at round 99.
    for (let i = 0; i < 10; i++) assert.equal(clients[0].doc.getMap('meta').get(`k${i}`), 99);

    await waitFor(async () => sv(await serverDoc(folio, 'ten')) === sv0, 10_000, 'server state');
    const server = await serverDoc(folio, 'ten');
    assert.equal(server.getText('t').toString(), expected(), `seed ${seed}`);
    assert.deepEqual(sv(server), sv0, `seed ${seed}`);
  } finally {
    for (const c of clients) disconnect(c);
  }
});

test('awareness spoofed for another client id is dropped', async () => {
  const { rawSocket } = await import('./folio.mjs');
  const encoding = await import('lib0/encoding');
  const awarenessFrame = (client, clock, state) => {
    const inner = encoding.createEncoder();
    encoding.writeVarUint(inner, 1);
    encoding.writeVarUint(inner, client);
    encoding.writeVarUint(inner, clock);
    encoding.writeVarString(inner, JSON.stringify(state));
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint8Array(e, encoding.toUint8Array(inner));
    return encoding.toUint8Array(e);
  };
  const ada = connect(folio, 'spoof');
  const watcher = connect(folio, 'spoof');
  try {
    await Promise.all([synced(ada.provider), synced(watcher.provider)]);
    ada.provider.awareness.setLocalStateField('user', { name: 'Ada' });
    const adaId = ada.doc.clientID;
    await waitFor(() => watcher.provider.awareness.getStates().get(adaId)?.user?.name === 'Ada', 10_000, 'Ada visible');

    const eve = await rawSocket(folio, 'spoof');
    eve.ws.send(awarenessFrame(424242, 1, { user: { name: 'Eve' } })); // Eve's own id: fine
    await waitFor(() => watcher.provider.awareness.getStates().get(424242)?.user?.name === 'Eve', 10_000, 'Eve visible');
    eve.ws.send(awarenessFrame(adaId, 1_000_000, { user: { name: 'Mallory' } })); // Ada's id
    eve.ws.send(awarenessFrame(adaId, 1_000_001, null)); // and removing Ada
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(watcher.provider.awareness.getStates().get(adaId)?.user?.name, 'Ada', 'spoof dropped');
    eve.ws.close();
  } finally {
    disconnect(ada);
    disconnect(watcher);
  }
});
