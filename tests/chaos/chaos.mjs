// `make chaos`: the whole server killed at random moments while authors type, publish,
// unpublish and schedule. Usage: node tests/chaos/chaos.mjs [cycles=50] [seed]
//
// Each cycle: fresh writers type into every document while an observer (another client)
// watches; API calls publish, unpublish and schedule at random, some with the fault switch
// armed at a named step; then `kill -9` of wrangler's whole process group at a random
// moment, and a restart on the same state. After each restart it checks that:
//  - every edit the observer saw is in the document;
//  - once publishing settles, the object, D1 and KV agree on every post's version, status
//    and content hash, readers see that, and it is what the API last confirmed (or a later
//    action that was attempted but not confirmed);
//  - every scheduled entry either ran exactly once or is still pending with an alarm set;
//  - every version the object confirmed as published was announced to a webhook
//    (`entry.published`, received by a server in this process), whatever moment the kill
//    came at.
// Prints the counts; exits 1 on any loss or disagreement.
import http from 'node:http';
import { startFolio, connect, disconnect, synced, waitFor, editDoc, paragraph, serverDoc, Y } from '../e2e/folio.mjs';

const CYCLES = Number(process.argv[2] ?? 50);
const SEED = Number(process.argv[3] ?? (Date.now() % 1_000_000) + 1);
let seed = SEED;
const rand = () => {
  // xorshift32, so a failing run can be replayed with its seed
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const STEPS = ['publish.recorded', 'publish.written', 'publish.committed',
  'unpublish.recorded', 'unpublish.written', 'unpublish.committed'];

const DOCS = ['chaos-a', 'chaos-b', 'chaos-c'];
const counts = {
  cycles: 0, edits_observed: 0, edits_lost: 0, publishes_confirmed: 0, unpublishes_confirmed: 0,
  requests_unanswered: 0, faults_armed: 0, scheduled: 0, scheduled_ran: 0, scheduled_pending: 0,
  disagreements: 0, events_received: 0, versions_announced: 0,
};
// Webhook events received: `${doc}:v${version}` of every entry.published.
const announced = new Set();
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      counts.events_received++;
      if (event.type === 'entry.published') announced.add(`${event.data.document}:v${event.data.version}`);
    } catch { /* counted as nothing */ }
    res.end('ok');
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const problems = [];
const fail = (what) => { counts.disagreements++; problems.push(what); console.error(`DISAGREEMENT: ${what}`); };

// Per document, this cycle's requests: { action, scheduled, start, end (unset: unanswered),
// ok, version, status }; and the scheduled entries already seen run.
const history = Object.fromEntries(DOCS.map((d) => [d, { attempts: [], ran: new Set() }]));
const scheduled = new Map(); // `${doc}:${entry id}` → { doc, entry }
const lastSeen = {}; // doc → the tokens of this cycle the observer saw

const folio = await startFolio('chaos', { faults: true });
console.log(`chaos: ${CYCLES} cycles, seed ${SEED}, state in ${folio.dir}`);
const started = Date.now();
try {
  const hook = await folio.api('/api/webhooks', {
    method: 'POST',
    body: JSON.stringify({ url: `http://127.0.0.1:${receiver.address().port}/`, events: ['entry.published', 'entry.unpublished'] }),
  });
  if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${await hook.text()}`);
  for (const doc of DOCS) {
    await editDoc(folio, doc, (d) => { d.getText('title').insert(0, doc); paragraph(d, 'start '); });
  }
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    await runCycle(cycle);
    await folio.restart();
    await check(cycle);
    counts.cycles = cycle;
    if (cycle % 10 === 0 || cycle === CYCLES) {
      console.log(`after ${cycle} cycles (${Math.round((Date.now() - started) / 1000)} s): ${JSON.stringify(counts)}`);
    }
  }
} finally {
  await folio.stop();
  receiver.closeAllConnections();
  receiver.close();
}
console.log(JSON.stringify(counts, null, 2));
if (counts.edits_lost > 0 || counts.disagreements > 0) {
  console.error(`chaos FAILED (seed ${SEED}):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`chaos passed: ${counts.cycles} cycles, no edit lost, no disagreement (seed ${SEED})`);

