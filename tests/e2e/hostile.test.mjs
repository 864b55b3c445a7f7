// The hostile-content corpus (tests/data/hostile-content.json), written by a real Yjs client
// straight into the CRDT (no editor schema), published, and served on /p/{slug} and the
// reader API: nothing executable may reach a reader.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startFolio, connect, disconnect, synced, waitFor, Y } from './folio.mjs';

const corpus = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../data/hostile-content.json'), 'utf8'));
const TAGS = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'blockquote', 'pre', 'code', 'hr', 'br', 'img', 'a', 'strong', 'em', 's', 'u']);
const ATTRS = new Set(['href', 'src', 'alt', 'title', 'start', 'class', 'rel', 'srcset', 'sizes', 'width', 'height', 'loading', 'decoding']);
// The page's own chrome around the post.
const PAGE_TAGS = new Set([...TAGS, '!doctype', 'html', 'head', 'meta', 'title', 'style', 'body', 'article']);
const PAGE_ATTRS = new Set([...ATTRS, 'lang', 'charset', 'name', 'content']);

let folio;
before(async () => { folio = await startFolio('hostile'); });
after(async () => { await folio?.stop(); });

function build(parent, node) {
  if (typeof node.text === 'string') {
    const t = new Y.XmlText();
    parent.insert(parent.length, [t]);
    t.insert(0, node.text, node.format ?? {});
    return;
  }
  const el = new Y.XmlElement(node.tag);
  parent.insert(parent.length, [el]);
  for (const [k, v] of Object.entries(node.attrs ?? {})) el.setAttribute(k, v);
  for (const child of node.children ?? []) build(el, child);
}

const unescape = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const safeUrl = (u) => {
  const cleaned = u.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  const colon = cleaned.indexOf(':');
  const path = cleaned.search(/[/?#]/);
  if (colon >= 0 && (path < 0 || colon < path)) return /^(https?|mailto)$/i.test(cleaned.slice(0, colon));
  return true;
};

/** Fails if `html` has any tag, attribute or URL outside the allowlists. */
function assertSafe(name, html, tags, attrs) {
  for (const m of html.matchAll(/<\/?([!a-zA-Z0-9-]+)([^>]*)>/g)) {
    assert.ok(tags.has(m[1].toLowerCase()), `${name}: tag <${m[1]}>`);
    for (const a of m[2].matchAll(/([^\s=]+)="([^"]*)"/g)) {
      assert.ok(attrs.has(a[1].toLowerCase()), `${name}: attribute ${a[1]}`);
      if (a[1] === 'href' || a[1] === 'src') assert.ok(safeUrl(unescape(a[2])), `${name}: url ${a[2]}`);
    }
  }
  assert.ok(!/<script|<iframe|<svg|<object|<embed|<form|<input|<base/i.test(html), `${name}: dangerous element`);
}

test('every case of the hostile corpus publishes clean', async () => {
  for (const [i, c] of corpus.cases.entries()) {
    const id = `hostile-${i}`;
    const client = connect(folio, id);
    try {
      await synced(client.provider);
      client.doc.transact(() => {
        client.doc.getText('title').insert(0, `<script>alert(${i})</script> ${c.name}`);
        client.doc.getMap('meta').set('slug', id);
        const body = client.doc.getXmlFragment('body');
        if (c.deep) {
          let parent = body;
          // Deeper than the renderer keeps (32) but within what a document may hold (128).
          for (let d = 0; d < 120; d++) { const q = new Y.XmlElement('blockquote'); parent.insert(parent.length, [q]); parent = q; }
          parent.insert(0, [new Y.XmlText('bottom')]);
        } else {
          for (const node of c.body) build(body, node);
        }
      });
      await waitFor(async () => (await folio.api(`/api/docs/${id}`)).status === 200, 10_000, `${c.name} stored`);
    } finally {
      disconnect(client);
    }
    const res = await folio.api(`/api/docs/${id}/publish`, { method: 'POST' });
    assert.equal(res.status, 200, `${c.name}: ${await res.clone().text()}`);
    const post = await (await folio.api(`/api/posts/${id}`)).json();
    assertSafe(c.name, post.html, TAGS, ATTRS);
    const page = await folio.api(`/p/${id}`);
    assert.match(page.headers.get('content-security-policy'), /default-src 'none'/);
    const html = await page.text();
    assertSafe(`${c.name} (page)`, html.replace(/<style>[^<]*<\/style>/, ''), PAGE_TAGS, PAGE_ATTRS);
    assert.ok(html.includes('&lt;script&gt;alert('), `${c.name}: the title is escaped text`);
  }
});
