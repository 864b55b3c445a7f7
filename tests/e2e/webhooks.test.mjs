// Webhooks: signed Standard Webhooks deliveries to a real receiver (an HTTP server in this
// test) verified with the `standardwebhooks` library; retries on a short schedule
// (WEBHOOK_RETRY_SECONDS); delivery after the receiver and wrangler dev were both down; the
// deliveries log and a manual retry; document.updated debounced; media events; private
// addresses refused unless allowed; and the deliveries per second one webhook sustains.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { startFolio, waitFor, editDoc, paragraph, connect, disconnect, synced } from './folio.mjs';
import { png } from '../images.mjs';

const { Webhook } = createRequire(import.meta.url)('standardwebhooks');

let folio;
before(async () => {
  folio = await startFolio('webhooks', {
    faults: true,
    vars: { WEBHOOK_RETRY_SECONDS: '1,1,1', WEBHOOK_DEBOUNCE: '1', WEBHOOK_TIMEOUT_SECONDS: '60' },
  });
});
after(async () => { await folio?.stop(); await Promise.all(receivers.map((r) => r.close())); });

const send = (path, method, body) => folio.api(path, {
  method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
});

/** A receiver on 127.0.0.1: records every request; answers the statuses in `answers` in turn, then 200. */
const receivers = [];
async function receiver(port = 0) {
  const r = {
    requests: [], answers: [],
    async close() { await new Promise((res) => { r.server.closeAllConnections?.(); r.server.close(() => res()); }); },
  };
  r.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      r.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const status = r.answers.length ? r.answers.shift() : 200;
      // `hold`: a promise this answer waits for (a slow receiver).
      const hold = r.hold;
      r.hold = null;
      if (hold) await hold;
      res.statusCode = status;
      res.end('ok');
    });
  });
  await new Promise((res) => r.server.listen(port, '127.0.0.1', res));
  r.port = r.server.address().port;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  receivers.push(r);
  return r;
}

async function createHook(url, events) {
  const res = await send('/api/webhooks', 'POST', { url, events, description: 'test receiver' });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

const deliveries = async (hook) => (await (await folio.api(`/api/webhooks/${hook}/deliveries`)).json()).deliveries;

/** Verifies a recorded request with the Standard Webhooks library; returns the parsed body. */
function verified(secret, request) {
  return new Webhook(secret).verify(request.body, request.headers);
}

test('webhooks are defined by admins; bad definitions are refused by name; the secret is shown once', async () => {
  let res = await send('/api/webhooks', 'POST', { url: 'ftp://example.com/', events: ['entry.published'] });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.parameter, 'url');
  res = await send('/api/webhooks', 'POST', { url: 'https://example.com/', events: ['entry.exploded'] });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.parameter, 'events');
  res = await send('/api/webhooks', 'POST', { url: 'https://example.com/', events: ['media.uploaded'], extra: 1 });
  assert.equal(res.status, 400);
  const writer = await folio.token({ role: 'writer' });
  res = await fetch(`${folio.url}/api/webhooks`, { headers: { authorization: `Bearer ${writer}` } });
  assert.equal(res.status, 403);

  const hook = await createHook('https://example.com/folio', ['entry.published']);
  assert.match(hook.id, /^wh_[0-9a-f]{24}$/);
  assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  const listed = await (await folio.api('/api/webhooks')).json();
  assert.ok(listed.webhooks.some((w) => w.id === hook.id));
  assert.ok(listed.webhooks.every((w) => w.secret === undefined), 'secrets are never listed');
  res = await send(`/api/webhooks/${hook.id}`, 'PATCH', { events: ['entry.published', 'media.deleted'], description: 'changed' });
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).events, ['entry.published', 'media.deleted']);
  assert.equal((await send(`/api/webhooks/${hook.id}`, 'DELETE')).status, 200);
  assert.equal((await folio.api(`/api/webhooks/${hook.id}`)).status, 404);
});

