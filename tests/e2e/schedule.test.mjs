// Scheduled publishing: entries live in the document's object, its single alarm fires at the
// earliest one, and they survive a full restart of wrangler dev with no client connected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, connect, disconnect, synced, waitFor, Y } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('schedule'); });
after(async () => { await folio?.stop(); });

const api = (path, init) => folio.api(path, init);
const schedule = (doc, body) => api(`/api/docs/${doc}/schedule`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});
const inSeconds = (s) => new Date(Date.now() + s * 1000).toISOString();

async function write(doc, title, text) {
  const c = connect(folio, doc);
  try {
    await synced(c.provider);
    c.doc.transact(() => {
      c.doc.getText('title').insert(0, title);
      const p = new Y.XmlElement('paragraph');
      c.doc.getXmlFragment('body').insert(0, [p]);
      p.insert(0, [new Y.XmlText(text)]);
    });
    await waitFor(async () => (await api(`/api/docs/${doc}`)).status === 200, 10_000, 'draft stored');
  } finally {
    disconnect(c);
  }
}

test('a scheduled publish happens on time across a restart, with no client connected', async () => {
  await write('sched-1', 'Scheduled Post', 'on time');
  const res = await schedule('sched-1', { action: 'publish', at: inSeconds(6) });
  assert.equal(res.status, 201);
  const entry = await res.json();
  assert.equal(entry.action, 'publish');
  const listed = await (await api('/api/docs/sched-1/schedule')).json();
  assert.deepEqual(listed.entries.map((e) => e.id), [entry.id]);
  assert.equal((await api('/api/posts/scheduled-post')).status, 404, 'not yet');

  await folio.restart();
  await waitFor(async () => (await api('/api/posts/scheduled-post')).status === 200, 20_000, 'published by the alarm');
  const post = await (await api('/api/posts/scheduled-post')).json();
  assert.equal(post.html, '<p>on time</p>');
  assert.equal(post.version, 1);
  assert.deepEqual((await (await api('/api/docs/sched-1/schedule')).json()).entries, [], 'entry done');
});

test('scheduled unpublish; two entries due together publish once; cancel removes an entry', async () => {
  await write('sched-2', 'Twice', 'body');
  const at = inSeconds(2);
  assert.equal((await schedule('sched-2', { action: 'publish', at })).status, 201);
  assert.equal((await schedule('sched-2', { action: 'publish', at })).status, 201);
  const cancelMe = await (await schedule('sched-2', { action: 'unpublish', at: inSeconds(3600) })).json();
  await waitFor(async () => (await api('/api/posts/twice')).status === 200, 15_000, 'published');
  const versions = await (await api('/api/docs/sched-2/versions')).json();
  assert.deepEqual(versions.versions.map((v) => v.version), [1], 'running twice published once');

  const cancel = await api(`/api/docs/sched-2/schedule/${cancelMe.id}`, { method: 'DELETE' });
  assert.equal(cancel.status, 200);
  assert.equal((await api(`/api/docs/sched-2/schedule/${cancelMe.id}`, { method: 'DELETE' })).status, 404);
  assert.deepEqual((await (await api('/api/docs/sched-2/schedule')).json()).entries, []);

  assert.equal((await schedule('sched-2', { action: 'unpublish', at: inSeconds(2) })).status, 201);
  await waitFor(async () => (await api('/api/posts/twice')).status === 404, 15_000, 'unpublished by the alarm');
});

test('bad schedule requests are refused with the parameter named', async () => {
  await write('sched-3', 'Bad', 'x');
  for (const [body, parameter] of [
    [{ action: 'publish', at: new Date(Date.now() - 60_000).toISOString() }, 'at'],
    [{ action: 'publish', at: 'tomorrow' }, 'at'],
    [{ action: 'delete', at: inSeconds(60) }, 'action'],
  ]) {
    const res = await schedule('sched-3', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal((await res.json()).error.parameter, parameter);
  }
  const notJson = await api('/api/docs/sched-3/schedule', { method: 'POST', body: '{nope' });
  assert.equal(notJson.status, 400);
  assert.equal((await notJson.json()).error.code, 'invalid_json');
  assert.deepEqual((await (await api('/api/docs/sched-3/schedule')).json()).entries, []);
});

test('a scheduled publish that fails on D1 is kept and retried until it succeeds', async () => {
  await write('sched-4', 'Retried', 'eventually');
  // Break D1 for real: the publish flush's table disappears from under the running worker.
  folio.d1('ALTER TABLE versions RENAME TO versions_away');
  try {
    assert.equal((await schedule('sched-4', { action: 'publish', at: inSeconds(1) })).status, 201);
    await new Promise((r) => setTimeout(r, 5000)); // the alarm fires and fails, maybe twice
    // Not published; the reader, which falls back to the same table, says 503, not 500.
    const reader = await api('/api/posts/retried');
    assert.equal(reader.status, 503, 'not published, and the reader reports D1 unavailable');
    assert.equal((await reader.json()).error.code, 'unavailable');
    const kept = (await (await api('/api/docs/sched-4/schedule')).json()).entries;
    assert.equal(kept.length, 1, 'the entry is kept for a retry');
    assert.match(folio.log(), /will be retried/);
  } finally {
    folio.d1('ALTER TABLE versions_away RENAME TO versions');
  }
  await waitFor(async () => (await api('/api/posts/retried')).status === 200, 15_000, 'published on retry');
  assert.deepEqual((await (await api('/api/docs/sched-4/schedule')).json()).entries, []);
  const versions = await (await api('/api/docs/sched-4/versions')).json();
  assert.deepEqual(versions.versions.map((v) => v.version), [1], 'one version despite the retries');
});
