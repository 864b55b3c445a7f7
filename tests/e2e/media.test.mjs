// Media on R2 and the edge cache: uploads (dedup, type and size refusals), the public files
// (ETag, Range, width variants), deletion refused while referenced, images rendered with a
// srcset, and reader responses served from the Cache API, purged by publish, unpublish and a
// schema change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, waitFor, editDoc, paragraph, Y } from './folio.mjs';
import { png, jpeg, size } from '../images.mjs';

let folio;
before(async () => { folio = await startFolio('media'); });
after(async () => { await folio?.stop(); });

const api = (path, init) => folio.api(path, init);
const upload = async (bytes, type, query = '') => {
  const res = await api(`/api/media${query}`, { method: 'POST', body: bytes, headers: { 'content-type': type } });
  return { status: res.status, body: await res.json() };
};
const publish = async (doc) => {
  const res = await api(`/api/docs/${doc}/publish`, { method: 'POST' });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
};
const image = (doc, src, alt) => {
  const el = new Y.XmlElement('image');
  el.setAttribute('src', src);
  el.setAttribute('alt', alt);
  doc.getXmlFragment('body').insert(doc.getXmlFragment('body').length, [el]);
};

test('an upload answers its id, type, size and hash; the same bytes are stored once', async () => {
  const bytes = png(800, 600, { seed: 2 });
  const first = await upload(bytes, 'image/png', '?filename=chart.png&alt=A%20chart');
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const { id, url, type, width, height, sha256, filename, alt } = first.body;
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(sha256.slice(0, 32), id);
  assert.deepEqual([url, type, width, height, first.body.bytes], [`/media/${id}`, 'image/png', 800, 600, bytes.length]);
  assert.deepEqual([filename, alt], ['chart.png', 'A chart']);
  const again = await upload(bytes, 'image/png');
  assert.equal(again.status, 200);
  assert.equal(again.body.id, id);

  const list = await (await api('/api/media?limit=1')).json();
  assert.equal(list.media.length, 1);
  assert.ok(list.media.some((m) => m.id === id) || list.next_cursor, 'listed');
  const all = await (await api('/api/media')).json();
  assert.equal(all.media.filter((m) => m.id === id).length, 1, 'listed once');
  assert.equal((await api('/api/media?limit=0')).status, 400);
  // A viewer may list; only writers may upload.
  const viewer = await folio.token({ user: 'v', role: 'viewer' });
  assert.equal((await api('/api/media', { headers: { authorization: `Bearer ${viewer}` } })).status, 200);
  const refused = await api('/api/media', { method: 'POST', body: bytes, headers: { authorization: `Bearer ${viewer}`, 'content-type': 'image/png' } });
  assert.equal(refused.status, 403);
});

test('415 for a type that is not the declared one, for SVG and for unknown bytes; 422 for a broken header', async () => {
  const asJpeg = await upload(png(10, 10), 'image/jpeg');
  assert.equal(asJpeg.status, 415);
  assert.equal(asJpeg.body.error.code, 'unsupported_media_type');
  assert.match(asJpeg.body.error.message, /declared as image\/jpeg but the bytes are image\/png/);
  const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
  for (const type of ['image/svg+xml', 'image/png']) {
    const res = await upload(Buffer.from(svg), type);
    assert.equal(res.status, 415);
    assert.match(res.body.error.message, /SVG/);
  }
  assert.equal((await upload(Buffer.from('just text'), 'text/plain')).status, 415);
  const truncated = png(10, 10).subarray(0, 20);
  const broken = await upload(truncated, 'image/png');
  assert.equal(broken.status, 422);
  assert.equal(broken.body.error.code, 'unreadable_media');
});

test('413 from Content-Length alone, before the body is read; a chunked body is cut off', async () => {
  // wrangler dev's local proxy takes in the whole body before the worker runs (the network
  // in production streams it), so what shows the body was not read is the code: the worker
  // refuses from the header (media_too_large), where reading would count the bytes
  // (body_too_large, as for the chunked upload below).
  const big = Buffer.alloc(26_000_000, 1);
  const declared = await api('/api/media', { method: 'POST', body: big, headers: { 'content-type': 'image/jpeg' } });
  assert.equal(declared.status, 413);
  assert.equal((await declared.json()).error.code, 'media_too_large');
  const chunks = new ReadableStream({
    start(c) { for (let i = 0; i < 27; i++) c.enqueue(new Uint8Array(1_000_000)); c.close(); },
  });
  const chunked = await api('/api/media', { method: 'POST', body: chunks, duplex: 'half', headers: { 'content-type': 'image/jpeg' } });
  assert.equal(chunked.status, 413);
  assert.equal((await chunked.json()).error.code, 'body_too_large');
});

