// `make profile`: a CPU profile of Folio's isolate (the worker and its document objects) under
// load, taken through wrangler dev's inspector (the Chrome DevTools protocol), printed as self
// time by function.
//
//   node bench/profile.mjs [--writers 10] [--rate 50] [--seconds 10] [--top 30] [--out file]
//
// --out also writes the raw profile (open it in Chrome DevTools' Performance panel).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { startFolio } from '../tests/e2e/folio.mjs';
import { measure } from './load.mjs';

const { values } = parseArgs({
  options: {
    writers: { type: 'string', default: '10' }, rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' }, top: { type: 'string', default: '30' },
    out: { type: 'string' },
  },
});

/** A minimal CDP client over the inspector's WebSocket. */
async function inspector(port) {
  let targets = [];
  for (let i = 0; i < 50 && !targets.length; i++) {
    try {
      targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
    } catch { /* not up yet */ }
    if (!targets.length) await sleep(200);
  }
  // The user worker's isolate (wrangler also lists its own proxy worker).
  const target = targets.find((t) => /folio/i.test(`${t.title} ${t.url}`) && !/proxy/i.test(t.title)) ?? targets.at(-1);
  if (!target) throw new Error('no inspector target');
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(data);
    if (m.id && pending.has(m.id)) {
      const { resolve, reject } = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) reject(new Error(m.error.message)); else resolve(m.result);
    }
  });
  return {
    title: target.title,
    send: (method, params = {}) => new Promise((resolve, reject) => {
      const msg = { id: ++id, method, params };
      pending.set(msg.id, { resolve, reject });
      ws.send(JSON.stringify(msg));
    }),
    close: () => ws.close(),
  };
}

/** Self time (ms) per function of a CDP profile, largest first. */
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((nodeId, i) => {
    const node = byId.get(nodeId);
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url ? `${f.url.split('/').pop()}:${f.lineNumber + 1}` : ''}`.trim();
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]);
}

const folio = await startFolio('profile');
try {
  const cdp = await inspector(folio.inspectorPort);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  const server = { wsUrl: folio.wsUrl, params: { token: folio.socketToken }, viewerParams: { token: folio.socketToken } };
  // Connecting and syncing is outside the profile; the load is what it measures.
  await cdp.send('Profiler.start');
  const r = await measure(server, { writers: Number(values.writers), rate: Number(values.rate), seconds: Number(values.seconds) });
  const { profile } = await cdp.send('Profiler.stop');
  cdp.close();
  if (values.out) writeFileSync(values.out, JSON.stringify(profile));
  const rows = selfTimes(profile);
  const total = rows.reduce((a, [, ms]) => a + ms, 0);
  const idle = rows.filter(([n]) => /^\((idle|program|garbage collector)\)/.test(n));
  console.log(`profile of ${cdp.title}: ${r.writers} writers x ${r.rate} edits/s for ${r.seconds} s ` +
    `(p99 ${r.p99.toFixed(1)} ms, ${r.deliveries}/${r.expected} deliveries, ${(r.frames / Math.max(1, r.deliveries)).toFixed(2)} frames/delivery)`);
  console.log(`${(total / 1000).toFixed(1)} s sampled; ${idle.map(([n, ms]) => `${n.split(' ')[0]} ${(100 * ms / total).toFixed(1)}%`).join(', ')}`);
  const wasm = rows.filter(([n]) => /wasm/.test(n)).reduce((a, [, ms]) => a + ms, 0);
  console.log(`in wasm: ${(100 * wasm / total).toFixed(1)}% of samples\nself time by function:`);
  for (const [name, ms] of rows.slice(0, Number(values.top))) {
    console.log(`${(100 * ms / total).toFixed(1).padStart(6)}%  ${ms.toFixed(0).padStart(7)} ms  ${name}`);
  }
} finally {
  await folio.stop();
}
process.exit(0);
