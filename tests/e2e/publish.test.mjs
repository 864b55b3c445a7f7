// Publishing: drafts become versioned posts in D1 and KV, served by the stateless reader API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, connect, disconnect, synced, waitFor, editDoc, paragraph, Y } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('publish'); });
after(async () => { await folio?.stop(); });

const api = (path, init) => folio.api(path, init);
const publish = async (doc) => {
  const res = await api(`/api/docs/${doc}/publish`, { method: 'POST' });
  return { status: res.status, body: await res.json() };
};

const edit = (doc, write) => editDoc(folio, doc, write);

test('publish, read, ETag, and edits invisible until the next publish', async () => {
  await edit('pub-1', (d) => {
    d.getText('title').insert(0, 'Hello Readers');
    d.getMap('meta').set('tags', ['news']);
    paragraph(d, 'First version.');
  });
  const first = await publish('pub-1');
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual([first.body.version, first.body.slug, first.body.created], [1, 'hello-readers', true]);

  const res = await api('/api/posts/hello-readers');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('cache-control'), /max-age/);
  const etag = res.headers.get('etag');
  assert.equal(etag, '"pub-1.1"');
  const post = await res.json();
  assert.equal(post.html, '<p>First version.</p>');
  assert.equal(post.title, 'Hello Readers');
  assert.deepEqual(post.tags, ['news']);
  assert.equal(post.version, 1);
  assert.match(post.published_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(post.json.content[0].content[0], { type: 'text', text: 'First version.' });
  const cached = await api('/api/posts/hello-readers', { headers: { 'If-None-Match': etag } });
  assert.equal(cached.status, 304);

  // Unchanged content: the same version, not a new one.
  const again = await publish('pub-1');
  assert.deepEqual([again.body.version, again.body.created], [1, false]);

  await edit('pub-1', (d) => paragraph(d, 'Second paragraph.'));
  assert.equal((await (await api('/api/posts/hello-readers')).json()).version, 1, 'draft edits stay private');
  const second = await publish('pub-1');
  assert.equal(second.body.version, 2);
  // KV takes one write a second per key: a version published sooner reaches KV by the alarm
  // (about a second later); until then readers keep the previous version, never an older one.
  let updated;
  await waitFor(async () => {
    updated = await api('/api/posts/hello-readers', { headers: { 'If-None-Match': etag } });
    return updated.status === 200;
  }, 5000, 'version 2 reaches readers');
  const v2 = await updated.json();
  assert.equal(v2.version, 2);
  assert.equal(updated.headers.get('etag'), '"pub-1.2"');
  assert.equal(v2.html, '<p>First version.</p><p>Second paragraph.</p>');
  assert.equal(v2.published_at, post.published_at, 'first publication time is kept');

  const v1 = await (await api('/api/posts/hello-readers/versions/1')).json();
  assert.equal(v1.html, '<p>First version.</p>');
  assert.equal((await api('/api/posts/hello-readers/versions/9')).status, 404);
  const versions = await (await api('/api/docs/pub-1/versions')).json();
  assert.deepEqual(versions.versions.map((v) => v.version), [2, 1]);

  const page = await api('/p/hello-readers');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy'), /default-src 'none'/);
  const html = await page.text();
  assert.match(html, /<h1>Hello Readers<\/h1><p>First version.<\/p><p>Second paragraph.<\/p>/);
});

test('unpublish hides the post from readers; versions remain; republish brings it back', async () => {
  await edit('pub-2', (d) => { d.getText('title').insert(0, 'Short lived'); paragraph(d, 'x'); });
  assert.equal((await publish('pub-2')).status, 200);
  assert.equal((await api('/api/posts/short-lived')).status, 200);
  const res = await api('/api/docs/pub-2/unpublish', { method: 'POST' });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).status, 'unpublished');
  // KV writes are coalesced to one a second: the delete lands within about a second.
  await waitFor(async () => (await api('/api/posts/short-lived')).status === 404, 5000, 'post gone');
  assert.equal((await api('/p/short-lived')).status, 404);
  assert.equal((await (await api('/api/docs/pub-2/versions')).json()).versions.length, 1);
  const list = await (await api('/api/posts?limit=100')).json();
  assert.ok(!list.posts.some((p) => p.slug === 'short-lived'));
  const back = await publish('pub-2');
  assert.deepEqual([back.status, back.body.version], [200, 1]);
  await waitFor(async () => (await api('/api/posts/short-lived')).status === 200, 5000, 'post back');
});

