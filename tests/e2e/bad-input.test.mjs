// Bad input gets a precise close code or HTTP status, loses nothing, and disturbs no one else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import { startFolio, connect, disconnect, synced, waitFor, documentState, rawSocket, Y } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('bad-input'); });
after(async () => { await folio?.stop(); });

const frame = (write) => { const e = encoding.createEncoder(); write(e); return encoding.toUint8Array(e); };
const updateFrame = (update) => frame((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeUpdate(e, update); });

function edit(text) {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

test('the server speaks first and answers the sync and awareness protocol', async () => {
  const raw = await rawSocket(folio, 'protocol');
  try {
    await waitFor(() => raw.frames.length >= 1, 5000, 'server SyncStep1');
    const first = decoding.createDecoder(raw.frames[0]);
    assert.equal(decoding.readVarUint(first), 0, 'sync message');
    assert.equal(decoding.readVarUint(first), syncProtocol.messageYjsSyncStep1);

    raw.ws.send(updateFrame(edit('hi')));
    raw.ws.send(frame((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeSyncStep1(e, new Y.Doc()); }));
    await waitFor(() => raw.frames.length >= 2, 5000, 'SyncStep2 answer');
    const answer = decoding.createDecoder(raw.frames[1]);
    assert.equal(decoding.readVarUint(answer), 0);
    assert.equal(decoding.readVarUint(answer), syncProtocol.messageYjsSyncStep2);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, decoding.readVarUint8Array(answer));
    assert.equal(doc.getText('t').toString(), 'hi');

    // Unknown message types are ignored; query-awareness is answered (once states exist).
    raw.ws.send(Uint8Array.of(42, 1, 0));
    const state = JSON.stringify({ user: { name: 'Query' } });
    raw.ws.send(frame((e) => {
      encoding.writeVarUint(e, 1);
      encoding.writeVarUint8Array(e, frame((a) => {
        encoding.writeVarUint(a, 1); encoding.writeVarUint(a, 4242); encoding.writeVarUint(a, 1);
        encoding.writeVarString(a, state);
      }));
    }));
    raw.ws.send(Uint8Array.of(3));
    await waitFor(() => raw.frames.length >= 3, 5000, 'awareness answer');
    const aw = decoding.createDecoder(raw.frames[2]);
    assert.equal(decoding.readVarUint(aw), 1, 'awareness message');
    const inner = decoding.createDecoder(decoding.readVarUint8Array(aw));
    assert.equal(decoding.readVarUint(inner), 1);
    assert.equal(decoding.readVarUint(inner), 4242);
    decoding.readVarUint(inner);
    assert.equal(decoding.readVarString(inner), state);
  } finally {
    raw.ws.close();
  }
});

test('malformed, truncated, oversize and text frames get their close codes; nothing changes', async () => {
  const good = connect(folio, 'hostile');
  try {
    await synced(good.provider);
    good.text.insert(0, 'precious');
    await waitFor(async () => (await documentState(folio, 'hostile')) !== null, 5000, 'first edit stored');
    const before = await documentState(folio, 'hostile');

    const truncated = updateFrame(edit('lost'));
    const cases = [
      { name: 'text frame', data: 'hello', code: 1003 },
      { name: 'truncated update', data: truncated.subarray(0, truncated.length - 4), code: 1007 },
      { name: 'undecodable update', data: updateFrame(new Uint8Array(64).fill(0xff)), code: 1007 },
      { name: 'overlong varint', data: new Uint8Array(12).fill(0xff), code: 1007 },
      { name: 'unknown sync step', data: Uint8Array.of(0, 9, 0), code: 1007 },
      { name: 'state vector declaring 2^32 entries', data: Uint8Array.of(0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0x0f), code: 1007 },
      { name: 'awareness with a non-JSON state', data: Uint8Array.of(1, 5, 1, 1, 1, 1, 0x7b), code: 1007 },
      { name: 'frame over 1 MiB', data: updateFrame(edit('x'.repeat((1 << 20) + 10))), code: 1009 },
    ];
    for (const c of cases) {
      // Each refusal puts its user in the penalty box for a while: one user per case.
      const raw = await rawSocket(folio, 'hostile', await folio.token({ user: `bad-${c.code}-${c.name}`, ttl_seconds: 3600 }));
      raw.ws.send(c.data);
      const { code, reason } = await Promise.race([
        raw.closed,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`${c.name}: not closed`)), 10_000)),
      ]);
      assert.equal(code, c.code, `${c.name}: closed with ${code} (${reason})`);
      assert.ok(reason.length > 0, `${c.name}: has a reason`);
      console.log(`# ${c.name}: ${code} "${reason}"`);
    }

    const afterBad = await documentState(folio, 'hostile');
    assert.equal(Buffer.compare(Buffer.from(afterBad.bytes), Buffer.from(before.bytes)), 0,
      'document unchanged by bad frames');
    // The well-behaved client stayed connected and keeps working.
    assert.ok(good.provider.wsconnected, 'good client still connected');
    const other = connect(folio, 'hostile');
    try {
      await synced(other.provider);
      good.text.insert(good.text.length, ' and intact');
      await waitFor(() => other.text.toString() === 'precious and intact', 10_000, 'edits still flow');
    } finally {
      disconnect(other);
    }
  } finally {
    disconnect(good);
  }
});