test('publish sends a signed entry.published that a Standard Webhooks library verifies; the log says so', async () => {
  const r = await receiver();
  const hook = await createHook(r.url, ['entry.published', 'entry.unpublished', 'entry.scheduled']);
  await editDoc(folio, 'hooked-post', (d) => { d.getText('title').insert(0, 'Hooked post'); paragraph(d, 'words'); });
  let res = await send('/api/docs/hooked-post/publish', 'POST');
  assert.equal(res.status, 200);
  await waitFor(() => r.requests.length >= 1, 15_000, 'the delivery');
  const event = verified(hook.secret, r.requests[0]);
  assert.equal(event.type, 'entry.published');
  assert.equal(event.data.document, 'hooked-post');
  assert.equal(event.data.slug, 'hooked-post');
  assert.equal(event.data.version, 1);
  assert.equal(event.data.url, '/api/posts/hooked-post');
  assert.match(r.requests[0].headers['webhook-id'], /^msg_[0-9a-f]{24}$/);
  // A tampered body does not verify.
  assert.throws(() => verified(hook.secret, { ...r.requests[0], body: r.requests[0].body.replace('hooked', 'forged') }));

  // Unpublish and a scheduled entry follow, in order.
  assert.equal((await send('/api/docs/hooked-post/unpublish', 'POST')).status, 200);
  const at = new Date(Date.now() + 3_600_000).toISOString();
  assert.equal((await send('/api/docs/hooked-post/schedule', 'POST', { action: 'publish', at })).status, 201);
  await waitFor(() => r.requests.length >= 3, 15_000, 'three deliveries');
  assert.deepEqual(r.requests.map((q) => verified(hook.secret, q).type),
    ['entry.published', 'entry.unpublished', 'entry.scheduled']);

  const log = await deliveries(hook.id);
  assert.equal(log.length, 3);
  assert.deepEqual(log.map((d) => d.type), ['entry.scheduled', 'entry.unpublished', 'entry.published'], 'newest first');
  for (const d of log) {
    assert.equal(d.status, 'delivered');
    assert.equal(d.attempts, 1);
    assert.equal(d.last_response, 200);
    assert.equal(typeof d.last_latency_ms, 'number');
    assert.equal(d.next_attempt_at, null);
  }
  await r.close();
});

test('a receiver answering 500 twice then 200 gets the delivery on the third attempt; a manual retry sends it again', async () => {
  const r = await receiver();
  r.answers = [500, 500];
  const hook = await createHook(r.url, ['media.uploaded']);
  const res = await folio.api('/api/media?filename=retry.png', { method: 'POST', body: png(3, 2), headers: { 'content-type': 'image/png' } });
  assert.equal(res.status, 201);
  const media = await res.json();
  // Between attempts the log shows the failure and when the next attempt is.
  await waitFor(() => r.requests.length === 1, 15_000, 'the first attempt');
  await waitFor(async () => (await deliveries(hook.id))[0]?.last_response === 500, 5_000, 'the failure logged');
  const pending = (await deliveries(hook.id))[0];
  assert.equal(pending.status, 'pending');
  assert.ok(pending.next_attempt_at, 'a next attempt is planned');
  await waitFor(() => r.requests.length === 3, 15_000, 'the third attempt');
  await waitFor(async () => (await deliveries(hook.id))[0]?.status === 'delivered', 5_000, 'delivered');
  const [d] = await deliveries(hook.id);
  assert.equal(d.attempts, 3);
  assert.equal(d.last_response, 200);
  // Every attempt is the same message (one id), each signed afresh.
  const ids = new Set(r.requests.map((q) => q.headers['webhook-id']));
  assert.equal(ids.size, 1);
  for (const q of r.requests) assert.equal(verified(hook.secret, q).data.id, media.id);

  // Sent again by hand: the same id, a fourth attempt.
  const retried = await send(`/api/webhooks/${hook.id}/deliveries/${d.id}/retry`, 'POST');
  assert.equal(retried.status, 202);
  await waitFor(() => r.requests.length === 4, 10_000, 'the manual retry');
  assert.equal(r.requests[3].headers['webhook-id'], d.id);
  assert.equal((await send(`/api/webhooks/${hook.id}/deliveries/msg_${'0'.repeat(24)}/retry`, 'POST')).status, 404);

  // A receiver that never recovers: failed after the schedule (4 attempts), the queue moves on.
  r.answers = [503, 503, 503, 503];
  await folio.api('/api/media?filename=never.png', { method: 'POST', body: png(4, 2), headers: { 'content-type': 'image/png' } });
  await waitFor(async () => (await deliveries(hook.id))[0]?.status === 'failed', 20_000, 'marked failed');
  assert.equal((await deliveries(hook.id))[0].attempts, 4);
  await send(`/api/webhooks/${hook.id}`, 'DELETE');
  await r.close();
});