test('slugs: derived from the title, taken by another document → 409, none → 400', async () => {
  await edit('slug-a', (d) => { d.getText('title').insert(0, 'Shared Name'); paragraph(d, 'a'); });
  await edit('slug-b', (d) => { d.getText('title').insert(0, 'Other'); d.getMap('meta').set('slug', 'Shared Name'); paragraph(d, 'b'); });
  assert.equal((await publish('slug-a')).body.slug, 'shared-name');
  const taken = await publish('slug-b');
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error.code, 'slug_taken');
  await edit('slug-c', (d) => paragraph(d, 'no title'));
  const none = await publish('slug-c');
  assert.equal(none.status, 400);
  assert.equal(none.body.error.code, 'slug_required');
  assert.equal((await publish('never-written-doc')).status, 404);
});

test('twenty concurrent publishes of the same content create exactly one version', async () => {
  await edit('race-1', (d) => { d.getText('title').insert(0, 'Race'); paragraph(d, 'same'); });
  const results = await Promise.all(Array.from({ length: 20 }, () => publish('race-1')));
  assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.map((r) => r.status)));
  assert.deepEqual([...new Set(results.map((r) => r.body.version))], [1]);
  assert.equal(results.filter((r) => r.body.created).length, 1);
  const versions = await (await api('/api/docs/race-1/versions')).json();
  assert.deepEqual(versions.versions.map((v) => v.version), [1]);
});

test('publishes racing with edits give contiguous versions, never going backwards', async () => {
  await edit('race-2', (d) => { d.getText('title').insert(0, 'Moving'); paragraph(d, '0'); });
  const writer = connect(folio, 'race-2');
  try {
    await synced(writer.provider);
    const seen = [];
    const publishes = [];
    for (let i = 1; i <= 10; i++) {
      paragraph(writer.doc, String(i));
      await new Promise((r) => setTimeout(r, 30));
      publishes.push(publish('race-2').then((r) => seen.push(r.body.version)));
    }
    await Promise.all(publishes);
    const versions = (await (await api('/api/docs/race-2/versions')).json()).versions.map((v) => v.version);
    const max = Math.max(...versions);
    assert.deepEqual(versions, Array.from({ length: max }, (_, i) => max - i), 'contiguous, no duplicate');
    // KV settles on the newest version.
    await waitFor(async () => (await (await api('/api/posts/moving')).json()).version === max, 5000, 'latest in KV');
  } finally {
    disconnect(writer);
  }
});

