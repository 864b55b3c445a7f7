// Edit propagation latency between stock y-websocket clients through Folio.
//
// N clients on one document each make `rate` edits per second (a character typed at a random
// place plus a timestamp in a Y.Map, in one transaction). Every other client records how long
// the edit took to arrive. All clients run in this one process, so one clock serves all and
// the figures include the clients' own processing, as a browser's would.
//
//   node bench/latency.mjs [--clients 10] [--rate 5] [--seconds 30] [--url http://127.0.0.1:8787]
//
// Without --url it starts its own Folio under wrangler dev with fresh state.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFolio, connect, disconnect, synced } from '../tests/e2e/folio.mjs';

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Runs the measurement against a started Folio; returns the latency figures in ms. */
export async function measureLatency(folio, { clients = 10, rate = 5, seconds = 30, doc = `latency-${Date.now()}` } = {}) {
  const peers = Array.from({ length: clients }, () => connect(folio, doc));
  await Promise.all(peers.map((p) => synced(p.provider)));
  const samples = [];
  const sent = new Map(); // `${peer}:${seq}` -> send time
  peers.forEach((peer, me) => {
    peer.doc.getMap('lat').observe((event) => {
      if (event.transaction.local) return;
      for (const key of event.keysChanged) {
        const value = peer.doc.getMap('lat').get(key);
        const t0 = sent.get(`${key}:${value}`);
        if (t0 !== undefined) samples.push(performance.now() - t0);
      }
    });
    void me;
  });
  const interval = 1000 / rate;
  const deadline = performance.now() + seconds * 1000;
  let edits = 0;
  await Promise.all(peers.map(async (peer, i) => {
    await sleep((interval * i) / clients); // spread the clients over the interval
    for (let seq = 0; performance.now() < deadline; seq++) {
      const started = performance.now();
      const text = peer.doc.getText('t');
      peer.doc.transact(() => {
        text.insert(Math.floor(Math.random() * (text.length + 1)), String.fromCharCode(97 + (seq % 26)));
        sent.set(`c${i}:${seq}`, performance.now());
        peer.doc.getMap('lat').set(`c${i}`, seq);
      });
      edits++;
      await sleep(Math.max(0, interval - (performance.now() - started)));
    }
  }));
  await sleep(1000); // let the last edits arrive
  for (const p of peers) disconnect(p);
  const sorted = samples.sort((a, b) => a - b);
  const expected = edits * (clients - 1);
  return {
    clients, rate, seconds, edits, samples: sorted.length, expected,
    p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1],
  };
}

export function report(r) {
  return `latency: ${r.clients} clients x ${r.rate} edits/s for ${r.seconds} s: ${r.edits} edits, ` +
    `${r.samples}/${r.expected} deliveries; p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ` +
    `max ${r.max.toFixed(1)} ms`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '10' }, rate: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '30' }, url: { type: 'string' },
      token: { type: 'string' },
    },
  });
  // --url measures a running Folio (a deployment, say) with a socket token from --token.
  const folio = values.url
    ? {
      url: values.url, wsUrl: `${values.url.replace(/^http/, 'ws')}/sync`, socketToken: values.token,
      stop: async () => { },
    }
    : await startFolio('bench');
  try {
    const r = await measureLatency(folio, {
      clients: Number(values.clients), rate: Number(values.rate), seconds: Number(values.seconds),
    });
    console.log(report(r));
  } finally {
    await folio.stop();
  }
  process.exit(0);
}
