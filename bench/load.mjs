// The load generator of `make bench` and of the fan-out end-to-end test: stock y-websocket
// clients on one document, split over processes, against any y-websocket server.
//
// Every writer makes `rate` edits per second, each one transaction that types a character at a
// random place of the text `t` and sets the key `<writer>:<seq>` of the map `e` to its
// wall-clock send time. Every other client (writers and viewers) sees each key arrive and
// records its latency; since every edit has its own key, an edit is observed even when the
// server merges several into one frame. (A map, not an array: Yjs computes an array event's
// `changes` by walking the whole array, which made the generator the bottleneck.) Processes share the wall clock
// (`performance.timeOrigin + performance.now()`), so latencies are comparable across them.
//
// After the run the clients wait until every delivery arrived (or nothing more arrives for a
// while), a late joiner syncs from the server, and every client's text is compared.
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';

const wallNow = () => performance.timeOrigin + performance.now();
/** A short fingerprint of a text: its length and a hash, for comparing clients' copies. */
export const hashText = (s) => `${s.length}:${createHash('sha1').update(s).digest('hex').slice(0, 12)}`;

/**
 * Runs one scenario. `server` is `{ wsUrl, params, viewerParams }` (y-websocket's serverUrl
 * and the query parameters of writers and viewers). Returns the figures; see `summarize`.
 */
export async function measure(server, {
  writers = 10, viewers = 0, rate = 5, seconds = 20, procs, doc = `load-${Date.now()}`,
  settleMs = 30_000,
} = {}) {
  const total = writers + viewers;
  // Two processes (this machine has two cores) once one would spend most of its time applying
  // what it receives; `procs` overrides.
  const applies = writers * rate * (total - 1);
  const n = Math.max(1, Math.min(procs ?? (total > 20 || applies > 2000 ? 2 : 1), total));
  // Writers and viewers dealt round-robin over the processes.
  const slices = Array.from({ length: n }, () => ({ writers: [], viewers: 0 }));
  for (let w = 0; w < writers; w++) slices[w % n].writers.push(w);
  for (let v = 0; v < viewers; v++) slices[(writers + v) % n].viewers++;
  const children = slices.map((slice) => {
    const child = fork(import.meta.filename, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const state = { child, slice, counts: 0, msgs: [] };
    child.on('message', (m) => {
      if (m.type === 'count') state.counts = m.deliveries;
      else state.msgs.push(m);
    });
    return state;
  });
  const next = async (state, type, ms = 120_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = state.msgs.findIndex((m) => m.type === type || m.type === 'error');
      if (i >= 0) {
        const [m] = state.msgs.splice(i, 1);
        if (m.type === 'error') throw new Error(`load process: ${m.message}`);
        return m;
      }
      if (state.child.exitCode !== null) throw new Error('a load process exited');
      if (Date.now() > deadline) throw new Error(`load process: no ${type} in ${ms} ms`);
      await sleep(20);
    }
  };
  let joiner;
  try {
    for (const s of children) {
      s.child.send({ type: 'setup', server, doc, rate, writers: s.slice.writers, viewers: s.slice.viewers });
    }
    await Promise.all(children.map((s) => next(s, 'ready')));
    const startAt = wallNow() + 300;
    for (const s of children) s.child.send({ type: 'go', startAt, seconds });
    const done = await Promise.all(children.map((s) => next(s, 'done', seconds * 1000 + 60_000)));
    const edits = done.reduce((a, m) => a + m.edits, 0);
    const expected = edits * (writers - 1 + viewers);
    // Settle: until every delivery arrived, or none arrived for 3 s (capped).
    const settleStart = Date.now();
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      const got = children.reduce((a, s) => a + s.counts, 0);
      if (got !== last) { last = got; lastChange = Date.now(); }
      if (got >= expected || Date.now() - lastChange > 3000 || Date.now() - settleStart > settleMs) break;
      await sleep(100);
    }
    // A late joiner syncs from the server while everyone is still connected.
    joiner = client(server, server.params, doc);
    let joinerText = 'the late joiner did not sync in 30 s';
    try {
      await waitSynced(joiner.provider, 30_000);
      await sleep(500);
      joinerText = hashText(joiner.doc.getText('t').toString());
    } catch { /* reported as not converged */ }
    for (const s of children) s.child.send({ type: 'report' });
    const reports = await Promise.all(children.map((s) => next(s, 'report')));
    const samples = new Float64Array(reports.reduce((a, r) => a + r.samples.length, 0));
    let at = 0;
    for (const r of reports) { samples.set(r.samples, at); at += r.samples.length; }
    samples.sort();
    const texts = new Set(reports.flatMap((r) => r.texts));
    const q = (p) => (samples.length ? samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] : NaN);
    return {
      writers, viewers, rate, seconds, procs: n, edits, expected,
      deliveries: reports.reduce((a, r) => a + r.deliveries, 0),
      frames: reports.reduce((a, r) => a + r.frames, 0),
      bytes: reports.reduce((a, r) => a + r.bytes, 0),
      p50: q(0.5), p99: q(0.99), max: samples.length ? samples[samples.length - 1] : NaN,
      converged: texts.size === 1 && texts.has(joinerText),
      texts: [...texts], joinerText,
      // The generator's busiest process, as a share of one core: near 100 % it, not the
      // server, may be what limits the figures.
      generatorCpu: Math.max(...reports.map((r) => r.cpu)),
    };
  } finally {
    if (joiner) close(joiner);
    for (const s of children) {
      try { s.child.send({ type: 'exit' }); } catch { }
    }
    await Promise.all(children.map((s) => (s.child.exitCode !== null ? null
      : new Promise((r) => { s.child.once('exit', r); setTimeout(() => { s.child.kill('SIGKILL'); r(); }, 5000); }))));
  }
}

