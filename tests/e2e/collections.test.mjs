// Content types: collections defined over HTTP (every field type, every refusal named),
// entries co-edited by stock Yjs clients writing the documented contract, read back typed,
// and definitions changed compatibly and incompatibly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startFolio, connect, disconnect, synced, waitFor, paragraph } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('collections'); });
after(async () => { await folio?.stop(); });

const send = (path, method, body, headers = {}) => folio.api(path, {
  method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
});

const PEOPLE = { name: 'people', label: 'People', fields: [{ name: 'name', type: 'text', required: true }] };
const ARTICLES = {
  name: 'articles', label: 'Articles', fields: [
    { name: 'headline', type: 'text', required: true, max_length: 80 },
    { name: 'body', type: 'richtext', label: 'Body', required: true },
    { name: 'rating', type: 'number', min: 0, max: 5, integer: true },
    { name: 'featured', type: 'boolean' },
    { name: 'day', type: 'date' },
    { name: 'at', type: 'datetime' },
    { name: 'category', type: 'select', options: ['news', 'review'], required: true },
    { name: 'tags', type: 'tags' },
    { name: 'author', type: 'reference', collection: 'people' },
    { name: 'cover', type: 'image' },
  ],
};

const pick = (o, keys) => Object.fromEntries(keys.map((k) => [k, o[k]]));

test('collections are defined by admins, every rule refused with its field, and listed', async () => {
  // A reference to a collection that does not exist yet is refused, naming the field.
  let res = await send('/api/collections', 'POST', ARTICLES);
  assert.equal(res.status, 400);
  let { error } = await res.json();
  assert.deepEqual([error.code, error.field], ['invalid_definition', 'author']);
  assert.match(error.message, /`people`, which is not a collection/);

  res = await send('/api/collections', 'POST', PEOPLE);
  assert.equal(res.status, 201);
  res = await send('/api/collections', 'POST', ARTICLES);
  assert.equal(res.status, 201);
  const created = await res.json();
  assert.equal(created.version, 1);
  assert.equal(created.built_in, false);
  assert.deepEqual(created.fields.map((f) => f.type),
    ['text', 'richtext', 'number', 'boolean', 'date', 'datetime', 'select', 'tags', 'reference', 'image']);
  assert.equal(created.fields[0].max_length, 80);

  // The same name twice, and the built-in posts, are conflicts.
  assert.equal((await send('/api/collections', 'POST', ARTICLES)).status, 409);
  res = await send('/api/collections', 'POST', { ...PEOPLE, name: 'posts' });
  assert.deepEqual([res.status, (await res.json()).error.code], [409, 'collection_exists']);

  // Bad definitions: 400 naming the field and the rule; nothing stored.
  for (const [def, field, rule] of [
    [{ ...PEOPLE, name: 'Bad-Name' }, 'name', /\[a-z\]/],
    [{ ...PEOPLE, name: 'c2', fields: [{ name: 'slug', type: 'text' }] }, 'slug', /reserved/],
    [{ ...PEOPLE, name: 'c2', fields: [{ name: 'x', type: 'colour' }] }, 'x', /unknown type/],
    [{ ...PEOPLE, name: 'c2', fields: [{ name: 'x', type: 'number', min: 3, max: 1 }] }, 'x', /greater/],
    [{ ...PEOPLE, name: 'c2', fields: [{ name: 'x', type: 'select', options: [] }] }, 'x', /options/],
    [{ ...PEOPLE, name: 'c2', fields: [{ name: 'x', type: 'text' }, { name: 'x', type: 'tags' }] }, 'x', /unique/],
  ]) {
    res = await send('/api/collections', 'POST', def);
    ({ error } = await res.json());
    assert.equal(res.status, 400, JSON.stringify(def));
    assert.deepEqual([error.code, error.field], ['invalid_definition', field]);
    assert.match(error.message, rule);
  }
  res = await folio.api('/api/collections', { method: 'POST', body: '{"name": ' });
  assert.deepEqual([res.status, (await res.json()).error.code], [400, 'invalid_json']);
  assert.equal((await folio.api('/api/collections/c2')).status, 404);

  // Defining needs an admin; reading needs only a signed-in principal.
  const writer = await folio.token({ user: 'w', role: 'writer' });
  res = await send('/api/collections', 'POST', { ...PEOPLE, name: 'c3' }, { authorization: `Bearer ${writer}` });
  assert.equal(res.status, 403);
  const viewer = await folio.token({ user: 'v', role: 'viewer' });
  res = await fetch(`${folio.url}/api/collections`, { headers: { authorization: `Bearer ${viewer}` } });
  assert.equal(res.status, 200);
  const { collections } = await res.json();
  assert.deepEqual(collections.map((c) => c.name), ['posts', 'articles', 'people']);
  assert.equal(collections[0].built_in, true);
  assert.equal((await fetch(`${folio.url}/api/collections`)).status, 401);
  res = await fetch(`${folio.url}/api/collections/articles`, { headers: { authorization: `Bearer ${viewer}` } });
  assert.deepEqual((await res.json()).fields, created.fields);
});