test('a delivery queued while the receiver is down survives a wrangler dev restart and arrives after', async () => {
  const r = await receiver();
  const port = r.port;
  const hook = await createHook(r.url, ['entry.scheduled']);
  await r.close();
  await editDoc(folio, 'restart-post', (d) => d.getText('title').insert(0, 'Restart'));
  const at = new Date(Date.now() + 3_600_000).toISOString();
  assert.equal((await send('/api/docs/restart-post/schedule', 'POST', { action: 'unpublish', at })).status, 201);
  await waitFor(async () => (await deliveries(hook.id))[0]?.attempts >= 1, 15_000, 'a failed attempt');
  const failed = (await deliveries(hook.id))[0];
  assert.equal(failed.status, 'pending');
  assert.equal(failed.last_response, null, 'no answer: nothing listens');
  await folio.restart();
  const back = await receiver(port);
  await waitFor(() => back.requests.length >= 1, 20_000, 'delivery after the restart');
  const event = verified(hook.secret, back.requests[0]);
  assert.equal(event.type, 'entry.scheduled');
  assert.equal(event.data.document, 'restart-post');
  await waitFor(async () => (await deliveries(hook.id))[0]?.status === 'delivered', 5_000, 'delivered');
  await send(`/api/webhooks/${hook.id}`, 'DELETE');
  await back.close();
});

test('a publish that crashes midway sends its entry.published once, when the alarm recovers it', async () => {
  const r = await receiver();
  const hook = await createHook(r.url, ['entry.published']);
  await editDoc(folio, 'crashy', (d) => { d.getText('title').insert(0, 'Crashy'); paragraph(d, 'one'); });
  assert.equal((await send('/api/docs/crashy/publish', 'POST')).status, 200);
  await editDoc(folio, 'crashy', (d) => paragraph(d, 'two'));
  // D1 has version 2, the object crashed before confirming it: the alarm finishes the job.
  assert.equal((await send('/api/docs/crashy/faults', 'POST', { crash_at: 'publish.written' })).status, 200);
  assert.notEqual((await send('/api/docs/crashy/publish', 'POST')).status, 200);
  await waitFor(() => r.requests.some((q) => JSON.parse(q.body).data.version === 2), 30_000, 'version 2 announced');
  await new Promise((res) => setTimeout(res, 1_000));
  const versions = r.requests.map((q) => verified(hook.secret, q).data.version);
  assert.deepEqual(versions, [1, 2], 'each version once, in order');
  await send(`/api/webhooks/${hook.id}`, 'DELETE');
  await r.close();
});

