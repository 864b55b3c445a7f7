// Publishing survives crashes: the document's object is crashed (the test-only fault switch,
// `ctx.abort()`) at each named step of publish, unpublish and restore, then recovers by its
// alarm alone or by the request retried; versions are never reused; large posts work;
// failures are classified, surfaced in the document list, and retried or cancelled by authors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, waitFor, editDoc, paragraph, Y } from './folio.mjs';

let folio;
before(async () => { folio = await startFolio('intents', { faults: true }); });
after(async () => { await folio?.stop(); });

const api = (path, init) => folio.api(path, init);
const post = async (path, body) => {
  const res = await api(path, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
};
const arm = async (doc, fault) => {
  const res = await post(`/api/docs/${doc}/faults`, fault);
  assert.equal(res.status, 200, JSON.stringify(res.body));
};
const publishing = async (doc) => (await api(`/api/docs/${doc}/publishing`)).json();
const reader = async (slug) => {
  const res = await fetch(`${folio.url}/api/posts/${slug}`);
  return { status: res.status, body: res.status === 200 ? await res.json() : null };
};
const listed = async (id) => {
  const res = await api('/api/docs');
  return (await res.json()).documents.find((d) => d.id === id);
};

async function draft(doc, title, text) {
  await editDoc(folio, doc, (d) => {
    const t = d.getText('title');
    t.delete(0, t.length);
    t.insert(0, title);
    paragraph(d, text);
  });
}

/** Whether D1, KV and the object agree that `doc` is at `version` with `status`. */
async function settled(doc, version, status) {
  const p = await publishing(doc);
  return p.pending === null && p.confirmed?.version === version && p.confirmed.status === status &&
    !p.confirmed.kv_pending && p.d1?.status === status && p.d1.version === version &&
    p.d1.content_hash === p.confirmed.content_hash &&
    (status === 'published'
      ? p.kv?.state === 'post' && p.kv.content_hash === p.confirmed.content_hash
      : p.kv?.state === 'gone');
}

for (const step of ['publish.recorded', 'publish.written', 'publish.committed']) {
  for (const by of ['alarm', 'retried request']) {
    test(`a crash at ${step}, recovered by the ${by}`, async () => {
      const doc = `crash-${step.replace('.', '-')}-${by.split(' ')[0]}`;
      const slug = doc;
      await draft(doc, slug, 'first');
      assert.equal((await post(`/api/docs/${doc}/publish`)).status, 200);
      await draft(doc, slug, 'second');
      await arm(doc, { crash_at: step });
      const crashed = await post(`/api/docs/${doc}/publish`);
      assert.notEqual(crashed.status, 200, 'a crashed publish is not confirmed');
      if (by === 'alarm') {
        // No client touches the document: its recovery alarm drives the intent.
        await waitFor(async () => (await reader(slug)).body?.version === 2, 30_000, 'version 2 by the alarm');
      } else {
        const again = await post(`/api/docs/${doc}/publish`);
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal(again.body.version, 2, 'the retried request gets the intent\'s version');
      }
      await waitFor(() => settled(doc, 2, 'published'), 30_000, 'D1, KV and the object agree');
      assert.match((await reader(slug)).body.html, /second/);
      assert.equal((await publishing(doc)).d1.max_version, 2, 'no version was spent twice');
    });
  }
}

for (const step of ['unpublish.recorded', 'unpublish.written', 'unpublish.committed']) {
  for (const by of ['alarm', 'retried request']) {
    test(`a crash at ${step}, recovered by the ${by}`, async () => {
      const doc = `crash-${step.replace('.', '-')}-${by.split(' ')[0]}`;
      await draft(doc, doc, 'text');
      assert.equal((await post(`/api/docs/${doc}/publish`)).status, 200);
      await waitFor(() => settled(doc, 1, 'published'), 10_000, 'published');
      await arm(doc, { crash_at: step });
      assert.notEqual((await post(`/api/docs/${doc}/unpublish`)).status, 200);
      if (by === 'alarm') {
        await waitFor(async () => (await reader(doc)).status === 404, 30_000, 'taken down by the alarm');
      } else {
        const again = await post(`/api/docs/${doc}/unpublish`);
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal(again.body.status, 'unpublished');
      }
      await waitFor(() => settled(doc, 1, 'unpublished'), 30_000, 'D1, KV (a tombstone) and the object agree');
      assert.equal((await reader(doc)).status, 404);
      const page = await fetch(`${folio.url}/p/${doc}`);
      assert.equal(page.status, 404);
    });
  }
}

test('a crash at restore.fetched leaves the draft as it was; the retried restore completes', async () => {
  const doc = 'crash-restore';
  await draft(doc, 'Restore me', 'version one');
  assert.equal((await post(`/api/docs/${doc}/publish`)).status, 200);
  await draft(doc, 'Restore me', 'later words');
  const before = Buffer.from(await (await api(`/api/docs/${doc}/state`)).arrayBuffer());
  await arm(doc, { crash_at: 'restore.fetched' });
  assert.notEqual((await post(`/api/docs/${doc}/versions/1/restore`)).status, 200);
  const afterCrash = Buffer.from(await (await api(`/api/docs/${doc}/state`)).arrayBuffer());
  assert.equal(Buffer.compare(before, afterCrash), 0, 'the draft is unchanged by the crashed restore');
  const again = await post(`/api/docs/${doc}/versions/1/restore`);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  const body = await (await api(`/api/docs/${doc}`)).json();
  assert.doesNotMatch(JSON.stringify(body), /later words/);
});

test('a version that may have reached D1 is never given to other content', async () => {
  const doc = 'ambiguous';
  await draft(doc, doc, 'one');
  assert.equal((await post(`/api/docs/${doc}/publish`)).status, 200);
  await draft(doc, doc, 'two');
  // D1 commits version 2, then the object dies before it learns so (an ambiguous failure).
  await arm(doc, { crash_at: 'publish.written' });
  assert.notEqual((await post(`/api/docs/${doc}/publish`)).status, 200);
  // The author edits again and publishes before the alarm: a new number, not 2 again.
  await draft(doc, doc, 'three');
  const third = await post(`/api/docs/${doc}/publish`);
  assert.equal(third.status, 200, JSON.stringify(third.body));
  assert.equal(third.body.version, 3);
  const v2 = await (await fetch(`${folio.url}/api/posts/${doc}/versions/2`)).json();
  assert.match(v2.html, /two/, JSON.stringify({ v2, third: third.body, p: await publishing(doc) }));
  assert.doesNotMatch(v2.html, /three/);
  // KV takes one write a second per key: the new version may reach it a moment later.
  await waitFor(() => settled(doc, 3, 'published'), 15_000, 'agreement');
  const v3 = await reader(doc);
  assert.match(v3.body.html, /three/);
  assert.equal(v2.version, 2);
});

test('a 3 MB post is published, read back from KV and from D1, and served as a page', async () => {
  const doc = 'big-post';
  const word = (i) => `word${i} `;
  let expected = 0;
  for (let part = 0; part < 5; part++) {
    // Each edit stays under the 1 MiB frame limit.
    let text = '';
    for (let i = 0; text.length < 640_000; i++) text += word(part * 1_000_000 + i);
    expected += text.length;
    await editDoc(folio, doc, (d) => {
      if (part === 0) d.getText('title').insert(0, 'A very long post');
      paragraph(d, text);
    });
  }
  assert.ok(expected > 3_000_000);
  const res = await post(`/api/docs/${doc}/publish`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const fromKv = await reader('a-very-long-post');
  assert.equal(fromKv.status, 200);
  assert.ok(fromKv.body.html.length > expected, `html of ${fromKv.body.html.length} chars`);
  const fromD1 = await (await fetch(`${folio.url}/api/posts/a-very-long-post/versions/1`)).json();
  assert.equal(fromD1.html, fromKv.body.html, 'the parts in D1 join to the same body');
  const page = await fetch(`${folio.url}/p/a-very-long-post`);
  assert.equal(page.status, 200);
  assert.ok((await page.text()).includes('word4000000 '));
});

test('a permanent failure is surfaced in the document list, not retried, and an author retries it', async () => {
  const doc = 'too-big';
  await draft(doc, doc, 'x');
  await arm(doc, { fail_d1: 'D1_ERROR: string or blob too big: SQLITE_TOOBIG' });
  const failed = await post(`/api/docs/${doc}/publish`);
  assert.equal(failed.status, 413, JSON.stringify(failed.body));
  assert.equal(failed.body.error.code, 'too_large');
  await waitFor(async () => (await listed(doc))?.status === 'failed', 10_000, 'listed as failed');
  const entry = await listed(doc);
  assert.equal(entry.publishing.code, 'too_large');
  assert.equal(entry.publishing.state, 'failed');
  // Not retried: the attempts stay at one while time passes.
  await new Promise((r) => setTimeout(r, 6_000));
  const p = await publishing(doc);
  assert.equal(p.pending.attempts, 1);
  assert.equal(p.d1, null, 'nothing reached D1');
  // The author retries (the cause is gone).
  const retried = await post(`/api/docs/${doc}/publishing/retry`);
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  await waitFor(async () => (await listed(doc))?.status === 'published', 10_000, 'listed as published');
  assert.equal((await listed(doc)).publishing, null);
});

test('a transient failure is retried by the alarm with backoff until it succeeds', async () => {
  const doc = 'flaky-d1';
  await draft(doc, doc, 'x');
  await arm(doc, { fail_d1: 'D1_ERROR: Network connection lost.' });
  const res = await post(`/api/docs/${doc}/publish`);
  assert.equal(res.status, 503);
  const p = await publishing(doc);
  assert.equal(p.pending.state, 'retrying');
  assert.equal(p.pending.attempts, 1);
  assert.ok(p.alarm, 'an alarm is armed for the retry');
  await waitFor(() => settled(doc, 1, 'published'), 20_000, 'published by the retry');
});

test('a scheduled publish that cannot happen is kept visible and can be cancelled', async () => {
  await draft('sched-owner', 'Contested', 'first');
  assert.equal((await post('/api/docs/sched-owner/publish')).status, 200);
  await draft('sched-late', 'Contested', 'second');
  const at = new Date(Date.now() + 1_500).toISOString();
  assert.equal((await post('/api/docs/sched-late/schedule', { action: 'publish', at })).status, 201);
  await waitFor(async () => (await listed('sched-late'))?.status === 'failed', 20_000, 'failed entry listed');
  const p = await publishing('sched-late');
  assert.equal(p.pending.code, 'slug_taken');
  assert.equal(p.schedule.length, 0, 'the entry ran');
  assert.equal(p.ran.length, 1, 'once');
  // Refused while it is still being retried? It is failed, so it can be dropped.
  const res = await api('/api/docs/sched-late/publishing', { method: 'DELETE' });
  assert.equal(res.status, 200);
  await waitFor(async () => (await listed('sched-late'))?.publishing === null, 10_000, 'cleared');
  assert.equal((await reader('contested')).body.html.includes('first'), true);
});

test('an operator exports a document raw, and the export rebuilds it', async () => {
  const doc = 'exported';
  await draft(doc, 'Salvage', 'every word counts');
  const res = await api(`/api/docs/${doc}/export`);
  assert.equal(res.status, 200);
  const data = await res.json();
  assert.equal(data.format, 'folio-export-1');
  const rebuilt = new Y.Doc();
  if (data.snapshot) Y.applyUpdate(rebuilt, Buffer.from(data.snapshot, 'base64'));
  for (const entry of data.log) Y.applyUpdate(rebuilt, Buffer.from(entry.update, 'base64'));
  assert.equal(rebuilt.getText('title').toString(), 'Salvage');
  assert.match(rebuilt.getXmlFragment('body').toString(), /every word counts/);
  // Admins only.
  const writer = await folio.token({ user: 'w', role: 'editor' });
  const refused = await fetch(`${folio.url}/api/docs/${doc}/export`, { headers: { authorization: `Bearer ${writer}` } });
  assert.equal(refused.status, 403);
});
