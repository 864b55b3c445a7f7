// Hostile clients cannot take Folio down: every frame that once reset the worker (a panic in
// wasm32 resets every document of the isolate) is refused with its close code within a second,
// the worker's wasm is never reinitialized, and an editor of another document keeps editing.
// Also: sockets only on /sync, replies metered, edits bound to their connection, reconnects
// that add nothing store nothing, and refused clients cannot spin the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { startFolio, connect, disconnect, synced, waitFor, documentState, serverDoc, rawSocket, upgrade, Y } from './folio.mjs';

let folio;
let instance;
before(async () => {
  folio = await startFolio('wire');
  instance = await health();
});
after(async () => { await folio?.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function health() {
  const res = await fetch(`${folio.url}/health`);
  assert.equal(res.status, 200);
  return (await res.json()).instance;
}

/** The worker was never reinitialized: same wasm instance, and no panic in its log. */
async function assertNoReset(what) {
  assert.equal(await health(), instance, `${what}: the wasm instance changed`);
  assert.doesNotMatch(folio.log(), /Reinitializing|panicked|RuntimeError/, `${what}: the log shows a reset`);
}

const enc = (write) => { const e = encoding.createEncoder(); write(e); return encoding.toUint8Array(e); };
const MAX32 = [0xff, 0xff, 0xff, 0xff, 0x0f];
const updateFrame = (update) => enc((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeUpdate(e, update); });

/** An update of one struct by client 5 at clock 0 in a root, with raw content bytes. */
function oneStruct(kind, root, key, content) {
  return enc((e) => {
    encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 5); encoding.writeVarUint(e, 0);
    encoding.writeUint8(e, kind | (key ? 0x20 : 0));
    encoding.writeVarUint(e, 1); encoding.writeVarString(e, root);
    if (key) encoding.writeVarString(e, key);
    encoding.writeUint8Array(e, Uint8Array.from(content));
    encoding.writeVarUint(e, 0);
  });
}

function deepValue(levels) {
  const bytes = [1];
  for (let i = 0; i < levels; i++) bytes.push(117, 1);
  bytes.push(126);
  return bytes;
}

/** The frames of the issue, each of which reset the worker before `wire` checked them. */
const HOSTILE = [
  ['sync step 2 declaring 2^32-1 bytes', Uint8Array.of(0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2)],
  ['awareness declaring 2^32-1 bytes', Uint8Array.of(1, ...MAX32, 1, 1, 1, 2, 123, 125)],
  ['update whose string declares 2^32-1 bytes', updateFrame(oneStruct(4, 'title', null, [...MAX32, 97, 98]))],
  ['update declaring 2^32-1 structs', updateFrame(Uint8Array.of(1, ...MAX32, 5, 0, 4, 1, 1, 116, 1, 120, 0))],
  ['one value nested 100,000 arrays deep', updateFrame(oneStruct(8, 'meta', 'k', deepValue(100_000)))],
  ['client id 2^53', updateFrame(enc((e) => {
    encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 1); encoding.writeVarUint(e, 2 ** 53); encoding.writeVarUint(e, 0);
    encoding.writeUint8(e, 4); encoding.writeVarUint(e, 1); encoding.writeVarString(e, 'title'); encoding.writeVarString(e, 'x');
    encoding.writeVarUint(e, 0);
  }))],
];

/** The close of a raw socket, or a failure after `ms`. */
function closedWithin(raw, ms) {
  return Promise.race([raw.closed, sleep(ms).then(() => { throw new Error(`socket not closed within ${ms} ms`); })]);
}

let userSeq = 0;
/** A socket token of a fresh user (the penalty box is per user). */
const token = (role) => folio.token({ user: `hostile-${++userSeq}`, role, ttl_seconds: 3600 });

