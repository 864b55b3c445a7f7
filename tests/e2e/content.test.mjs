// The reader API on collections: entries written by stock Yjs clients, published (validated),
// then listed with typed filters, sorted, paginated and read one by one, as a front-end would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startFolio, editDoc, paragraph, waitFor, connect, disconnect, synced } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('content'); });
after(async () => { await folio?.stop(); });

const send = (path, method, body) => folio.api(path, {
  method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
});
const read = async (path, init) => {
  const res = await fetch(`${folio.url}${path}`, init); // readers: no credentials
  return { status: res.status, headers: res.headers, body: res.status === 304 ? null : await res.json() };
};

/** Creates an entry of `collection` and writes `fields` (and `headline`, `slug`) by the contract. */
async function entry(collection, { headline, slug, body, ...fields }) {
  const { id } = await (await send('/api/docs', 'POST', { collection })).json();
  await editDoc(folio, id, (doc) => {
    if (headline !== undefined) doc.getText('headline').insert(0, headline);
    if (body !== undefined) doc.getXmlFragment('body').length === 0 && paragraph(doc, body);
    if (slug !== undefined) doc.getMap('meta').set('slug', slug);
    for (const [k, v] of Object.entries(fields)) doc.getMap('fields').set(k, v);
  });
  return id;
}

const published = [];

test('entries publish once valid, under a slug unique in their collection', async () => {
  assert.equal((await send('/api/collections', 'POST', {
    name: 'people', label: 'People', fields: [{ name: 'headline', type: 'text', required: true }],
  })).status, 201);
  assert.equal((await send('/api/collections', 'POST', {
    name: 'articles', label: 'Articles', fields: [
      { name: 'headline', type: 'text', required: true },
      { name: 'body', type: 'richtext' },
      { name: 'rating', type: 'number', min: 0, max: 5 },
      { name: 'featured', type: 'boolean' },
      { name: 'day', type: 'date' },
      { name: 'category', type: 'select', options: ['news', 'review'], required: true },
      { name: 'tags', type: 'tags' },
      { name: 'author', type: 'reference', collection: 'people' },
    ],
  })).status, 201);
  const ada = await entry('people', { headline: 'Ada' });
  assert.equal((await send(`/api/docs/${ada}/publish`, 'POST')).status, 200);

  // Published in this order (newest first is the reverse); ratings 1..5 and one without.
  const specs = [
    { headline: 'One', category: 'news', rating: 3, tags: ['rust'], day: '2026-01-05', featured: true, author: { id: ada } },
    { headline: 'Two', category: 'review', rating: 5, tags: ['crdt'], day: '2026-02-05' },
    { headline: 'Three', category: 'news', rating: 1, tags: ['rust', 'crdt'], day: '2026-03-05', author: { id: ada } },
    { headline: 'Four', category: 'news', tags: ['edge'], day: '2026-04-05', featured: false },
    { headline: 'Five', category: 'review', rating: 4, tags: ['rust'], day: '2026-05-05' },
    { headline: 'Six', category: 'news', rating: 2, body: 'Rich words.', slug: 'sixth' },
  ];
  for (const spec of specs) {
    const id = await entry('articles', spec);
    const res = await send(`/api/docs/${id}/publish`, 'POST');
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual([body.version, body.created, body.status], [1, true, 'published']);
    published.push({ id, ...spec, slug: body.slug });
  }
  assert.deepEqual(published.map((p) => p.slug), ['one', 'two', 'three', 'four', 'five', 'sixth']);
  // The authors' list shows an entry's first text field as its title.
  const title = async () => (await (await folio.api('/api/docs?collection=articles')).json())
    .documents.find((d) => d.id === published[5].id)?.title;
  await waitFor(async () => (await title()) === 'Six', 10_000, 'entry title in the list');
  // Unchanged: the same version. A slug taken in the collection: 409, nothing published.
  const again = await (await send(`/api/docs/${published[0].id}/publish`, 'POST')).json();
  assert.deepEqual([again.version, again.created], [1, false]);
  const twin = await entry('articles', { headline: 'One', category: 'news' });
  const taken = await send(`/api/docs/${twin}/publish`, 'POST');
  assert.deepEqual([taken.status, (await taken.json()).error.code], [409, 'slug_taken']);
  // ... but a post may have the slug of an entry: slugs are per collection.
  const { id: post } = await (await send('/api/docs', 'POST')).json();
  await editDoc(folio, post, (doc) => doc.getText('title').insert(0, 'One'));
  const postRes = await send(`/api/docs/${post}/publish`, 'POST');
  assert.deepEqual([postRes.status, (await postRes.json()).slug], [200, 'one']);
});