/** One stock client; counts the frames and bytes its socket receives. */
function client(server, params, doc, counter = { frames: 0, bytes: 0 }) {
  class Counting extends WebSocket {
    constructor(...args) {
      super(...args);
      this.on('message', (data) => { counter.frames++; counter.bytes += data.byteLength ?? data.length; });
    }
  }
  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(server.wsUrl, doc, ydoc, {
    WebSocketPolyfill: Counting, disableBc: true, params, maxBackoffTime: 1000,
  });
  return { doc: ydoc, provider, counter };
}

function close(c) {
  c.provider.destroy();
  c.doc.destroy();
}

async function waitSynced(provider, ms) {
  const deadline = Date.now() + ms;
  while (!provider.synced) {
    if (Date.now() > deadline) throw new Error('a client did not sync');
    await sleep(20);
  }
}

/** The child process: runs its slice of clients on the parent's commands. */
async function child() {
  process.setMaxListeners(1000);
  const send = (m) => process.send(m);
  let clients = [];
  const counter = { frames: 0, bytes: 0 };
  const samples = [];
  let deliveries = 0;
  let edits = 0;
  let counting = false;
  let ticker;
  let rate = 5;
  let cpu0;
  let wall0;
  process.on('message', async (m) => {
    try {
      if (m.type === 'setup') {
        const make = (writer) => {
          const c = client(m.server, writer === null ? m.server.viewerParams : m.server.params, m.doc, counter);
          c.writer = writer;
          const log = c.doc.getMap('e');
          log.observe((event) => {
            if (event.transaction.local) return;
            const now = wallNow();
            for (const key of event.keysChanged) {
              deliveries++;
              if (counting) samples.push(now - log.get(key));
            }
          });
          return c;
        };
        clients = [...m.writers.map(make), ...Array.from({ length: m.viewers }, () => make(null))];
        await Promise.all(clients.map((c) => waitSynced(c.provider, 60_000)));
        rate = m.rate;
        send({ type: 'ready' });
      } else if (m.type === 'go') {
        const interval = 1000 / rate;
        const writers = clients.filter((c) => c.writer !== null);
        await sleep(Math.max(0, m.startAt - wallNow()));
        counter.frames = 0;
        counter.bytes = 0;
        deliveries = 0;
        counting = true;
        cpu0 = process.cpuUsage();
        wall0 = performance.now();
        ticker = setInterval(() => send({ type: 'count', deliveries }), 100);
        const deadline = m.startAt + m.seconds * 1000;
        await Promise.all(writers.map(async (c, i) => {
          // Spread the writers over the interval.
          await sleep((interval * i) / writers.length);
          const text = c.doc.getText('t');
          const log = c.doc.getMap('e');
          for (let seq = 0, due = wallNow(); wallNow() < deadline; seq++) {
            c.doc.transact(() => {
              text.insert(Math.floor(Math.random() * (text.length + 1)), String.fromCharCode(97 + (seq % 26)));
              log.set(`${c.writer}:${seq}`, wallNow());
            });
            edits++;
            due += interval;
            await sleep(Math.max(0, due - wallNow()));
          }
        }));
        send({ type: 'done', edits });
      } else if (m.type === 'report') {
        clearInterval(ticker);
        const used = process.cpuUsage(cpu0);
        const cpu = (used.user + used.system) / 1000 / (performance.now() - wall0);
        send({
          type: 'report', samples, deliveries, frames: counter.frames, bytes: counter.bytes, cpu,
          texts: [...new Set(clients.map((c) => hashText(c.doc.getText('t').toString())))],
        });
      } else if (m.type === 'exit') {
        for (const c of clients) close(c);
        process.exit(0);
      }
    } catch (e) {
      send({ type: 'error', message: String(e?.stack ?? e) });
    }
  });
}

if (process.argv.includes('--child')) child();