test('every hostile frame, from a viewer and from a writer, is refused within a second and resets nothing', async () => {
  // A neighbour editing another document throughout.
  const neighbour = connect(folio, 'wire-neighbour');
  await synced(neighbour.provider);
  const victim = connect(folio, 'wire-victim');
  await synced(victim.provider);
  victim.text.insert(0, 'intact');
  await waitFor(async () => (await serverDoc(folio, 'wire-victim')).getText('t').toString() === 'intact', 5000, 'victim stored');
  const before = (await documentState(folio, 'wire-victim')).bytes;
  let n = 0;
  for (const role of ['viewer', 'writer']) {
    for (const [what, frame] of HOSTILE) {
      const raw = await rawSocket(folio, 'wire-victim', await token(role));
      const sent = Date.now();
      raw.ws.send(frame);
      const closed = await Promise.race([raw.closed, sleep(1000).then(() => null)]);
      assert.ok(closed, `${role} / ${what}: not closed within a second`);
      // A viewer's SyncStep2 is ignored unread; then it is closed only when it sends an edit.
      const expected = role === 'viewer' ? [1007, 4003] : [1007];
      assert.ok(expected.includes(closed.code), `${role} / ${what}: closed with ${closed.code} ${closed.reason}`);
      console.log(`# ${role} / ${what}: ${closed.code} "${closed.reason}" after ${Date.now() - sent} ms`);
      neighbour.text.insert(neighbour.text.length, `${++n},`);
      await assertNoReset(`${role} / ${what}`);
    }
  }
  // The neighbour's edits all reached the server; the victim document is unchanged.
  const expected = neighbour.text.toString();
  await waitFor(async () => (await serverDoc(folio, 'wire-neighbour')).getText('t').toString() === expected, 5000, 'neighbour edits stored');
  assert.deepEqual((await documentState(folio, 'wire-victim')).bytes, before);
  assert.equal(victim.text.toString(), 'intact');
  disconnect(neighbour);
  disconnect(victim);
});

/** A Yjs doc holding a chain of `depth` nested XML elements in `body`. */
function chainDoc(depth) {
  const doc = new Y.Doc();
  let parent = doc.getXmlFragment('body');
  for (let i = 0; i < depth; i++) {
    const el = new Y.XmlElement('blockquote');
    parent.insert(0, [el]);
    parent = el;
  }
  return doc;
}

test('a chain of nested types past the cap is refused; one at the cap is stored, then deleted', async () => {
  const raw = await rawSocket(folio, 'wire-chain', await token('writer'));
  raw.ws.send(updateFrame(Y.encodeStateAsUpdate(chainDoc(1000))));
  const closed = await closedWithin(raw, 5000);
  assert.equal(closed.code, 1007);
  assert.match(closed.reason, /nest/);

  const writer = connect(folio, 'wire-chain', { params: { token: await token('writer') } });
  await synced(writer.provider);
  const deep = chainDoc(100);
  Y.applyUpdate(writer.doc, Y.encodeStateAsUpdate(deep));
  await waitFor(async () => (await serverDoc(folio, 'wire-chain')).getXmlFragment('body').length === 1, 5000, 'chain stored');
  writer.doc.getXmlFragment('body').delete(0, 1);
  await waitFor(async () => (await serverDoc(folio, 'wire-chain')).getXmlFragment('body').length === 0, 5000, 'chain deleted');
  const draft = await folio.api('/api/docs/wire-chain');
  assert.equal(draft.status, 200);
  disconnect(writer);
  await assertNoReset('nested types');
});

/** The HTTP status an upgrade of `path` gets (101 when it opens). */
const upgradeStatus = async (path, headers = {}) => (await upgrade(`${folio.url.replace('http', 'ws')}${path}`, headers)).status;

test('an upgrade is refused on every route but /sync, with a session cookie or a preview link', async () => {
  const id = 'wire-upgrade';
  const writer = connect(folio, id);
  await synced(writer.provider);
  writer.text.insert(0, 'draft');
  await waitFor(async () => (await documentState(folio, id)) !== null, 5000, 'doc stored');
  disconnect(writer);
  const signIn = await fetch(`${folio.url}/api/session`, { method: 'POST', body: JSON.stringify({ key: folio.adminKey }) });
  const cookie = signIn.headers.get('set-cookie').split(';')[0];
  const preview = await (await folio.api(`/api/docs/${id}/preview`, { method: 'POST' })).json();
  const previewPath = new URL(preview.url).pathname + new URL(preview.url).search;
  const routes = [`/api/docs/${id}`, `/api/docs/${id}/state`, `/api/docs/${id}/versions`, `/api/docs/${id}/schedule`,
    '/api/docs', '/api/session', '/api/posts', '/health'];
  let refused = 0;
  for (const p of routes) {
    for (const headers of [{ cookie, origin: 'https://evil.example' }, { cookie }, { authorization: `Bearer ${folio.adminKey}` }]) {
      assert.equal(await upgradeStatus(p, headers), 400, `${p} ${Object.keys(headers)}`);
      refused++;
    }
  }
  assert.equal(await upgradeStatus(previewPath), 400, 'preview link');
  refused++;
  // The editor's page is a static asset: answered as a page, never upgraded.
  assert.notEqual(await upgradeStatus('/', { cookie }), 101);
  // The socket route itself still works with a socket token, and not with the cookie.
  assert.equal(await upgradeStatus(`/sync/${id}`, { cookie }), 401);
  assert.equal(await upgradeStatus(`/sync/${id}?token=${encodeURIComponent(folio.socketToken)}`), 101);
  console.log(`# ${refused} upgrades refused off /sync`);
});