test('GET /media/{id}: immutable, strong ETag and 304, nosniff, Range 206 and 416, cache miss then hit', async () => {
  const bytes = png(300, 200, { seed: 3 });
  const { body: { id } } = await upload(bytes, 'image/png');
  const first = await fetch(`${folio.url}/media/${id}`);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('content-type'), 'image/png');
  assert.equal(first.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(first.headers.get('etag'), `"${id}"`);
  assert.equal(first.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(first.headers.get('folio-cache'), 'miss');
  assert.deepEqual(Buffer.from(await first.arrayBuffer()), bytes);
  let second;
  await waitFor(async () => {
    second = await fetch(`${folio.url}/media/${id}`);
    return second.headers.get('folio-cache') === 'hit';
  }, 5000, 'the second read comes from the cache');
  assert.deepEqual(Buffer.from(await second.arrayBuffer()), bytes);
  assert.equal(second.headers.get('etag'), `"${id}"`);
  for (const cached of [true, false]) {
    const notModified = await fetch(`${folio.url}/media/${id}${cached ? '' : '?w=1920'}`, { headers: { 'if-none-match': `"${id}"` } });
    assert.equal(notModified.status, 304, `304 (${cached ? 'from the cache' : 'from R2'})`);
  }
  const part = await fetch(`${folio.url}/media/${id}`, { headers: { range: 'bytes=10-109' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 10-109/${bytes.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(10, 110));
  const tail = await fetch(`${folio.url}/media/${id}`, { headers: { range: 'bytes=-5' } });
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), bytes.subarray(bytes.length - 5));
  const past = await fetch(`${folio.url}/media/${id}`, { headers: { range: `bytes=${bytes.length}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${bytes.length}`);
  assert.equal((await fetch(`${folio.url}/media/${'0'.repeat(32)}`)).status, 404);
  assert.equal((await fetch(`${folio.url}/media/not-an-id`)).status, 400);
  assert.equal((await fetch(`${folio.url}/media/${id}?w=500`)).status, 400);
});

test('each width is made once, kept, and never wider than the original', async () => {
  const original = jpeg(2400, 1600, { noise: 20, seed: 4 });
  const { body: { id, width } } = await upload(original, 'image/jpeg');
  assert.equal(width, 2400);
  for (const w of [320, 640, 960, 1280, 1920]) {
    const started = performance.now();
    const res = await fetch(`${folio.url}/media/${id}?w=${w}`);
    const made = performance.now() - started;
    assert.equal(res.status, 200, `w=${w}`);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.equal(res.headers.get('etag'), `"${id}-w${w}"`);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.deepEqual(size(bytes), { width: w, height: Math.floor((1600 * w) / 2400) });
    // Kept in R2: a Range request (which bypasses the edge cache) reads the same bytes.
    const kept = await fetch(`${folio.url}/media/${id}?w=${w}`, { headers: { range: 'bytes=0-' } });
    assert.equal(kept.status, 206);
    assert.deepEqual(Buffer.from(await kept.arrayBuffer()), bytes);
    console.log(`# variant ${w} px of a 2400x1600 JPEG: first request ${made.toFixed(0)} ms, ${bytes.length} bytes`);
  }
  // A PNG narrower than the width asked: the original itself.
  const small = png(500, 100);
  const { body: { id: smallId } } = await upload(small, 'image/png');
  const res = await fetch(`${folio.url}/media/${smallId}?w=1280`);
  assert.equal(res.headers.get('etag'), `"${smallId}"`);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), small);
});

test('images render with width, height, srcset and lazy loading; delete is refused while a draft or a version refers to it', async () => {
  const { body: { id } } = await upload(jpeg(2000, 1000, { noise: 10, seed: 5 }), 'image/jpeg');
  const unused = (await upload(png(64, 64, { seed: 6 }), 'image/png')).body.id;
  await editDoc(folio, 'media-post', (d) => {
    d.getText('title').insert(0, 'Pictures');
    paragraph(d, 'Look:');
    image(d, `/media/${id}`, 'A gradient');
    image(d, 'javascript:alert(1)', 'refused');
  });
  // The draft refers to it (recorded when its editor left): refused.
  let refusal;
  await waitFor(async () => {
    refusal = await api(`/api/media/${id}`, { method: 'DELETE' });
    return refusal.status === 409;
  }, 10_000, 'the draft reference is recorded');
  const body = await refusal.json();
  assert.equal(body.error.code, 'media_in_use');
  assert.deepEqual(body.error.documents.map((d) => [d.doc_id, d.in]), [['media-post', 'draft']]);

  const published = await publish('media-post');
  const post = await (await api(`/api/posts/${published.slug}`)).json();
  const url = `/media/${id}`;
  assert.equal(post.html, `<p>Look:</p><img src="${url}?w=1280" srcset="${url}?w=320 320w, ${url}?w=640 640w, ` +
    `${url}?w=960 960w, ${url}?w=1280 1280w, ${url}?w=1920 1920w, ${url} 2000w" sizes="(max-width: 2000px) 100vw, 2000px" ` +
    'width="2000" height="1000" alt="A gradient" loading="lazy" decoding="async">');
  const page = await (await fetch(`${folio.url}/p/${published.slug}`)).text();
  assert.ok(page.includes(`srcset="${url}?w=320 320w`), 'the public page has the srcset');

  // The draft no longer has it, the published version still does: refused.
  await editDoc(folio, 'media-post', (d) => d.getXmlFragment('body').delete(1, 1));
  await waitFor(async () => {
    const res = await api(`/api/media/${id}`, { method: 'DELETE' });
    const docs = res.status === 409 ? (await res.json()).error.documents.map((d) => d.in) : [];
    return docs.length === 1 && docs[0] === 'published';
  }, 10_000, 'only the published reference remains');

  // Nothing refers to the other: deleted, with its cached copy.
  assert.equal((await fetch(`${folio.url}/media/${unused}`)).status, 200);
  assert.equal((await api(`/api/media/${unused}`, { method: 'DELETE' })).status, 204);
  assert.equal((await fetch(`${folio.url}/media/${unused}`)).status, 404);
  assert.equal((await api(`/api/media/${unused}`, { method: 'DELETE' })).status, 404);
});

/** Reads `path` until it comes from the cache (the first read stores it in the background). */
async function cachedRead(path) {
  let res;
  await waitFor(async () => {
    res = await fetch(`${folio.url}${path}`);
    return res.headers.get('folio-cache') === 'hit';
  }, 5000, `${path} comes from the cache`);
  return res;
}

test('the edge cache: hit after the first read, purged by publish, unpublish and a schema change', async () => {
  await editDoc(folio, 'cached-post', (d) => { d.getText('title').insert(0, 'Cached'); paragraph(d, 'One.'); });
  await publish('cached-post');
  const first = await fetch(`${folio.url}/api/posts/cached`);
  assert.equal(first.headers.get('folio-cache'), 'miss');
  assert.equal((await first.json()).version, 1);
  const hit = await cachedRead('/api/posts/cached');
  assert.equal((await hit.json()).version, 1);
  const etag = hit.headers.get('etag');
  const notModified = await fetch(`${folio.url}/api/posts/cached`, { headers: { 'if-none-match': etag } });
  assert.deepEqual([notModified.status, notModified.headers.get('folio-cache')], [304, 'hit']);
  await cachedRead('/p/cached');
  await cachedRead('/api/posts');
  // A filtered list is never kept (a publish could not name its key).
  assert.equal((await fetch(`${folio.url}/api/posts?limit=5`)).headers.get('folio-cache'), 'miss');
  assert.equal((await fetch(`${folio.url}/api/posts?limit=5`)).headers.get('folio-cache'), 'miss');

  await editDoc(folio, 'cached-post', (d) => paragraph(d, 'Two.'));
  await publish('cached-post');
  const after = await fetch(`${folio.url}/api/posts/cached`);
  assert.equal(after.headers.get('folio-cache'), 'miss', 'purged by the publish');
  // KV takes the new version within a second; the cache never keeps the old one past that.
  await waitFor(async () => (await (await fetch(`${folio.url}/api/posts/cached`)).json()).version === 2, 5000, 'v2');
  assert.equal((await (await cachedRead('/api/posts/cached')).json()).version, 2);
  assert.ok((await (await cachedRead('/p/cached')).text()).includes('Two.'));
  assert.ok((await (await cachedRead('/api/posts')).json()).posts.some((p) => p.slug === 'cached' && p.version === 2));

  await api('/api/docs/cached-post/unpublish', { method: 'POST' });
  await waitFor(async () => (await fetch(`${folio.url}/api/posts/cached`)).status === 404, 5000, 'unpublished');
  assert.equal((await fetch(`${folio.url}/p/cached`)).status, 404);
  assert.ok(!(await (await fetch(`${folio.url}/api/posts`)).json()).posts.some((p) => p.slug === 'cached'));

  // A collection's list: cached, then purged by a new definition.
  const fields = [{ name: 'name', type: 'text', required: true }];
  assert.equal((await api('/api/collections', { method: 'POST', body: JSON.stringify({ name: 'places', label: 'Places', fields }) })).status, 201);
  await cachedRead('/api/content/places');
  const put = await api('/api/collections/places', { method: 'PUT', body: JSON.stringify({ name: 'places', label: 'Places to go', fields }) });
  assert.equal(put.status, 200, await put.clone().text());
  assert.equal((await fetch(`${folio.url}/api/content/places`)).headers.get('folio-cache'), 'miss', 'purged by the schema change');
});