async function runCycle(cycle) {
  const writers = DOCS.map((doc) => ({ doc, client: connect(folio, doc) }));
  const observers = DOCS.map((doc) => ({ doc, client: connect(folio, doc) }));
  await Promise.all([...writers, ...observers].map((w) => synced(w.client.provider)));
  let typing = true;
  const typed = writers.map(async ({ client }, i) => {
    let n = 0;
    while (typing) {
      const body = client.doc.getXmlFragment('body');
      const text = body.get(0)?.get(0);
      if (text instanceof Y.XmlText) text.insert(text.length, `c${cycle}w${i}n${n++} `);
      await sleep(20 + rand() * 60);
    }
  });
  // The kill comes at a random moment, with requests in flight.
  const calls = [];
  let seen = null;
  const killer = sleep(300 + rand() * 3_000).then(() => {
    // Everything the observer has seen was relayed, so it was durable: remember it, then kill.
    seen = observers.map(({ doc, client }) => ({ doc, text: bodyText(client.doc) }));
    typing = false;
    process.kill(-folio.child.pid, 'SIGKILL');
  });
  while (seen === null) {
    calls.push(act(pick(DOCS)));
    await Promise.race([killer, sleep(30 + rand() * 250)]);
  }
  await Promise.allSettled(calls);
  await Promise.allSettled(typed);
  for (const w of [...writers, ...observers]) disconnect(w.client);
  for (const { doc, text } of seen) {
    const tokens = text.split(' ').filter((t) => t.startsWith(`c${cycle}w`));
    counts.edits_observed += tokens.length;
    lastSeen[doc] = tokens;
  }
  await folio.stop();
}


function bodyText(doc) {
  const text = doc.getXmlFragment('body').get(0)?.get(0);
  return text instanceof Y.XmlText ? text.toString() : '';
}

async function act(doc) {
  const r = rand();
  let action;
  let path;
  let body;
  if (r < 0.12) {
    action = pick(['publish', 'unpublish']);
    path = `/api/docs/${doc}/schedule`;
    body = JSON.stringify({ action, at: new Date(Date.now() + 300 + rand() * 2_000).toISOString() });
  } else {
    action = r < 0.8 ? 'publish' : 'unpublish';
    path = `/api/docs/${doc}/${action}`;
  }
  try {
    if (rand() < 0.15 && !body) {
      const step = pick(STEPS.filter((s) => s.startsWith(action)));
      const armed = await folio.api(`/api/docs/${doc}/faults`, { method: 'POST', body: JSON.stringify({ crash_at: step }) });
      if (armed.ok) counts.faults_armed++;
    }
  } catch {
    return; // killed before the request was made
  }
  const attempt = { action, scheduled: !!body, start: performance.now(), ok: false };
  history[doc].attempts.push(attempt);
  try {
    const res = await folio.api(path, { method: 'POST', body });
    const json = await res.json();
    attempt.end = performance.now();
    if (body && res.status === 201) {
      counts.scheduled++;
      scheduled.set(`${doc}:${json.id}`, { doc, entry: json.id });
    } else if (!body && res.status === 200) {
      Object.assign(attempt, { ok: true, version: json.version, status: json.status });
      if (action === 'publish') counts.publishes_confirmed++; else counts.unpublishes_confirmed++;
    }
  } catch {
    counts.requests_unanswered++;
  }
}