test('document.updated is debounced per document and carries the latest state', async () => {
  const r = await receiver();
  const hook = await createHook(r.url, ['document.updated']);
  const c = connect(folio, 'debounced');
  await synced(c.provider);
  const title = c.doc.getText('title');
  for (const ch of 'Debounced title') {
    title.insert(title.length, ch);
    await new Promise((res) => setTimeout(res, 20));
  }
  await waitFor(() => r.requests.length >= 1, 15_000, 'document.updated');
  await new Promise((res) => setTimeout(res, 2_500));
  disconnect(c);
  const events = r.requests.map((q) => verified(hook.secret, q));
  assert.ok(events.every((e) => e.type === 'document.updated' && e.data.document === 'debounced'));
  // 15 keystrokes over ~0.4 s with a 1 s window: one event, with every keystroke in it.
  assert.equal(events.length, 1, JSON.stringify(events.map((e) => e.data.fields.title)));
  assert.equal(events[0].data.fields.title, 'Debounced title');
  await send(`/api/webhooks/${hook.id}`, 'DELETE');
  await r.close();
});

test('private addresses are refused unless ALLOW_PRIVATE_WEBHOOKS is on', async () => {
  const strict = await startFolio('webhooks-strict', { vars: { ALLOW_PRIVATE_WEBHOOKS: 'off' } });
  try {
    for (const url of ['http://127.0.0.1:9/x', 'http://localhost/', 'http://169.254.169.254/latest', 'http://[::1]/']) {
      const res = await strict.api('/api/webhooks', {
        method: 'POST', body: JSON.stringify({ url, events: ['entry.published'] }),
      });
      assert.equal(res.status, 400, url);
      assert.match((await res.json()).error.message, /ALLOW_PRIVATE_WEBHOOKS/);
    }
    const res = await strict.api('/api/webhooks', {
      method: 'POST', body: JSON.stringify({ url: 'https://example.com/hook', events: ['entry.published'] }),
    });
    assert.equal(res.status, 201);
  } finally {
    await strict.stop();
  }
});

test('deliveries per second one webhook sustains (printed), against the receiver driven directly', async () => {
  const N = 200;
  const r = await receiver();
  // Direct: this process posting to the receiver one after another (the ceiling of a
  // sequential sender on this machine).
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await fetch(r.url, { method: 'POST', body: '{}' });
  const direct = N / ((performance.now() - t0) / 1000);
  r.requests = [];
  // A backlog: the receiver holds its answer to the first delivery while N more queue behind.
  const hook = await createHook(r.url, ['entry.scheduled']);
  let release;
  r.hold = new Promise((res) => { release = res; });
  await editDoc(folio, 'burst', (d) => d.getText('title').insert(0, 'Burst'));
  const at = new Date(Date.now() + 3_600_000).toISOString();
  for (let i = 0; i <= N; i++) {
    const res = await send('/api/docs/burst/schedule', 'POST', { action: 'unpublish', at });
    assert.equal(res.status, 201);
  }
  await waitFor(() => r.requests.length >= 1, 10_000, 'the first delivery');
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(r.requests.length, 1, 'in order: nothing overtakes the delivery in flight');
  const start = Date.now();
  release();
  await waitFor(() => r.requests.length >= N + 1, 120_000, `${N} deliveries`);
  const end = r.requests[N].at;
  const rate = N / ((end - start) / 1000);
  const order = r.requests.map((q) => JSON.parse(q.body).data.id);
  assert.deepEqual(order, [...order].sort((a, b) => a - b), 'in order of creation');
  const lat = (await (await folio.api(`/api/webhooks/${hook.id}/deliveries?limit=1000`)).json()).deliveries
    .map((d) => d.last_latency_ms).sort((a, b) => a - b);
  console.log(`attempt latency inside the object: median ${lat[lat.length >> 1]} ms, p90 ${lat[Math.floor(lat.length * 0.9)]} ms`);
  console.log(`one webhook on wrangler dev: ${rate.toFixed(0)} deliveries/s (${N} queued); ` +
    `the receiver driven directly from Node: ${direct.toFixed(0)} requests/s; ratio ${(rate / direct * 100).toFixed(0)} %`);
  await send(`/api/webhooks/${hook.id}`, 'DELETE');
  await r.close();
});