test('two stock Yjs clients co-edit an entry by the contract; the draft reads back typed', async () => {
  let res = await send('/api/docs', 'POST', { collection: 'articles' });
  assert.equal(res.status, 201);
  const { id, collection } = await res.json();
  assert.equal(collection, 'articles');
  for (const [body, parameter] of [[{ collection: 'nope' }, 'collection'], [{ collection: 'Nope!' }, 'collection']]) {
    res = await send('/api/docs', 'POST', body);
    assert.deepEqual([res.status, (await res.json()).error.parameter], [400, parameter]);
  }
  assert.equal((await send('/api/docs', 'POST', { colection: 'articles' })).status, 400);
  // Created, not yet written: the editor gets the empty draft and what publishing would refuse.
  const empty = await (await folio.api(`/api/docs/${id}`)).json();
  assert.equal(empty.collection, 'articles');
  assert.equal(empty.fields.headline, null);
  assert.deepEqual(empty.problems.map((p) => p.name), ['headline', 'body', 'category']); // the required ones

  // The contract: text → root Y.Text, richtext → root Y.XmlFragment, the rest → the root
  // Y.Map `fields`; the slug is meta.slug.
  const a = connect(folio, id);
  const b = connect(folio, id);
  await Promise.all([synced(a.provider), synced(b.provider)]);
  a.doc.transact(() => {
    a.doc.getText('headline').insert(0, 'Folio has content types');
    paragraph(a.doc, 'Typed fields, co-edited live.');
    a.doc.getMap('fields').set('rating', 4);
    a.doc.getMap('fields').set('category', 'news');
    a.doc.getMap('meta').set('slug', 'content-types');
  });
  b.doc.transact(() => {
    const f = b.doc.getMap('fields');
    f.set('featured', true);
    f.set('day', '2026-11-23');
    f.set('at', '2026-11-23T10:00:00+01:00');
    f.set('tags', ['rust', ' crdt ', 'rust']);
    f.set('author', { id: 'person-1' });
    f.set('cover', { src: 'https://example.com/c.png', alt: 'Cover' });
  });
  const draft = async () => (await (await folio.api(`/api/docs/${id}`)).json());
  await waitFor(async () => {
    const d = await draft();
    return d.fields?.headline && d.fields?.featured !== null && d.fields?.cover;
  }, 10_000, 'both clients\' edits stored');
  const d = await draft();
  assert.deepEqual([d.id, d.collection, d.slug], [id, 'articles', 'content-types']);
  assert.deepEqual(d.problems, []);
  const f = d.fields;
  assert.equal(f.headline, 'Folio has content types');
  assert.equal(f.body.html, '<p>Typed fields, co-edited live.</p>');
  assert.equal(f.body.text, 'Typed fields, co-edited live.');
  assert.equal(f.body.json.type, 'doc');
  assert.deepEqual(
    [f.rating, f.featured, f.day, f.at, f.category],
    [4, true, '2026-11-23', '2026-11-23T09:00:00.000Z', 'news'],
  );
  assert.deepEqual(f.tags, ['rust', 'crdt']);
  assert.deepEqual(f.author, { id: 'person-1' });
  assert.deepEqual(f.cover, { src: 'https://example.com/c.png', alt: 'Cover' });

  // Any client can write a wrong type: it is named, not coerced, and the draft still reads.
  b.doc.transact(() => {
    b.doc.getMap('fields').set('rating', '5');
    b.doc.getMap('fields').set('category', 'sport');
    b.doc.getMap('fields').set('cover', { src: 'javascript:alert(1)' });
  });
  await waitFor(async () => (await draft()).problems.length === 3, 10_000, 'wrong types stored');
  const wrong = await draft();
  assert.deepEqual(wrong.problems, [
    { name: 'rating', message: 'expected a number' },
    { name: 'category', message: '`sport` is not one of the options (news, review)' },
    { name: 'cover', message: 'expected an image {"src": "<url>", "alt": "<text>"}' },
  ]);
  assert.equal(wrong.fields.rating, null);
  assert.equal(wrong.fields.cover, null);
  assert.equal(wrong.fields.category, 'sport');

  // Publishing validates: 422 naming every field, nothing published (the schedule too).
  const publish = () => folio.api(`/api/docs/${id}/publish`, { method: 'POST' });
  let res422 = await publish();
  assert.equal(res422.status, 422);
  const refused = (await res422.json()).error;
  assert.equal(refused.code, 'invalid_fields');
  assert.deepEqual(refused.fields, wrong.problems);
  const later = new Date(Date.now() + 3_600_000).toISOString();
  res422 = await send(`/api/docs/${id}/schedule`, 'POST', { action: 'publish', at: later });
  assert.equal(res422.status, 422);
  assert.deepEqual((await (await folio.api(`/api/docs/${id}/schedule`)).json()).entries, []);
  assert.deepEqual((await (await folio.api(`/api/docs/${id}/versions`)).json()).versions, []);
  // Once valid, it publishes (the reader API on collections is content.test.mjs's).
  b.doc.transact(() => {
    b.doc.getMap('fields').set('rating', 5);
    b.doc.getMap('fields').set('category', 'review');
    b.doc.getMap('fields').set('cover', { src: '/media/c.png', alt: '' });
  });
  await waitFor(async () => (await draft()).problems.length === 0, 10_000, 'fixes stored');
  const ok = await publish();
  assert.deepEqual([ok.status, (await ok.json()).slug], [200, 'content-types']);
  const live = await (await fetch(`${folio.url}/api/content/articles/content-types`)).json();
  assert.deepEqual([live.fields.rating, live.fields.category, live.fields.cover.src], [5, 'review', '/media/c.png']);
  assert.equal((await folio.api('/api/posts/content-types')).status, 404);
  disconnect(a);
  disconnect(b);

  // The registry knows each document's collection and filters by it.
  const listed = async (q) => (await (await folio.api(`/api/docs${q}`)).json()).documents;
  assert.equal((await listed('')).find((x) => x.id === id).collection, 'articles');
  assert.deepEqual((await listed('?collection=articles')).map((x) => x.id), [id]);
  assert.equal((await listed('?collection=posts')).some((x) => x.id === id), false);
  assert.equal((await folio.api('/api/docs?collection=No!')).status, 400);
});

