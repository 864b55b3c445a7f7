// Writes the checked-in seed corpus (fuzz/seeds/<target>/) of valid and known-bad inputs:
// `node fuzz/make-seeds.mjs`. `make test` replays every file through folio::fuzzing, and
// `make fuzz` starts libFuzzer from them.
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';

const ROOT = path.join(import.meta.dirname, 'seeds');
const seeds = { frames: {}, update: {}, token: {}, render: {}, schema: {} };
const frame = (write) => { const e = encoding.createEncoder(); write(e); return encoding.toUint8Array(e); };
const bytes = (...parts) => Uint8Array.from(parts.flat());
// frames target input: [len: u8][frame]...
const framed = (...fs) => bytes(...fs.map((f) => [Math.min(f.length, 255), ...f.slice(0, 255)]));

const doc = new Y.Doc();
doc.clientID = 7;
doc.getText('t').insert(0, 'hello');
const update = Y.encodeStateAsUpdate(doc);
const step1 = frame((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeSyncStep1(e, new Y.Doc()); });
const step2 = frame((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeSyncStep2(e, doc); });
const upd = frame((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeUpdate(e, update); });
const aw = new awarenessProtocol.Awareness(doc);
aw.setLocalState({ user: { name: 'Ada' } });
const awareness = frame((e) => {
  encoding.writeVarUint(e, 1);
  encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(aw, [doc.clientID]));
});
aw.destroy();

Object.assign(seeds.frames, {
  'editor-sync': framed(step1, step2, upd, awareness, [3]),
  'viewer-edits': framed([3], upd, [3], step2, [3], awareness),
  'truncated-varint': framed([0, 0x80, 0x80]),
  'huge-declared-length': framed([0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]),
  'huge-awareness-count': framed([1, 5, 0xff, 0xff, 0xff, 0xff, 0x0f]),
  'awareness-bad-json': framed([1, 9, 1, 7, 1, 4, 0x7b, 0x7b, 0x7b, 0x7b]),
  'unknown-type': framed([9, 1, 2, 3]),
  'empty-frames': framed([], [], []),
});

// A chain of 2000 nested maps (deep nesting), an update missing its dependency (clock gap),
// and truncations of a valid update.
const deep = new Y.Doc();
deep.clientID = 9;
deep.transact(() => {
  let m = deep.getMap('meta');
  for (let i = 0; i < 2000; i++) { const c = new Y.Map(); m.set('k', c); m = c; }
});
const gap = new Y.Doc();
gap.clientID = 11;
gap.getText('t').insert(0, 'a');
const sv = Y.encodeStateVector(gap);
gap.getText('t').insert(1, 'b');
Object.assign(seeds.update, {
  valid: update,
  empty: Y.encodeStateAsUpdate(new Y.Doc()),
  'deep-nesting': Y.encodeStateAsUpdate(deep),
  'missing-dependency': Y.encodeStateAsUpdate(gap, sv),
  'truncated-half': update.slice(0, update.length >> 1),
  'truncated-last-byte': update.slice(0, -1),
  'huge-struct-count': bytes([0xff, 0xff, 0xff, 0xff, 0x0f, 7, 0]),
  'huge-string-length': bytes([1, 1, 7, 0, 4, 1, 1, 't', 0xff, 0xff, 0xff, 0xff, 0x0f].map((x) => typeof x === 'string' ? x.charCodeAt(0) : x)),
  'client-id-over-53-bits': bytes([1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 4, 1, 1, 0x74, 1, 0x61, 0]),
});

const b64 = (s) => Buffer.from(s).toString('base64url');
Object.assign(seeds.token, {
  'shape': `v1.${b64('{"sub":"a","role":"admin","doc":"*","exp":99999999999,"use":"api"}')}.${b64('x'.repeat(32))}`,
  'unknown-fields': `v1.${b64('{"sub":"a","role":"root","doc":"*","exp":1,"use":"api","x":1}')}.AAAA`,
  'bearer-header': 'Bearer v1.a.b',
  'cookie-header': 'a=1; folio_session=v1.a.b; b',
  'non-utf8': Buffer.from([0x76, 0x31, 0x2e, 0xff, 0xfe, 0x2e, 0x80]),
  'long': `v1.${'A'.repeat(2000)}.B`,
});