async function check(cycle) {
  // Edits: every token the observer saw is in the document as the restarted server has it.
  for (const doc of DOCS) {
    const text = bodyText(await serverDoc(folio, doc));
    const have = new Set(text.split(' '));
    for (const token of lastSeen[doc] ?? []) {
      if (!have.has(token)) {
        counts.edits_lost++;
        problems.push(`cycle ${cycle}: ${doc} lost ${token}`);
      }
    }
  }
  // Publishing: wait (alarms only: no request drives anything) until nothing is pending.
  const views = {};
  for (const doc of DOCS) {
    try {
      await waitFor(async () => {
        const v = await (await folio.api(`/api/docs/${doc}/publishing`)).json();
        views[doc] = v;
        const due = v.schedule.some((e) => Date.parse(e.at) <= Date.now());
        return (v.pending === null || v.pending.state === 'failed') && !due &&
          !(v.confirmed?.kv_pending);
      }, 60_000, `${doc} settled`);
    } catch (e) {
      fail(`cycle ${cycle}: ${doc} did not settle: ${JSON.stringify(views[doc])}`);
      continue;
    }
    const v = views[doc];
    for (const e of v.schedule) {
      if (!v.alarm || Date.parse(v.alarm) > Date.parse(e.at) + 1_000) {
        fail(`cycle ${cycle}: ${doc} entry ${e.id} pending without an alarm (${v.alarm})`);
      }
    }
    for (const r of v.ran) {
      if (r.runs !== 1) fail(`cycle ${cycle}: ${doc} entry ${r.entry} ran ${r.runs} times`);
    }
    // Scheduled entries: each ran once or is still pending. One that ran changed the post
    // after what the API last confirmed: that baseline no longer applies.
    for (const [key, { doc: of, entry }] of scheduled) {
      if (of !== doc) continue;
      const ran = v.ran.find((r) => r.entry === entry);
      const pending = v.schedule.find((e) => e.id === entry);
      if (ran && !pending) {
        counts.scheduled_ran++;
        scheduled.delete(key);
      } else if (pending && !ran) {
        counts.scheduled_pending++;
      } else {
        fail(`cycle ${cycle}: entry ${entry} of ${doc} ran=${!!ran} pending=${!!pending}`);
      }
    }
    // An entry that ran since the last check (even one whose scheduling request was never
    // answered) changed the post after anything the API confirmed.
    const h = history[doc];
    const newlyRan = v.ran.filter((r) => !h.ran.has(r.entry));
    for (const r of newlyRan) h.ran.add(r.entry);
    const attempts = h.attempts;
    h.attempts = [];
    const c = v.confirmed;
    // Webhooks: every version the object confirmed as published (its current one, and every
    // one a request was answered with) was announced, whatever moment the kill came at: the
    // object's outbox and the webhook's queue both survive it (delivery may take their retry
    // intervals). A version D1 got from an intent that a later publish replaced before it was
    // confirmed is not announced: the later one is.
    const required = new Set(attempts
      .filter((x) => x.ok && x.action === 'publish' && x.status === 'published').map((x) => x.version));
    if (c?.status === 'published' && v.pending?.state !== 'failed') required.add(c.version);
    const missing = () => [...required].filter((n) => !announced.has(`${doc}:v${n}`));
    try {
      await waitFor(() => missing().length === 0, 90_000, `${doc}'s versions announced`);
    } catch {
      fail(`cycle ${cycle}: ${doc} confirmed versions never announced: ${missing().join(', ')}`);
    }
    counts.versions_announced = announced.size;
    if (!c) continue;
    if (v.pending?.state === 'failed') continue; // visible to authors; the rest may lag it
    // Object, D1 and KV agree.
    const neverPublished = c.status === 'unpublished' && c.version === 0 && v.d1 === null;
    if (!neverPublished && (!v.d1 || v.d1.status !== c.status) || (c.status === 'published' &&
        (v.d1.version !== c.version || v.d1.content_hash !== c.content_hash))) {
      fail(`cycle ${cycle}: ${doc} D1 ${JSON.stringify(v.d1)} vs object ${JSON.stringify(c)}`);
    }
    const kvOk = c.status === 'published'
      ? v.kv?.state === 'post' && v.kv.content_hash === c.content_hash
      : v.kv === null || v.kv.state === 'gone';
    if (!kvOk) fail(`cycle ${cycle}: ${doc} KV ${JSON.stringify(v.kv)} vs object ${JSON.stringify(c)}`);
    // Readers see it (a document never published under a slug has nothing to read: an
    // unpublish of a never-published document confirms an empty slug).
    if (!c.slug) {
      if (c.status === 'published') fail(`cycle ${cycle}: ${doc} published without a slug`);
    } else {
      const res = await fetch(`${folio.url}/api/posts/${c.slug}`);
      const read = res.status === 200 ? await res.json() : null;
      if (c.status === 'published' ? read?.version !== c.version : res.status !== 404) {
        fail(`cycle ${cycle}: ${doc} readers get ${res.status} v${read?.version} vs ${JSON.stringify(c)}`);
      }
    }
    // What the API confirmed last is what happened, unless another request overlapped it or
    // came after it (requests for one document are serialized in its object, in an order the
    // client cannot see), or a scheduled entry ran.
    const confirmed = attempts.filter((x) => x.ok);
    const last = confirmed.reduce((a, x) => (a && a.end > x.end ? a : x), null);
    if (last) {
      const later = newlyRan.length > 0 ||
        attempts.some((x) => x !== last && (x.end === undefined || x.end > last.start));
      if (!later && (last.status !== c.status || last.version !== c.version)) {
        fail(`cycle ${cycle}: ${doc} confirmed ${JSON.stringify(last)} but is ${JSON.stringify(c)}`);
      }
      if (c.version < last.version) {
        fail(`cycle ${cycle}: ${doc} went back from confirmed v${last.version} to v${c.version}`);
      }
    }
  }
}