test('SyncStep1 floods from a viewer are cut off after a bounded number of reply bytes', async () => {
  const id = 'wire-replies';
  const writer = connect(folio, id);
  await synced(writer.provider);
  const chunk = 'x'.repeat(100_000);
  for (let i = 0; i < 10; i++) writer.text.insert(writer.text.length, chunk); // ~1 MB
  await waitFor(async () => ((await documentState(folio, id))?.bytes.length ?? 0) > 1_000_000, 10_000, '1 MB stored');
  disconnect(writer);
  const viewer = await token('viewer');
  const raw = await rawSocket(folio, id, viewer);
  const ask = enc((e) => { encoding.writeVarUint(e, 0); encoding.writeVarUint(e, 0); encoding.writeVarUint8Array(e, Uint8Array.of(0)); });
  const started = Date.now();
  for (let i = 0; i < 2000; i++) raw.ws.send(ask);
  const closed = await closedWithin(raw, 60_000);
  const elapsed = (Date.now() - started) / 1000;
  const bytes = raw.frames.reduce((n, f) => n + f.length, 0);
  console.log(`# 2,000 SyncStep1 frames: ${raw.frames.length} replies, ${bytes} bytes in ${elapsed.toFixed(2)} s, then ${closed.code} "${closed.reason}"`);
  assert.equal(closed.code, 4008);
  // The byte burst (4 MiB) plus at most one reply of debt.
  assert.ok(bytes < 4 * 2 ** 20 + 1_200_000, `${bytes} reply bytes`);
  // And its next socket is refused for a while (the penalty box).
  assert.equal(await upgradeStatus(`/sync/${id}?token=${encodeURIComponent(viewer)}`), 429);
  await assertNoReset('reply flood');
});

test('a writer cannot write under a client id another connection holds; the victim loses nothing', async () => {
  const id = 'wire-owner';
  const victim = connect(folio, id);
  await synced(victim.provider);
  victim.text.insert(0, 'a');
  await waitFor(async () => (await serverDoc(folio, id)).getText('t').toString() === 'a', 5000, 'first edit');
  // The attacker forges the victim's next edit: same client id, next clock.
  const forger = new Y.Doc();
  Y.applyUpdate(forger, Y.encodeStateAsUpdate(victim.doc));
  forger.clientID = victim.doc.clientID; // after the sync, or Yjs picks a new id by itself
  const sv = Y.encodeStateVector(forger);
  forger.getText('t').insert(1, 'EVIL');
  const raw = await rawSocket(folio, id, await token('writer'));
  raw.ws.send(updateFrame(Y.encodeStateAsUpdate(forger, sv)));
  const closed = await closedWithin(raw, 5000);
  assert.equal(closed.code, 4409);
  assert.match(closed.reason, /another user/);
  for (const c of 'bcdef') victim.text.insert(victim.text.length, c);
  await waitFor(async () => (await serverDoc(folio, id)).getText('t').toString() === 'abcdef', 5000, 'victim edits stored');
  disconnect(victim);
});

