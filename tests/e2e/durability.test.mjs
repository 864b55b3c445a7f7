// Nothing the server accepted is lost: across a full restart of wrangler dev, across
// hibernation, and for documents larger than one storage value (2 MiB).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFolio, connect, disconnect, synced, waitFor, documentState, serverDoc, Y } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('durability'); });
after(async () => { await folio?.stop(); });

test('after wrangler dev is stopped and started, returning and new clients get everything', async () => {
  const a = connect(folio, 'restart');
  try {
    await synced(a.provider);
    a.text.insert(0, 'written before the restart. ');
    await waitFor(async () => (await serverDoc(folio, 'restart')).getText('t').length > 0);

    await folio.stop();
    await waitFor(() => !a.provider.wsconnected, 10_000, 'client noticing the stop');
    a.text.insert(a.text.length, 'written while the server was down. ');
    await folio.start();

    // The returning client reconnects by itself and uploads what it wrote offline.
    await waitFor(() => a.provider.wsconnected && a.provider.synced, 20_000, 'returning client');
    const full = 'written before the restart. written while the server was down. ';
    await waitFor(async () => (await serverDoc(folio, 'restart')).getText('t').toString() === full,
      10_000, 'offline edit stored');

    const b = connect(folio, 'restart');
    try {
      await synced(b.provider);
      await waitFor(() => b.text.toString() === full, 10_000, 'new client content');
    } finally {
      disconnect(b);
    }
  } finally {
    disconnect(a);
  }
});

/** Real text: the final document of the B4 editing trace (shared/data), or a stand-in. */
function realText() {
  const b4 = path.resolve(import.meta.dirname, '../../../shared/data/b4x1.v1.bin');
  if (existsSync(b4)) {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, new Uint8Array(readFileSync(b4)));
    return doc.getText('text').toString();
  }
  let s = '';
  for (let i = 0; s.length < 100_000; i++) s += `Paragraph ${i}: the quick brown fox jumps over the lazy dog. `;
  return s;
}

test('a document over 2 MiB survives compaction and a restart byte-for-byte', async () => {
  const text = realText();
  const a = connect(folio, 'large');
  try {
    await synced(a.provider);
    // Frames stay under the 1 MiB cap: each transaction carries ~5 copies (~0.5 MB).
    const perFrame = Math.max(1, Math.floor(500_000 / text.length));
    while (a.text.length < 2.6 * 1024 * 1024) {
      a.doc.transact(() => {
        for (let i = 0; i < perFrame; i++) a.text.insert(a.text.length, text);
      });
    }
    a.text.insert(0, 'Title\n'); // a small tail after the last compaction
    const expected = a.text.toString();
    await waitFor(async () => (await serverDoc(folio, 'large')).getText('t').length === expected.length,
      30_000, 'large document stored');
    const before = await documentState(folio, 'large');
    assert.ok(before.bytes.length > 2 * 1024 * 1024, `state is ${before.bytes.length} bytes`);
    const generation = Number(before.headers.get('folio-snapshot-generation'));
    const snapshot = Number(before.headers.get('folio-snapshot-bytes'));
    assert.ok(generation >= 1, 'compaction ran');
    assert.ok(snapshot > 2 * 1024 * 1024, `snapshot of ${snapshot} bytes spans several chunks`);
    console.log(`# large document: ${before.bytes.length} bytes, snapshot generation ${generation}` +
      ` (${snapshot} bytes), ${before.headers.get('folio-log-entries')} log entries after it`);

    await folio.restart();
    const afterRestart = await documentState(folio, 'large');
    assert.equal(Buffer.compare(Buffer.from(afterRestart.bytes), Buffer.from(before.bytes)), 0,
      'state after restart equals state before, byte for byte');
    const doc = new Y.Doc();
    Y.applyUpdate(doc, afterRestart.bytes);
    assert.equal(doc.getText('t').toString(), expected);
  } finally {
    disconnect(a);
  }
});

test('after hibernation the object still knows whose awareness to remove', async () => {
  const a = connect(folio, 'hibernate');
  const b = connect(folio, 'hibernate');
  try {
    await Promise.all([synced(a.provider), synced(b.provider)]);
    a.provider.awareness.setLocalStateField('user', { name: 'Ada' });
    a.text.insert(0, 'before sleeping');
    await waitFor(() => b.provider.awareness.getStates().get(a.doc.clientID)?.user?.name === 'Ada');
    const constructed = () => (folio.log().match(/document object constructed/g) ?? []).length;
    const before = constructed();
    // Idle with sockets attached: workerd evicts the object (about 10 s). Clients renew their
    // awareness every 15 s, so 12 s of silence lets it sleep.
    await sleep(12_000);
    a.provider.shouldConnect = false;
    a.provider.ws.terminate();
    await waitFor(() => !b.provider.awareness.getStates().has(a.doc.clientID), 10_000,
      'awareness removal after hibernation');
    b.text.insert(b.text.length, ', after waking');
    await waitFor(async () => (await serverDoc(folio, 'hibernate')).getText('t').toString() ===
      'before sleeping, after waking', 10_000, 'edit after wake stored');
    const woke = constructed() > before;
    console.log(`# object ${woke ? 'was' : 'was NOT'} re-constructed (hibernated) during the idle period`);
    assert.ok(woke, 'the object hibernated and was constructed again');
  } finally {
    disconnect(a);
    disconnect(b);
  }
});
