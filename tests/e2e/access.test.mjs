// Access control end to end: every author endpoint and socket message type against every
// role, with tampered, expired, wrong-document and wrong-purpose tokens; what is refused
// changes nothing. Tokens are minted by the running worker with the operator's admin key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import WebSocket from 'ws';
import {
  startFolio, connect, disconnect, synced, waitFor, documentState, rawSocket, upgrade, Y,
} from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('access'); });
after(async () => { await folio?.stop(); });

const DOC = 'guarded';
const frame = (write) => { const e = encoding.createEncoder(); write(e); return encoding.toUint8Array(e); };
const sync = (write) => frame((e) => { encoding.writeVarUint(e, 0); write(e); });
function edit(text, field = 't') {
  const doc = new Y.Doc();
  doc.getText(field).insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}
const as = (token) => (init = {}) => ({ ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } });
const bytes = async (res) => Buffer.from(await res.arrayBuffer());

/** Tokens of every role on DOC, others on another document, and broken ones. */
async function tokens() {
  const t = {};
  for (const role of ['viewer', 'writer', 'editor', 'admin']) {
    t[role] = await folio.token({ user: `${role}-user`, role, doc: role === 'admin' ? '*' : DOC });
  }
  t.otherDoc = await folio.token({ user: 'elsewhere', role: 'editor', doc: 'another-doc' });
  t.expired = await folio.token({ user: 'late', role: 'editor', ttl_seconds: 1 });
  const [v, claims, mac] = t.editor.split('.');
  const forged = Buffer.from(JSON.stringify({
    ...JSON.parse(Buffer.from(claims, 'base64url')), role: 'admin', doc: '*',
  })).toString('base64url');
  t.tampered = `${v}.${forged}.${mac}`;
  t.invite = await folio.token({ user: 'guest', role: 'editor', use: 'invite' });
  await new Promise((r) => setTimeout(r, 1100)); // let `expired` expire
  return t;
}

// Every author operation: method, path, body, and the least role it needs.
const OPS = [
  ['GET', '/api/docs', null, 'viewer', 'all'],
  ['POST', '/api/docs', null, 'writer', 'all'],
  ['GET', `/api/docs/${DOC}/state`, null, 'viewer'],
  ['GET', `/api/docs/${DOC}`, null, 'viewer'],
  ['GET', `/api/docs/${DOC}/versions`, null, 'viewer'],
  ['GET', `/api/docs/${DOC}/schedule`, null, 'viewer'],
  ['POST', `/api/docs/${DOC}/preview`, null, 'writer'],
  ['POST', `/api/docs/${DOC}/schedule`, { action: 'unpublish', at: '2099-01-01T00:00:00Z' }, 'editor'],
  ['DELETE', `/api/docs/${DOC}/schedule/999`, null, 'editor'],
  ['POST', `/api/docs/${DOC}/versions/1/restore`, null, 'editor'],
  ['POST', `/api/docs/${DOC}/unpublish`, null, 'editor'],
  ['POST', `/api/docs/${DOC}/publish`, null, 'editor'],
];
const RANK = { viewer: 0, writer: 1, editor: 2, admin: 3 };