test('a post keeps its shape and gains its typed fields', async () => {
  const { id, collection } = await (await folio.api('/api/docs', { method: 'POST' })).json();
  assert.equal(collection, 'posts');
  // Created, not yet written: an empty post (one never created is 404, draft.test.mjs).
  const empty = await folio.api(`/api/docs/${id}`);
  assert.equal(empty.status, 200);
  assert.deepEqual(pick(await empty.json(), ['title', 'text', 'collection']), { title: '', text: '', collection: 'posts' });
  const c = connect(folio, id);
  await synced(c.provider);
  c.doc.transact(() => {
    c.doc.getText('title').insert(0, 'A post');
    paragraph(c.doc, 'Words.');
    c.doc.getMap('meta').set('excerpt', 'Short.');
    c.doc.getMap('meta').set('tags', ['a']);
  });
  await waitFor(async () => (await (await folio.api(`/api/docs/${id}`)).json()).fields?.tags, 10_000, 'post stored');
  disconnect(c);
  const d = await (await folio.api(`/api/docs/${id}`)).json();
  assert.deepEqual([d.title, d.excerpt, d.html, d.collection], ['A post', 'Short.', '<p>Words.</p>', 'posts']);
  assert.deepEqual(
    [d.fields.title, d.fields.excerpt, d.fields.tags, d.fields.body.text],
    ['A post', 'Short.', ['a'], 'Words.'],
  );
});