test('a client id belongs to the user who first wrote with it: refused from another user, the owner connected or not, across a restart', async () => {
  // Exactly as an attacker would: raw sockets, update frames only, no awareness, no SyncStep1.
  const id = 'wire-client-id';
  const writer = (user) => folio.token({ user, role: 'writer', ttl_seconds: 3600 });
  const victimToken = await writer('victim');
  const victimDoc = new Y.Doc();
  const sent = [];
  victimDoc.on('update', (u) => sent.push(u));
  const text = victimDoc.getText('t');
  const serverText = async () => (await serverDoc(folio, id)).getText('t').toString();
  let victim = await rawSocket(folio, id, victimToken);
  text.insert(0, 'hello');
  victim.ws.send(updateFrame(sent.shift()));
  await waitFor(async () => (await serverText()) === 'hello', 5000, 'the victim\'s first edit');

  // Another user builds, offline, the victim's next clocks: `!!EVIL!!` under its client id.
  const forged = new Y.Doc();
  Y.applyUpdate(forged, Y.encodeStateAsUpdate(victimDoc));
  forged.clientID = victimDoc.clientID;
  const sv = Y.encodeStateVector(forged);
  forged.getText('t').insert(5, '!!EVIL!!');
  const evil = Y.encodeStateAsUpdate(forged, sv);
  let attempt = 0;
  const attack = async (when) => {
    // A fresh attacking user each time (a refused user's next sockets wait in the penalty box).
    const mallory = await rawSocket(folio, id, await writer(`mallory-${++attempt}`));
    mallory.ws.send(updateFrame(evil));
    const closed = await closedWithin(mallory, 5000);
    assert.equal(closed.code, 4409, when);
    assert.match(closed.reason, new RegExp(`client id ${victimDoc.clientID} belongs to another user`), when);
    assert.equal(await serverText(), 'hello', `${when}: nothing stored`);
  };
  await attack('the owner connected');
  await sleep(300);
  assert.ok(!victim.frames.some((f) => Buffer.from(f).includes('EVIL')), 'nothing relayed to the owner');
  victim.ws.close();
  await victim.closed;
  await attack('the owner disconnected');
  await folio.restart();
  instance = await health(); // a restart is a new instance, not a reset
  await attack('after a restart');

  // The owner comes back (a reconnect) and types on, its own next clocks; a second tab of
  // the same user writes under the same id too.
  victim = await rawSocket(folio, id, victimToken);
  const secondTab = await rawSocket(folio, id, victimToken);
  text.insert(5, ' world,');
  victim.ws.send(updateFrame(sent.shift()));
  // Two sockets are not ordered: the second tab's edit builds on the first's, so it waits.
  await waitFor(async () => (await serverText()) === 'hello world,', 5000, 'the reconnected owner\'s edit');
  text.insert(text.length, ' this is the victim typing');
  secondTab.ws.send(updateFrame(sent.shift()));
  await waitFor(async () => (await serverText()) === 'hello world, this is the victim typing', 5000, 'the owner\'s edits');

  // A JSON write is the server's own: under a client id of its own, which no user can take.
  const before = Y.decodeStateVector(Y.encodeStateVector(await serverDoc(folio, id)));
  const res = await folio.api(`/api/docs/${id}`, { method: 'PATCH', body: JSON.stringify({ fields: { title: 'Owned' } }) });
  assert.ok(res.ok, `PATCH ${res.status}: ${await res.text()}`);
  const after = Y.decodeStateVector(Y.encodeStateVector(await serverDoc(folio, id)));
  const serverIds = [...after.keys()].filter((c) => !before.has(c));
  assert.equal(serverIds.length, 1, 'the write added structs under one new client id');
  const [serverId] = serverIds;
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(await serverDoc(folio, id)));
  copy.clientID = serverId;
  const copySv = Y.encodeStateVector(copy);
  copy.getText('title').insert(0, 'Not ');
  const mallory = await rawSocket(folio, id, await writer(`mallory-${++attempt}`));
  mallory.ws.send(updateFrame(Y.encodeStateAsUpdate(copy, copySv)));
  const closed = await closedWithin(mallory, 5000);
  assert.equal(closed.code, 4409);
  assert.equal((await serverDoc(folio, id)).getText('title').toString(), 'Owned');
  victim.ws.close();
  secondTab.ws.close();
  await assertNoReset('client ids');
});

test('reconnects that add nothing add no log entry', async () => {
  const id = 'wire-reconnect';
  const writer = connect(folio, id);
  await synced(writer.provider);
  writer.text.insert(0, 'hello world');
  writer.text.delete(0, 6); // a delete set every reconnect's SyncStep2 repeats
  await waitFor(async () => (await serverDoc(folio, id)).getText('t').toString() === 'world', 5000, 'stored');
  const entries = async () => Number((await documentState(folio, id)).headers.get('folio-log-entries'));
  const start = await entries();
  for (let i = 0; i < 5; i++) {
    writer.provider.disconnect();
    writer.provider.connect();
    await synced(writer.provider);
    await sleep(100);
  }
  assert.equal(await entries(), start, 'five reconnects stored nothing');
  disconnect(writer);
});