test('role x operation matrix: refusals are precise and change nothing', async () => {
  const t = await tokens();
  // A published document with a draft ahead of it.
  const author = connect(folio, DOC);
  await synced(author.provider);
  author.doc.getText('title').insert(0, 'Guarded');
  await waitFor(async () => (await documentState(folio, DOC)) !== null, 10_000, 'stored');
  assert.equal((await folio.api(`/api/docs/${DOC}/publish`, { method: 'POST' })).status, 200);
  author.doc.getText('title').insert(7, ' (a draft ahead)');
  await waitFor(async () => (await (await folio.api(`/api/docs/${DOC}`)).json()).title.includes('draft'), 10_000, 'draft');
  const stateBefore = Buffer.from((await documentState(folio, DOC)).bytes);
  const postBefore = await (await fetch(`${folio.url}/api/posts/guarded`)).json();
  const docsBefore = (await (await folio.api('/api/docs')).json()).documents.length;

  const cases = [
    ['anonymous', null, 401, 'unauthenticated'],
    ['tampered', t.tampered, 401, 'token_invalid'],
    ['expired', t.expired, 401, 'token_expired'],
    ['invite as bearer', t.invite, 401, 'token_wrong_purpose'],
    ['malformed', 'v1.garbage', 401, 'token_malformed'],
  ];
  let refused = 0;
  for (const [method, path, body, need, scope] of OPS) {
    const init = { method, body: body && JSON.stringify(body) };
    for (const [name, token, status, code] of cases) {
      const res = await fetch(`${folio.url}${path}`, token ? as(token)(init) : init);
      assert.equal(res.status, status, `${name} ${method} ${path}`);
      assert.equal((await res.json()).error.code, code, `${name} ${method} ${path}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /Bearer/);
      refused++;
    }
    for (const role of ['viewer', 'writer', 'editor']) {
      if (RANK[role] >= RANK[need] && scope !== 'all') continue;
      const res = await fetch(`${folio.url}${path}`, as(t[role])(init));
      const why = RANK[role] < RANK[need] ? 'forbidden' : 'wrong_document';
      if (path === '/api/docs' && method === 'GET') {
        // Listing is allowed to everyone signed in, filtered to their scope.
        assert.equal(res.status, 200);
        const ids = (await res.json()).documents.map((d) => d.id);
        assert.ok(ids.every((id) => id === DOC), `${role} sees only ${DOC}: ${ids}`);
        continue;
      }
      assert.equal(res.status, 403, `${role} ${method} ${path}`);
      assert.equal((await res.json()).error.code, why, `${role} ${method} ${path}`);
      refused++;
    }
    if (!(path === '/api/docs')) {
      const res = await fetch(`${folio.url}${path}`, as(t.otherDoc)(init));
      assert.equal(res.status, 403, `other-document token ${method} ${path}`);
      assert.equal((await res.json()).error.code, 'wrong_document');
      refused++;
    }
  }
  // Nothing refused changed the document, the published post or the registry.
  assert.equal(Buffer.compare(Buffer.from((await documentState(folio, DOC)).bytes), stateBefore), 0);
  assert.deepEqual(await (await fetch(`${folio.url}/api/posts/guarded`)).json(), postBefore);
  assert.equal((await (await folio.api('/api/docs')).json()).documents.length, docsBefore);
  console.log(`access matrix: ${refused} refused requests, document and post unchanged`);

  // And every role may do what it needs (statuses are the handlers' own, never 401/403).
  for (const [method, path, body, need] of OPS) {
    const role = need === 'viewer' ? 'viewer' : need === 'writer' ? 'writer' : 'editor';
    const token = path === '/api/docs' ? t.admin : t[role];
    const res = await fetch(`${folio.url}${path}`, as(token)({ method, body: body && JSON.stringify(body) }));
    assert.ok(![401, 403].includes(res.status), `${role} ${method} ${path}: ${res.status}`);
  }
  disconnect(author);
});

test('sockets: tokens and origin are checked before the upgrade', async () => {
  const t = await tokens();
  const url = (token) => `${folio.wsUrl}/${DOC}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  const preview = await (await folio.api(`/api/docs/${DOC}/preview`, { method: 'POST' })).json();
  const previewToken = new URL(preview.url).searchParams.get('token');
  const session = await fetch(`${folio.url}/api/session`, { method: 'POST', body: JSON.stringify({ key: folio.adminKey }) });
  const cookie = session.headers.get('set-cookie').split(';')[0];
  const refusals = [
    ['no token', url(null), {}, 401, 'unauthenticated'],
    ['tampered', url(t.tampered), {}, 401, 'token_invalid'],
    ['expired', url(t.expired), {}, 401, 'token_expired'],
    ['other document', url(t.otherDoc), {}, 403, 'wrong_document'],
    ['preview token', url(previewToken), {}, 401, 'token_wrong_purpose'],
    ['session cookie', url(null), { cookie }, 401, 'unauthenticated'],
    ['foreign origin', url(t.admin), { origin: 'http://evil.example' }, 403, 'origin_not_allowed'],
  ];
  for (const [name, u, headers, status, code] of refusals) {
    const r = await upgrade(u, headers);
    assert.equal(r.opened, false, name);
    assert.equal(r.status, status, name);
    assert.equal(r.body.error.code, code, name);
  }
  for (const role of ['viewer', 'writer', 'editor', 'admin']) {
    assert.equal((await upgrade(url(t[role]))).opened, true, role);
  }
  // A bearer header works for non-browser clients, and a forged identity header is ignored.
  assert.equal((await upgrade(url(null), { authorization: `Bearer ${t.writer}` })).opened, true);
  const forged = Buffer.from(JSON.stringify({ user: 'x', role: 'admin', expires_ms: null })).toString('base64url');
  assert.equal((await upgrade(url(null), { 'folio-identity': forged })).status, 401);
});

test('a viewer socket: sync step 1 answered, step 2 ignored, updates refused (4003), awareness relayed', async () => {
  const doc = 'viewer-messages';
  const viewerToken = await folio.token({ user: 'vic', role: 'viewer', doc });
  const writer = connect(folio, doc);
  await synced(writer.provider);
  writer.text.insert(0, 'original');
  await waitFor(async () => (await documentState(folio, doc)) !== null, 10_000, 'stored');
  const before = Buffer.from((await documentState(folio, doc)).bytes);

  const viewer = await rawSocket(folio, doc, viewerToken);
  await waitFor(() => viewer.frames.length >= 1, 5000, 'greeting');
  // Step 1: answered with the document.
  viewer.ws.send(sync((e) => syncProtocol.writeSyncStep1(e, new Y.Doc())));
  // The answer (other frames, such as the writer's awareness, may come first).
  const isStep2 = (f) => f[0] === 0 && f[1] === syncProtocol.messageYjsSyncStep2;
  await waitFor(() => viewer.frames.some(isStep2), 5000, 'step 2 answer');
  const answer = decoding.createDecoder(viewer.frames.find(isStep2));
  decoding.readVarUint(answer);
  decoding.readVarUint(answer);
  const copy = new Y.Doc();
  Y.applyUpdate(copy, decoding.readVarUint8Array(answer));
  assert.equal(copy.getText('t').toString(), 'original');
  // Awareness for its own id is relayed to the writer.
  const mine = new Y.Doc();
  const aw = new awarenessProtocol.Awareness(mine);
  aw.setLocalState({ user: { name: 'Vic' } });
  viewer.ws.send(frame((e) => {
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(aw, [mine.clientID]));
  }));
  await waitFor(() => writer.provider.awareness.getStates().get(mine.clientID)?.user?.name === 'Vic', 10_000, 'viewer presence');
  aw.destroy();
  // Step 2 with content: ignored, the socket stays open.
  viewer.ws.send(sync((e) => syncProtocol.writeSyncStep2(e, (() => { const d = new Y.Doc(); d.getText('t').insert(0, 'step2 '); return d; })())));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(viewer.ws.readyState, WebSocket.OPEN);
  // An update: refused, the socket closed with 4003.
  viewer.ws.send(sync((e) => syncProtocol.writeUpdate(e, edit('update '))));
  const { code, reason } = await viewer.closed;
  assert.equal(code, 4003, reason);
  assert.match(reason, /read-only/);
  assert.equal(writer.text.toString(), 'original');
  assert.equal(Buffer.compare(Buffer.from((await documentState(folio, doc)).bytes), before), 0);
  disconnect(writer);
});

test('a viewer\'s edits reach neither other clients nor storage, even after a restart', async () => {
  const doc = 'viewer-restart';
  const writer = connect(folio, doc);
  await synced(writer.provider);
  writer.text.insert(0, 'kept');
  await waitFor(async () => (await documentState(folio, doc)) !== null, 10_000, 'stored');
  const viewer = connect(folio, doc, { params: { token: await folio.token({ user: 'vic', role: 'viewer', doc }) } });
  await synced(viewer.provider);
  assert.equal(viewer.text.toString(), 'kept');
  const closes = [];
  viewer.provider.on('connection-close', (e) => closes.push(e?.code));
  viewer.text.insert(0, 'viewer says ');
  await waitFor(() => closes.includes(4003), 10_000, 'viewer closed with 4003');
  await new Promise((r) => setTimeout(r, 1000)); // its reconnect re-sends the edit as step 2
  assert.equal(writer.text.toString(), 'kept');
  disconnect(viewer);
  disconnect(writer);
  await folio.restart();
  const stored = new Y.Doc();
  Y.applyUpdate(stored, (await documentState(folio, doc)).bytes);
  assert.equal(stored.getText('t').toString(), 'kept');
});

test('a socket whose token expires is closed with 4001, idle or not', async () => {
  const short = await folio.token({ user: 'brief', role: 'writer', doc: 'expiring', ttl_seconds: 2 });
  const idle = await rawSocket(folio, 'expiring', short);
  const started = Date.now();
  const { code, reason } = await Promise.race([
    idle.closed,
    new Promise((_, reject) => setTimeout(() => reject(new Error('not closed')), 15_000)),
  ]);
  assert.equal(code, 4001, reason);
  assert.match(reason, /expired/);
  console.log(`token expiry: idle socket closed ${Date.now() - started} ms after opening (ttl 2 s)`);
});

test('tokens: issued within the issuer\'s rights; an invitation signs in to a session', async () => {
  const t = await tokens();
  const mint = (token, body) => fetch(`${folio.url}/api/tokens`, as(token)({ method: 'POST', body: JSON.stringify(body) }));
  assert.equal((await mint(t.writer, {})).status, 201, 'a writer derives its own token');
  const own = await (await mint(t.writer, { ttl_seconds: 60 })).json();
  assert.equal(own.role, 'writer');
  assert.equal(own.doc, DOC);
  const denied = [
    [t.writer, { role: 'editor' }, 403],
    [t.writer, { user: 'someone-else' }, 403],
    [t.writer, { doc: '*' }, 403],
    [t.editor, { role: 'admin' }, 403],
    [t.editor, { ttl_seconds: 0 }, 400],
    [t.editor, { use: 'session' }, 400],
    [t.editor, { surprise: 1 }, 400],
  ];
  for (const [token, body, status] of denied) {
    assert.equal((await mint(token, body)).status, status, JSON.stringify(body));
  }
  const bad = await fetch(`${folio.url}/api/tokens`, as(t.editor)({ method: 'POST', body: '{not json' }));
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, 'invalid_json');

  // An invitation is exchanged for a session cookie with the invitation's rights.
  const signIn = await fetch(`${folio.url}/api/session`, { method: 'POST', body: JSON.stringify({ invite: t.invite }) });
  assert.equal(signIn.status, 200);
  const cookie = signIn.headers.get('set-cookie');
  assert.match(cookie, /^folio_session=v1\.[^;]+; Path=\/; HttpOnly; Secure; SameSite=Strict; Max-Age=43200$/);
  const jar = { cookie: cookie.split(';')[0] };
  const me = await (await fetch(`${folio.url}/api/session`, { headers: jar })).json();
  assert.deepEqual([me.user, me.role], ['guest', 'editor']);
  assert.equal((await fetch(`${folio.url}/api/docs/${DOC}/schedule`, { headers: jar })).status, 200);
  // A tampered cookie is refused; a wrong admin key too.
  const tamperedJar = { cookie: `${jar.cookie.slice(0, -2)}xx` };
  assert.equal((await fetch(`${folio.url}/api/session`, { headers: tamperedJar })).status, 401);
  const wrongKey = await fetch(`${folio.url}/api/session`, { method: 'POST', body: JSON.stringify({ key: 'x'.repeat(64) }) });
  assert.equal(wrongKey.status, 401);
  assert.equal((await wrongKey.json()).error.code, 'invalid_credentials');
  // Signing out clears the cookie.
  const out = await fetch(`${folio.url}/api/session`, { method: 'DELETE', headers: jar });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie'), /^folio_session=; .*Max-Age=0$/);
});

test('an invitation is single-use, and its session ends when the invitation does', async () => {
  const invite = await folio.token({ user: 'once', role: 'writer', use: 'invite', ttl_seconds: 120 });
  const signIn = () => fetch(`${folio.url}/api/session`, { method: 'POST', body: JSON.stringify({ invite }) });
  const first = await signIn();
  assert.equal(first.status, 200, await first.clone().text());
  const session = await first.json();
  // The session lasts as long as the invitation had left (2 min), not 12 h.
  const left = Date.parse(session.expires_at) - Date.now();
  assert.ok(left > 100_000 && left <= 120_000, `${left} ms left`);
  const maxAge = Number(/Max-Age=(\d+)/.exec(first.headers.get('set-cookie'))[1]);
  assert.ok(maxAge > 100 && maxAge <= 120, `Max-Age=${maxAge}`);
  // Used once: refused the second time, also after a restart of the worker.
  const second = await signIn();
  assert.equal(second.status, 401);
  assert.equal((await second.json()).error.code, 'invitation_used');
  await folio.restart();
  const third = await signIn();
  assert.equal(third.status, 401);
  assert.equal((await third.json()).error.code, 'invitation_used');
});

test('request bodies have a size cap, checked before they are read', async () => {
  // Sign-in (anonymous): 4 KiB, declared too large.
  const big = JSON.stringify({ key: 'x'.repeat(10_000) });
  const declared = await fetch(`${folio.url}/api/session`, { method: 'POST', body: big });
  assert.equal(declared.status, 413);
  assert.equal((await declared.json()).error.code, 'body_too_large');
  // The same without a Content-Length (chunked): cut off while reading.
  const chunks = new ReadableStream({
    start(c) { for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode('x'.repeat(1000))); c.close(); },
  });
  const chunked = await fetch(`${folio.url}/api/session`, { method: 'POST', body: chunks, duplex: 'half' });
  assert.equal(chunked.status, 413);
  // Author endpoints: 64 KiB.
  const t = await tokens();
  const tokenReq = await fetch(`${folio.url}/api/tokens`, as(t.editor)({ method: 'POST', body: ' '.repeat(70_000) }));
  assert.equal(tokenReq.status, 413);
  const schedule = await fetch(`${folio.url}/api/docs/${DOC}/schedule`, as(t.editor)({ method: 'POST', body: ' '.repeat(70_000) }));
  assert.equal(schedule.status, 413);
  // Small bodies still work.
  assert.equal((await fetch(`${folio.url}/api/tokens`, as(t.editor)({ method: 'POST', body: '{}' }))).status, 201);
});