test('an entry reads back typed, with ETag/304 and CORS; unknown ones are 404', async () => {
  const res = await read('/api/content/articles/sixth');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const e = res.body;
  assert.deepEqual([e.collection, e.slug, e.title, e.version], ['articles', 'sixth', 'Six', 1]);
  assert.equal(e.fields.body.html, '<p>Rich words.</p>');
  assert.deepEqual([e.fields.rating, e.fields.category, e.fields.featured], [2, 'news', null]);
  const etag = res.headers.get('etag');
  assert.equal(etag, `"${published[5].id}.1"`);
  const cached = await read('/api/content/articles/sixth', { headers: { 'if-none-match': etag } });
  assert.equal(cached.status, 304);
  assert.equal((await read('/api/content/articles/nope')).status, 404);
  assert.equal((await read('/api/content/nothing')).body.error.code, 'collection_not_found');
  assert.equal((await read('/api/content/posts')).status, 404);
  assert.equal((await read('/api/content/Bad!')).status, 400);
  // Entries are not posts: not in /api/posts, not on /p/.
  assert.equal((await read('/api/posts/sixth')).status, 404);
  // The answer is what /api/openapi.json says it is.
  const spec = (await read('/api/openapi.json')).body;
  const ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  ajv.addSchema(spec, 'openapi.json');
  const valid = ajv.compile({ $ref: 'openapi.json#/paths/~1api~1content~1{collection}~1{slug}/get/responses/200/content/application~1json/schema' });
  assert.equal(valid(e), true, JSON.stringify(valid.errors));
  assert.equal(valid({ ...e, fields: { ...e.fields, rating: 9 } }), false, 'out of range is not a valid entry');
});