test('listing: newest first, tag filter, pagination by cursor', async () => {
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const id = `list-${i}`;
    ids.push(id);
    await edit(id, (d) => {
      d.getText('title').insert(0, `Listed ${i}`);
      d.getMap('meta').set('tags', i % 2 === 0 ? ['even', 'all'] : ['all']);
      paragraph(d, `post ${i}`);
    });
    assert.equal((await publish(id)).status, 200);
    await new Promise((r) => setTimeout(r, 5)); // distinct publication times
  }
  const pages = [];
  let cursor = null;
  do {
    const res = await api(`/api/posts?tag=all&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200);
    const body = await res.json();
    pages.push(body.posts.map((p) => p.slug));
    cursor = body.next_cursor;
  } while (cursor);
  assert.deepEqual(pages, [['listed-4', 'listed-3'], ['listed-2', 'listed-1'], ['listed-0']]);
  const even = await (await api('/api/posts?tag=even')).json();
  assert.deepEqual(even.posts.map((p) => p.slug), ['listed-4', 'listed-2', 'listed-0']);
  assert.equal(even.next_cursor, null);
});

test('reader errors: 404 unknown slug, 400 naming the parameter, CORS preflight', async () => {
  const missing = await api('/api/posts/no-such-post');
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'post_not_found');
  for (const [path, parameter] of [
    ['/api/posts?limit=0', 'limit'], ['/api/posts?limit=abc', 'limit'], ['/api/posts?cursor=zzz', 'cursor'],
    ['/api/posts/Bad_Slug', 'slug'], ['/api/posts/ok/versions/0', 'version'],
  ]) {
    const res = await api(path);
    assert.equal(res.status, 400, path);
    const body = await res.json();
    assert.equal(body.error.code, 'invalid_parameter', path);
    assert.equal(body.error.parameter, parameter, path);
  }
  const pre = await api('/api/posts/x', { method: 'OPTIONS' });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-methods'), /GET/);
});

test('hostile content is sanitized on the public page', async () => {
  await edit('evil-1', (d) => {
    d.getText('title').insert(0, '<img src=x onerror=alert(1)>');
    d.getMap('meta').set('slug', 'evil');
    const body = d.getXmlFragment('body');
    const s = new Y.XmlElement('script');
    const p = new Y.XmlElement('paragraph');
    body.insert(0, [s, p]);
    s.insert(0, [new Y.XmlText('alert(2)')]);
    p.setAttribute('onclick', 'alert(3)');
    const t = new Y.XmlText();
    p.insert(0, [t]);
    t.insert(0, 'click', { link: { href: 'javascript:alert(4)' } });
  });
  assert.equal((await publish('evil-1')).status, 200);
  const html = await (await api('/p/evil')).text();
  assert.ok(!/<script|onerror=|onclick=|javascript:/i.test(html.replace(/&lt;img src=x onerror=alert\(1\)&gt;/g, '')), html);
  assert.match(html, /<h1>&lt;img src=x onerror=alert\(1\)&gt;<\/h1>alert\(2\)<p>click<\/p>/);
});

test('restoring a version while an editor is connected: the editor receives it live', async () => {
  await edit('restore-1', (d) => { d.getText('title').insert(0, 'Restorable'); paragraph(d, 'version one text'); });
  assert.equal((await publish('restore-1')).body.version, 1);
  const editor = connect(folio, 'restore-1');
  try {
    await synced(editor.provider);
    editor.doc.transact(() => {
      const title = editor.doc.getText('title');
      title.delete(0, title.length);
      title.insert(0, 'Rewritten');
      paragraph(editor.doc, 'version two text');
    });
    await waitFor(async () => (await (await api('/api/docs/restore-1')).json()).title === 'Rewritten', 10_000, 'v2 draft');
    assert.equal((await publish('restore-1')).body.version, 2);

    const res = await api('/api/docs/restore-1/versions/1/restore', { method: 'POST' });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { restored: 1, title: 'Restorable' });
    // The connected editor sees the restored content, as a normal (forward) edit.
    await waitFor(() => editor.doc.getText('title').toString() === 'Restorable', 10_000, 'editor got the title');
    const body = editor.doc.getXmlFragment('body');
    await waitFor(() => body.length === 1 && body.get(0).toString().includes('version one text'), 10_000, 'editor got the body');
    const draft = await (await api('/api/docs/restore-1')).json();
    assert.equal(draft.html, '<p>version one text</p>');
    assert.equal(draft.slug, 'restorable');
    // Publishing the restored draft is a new version (history moves forward).
    assert.equal((await publish('restore-1')).body.version, 3);
    assert.equal((await api('/api/docs/restore-1/versions/9/restore', { method: 'POST' })).status, 404);
  } finally {
    disconnect(editor);
  }
});

test('the test-only fault switch does not exist unless the worker runs with FOLIO_FAULTS=on', async () => {
  const res = await api('/api/docs/pub-1/faults', { method: 'POST', body: JSON.stringify({ crash_at: 'publish.written' }) });
  assert.equal(res.status, 404);
  // And publishing is unaffected.
  assert.equal((await publish('pub-1')).status, 200);
});