test('definitions change: relaxing is a new version, invalidating a published entry is refused unless forced', async () => {
  const current = await (await folio.api('/api/collections/articles')).json();
  const { name, label, fields } = current;
  // Unchanged: the same version back.
  let res = await send('/api/collections/articles', 'PUT', { label, fields });
  assert.deepEqual([res.status, (await res.json()).version], [200, 1]);

  // Compatible: a new optional field, an added option, a longer max_length, fields reordered.
  const relaxed = structuredClone(fields).reverse();
  relaxed.find((f) => f.name === 'category').options.push('opinion');
  relaxed.find((f) => f.name === 'headline').max_length = 200;
  relaxed.push({ name: 'subtitle', type: 'text' });
  res = await send('/api/collections/articles', 'PUT', { name, label: 'Articles!', fields: relaxed });
  assert.equal(res.status, 200);
  const v2 = await res.json();
  assert.deepEqual([v2.version, v2.label, v2.fields.at(-1).name], [2, 'Articles!', 'subtitle']);

  // Incompatible: removing a field, changing a type, narrowing a range.
  const tight = structuredClone(v2.fields)
    .filter((f) => f.name !== 'cover')
    .map((f) => (f.name === 'featured' ? { name: 'featured', type: 'text' } : f))
    .map((f) => (f.name === 'rating' ? { ...f, max: 3 } : f));
  res = await send('/api/collections/articles', 'PUT', { label: 'Articles!', fields: tight });
  assert.equal(res.status, 409);
  const { error } = await res.json();
  assert.equal(error.code, 'incompatible_change');
  // In the order of the current definition (v2 listed the fields reversed).
  assert.deepEqual(error.changes, [
    { field: 'cover', change: 'removed' },
    { field: 'featured', change: 'type changed from boolean to text' },
    { field: 'rating', change: 'max lowered to 3' },
  ]);
  // ... and the published entry it would invalidate, with what in it.
  assert.deepEqual([error.broken, error.unchecked], [1, 0]);
  assert.equal(error.entries[0].slug, 'content-types');
  assert.deepEqual(error.entries[0].problems, [
    { name: 'cover', message: 'would be removed, and this entry has a value' },
    { name: 'featured', message: 'holds a boolean value; the field would become text' },
    { name: 'rating', message: 'must be at most 3' },
  ]);
  assert.match(error.message, /would invalidate 1 published entry of `articles`/);
  assert.equal((await (await folio.api('/api/collections/articles')).json()).version, 2);
  res = await send('/api/collections/articles?force=true', 'PUT', { label: 'Articles!', fields: tight });
  assert.deepEqual([res.status, (await res.json()).version], [200, 3]);
  assert.equal((await (await folio.api('/api/collections/articles')).json()).fields.some((f) => f.name === 'cover'), false);

  // Renaming, changing posts, unknown collections and bad flags are refused.
  res = await send('/api/collections/articles', 'PUT', { name: 'other', label, fields });
  assert.deepEqual([res.status, (await res.json()).error.field], [400, 'name']);
  assert.equal((await send('/api/collections/posts', 'PUT', { label, fields })).status, 409);
  assert.equal((await send('/api/collections/nothing', 'PUT', { label, fields })).status, 404);
  res = await send('/api/collections/articles?force=yes', 'PUT', { label, fields });
  assert.deepEqual([res.status, (await res.json()).error.parameter], [400, 'force']);
  const editor = await folio.token({ user: 'e', role: 'editor' });
  res = await send('/api/collections/articles', 'PUT', { label, fields }, { authorization: `Bearer ${editor}` });
  assert.equal(res.status, 403);
});

test('GET /api/openapi.json is valid OpenAPI 3.1, has schemas per collection, and drafts match them', async () => {
  const res = await fetch(`${folio.url}/api/openapi.json`); // public, like the reader API
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const spec = await res.json();
  const validator = new Validator();
  const result = await validator.validate(spec);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1));
  assert.equal(validator.version, '3.1');
  const names = Object.keys(spec.components.schemas).filter((k) => /^(entry|draft)_/.test(k)).sort();
  assert.deepEqual(names, ['draft_articles', 'draft_people', 'draft_posts', 'entry_articles', 'entry_people', 'entry_posts']);
  // The definition in force (version 3, after the forced change) is what the schema says.
  const fields = spec.components.schemas.entry_articles.properties.fields.properties;
  assert.equal(fields.cover, undefined);
  assert.deepEqual(fields.rating.oneOf[0], { type: 'integer', minimum: 0, maximum: 3 });

  // Answers match the schemas: every draft against its draft schema, a valid one against the
  // entry schema too, an invalid one not.
  const ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  ajv.addSchema(spec, 'openapi.json');
  const schema = (name) => ajv.getSchema(`openapi.json#/components/schemas/${name}`);
  const { id } = await (await send('/api/docs', 'POST', { collection: 'people' })).json();
  const c = connect(folio, id);
  await synced(c.provider);
  c.doc.getText('name').insert(0, 'Ada');
  await waitFor(async () => (await (await folio.api(`/api/docs/${id}`)).json()).fields?.name === 'Ada', 10_000, 'person stored');
  const person = await (await folio.api(`/api/docs/${id}`)).json();
  assert.equal(schema('draft_people')(person), true, JSON.stringify(schema('draft_people').errors));
  assert.equal(schema('entry_people')(person), true, JSON.stringify(schema('entry_people').errors));
  c.doc.getText('name').delete(0, 3);
  await waitFor(async () => (await (await folio.api(`/api/docs/${id}`)).json()).fields?.name === null, 10_000, 'name cleared');
  const empty = await (await folio.api(`/api/docs/${id}`)).json();
  assert.equal(schema('draft_people')(empty), true);
  assert.equal(schema('entry_people')(empty), false, 'a required field missing is not a valid entry');
  disconnect(c);
  const { documents } = await (await folio.api('/api/docs?collection=articles')).json();
  const article = await (await folio.api(`/api/docs/${documents[0].id}`)).json();
  assert.equal(schema('draft_articles')(article), true, JSON.stringify(schema('draft_articles').errors));
  const answer = ajv.compile({ $ref: 'openapi.json#/paths/~1api~1docs~1{doc}/get/responses/200/content/application~1json/schema' });
  assert.equal(answer(article), true, JSON.stringify(answer.errors));
});