test('lists filter by every indexed type, sort with empty values last, and page with cursors', async () => {
  const slugs = async (q) => {
    const res = await read(`/api/content/articles${q}`);
    assert.equal(res.status, 200, `${q}: ${JSON.stringify(res.body)}`);
    return res.body.entries.map((e) => e.slug);
  };
  assert.deepEqual(await slugs(''), ['sixth', 'five', 'four', 'three', 'two', 'one']);
  const first = (await read('/api/content/articles?limit=1')).body.entries[0];
  assert.equal(first.fields.body, undefined, 'lists leave rich text out');
  assert.deepEqual(first.fields.tags, null);
  assert.equal(first.fields.headline, 'Six');

  assert.deepEqual(await slugs('?category=news'), ['sixth', 'four', 'three', 'one']);
  assert.deepEqual(await slugs('?rating[gte]=3'), ['five', 'two', 'one']);
  assert.deepEqual(await slugs('?rating[gt]=1&rating[lt]=4'), ['sixth', 'one']);
  assert.deepEqual(await slugs('?tags=rust'), ['five', 'three', 'one']);
  assert.deepEqual(await slugs('?tags=rust&tags=crdt'), ['three']);
  assert.deepEqual(await slugs(`?author=${published[0].author.id}`), ['three', 'one']);
  assert.deepEqual(await slugs('?featured=true'), ['one']);
  assert.deepEqual(await slugs('?featured=false'), ['four']);
  assert.deepEqual(await slugs('?day[gte]=2026-02-05&day[lt]=2026-05-01'), ['four', 'three', 'two']);
  assert.deepEqual(await slugs('?category=review&rating[lte]=4'), ['five']);

  assert.deepEqual(await slugs('?sort=rating'), ['three', 'sixth', 'one', 'five', 'two', 'four']);
  assert.deepEqual(await slugs('?sort=-rating'), ['two', 'five', 'one', 'sixth', 'three', 'four']);
  assert.deepEqual(await slugs('?sort=-day&category=news'), ['four', 'three', 'one', 'sixth']);

  // Pages of 2 in every order cover every entry once, in the same order as one page.
  for (const q of ['', 'sort=rating', 'sort=-rating', 'sort=category', 'sort=-day']) {
    const whole = await slugs(`?${q}`);
    const paged = [];
    let cursor = null;
    let pages = 0;
    do {
      const res = await read(`/api/content/articles?limit=2&${q}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      paged.push(...res.body.entries.map((e) => e.slug));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    assert.deepEqual(paged, whole, q);
    assert.equal(pages, 3, q);
  }

  // Bad parameters: 400 naming them, with CORS.
  for (const [q, parameter] of [
    ['?nope=1', 'nope'], ['?rating=high', 'rating'], ['?category=sport', 'category'],
    ['?headline=One', 'headline'], ['?sort=tags', 'sort'], ['?limit=0', 'limit'], ['?cursor=xyz', 'cursor'],
    [`?sort=rating&cursor=${(await read('/api/content/articles?limit=1')).body.next_cursor}`, 'cursor'],
  ]) {
    const res = await read(`/api/content/articles${q}`);
    assert.deepEqual([res.status, res.body.error.parameter], [400, parameter], q);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  }
});

test('unpublishing takes an entry out of lists, filters and reads; republishing brings it back', async () => {
  const three = published[2];
  assert.equal((await send(`/api/docs/${three.id}/unpublish`, 'POST')).status, 200);
  const slugs = async (q) => (await read(`/api/content/articles${q}`)).body.entries.map((e) => e.slug);
  assert.deepEqual(await slugs('?tags=crdt'), ['two']);
  assert.equal((await read('/api/content/articles/three')).status, 404);
  // An edit, then publish again: version 2, back in the lists with its new values.
  await editDoc(folio, three.id, (doc) => doc.getMap('fields').set('tags', ['crdt', 'edge']));
  const res = await (await send(`/api/docs/${three.id}/publish`, 'POST')).json();
  assert.deepEqual([res.version, res.created], [2, true]);
  assert.deepEqual(await slugs('?tags=edge'), ['four', 'three']);
  assert.deepEqual((await read('/api/content/articles/three')).body.fields.tags, ['crdt', 'edge']);
  assert.equal((await read('/api/content/articles/three')).body.version, 2);

  // Restoring version 1 writes its fields back into the draft, live for a connected editor.
  const editor = connect(folio, three.id);
  try {
    await synced(editor.provider);
    await editDoc(folio, three.id, (doc) => {
      doc.getText('headline').delete(0, doc.getText('headline').length);
      doc.getText('headline').insert(0, 'Three, rewritten');
      doc.getMap('fields').delete('day');
      doc.getMap('meta').set('slug', 'moved');
    });
    const restored = await send(`/api/docs/${three.id}/versions/1/restore`, 'POST');
    assert.deepEqual(await restored.json(), { restored: 1, slug: 'three' });
    await waitFor(() => editor.doc.getText('headline').toString() === 'Three', 10_000, 'the editor sees the restore');
    assert.deepEqual(editor.doc.getMap('fields').get('tags'), ['rust', 'crdt']);
    assert.equal(editor.doc.getMap('fields').get('day'), '2026-03-05');
    assert.equal(editor.doc.getMap('meta').get('slug'), 'three');
    const draft = await (await folio.api(`/api/docs/${three.id}`)).json();
    assert.deepEqual([draft.fields.headline, draft.fields.rating, draft.fields.tags, draft.problems], ['Three', 1, ['rust', 'crdt'], []]);
    assert.equal((await send(`/api/docs/${three.id}/versions/9/restore`, 'POST')).status, 404);
    // The draft's preview page shows the entry's fields under their names.
    const { url } = await (await send(`/api/docs/${three.id}/preview`, 'POST')).json();
    const page = await (await fetch(url)).text();
    assert.match(page, /<title>Three/);
    assert.match(page, /<section><h2>tags<\/h2><p>rust, crdt<\/p><\/section>/);
    assert.match(page, /<section><h2>rating<\/h2><p>1<\/p><\/section>/);
  } finally {
    disconnect(editor);
  }
});

test('a schema change is refused only when it would invalidate published entries, and names them', async () => {
  const current = async () => (await (await folio.api('/api/collections/articles')).json());
  const put = (fields, force = false) => send(`/api/collections/articles${force ? '?force=true' : ''}`, 'PUT', { label: 'Articles', fields });
  const { fields, version } = await current();
  const change = (name, f) => fields.map((x) => (x.name === name ? f(x) : x));

  // A tightening no published entry breaks is simply a new version: every rating is at least 1.
  let res = await put(change('rating', (f) => ({ ...f, min: 1 })));
  assert.deepEqual([res.status, (await res.json()).version], [200, version + 1]);

  // max 5 → 4: only `two` (rated 5) breaks; it is named with the reason.
  const lower = change('rating', (f) => ({ ...f, min: 1, max: 4 }));
  res = await put(lower);
  let { error } = await res.json();
  assert.deepEqual([res.status, error.code, error.broken, error.unchecked], [409, 'incompatible_change', 1, 0]);
  assert.deepEqual(error.entries.map((e) => [e.slug, e.title, e.problems]), [['two', 'Two', [{ name: 'rating', message: 'must be at most 4' }]]]);
  assert.equal(error.entries[0].doc_id, published[1].id);

  // Removing a field breaks only the entries holding a value in it (One and Four set featured).
  res = await put(fields.filter((f) => f.name !== 'featured'));
  ({ error } = await res.json());
  assert.deepEqual(error.entries.map((e) => e.slug).sort(), ['four', 'one']);

  // Rich text is not in the list summaries: each entry is judged from its published version.
  res = await put(change('body', (f) => ({ ...f, required: true })));
  ({ error } = await res.json());
  const listed = (await read('/api/content/articles?limit=100')).body.entries.map((e) => e.slug);
  assert.deepEqual(error.entries.map((e) => e.slug).sort(), listed.filter((s) => s !== 'sixth').sort());
  assert.equal(error.broken, listed.length - 1, 'every published entry without body text');

  // Nothing changed by the refusals; forced, it applies.
  assert.equal((await current()).version, version + 1);
  res = await put(lower, true);
  assert.deepEqual([res.status, (await res.json()).version], [200, version + 2]);
});