// Rich text a client could write, including hostile attributes and deep lists.
const rich = new Y.Doc();
rich.clientID = 13;
rich.transact(() => {
  rich.getText('title').insert(0, '<script>alert(1)</script>');
  const body = rich.getXmlFragment('body');
  const p = new Y.XmlElement('paragraph');
  const text = new Y.XmlText();
  p.insert(0, [text]);
  body.insert(0, [p]);
  text.insert(0, 'click', { link: { href: 'javascript:alert(1)' } });
  text.insert(5, ' bold', { bold: true });
  const img = new Y.XmlElement('image');
  img.setAttribute('src', ' data:text/html,<b>');
  img.setAttribute('onerror', 'alert(1)');
  body.insert(1, [img]);
  let list = new Y.XmlElement('bulletList');
  body.insert(2, [list]);
  for (let i = 0; i < 40; i++) {
    const item = new Y.XmlElement('listItem');
    const inner = new Y.XmlElement('bulletList');
    item.insert(0, [inner]);
    list.insert(0, [item]);
    list = inner;
  }
  const script = new Y.XmlElement('script');
  script.insert(0, [new Y.XmlText('alert(1)')]);
  body.insert(3, [script]);
});
Object.assign(seeds.render, { hostile: Y.encodeStateAsUpdate(rich), plain: update });

// An entry of the fuzzers' collection with every field type (folio::testing::articles),
// right and wrong values side by side in the root map `fields`.
const entry = new Y.Doc();
entry.transact(() => {
  entry.getText('headline').insert(0, 'A headline longer than twenty');
  const p = new Y.XmlElement('paragraph');
  entry.getXmlFragment('body').insert(0, [p]);
  p.insert(0, [new Y.XmlText('words')]);
  const f = entry.getMap('fields');
  f.set('rating', 4.5);
  f.set('featured', 'true');
  f.set('day', '2026-02-29');
  f.set('at', '2026-11-23T10:00:00+01:00');
  f.set('category', 'sport');
  f.set('tags', ['a', 3]);
  f.set('author', { id: 'doc-1' });
  f.set('cover', { src: 'java\tscript:alert(1)', alt: 'x' });
});
seeds.render.fields = Y.encodeStateAsUpdate(entry);

// Definitions, then (after a NUL) a reader query on them.
const articles = JSON.stringify({ name: 'articles', label: 'Articles', fields: [
  { name: 'headline', type: 'text', required: true, max_length: 120 },
  { name: 'body', type: 'richtext' },
  { name: 'rating', type: 'number', min: 0, max: 5, integer: true },
  { name: 'featured', type: 'boolean' }, { name: 'day', type: 'date' }, { name: 'at', type: 'datetime' },
  { name: 'category', type: 'select', options: ['news', 'review'] }, { name: 'tags', type: 'tags' },
  { name: 'author', type: 'reference', collection: 'people' }, { name: 'cover', type: 'image' },
] });
Object.assign(seeds.schema, {
  'every-type': `${articles}\0category=news&rating[gte]=4&day[lt]=2026-01-01&tags=rust&author=p-1&sort=-rating&limit=5&cursor=x`,
  'bad-query': `${articles}\0rating[ne]=1&headline=x&sort=tags&limit=0`,
  refused: JSON.stringify({ name: 'x', label: 'X', fields: [
    { name: 'a', type: 'select', options: ['a', 'a'] }, { name: 'slug', type: 'text' }] }),
});

rmSync(ROOT, { recursive: true, force: true });
for (const [target, files] of Object.entries(seeds)) {
  mkdirSync(path.join(ROOT, target), { recursive: true });
  for (const [name, data] of Object.entries(files)) writeFileSync(path.join(ROOT, target, name), data);
}
console.log(`wrote ${Object.values(seeds).reduce((n, f) => n + Object.keys(f).length, 0)} seeds under fuzz/seeds/`);
