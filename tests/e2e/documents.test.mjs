// The authors' document registry: create, list with title, status and times.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, connect, disconnect, synced, waitFor } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('documents'); });
after(async () => { await folio?.stop(); });

const api = (path, init) => folio.api(path, init);
const listed = async (id) => (await (await api('/api/docs')).json()).documents.find((d) => d.id === id);

test('create, edit, publish, schedule: the list follows without waking documents', async () => {
  const created = await api('/api/docs', { method: 'POST' });
  assert.equal(created.status, 201);
  const { id } = await created.json();
  assert.match(id, /^[0-9a-f]{20}$/);
  const first = await listed(id);
  assert.deepEqual([first.title, first.status, first.version], ['', 'draft', null]);

  const editor = connect(folio, id);
  await synced(editor.provider);
  editor.doc.getText('title').insert(0, 'Listed Title');
  await waitFor(async () => (await api(`/api/docs/${id}`)).status === 200, 10_000, 'edit stored');
  disconnect(editor); // the last editor leaving refreshes the registry row
  await waitFor(async () => (await listed(id))?.title === 'Listed Title', 10_000, 'title in the list');

  const pub = await api(`/api/docs/${id}/publish`, { method: 'POST' });
  assert.equal(pub.status, 200);
  await waitFor(async () => (await listed(id))?.status === 'published', 10_000, 'published in the list');
  const row = await listed(id);
  assert.deepEqual([row.slug, row.version], ['listed-title', 1]);
  assert.match(row.published_at, /Z$/);

  const at = new Date(Date.now() + 3_600_000).toISOString();
  const entry = await (await api(`/api/docs/${id}/schedule`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'publish', at }),
  })).json();
  await waitFor(async () => (await listed(id))?.status === 'scheduled', 10_000, 'scheduled in the list');
  assert.equal((await listed(id)).next_publish_at, new Date(Date.parse(at)).toISOString());
  await api(`/api/docs/${id}/schedule/${entry.id}`, { method: 'DELETE' });
  await waitFor(async () => (await listed(id))?.status === 'published', 10_000, 'schedule cancelled');

  // A document first opened over a socket (never POSTed) joins the list too.
  const walkIn = connect(folio, 'walk-in-doc');
  await synced(walkIn.provider);
  walkIn.doc.getText('title').insert(0, 'Walk-in');
  await waitFor(async () => (await api('/api/docs/walk-in-doc')).status === 200, 10_000, 'walk-in stored');
  disconnect(walkIn);
  await waitFor(async () => (await listed('walk-in-doc'))?.title === 'Walk-in', 10_000, 'walk-in listed');
  assert.equal((await api('/api/docs', { method: 'PUT' })).status, 405);
});
