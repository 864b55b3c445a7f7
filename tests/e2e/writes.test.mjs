// JSON writes into the live draft: PATCH /api/docs/{doc} and POST /api/docs with fields,
// checked by the content-type contract, applied as one CRDT edit that open editors see live,
// and merged with an author's concurrent typing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, connect, disconnect, synced, waitFor } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('writes'); });
after(async () => { await folio?.stop(); });

const send = (path, method, body) => folio.api(path, {
  method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

const NOTES = {
  name: 'notes', label: 'Notes', fields: [
    { name: 'title', type: 'text', required: true, max_length: 200 },
    { name: 'body', type: 'richtext' },
    { name: 'rating', type: 'number', min: 0, max: 5 },
    { name: 'kind', type: 'select', options: ['memo', 'essay'] },
    { name: 'summary', type: 'text' },
  ],
};

test('POST /api/docs with fields creates an entry with content; bad values are refused by name', async () => {
  assert.equal((await send('/api/collections', 'POST', NOTES)).status, 201);
  let res = await send('/api/docs', 'POST', {
    collection: 'notes', slug: 'first-note',
    fields: { title: 'First', body: { markdown: 'Hello **there**' }, rating: 4, kind: 'memo' },
  });
  assert.equal(res.status, 201);
  const created = await res.json();
  assert.equal(created.slug, 'first-note');
  assert.equal(created.fields.title, 'First');
  assert.equal(created.fields.body.html, '<p>Hello <strong>there</strong></p>');
  // Stored in the document itself, as a Yjs client reads it.
  const c = connect(folio, created.id);
  await synced(c.provider);
  assert.equal(c.doc.getText('title').toString(), 'First');
  assert.equal(c.doc.getMap('fields').get('rating'), 4);
  disconnect(c);

  // Every bad value named, nothing created or changed.
  res = await send('/api/docs', 'POST', { collection: 'notes', fields: { title: 7, rating: 9, nope: 1 } });
  assert.equal(res.status, 422);
  let { error } = await res.json();
  assert.equal(error.code, 'invalid_fields');
  assert.deepEqual(error.fields.map((f) => f.name).sort(), ['nope', 'rating', 'title']);
  res = await send(`/api/docs/${created.id}`, 'PATCH', { fields: { kind: 'poem', rating: 2 } });
  assert.equal(res.status, 422);
  ({ error } = await res.json());
  assert.deepEqual(error.fields, [{ name: 'kind', message: '`poem` is not one of the options (memo, essay)' }]);
  const draft = await (await folio.api(`/api/docs/${created.id}`)).json();
  assert.equal(draft.fields.rating, 4, 'nothing of a refused write is applied');

  // Not JSON, an unknown document, a viewer: refused with their own codes.
  res = await folio.api(`/api/docs/${created.id}`, { method: 'PATCH', body: '{' });
  assert.equal(res.status, 400);
  res = await send('/api/docs/never-created', 'PATCH', { fields: { title: 'x' } });
  assert.equal(res.status, 404);
  const viewer = await folio.token({ role: 'viewer' });
  res = await fetch(`${folio.url}/api/docs/${created.id}`, {
    method: 'PATCH', headers: { authorization: `Bearer ${viewer}` }, body: '{"fields": {}}',
  });
  assert.equal(res.status, 403);
});

test('a PATCH while a stock Yjs client types in the same field: both edits are kept, seen live', async () => {
  let res = await send('/api/docs', 'POST', { collection: 'notes', fields: { title: 'Hello world' } });
  const { id } = await res.json();
  const author = connect(folio, id);
  await synced(author.provider);
  const title = author.doc.getText('title');
  // The author types at the end of the field, one keystroke every 15 ms, while the writer
  // reads the field and changes its first word.
  let typed = '';
  const typing = (async () => {
    for (const ch of ' and more') {
      title.insert(title.length, ch);
      typed += ch;
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  await new Promise((r) => setTimeout(r, 40));
  const base = (await (await folio.api(`/api/docs/${id}`)).json()).fields.title;
  res = await send(`/api/docs/${id}`, 'PATCH', {
    fields: { title: base.replace('Hello', 'Howdy') }, base: { title: base },
  });
  assert.equal(res.status, 200);
  await typing;
  const want = 'Howdy world and more';
  await waitFor(() => title.toString() === want, 10_000, `the author sees "${want}" (has "${title.toString()}")`);
  await waitFor(async () => (await (await folio.api(`/api/docs/${id}`)).json()).fields.title === want,
    10_000, 'the server has both edits');
  assert.equal(typed, ' and more');

  // A PATCH's latency until the connected editor sees it, over 20 writes.
  const times = [];
  for (let i = 0; i < 20; i++) {
    const value = `Version ${i}`;
    const seen = new Promise((resolve) => {
      const check = () => { if (title.toString() === value) { title.unobserve(check); resolve(); } };
      title.observe(check);
    });
    const t0 = performance.now();
    res = await send(`/api/docs/${id}`, 'PATCH', { fields: { title: value } });
    assert.equal(res.status, 200);
    await seen;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  // The baseline, same run: a keystroke of another stock Yjs client until the editor sees it.
  const other = connect(folio, id);
  await synced(other.provider);
  const relayed = [];
  for (let i = 0; i < 20; i++) {
    const seen = new Promise((resolve) => {
      const check = () => { if (title.toString().endsWith(`#${i}`)) { title.unobserve(check); resolve(); } };
      title.observe(check);
    });
    const t0 = performance.now();
    other.doc.getText('title').insert(other.doc.getText('title').length, `#${i}`);
    await seen;
    relayed.push(performance.now() - t0);
  }
  relayed.sort((a, b) => a - b);
  console.log(`PATCH until a connected editor sees it: median ${times[10].toFixed(1)} ms, ` +
    `max ${times[19].toFixed(1)} ms; a Yjs client's edit relayed to it: median ${relayed[10].toFixed(1)} ms ` +
    `(20 each, wrangler dev; ratio ${(times[10] / relayed[10]).toFixed(1)}x)`);
  disconnect(other);
  disconnect(author);
});

test('rich text from Markdown and ProseMirror JSON reaches an open editor as one edit', async () => {
  const { id } = await (await send('/api/docs', 'POST', { collection: 'notes', fields: { title: 'R' } })).json();
  const author = connect(folio, id);
  await synced(author.provider);
  let res = await send(`/api/docs/${id}`, 'PATCH', {
    fields: { body: { markdown: '# Head\n\n- one\n- two\n\n[link](https://example.com) and <script>x</script>' } },
  });
  assert.equal(res.status, 200);
  const draft = await res.json();
  assert.equal(draft.fields.body.html,
    '<h1>Head</h1><ul><li><p>one</p></li><li><p>two</p></li></ul><p><a href="https://example.com" rel="noopener noreferrer nofollow">link</a> and &lt;script&gt;x&lt;/script&gt;</p>');
  const body = author.doc.getXmlFragment('body');
  await waitFor(() => body.length === 3, 10_000, 'the editor has the three blocks');
  assert.equal(body.get(0).nodeName, 'heading');
  // The author types in the heading while a writer who read the body before changes only
  // the last paragraph: with what it read as `base`, only that block is replaced, so the
  // keystrokes stay.
  const read = draft.fields.body;
  body.get(0).get(0).insert(4, ' typed');
  res = await send(`/api/docs/${id}`, 'PATCH', {
    fields: { body: { markdown: '# Head\n\n- one\n- two\n\nA new last paragraph' } },
    base: { body: read },
  });
  assert.equal(res.status, 200);
  await waitFor(() => body.toString().includes('A new last paragraph'), 10_000, 'the write reaches the editor');
  await waitFor(async () => (await (await folio.api(`/api/docs/${id}`)).json()).fields.body.html ===
    '<h1>Head typed</h1><ul><li><p>one</p></li><li><p>two</p></li></ul><p>A new last paragraph</p>', 10_000, 'both kept');
  // A posts document takes the same writes; a javascript: link is dropped by the allowlist.
  const post = await (await send('/api/docs', 'POST', {
    fields: { title: 'A post', body: { type: 'doc', content: [{ type: 'paragraph', content: [
      { type: 'text', text: 'x', marks: [{ type: 'link', attrs: { href: 'javascript:alert(1)' } }] }] }] } },
  })).json();
  const got = await (await folio.api(`/api/docs/${post.id}`)).json();
  assert.equal(got.title, 'A post');
  assert.equal(got.html, '<p>x</p>');
  disconnect(author);
});

test('hostile writes get a clear error and reset nothing', async () => {
  const { instance } = await (await fetch(`${folio.url}/health`)).json();
  const { id } = await (await send('/api/docs', 'POST', { collection: 'notes', fields: { title: 'Safe' } })).json();
  // Nested past serde's limit, Markdown nested 100k deep, a body over the cap, a huge diff.
  let res = await folio.api(`/api/docs/${id}`, { method: 'PATCH', body: '{"fields":' + '['.repeat(5000) + ']'.repeat(5000) + '}' });
  assert.equal(res.status, 400);
  res = await send(`/api/docs/${id}`, 'PATCH', { fields: { body: { markdown: '>'.repeat(100_000) + ' deep' } } });
  assert.equal(res.status, 200);
  assert.match((await res.json()).fields.body.text, /deep/);
  res = await send(`/api/docs/${id}`, 'PATCH', { fields: { title: 'x'.repeat(2 << 20) } });
  assert.equal(res.status, 413);
  const a = Array.from({ length: 3000 }, (_, i) => `word${i * 7919 % 1000}`).join(' ');
  const b = Array.from({ length: 3000 }, (_, i) => `term${i * 104729 % 1000}`).join(' ');
  const took = [];
  for (const summary of [a, b, a]) {
    const t0 = performance.now();
    res = await send(`/api/docs/${id}`, 'PATCH', { fields: { summary } });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).fields.summary, summary);
    took.push(performance.now() - t0);
  }
  // The diff's bound (MAX_EDIT_DISTANCE) keeps a rewrite of 20 KB of text cheap: printed.
  console.log(`PATCH rewriting a ${a.length}-character text field: ${took.map((t) => t.toFixed(0)).join(', ')} ms`);
  const after = await (await fetch(`${folio.url}/health`)).json();
  assert.equal(after.instance, instance, 'no panic reset the worker');
});
