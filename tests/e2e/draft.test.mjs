// A document written by a real Yjs client in the TipTap/ProseMirror shape, rendered by the
// server: sanitized HTML, ProseMirror JSON, plain text, word count, metadata.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, connect, disconnect, synced, waitFor, Y } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('draft'); });
after(async () => { await folio?.stop(); });

/** Writes content the way y-prosemirror does (marks as format attributes). */
function writePost(doc) {
  doc.transact(() => {
    doc.getText('title').insert(0, 'My <first> post');
    const meta = doc.getMap('meta');
    meta.set('slug', 'my-first-post');
    meta.set('excerpt', 'An excerpt');
    meta.set('tags', ['news', 'rust', 'news']);
    const heading = new Y.XmlElement('heading');
    const para = new Y.XmlElement('paragraph');
    const list = new Y.XmlElement('bulletList');
    const item = new Y.XmlElement('listItem');
    const itemPara = new Y.XmlElement('paragraph');
    const script = new Y.XmlElement('script');
    doc.getXmlFragment('body').insert(0, [heading, para, list, script]);
    heading.setAttribute('level', 2);
    heading.insert(0, [new Y.XmlText('Intro')]);
    const text = new Y.XmlText();
    para.insert(0, [text]);
    text.insert(0, 'Hello ');
    text.insert(6, 'bold', { bold: {} });
    // As y-prosemirror does: attributes always explicit (an insert without them inherits the
    // formatting at the cursor, a Yjs rule).
    text.insert(10, ' and ', {});
    text.insert(15, 'safe', { link: { href: 'https://example.com/a?b=1&c=2', target: '_blank' } });
    text.insert(19, ' or ', {});
    text.insert(23, 'evil', { link: { href: 'javascript:alert(1)' } });
    para.setAttribute('onclick', 'alert(2)');
    list.insert(0, [item]);
    item.insert(0, [itemPara]);
    itemPara.insert(0, [new Y.XmlText('one item')]);
    script.insert(0, [new Y.XmlText('alert(3)')]);
  });
}

test('a TipTap-shaped draft renders sanitized HTML, JSON, text and metadata', async () => {
  const a = connect(folio, 'post-1');
  try {
    await synced(a.provider);
    writePost(a.doc);
    let draft;
    await waitFor(async () => {
      const res = await folio.api(`/api/docs/post-1`);
      if (res.status !== 200) return false;
      draft = await res.json();
      return draft.text.includes('one item') && draft.html.includes('alert(3)');
    }, 10_000, 'draft rendered');
    assert.equal(draft.id, 'post-1');
    assert.equal(draft.title, 'My <first> post');
    assert.equal(draft.slug, 'my-first-post');
    assert.equal(draft.excerpt, 'An excerpt');
    assert.deepEqual(draft.tags, ['news', 'rust']);
    assert.equal(draft.html,
      '<h2>Intro</h2><p>Hello <strong>bold</strong> and ' +
      '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">safe</a> or evil</p>' +
      '<ul><li><p>one item</p></li></ul>alert(3)');
    assert.deepEqual(draft.json.content[0], { type: 'heading', attrs: { level: 2 }, content: [{ type: 'text', text: 'Intro' }] });
    assert.deepEqual(draft.json.content[1].content[1], { type: 'text', text: 'bold', marks: [{ type: 'bold' }] });
    assert.deepEqual(draft.json.content[1].content[3].marks, [{ type: 'link', attrs: { href: 'https://example.com/a?b=1&c=2' } }]);
    assert.equal(draft.text, 'Intro\nHello bold and safe or evil\none item\nalert(3)');
    assert.equal(draft.word_count, 10);
  } finally {
    disconnect(a);
  }
  const missing = await folio.api(`/api/docs/never-written`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'document_not_found');
});
