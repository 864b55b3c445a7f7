// Import and export of a collection as NDJSON: every entry of one Folio exported, imported
// into a fresh Folio, and exported again reproduces slugs, statuses and every field; importing
// the same file twice changes nothing; a bad line gets its own error and the others go in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio } from './folio.mjs';

let source, target;
before(async () => {
  source = await startFolio('export');
  target = await startFolio('import');
});
after(async () => { await source?.stop(); await target?.stop(); });

const send = (folio, path, method, body) => folio.api(path, {
  method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
});
const ndjson = async (res) => (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));

const NOTES = {
  name: 'notes', label: 'Notes', fields: [
    { name: 'title', type: 'text', required: true },
    { name: 'body', type: 'richtext' },
    { name: 'rating', type: 'number', min: 0, max: 5 },
    { name: 'kind', type: 'select', options: ['memo', 'essay'] },
    { name: 'tags', type: 'tags' },
    { name: 'day', type: 'date' },
    { name: 'done', type: 'boolean' },
    { name: 'cover', type: 'image' },
  ],
};

/** What an exported line says about an entry, without what differs between Folios. */
const comparable = (line) => ({ slug: line.slug, status: line.status, fields: line.fields });

test('export, then import into a fresh Folio, reproduces every entry; importing twice changes nothing', async () => {
  assert.equal((await send(source, '/api/collections', 'POST', NOTES)).status, 201);
  const entries = [
    { slug: 'first', fields: { title: 'First', body: { markdown: 'Some **bold** text\n\n- a\n- b' }, rating: 4, kind: 'memo', tags: ['x', 'y'], day: '2026-11-23', done: true, cover: { src: '/media/abc', alt: 'Cover' } } },
    { slug: 'second', fields: { title: 'Second', rating: 2.5 } },
    { slug: 'third', fields: { title: 'Third', body: { markdown: '# Heading\n\n> quote' } } },
    { slug: 'fourth', fields: { title: 'Fourth', kind: 'essay' } },
  ];
  const ids = [];
  for (const e of entries) {
    const res = await send(source, '/api/docs', 'POST', { collection: 'notes', ...e });
    assert.equal(res.status, 201, await res.clone().text());
    ids.push((await res.json()).id);
  }
  // One published, one published then unpublished, the others drafts.
  assert.equal((await send(source, `/api/docs/${ids[0]}/publish`, 'POST')).status, 200);
  assert.equal((await send(source, `/api/docs/${ids[1]}/publish`, 'POST')).status, 200);
  assert.equal((await send(source, `/api/docs/${ids[1]}/unpublish`, 'POST')).status, 200);
  // A draft edited after publishing: the export has the draft.
  assert.equal((await send(source, `/api/docs/${ids[0]}`, 'PATCH', { fields: { rating: 5 } })).status, 200);

  let res = await source.api('/api/collections/notes/export');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /ndjson/);
  const exported = await ndjson(res);
  assert.equal(exported.length, 4);
  const bySlug = Object.fromEntries(exported.map((l) => [l.slug, l]));
  assert.equal(bySlug.first.status, 'published');
  assert.equal(bySlug.first.version, 1);
  assert.equal(bySlug.first.fields.rating, 5, 'the draft, not the published version');
  assert.equal(bySlug.second.status, 'unpublished');
  assert.equal(bySlug.third.status, 'draft');
  assert.equal(bySlug.third.version, null);
  assert.equal(bySlug.first.fields.body.html, '<p>Some <strong>bold</strong> text</p><ul><li><p>a</p></li><li><p>b</p></li></ul>');

  // A fresh Folio with the same definition.
  const definition = await (await source.api('/api/collections/notes')).json();
  assert.equal((await send(target, '/api/collections', 'POST',
    { name: definition.name, label: definition.label, fields: definition.fields })).status, 201);
  const file = exported.map((l) => JSON.stringify(l)).join('\n') + '\n';
  res = await target.api('/api/collections/notes/import', { method: 'POST', body: file });
  assert.equal(res.status, 200);
  const progress = await ndjson(res);
  assert.deepEqual(progress.slice(0, 4).map((p) => [p.line, p.result]),
    [[1, 'created'], [2, 'created'], [3, 'created'], [4, 'created']]);
  assert.deepEqual(progress.at(-1), { done: true, lines: 4, created: 4, updated: 0, published: 2, failed: 0 });

  const reexported = await ndjson(await target.api('/api/collections/notes/export'));
  const key = (l) => l.slug;
  assert.deepEqual(reexported.map(comparable).sort((a, b) => key(a).localeCompare(key(b))),
    exported.map(comparable).sort((a, b) => key(a).localeCompare(key(b))));
  // Readers of the fresh Folio get the published entry.
  res = await target.api('/api/content/notes/first');
  assert.equal(res.status, 200);
  assert.equal((await target.api('/api/content/notes/second')).status, 404, 'unpublished stays unpublished');

  // The same file again: found by slug, nothing created, nothing new published.
  res = await target.api('/api/collections/notes/import', { method: 'POST', body: file });
  const again = await ndjson(res);
  assert.deepEqual(again.at(-1), { done: true, lines: 4, created: 0, updated: 4, published: 2, failed: 0 });
  const after = await ndjson(await target.api('/api/collections/notes/export'));
  assert.equal(after.length, 4);
  assert.deepEqual(after.map((l) => [l.slug, l.version]).sort(), reexported.map((l) => [l.slug, l.version]).sort(),
    'no new versions: the content did not change');
});

test('an import reports each bad line and imports the others', async () => {
  const lines = [
    '{"slug": "ok-one", "fields": {"title": "OK"}}',
    'not json',
    '{"fields": {"title": "no slug"}}',
    '{"slug": "bad-rating", "fields": {"title": "x", "rating": 9}}',
    '',
    '{"slug": "ok-two", "fields": {"title": "OK too"}}',
  ].join('\n');
  const res = await target.api('/api/collections/notes/import', { method: 'POST', body: lines });
  const progress = await ndjson(res);
  const errors = progress.filter((p) => p.error).map((p) => [p.line, p.error.code]);
  assert.deepEqual(errors, [[2, 'invalid_json'], [3, 'slug_required'], [4, 'invalid_fields']]);
  assert.deepEqual(progress.find((p) => p.line === 4).error.fields, [{ name: 'rating', message: 'must be at most 5' }]);
  assert.deepEqual(progress.at(-1), { done: true, lines: 5, created: 2, updated: 0, published: 0, failed: 3 });
  assert.equal((await target.api('/api/collections/nope/import', { method: 'POST', body: '' })).status, 404);
  const viewer = await target.token({ role: 'viewer' });
  const denied = await fetch(`${target.url}/api/collections/notes/import`, {
    method: 'POST', headers: { authorization: `Bearer ${viewer}` }, body: lines,
  });
  assert.equal(denied.status, 403);
});