test('20,000 quick edits and 1.5 MB of offline work converge', async () => {
  const id = 'wire-import';
  const importer = connect(folio, id, { params: { token: await token('writer') } });
  const reader = connect(folio, id);
  await synced(importer.provider);
  await synced(reader.provider);
  let opens = 0;
  importer.provider.on('status', ({ status }) => { if (status === 'connected') opens++; });
  for (let i = 0; i < 20_000; i++) importer.text.insert(importer.text.length, 'x');
  const want = importer.text.toString();
  await waitFor(async () => (await serverDoc(folio, id)).getText('t').toString() === want, 60_000, 'server has the 20,000 edits');
  await waitFor(() => reader.text.toString() === want, 30_000, 'the other editor has them');
  console.log(`# 20,000 quick edits converged after ${opens} reconnects`);

  // Offline work over the 1 MiB frame cap arrives in the reconnect's SyncStep2.
  importer.provider.disconnect();
  const big = 'y'.repeat(1_500_000);
  importer.text.insert(0, big);
  importer.provider.connect();
  const want2 = importer.text.toString();
  await waitFor(async () => (await serverDoc(folio, id)).getText('t').toString() === want2, 60_000, 'server has the offline work');
  await waitFor(() => reader.text.toString() === want2, 30_000, 'the other editor has it');
  disconnect(importer);
  disconnect(reader);
  await assertNoReset('import');
});

test('a permanently refused stock client cannot spin the server', async () => {
  // Its offline work holds a chain of types past the cap: every SyncStep2 would be refused, so
  // the refusal is final (4422) and y-websocket stops; a client that ignores that and keeps
  // reconnecting meets the penalty box (below).
  const id = 'wire-refused';
  const doc = chainDoc(300);
  const provider = new (await import('y-websocket')).WebsocketProvider(folio.wsUrl, id, doc, {
    WebSocketPolyfill: WebSocket, disableBc: true, params: { token: await token('writer') },
  });
  let closes = 0;
  let final = null;
  provider.on('connection-close', () => { closes++; });
  provider.on('closed', (event) => { final = event; });
  const seconds = 15;
  const started = Date.now();
  let healthy = 0;
  while (Date.now() - started < seconds * 1000) {
    assert.equal((await fetch(`${folio.url}/health`)).status, 200);
    healthy++;
    await sleep(500);
  }
  provider.destroy();
  doc.destroy();
  console.log(`# a permanently refused stock client: ${closes} connection(s) in ${seconds} s, closed with ${final?.code} "${final?.reason}"; /health answered ${healthy} times`);
  assert.equal(final?.code, 4422);
  assert.equal(closes, 1);
  await assertNoReset('refused client');
});

test('a client that reconnects after every refusal is held off by the penalty box', async () => {
  // Not stock: it ignores the final code and reconnects as fast as it is let in, each time
  // sending a frame that is refused. Count its attempts and refusals in 20 s.
  const id = 'wire-spinner';
  const tok = await token('writer');
  const bad = updateFrame(oneStruct(8, 'meta', 'k', deepValue(1000)));
  const seconds = 20;
  const started = Date.now();
  let attempts = 0;
  let opened = 0;
  let refused429 = 0;
  while (Date.now() - started < seconds * 1000) {
    attempts++;
    const status = await new Promise((resolve) => {
      const ws = new WebSocket(`${folio.wsUrl}/${id}?token=${encodeURIComponent(tok)}`);
      ws.on('open', () => { opened++; ws.send(bad); });
      ws.on('close', () => resolve(101));
      ws.on('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode); });
      ws.on('error', () => { });
    });
    if (status === 429) refused429++;
    await sleep(50);
  }
  console.log(`# a spinning client: ${attempts} attempts in ${seconds} s, ${opened} let in, ${refused429} refused with 429`);
  // Let in at 0, 1, 3, 7 and 15 s (penalties of 1, 2, 4, 8 s): a handful, however fast it tries.
  assert.ok(opened <= 6, `${opened} sockets opened`);
  assert.equal((await fetch(`${folio.url}/health`)).status, 200);
  await assertNoReset('spinning client');
});