test('preview links: the live draft for whoever holds the link, until it expires', async () => {
  const t = await tokens();
  const res = await fetch(`${folio.url}/api/docs/${DOC}/preview`, as(t.writer)({ method: 'POST' }));
  assert.equal(res.status, 201);
  const { url, expires_at: expires } = await res.json();
  assert.ok(Date.parse(expires) > Date.now());
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<h1>Guarded<\/h1>/);
  assert.match(page.headers.get('cache-control'), /no-store/);
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(page.headers.get('x-robots-tag'), 'noindex');
  assert.match(page.headers.get('content-security-policy'), /default-src 'none'/);
  const token = new URL(url).searchParams.get('token');
  const other = await fetch(`${folio.url}/preview/another-doc?token=${token}`);
  assert.equal(other.status, 403);
  const tampered = await fetch(url.slice(0, -3) + 'AAA');
  assert.equal(tampered.status, 401);
  assert.equal((await fetch(`${folio.url}/preview/${DOC}`)).status, 401);
  // A preview token opens nothing else.
  assert.equal((await fetch(`${folio.url}/api/docs/${DOC}`, as(token)())).status, 401);
  const brief = await (await fetch(`${folio.url}/api/docs/${DOC}/preview`, as(t.writer)({ method: 'POST', body: '{"ttl_seconds":1}' }))).json();
  await new Promise((r) => setTimeout(r, 1100));
  const late = await fetch(brief.url);
  assert.equal(late.status, 401);
  assert.equal((await late.json()).error.code, 'token_expired');
});

test('author endpoints are limited per client: 429 with Retry-After, others unaffected', async () => {
  const busy = await folio.token({ user: 'busy', role: 'viewer', doc: DOC });
  const calm = await folio.token({ user: 'calm', role: 'viewer', doc: DOC });
  const statuses = [];
  let retryAfter = null;
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${folio.url}/api/docs/${DOC}/schedule`, as(busy)());
    statuses.push(res.status);
    if (res.status === 429) {
      retryAfter = res.headers.get('retry-after');
      assert.equal((await res.json()).error.code, 'rate_limited');
    }
  }
  const limited = statuses.filter((s) => s === 429).length;
  assert.ok(limited > 0, 'the busy client is limited');
  assert.ok(Number(retryAfter) >= 1, `Retry-After ${retryAfter}`);
  assert.equal((await fetch(`${folio.url}/api/docs/${DOC}/schedule`, as(calm)())).status, 200);
  // The reader API is not an author endpoint.
  assert.equal((await fetch(`${folio.url}/api/posts/guarded`)).status, 200);
  console.log(`throttle: ${100 - limited} of 100 back-to-back requests served, ${limited} got 429 (Retry-After ${retryAfter} s)`);
});