test('HTTP errors are precise JSON', async () => {
  const expectError = async (path, status, code, init) => {
    const res = await folio.api(path, init);
    assert.equal(res.status, status, path);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = await res.json();
    assert.equal(body.error.code, code, path);
    assert.ok(body.error.message.length > 0);
    return res;
  };
  await expectError('/sync/has%20space', 400, 'invalid_document_id');
  await expectError(`/sync/${'x'.repeat(129)}`, 400, 'invalid_document_id');
  await expectError('/api/docs/a.b/state', 400, 'invalid_document_id');
  await expectError('/sync/fine', 426, 'upgrade_required');
  await expectError('/api/docs/never-written/state', 404, 'document_not_found');
  await expectError('/nope', 404, 'not_found');
  const method = await expectError('/api/docs/x/state', 405, 'method_not_allowed', { method: 'POST' });
  assert.equal(method.headers.get('allow'), 'GET');
  const health = await fetch(`${folio.url}/health`);
  const body = await health.json();
  assert.equal(body.ok, true);
  assert.match(body.instance, /^[0-9a-f]{16}$/, 'the wasm instance id');
});

test('a flooding client is cut off (4008) while a second client\'s edits keep flowing', async () => {
  const a = connect(folio, 'flood');
  const b = connect(folio, 'flood');
  try {
    await Promise.all([synced(a.provider), synced(b.provider)]);
    const flooder = await rawSocket(folio, 'flood', await folio.token({ user: 'flooder', ttl_seconds: 3600 }));
    // Query-awareness is tiny and harmless: only its rate is abusive.
    for (let i = 0; i < 5000; i++) flooder.ws.send(Uint8Array.of(3));
    const { code, reason } = await Promise.race([
      flooder.closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('flooder not cut off')), 10_000)),
    ]);
    assert.equal(code, 4008, reason);
    assert.match(reason, /too many messages/);
    a.text.insert(0, 'still flowing');
    await waitFor(() => b.text.toString() === 'still flowing', 10_000, 'edits after the flood');
    assert.ok(a.provider.wsconnected && b.provider.wsconnected);
  } finally {
    disconnect(a);
    disconnect(b);
  }
});

test('a socket from a foreign Origin is refused before any document is touched', async () => {
  const { default: WebSocket } = await import('ws');
  const open = (origin) => new Promise((resolve) => {
    const ws = new WebSocket(`${folio.wsUrl}/origin-check?token=${folio.socketToken}`, origin ? { origin } : {});
    ws.on('open', () => { ws.close(); resolve({ opened: true }); });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ opened: false, status: res.statusCode, body }));
    });
    ws.on('error', () => { });
  });
  const foreign = await open('http://evil.example');
  assert.equal(foreign.opened, false);
  assert.equal(foreign.status, 403);
  assert.equal(JSON.parse(foreign.body).error.code, 'origin_not_allowed');
  assert.equal((await open(folio.url)).opened, true, 'same origin');
  assert.equal((await open(null)).opened, true, 'no Origin (a non-browser client)');
  // The refused attempt never reached the document: it was never written.
  assert.equal((await folio.api(`/api/docs/origin-check`)).status, 404);
});
