// `make bench`: Folio against two baselines on this machine, in one run, with the same stock
// y-websocket load generator (bench/load.mjs):
//   - reference: the reference server, npm `@y/websocket-server` (pinned in package.json), in
//     memory, one Node process;
//   - relay: a Durable Object in the same workerd that relays frames and does nothing else
//     (bench/relay/relay.js): the floor of the platform here;
//   - folio: Folio under `wrangler dev` (the release build), every update stored before relay.
//
// Scenarios (each on a fresh document): 2, 10 and 50 writers at 5 edits/s; a rate sweep at 10
// writers up to the highest rate with p99 < 100 ms, every delivery observed and convergence;
// 1 writer at 5 edits/s with 200 viewers. Ratios are against the reference server.
//
//   node bench/fanout.mjs [--servers folio,reference,relay] [--seconds 20] [--quick]
//                         [--only basic|sweep|viewers]
//   node bench/fanout.mjs --url https://folio.example.workers.dev --token <socket token>
//                         (a running Folio, a deployment say, as the server "remote")
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFolio, freePort, wranglerEnv } from '../tests/e2e/folio.mjs';
import { measure } from './load.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');

/** CPU time (ms) used so far by every process of group `pgid` (from /proc). */
export function groupCpuMs(pgid) {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

function stopGroup(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode) return resolve();
    child.once('exit', resolve);
    try { process.kill(-child.pid, 'SIGTERM'); } catch { return resolve(); }
    setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { } }, 5000).unref();
  });
}

async function waitUp(url, child, what) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited`);
    try { await fetch(url); return; } catch { await sleep(200); }
  }
  throw new Error(`${what} did not start`);
}

const servers = {
  async folio() {
    const folio = await startFolio('bench');
    const viewer = await folio.token({ user: 'bench-viewer', role: 'viewer', doc: '*', ttl_seconds: 86_400 });
    return {
      name: 'folio', wsUrl: folio.wsUrl, params: { token: folio.socketToken }, viewerParams: { token: viewer },
      pgid: folio.child.pid, folio, stop: () => folio.stop(),
    };
  },
  async reference() {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/@y/websocket-server/src/server.js')], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) }, stdio: 'ignore', detached: true,
    });
    await waitUp(`http://127.0.0.1:${port}/`, child, 'the reference server');
    return { name: 'reference', wsUrl: `ws://127.0.0.1:${port}`, params: {}, viewerParams: {}, pgid: child.pid, stop: () => stopGroup(child) };
  },
  async relay() {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'folio-relay-'));
    const child = spawn(path.join(ROOT, 'node_modules/.bin/wrangler'), ['dev', '--config', path.join(ROOT, 'bench/relay/wrangler.toml'),
      '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort()), '--persist-to', dir,
      '--show-interactive-dev-session=false'], { cwd: ROOT, env: wranglerEnv(), stdio: 'ignore', detached: true });
    await waitUp(`http://127.0.0.1:${port}/up`, child, 'the relay');
    return {
      name: 'relay', wsUrl: `ws://127.0.0.1:${port}`, params: {}, viewerParams: {}, pgid: child.pid,
      stop: async () => { await stopGroup(child); rmSync(dir, { recursive: true, force: true }); },
    };
  },
};

/** One scenario on `server`, with the server's CPU share over the run. */
async function run(server, opts) {
  const cpu0 = server.pgid ? groupCpuMs(server.pgid) : 0;
  const t0 = Date.now();
  const r = await measure(server, opts);
  r.serverCpu = server.pgid ? (groupCpuMs(server.pgid) - cpu0) / (Date.now() - t0) : NaN;
  r.ok = r.deliveries >= r.expected && r.converged;
  return r;
}

const fmt = (ms) => (Number.isFinite(ms) ? (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)) : '-');
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '-');

function row(label, name, r) {
  const fpd = r.deliveries ? (r.frames / r.deliveries).toFixed(2) : '-';
  return `${label.padEnd(22)} ${name.padEnd(9)} ${fmt(r.p50).padStart(7)} ${fmt(r.p99).padStart(7)} ${fmt(r.max).padStart(7)}  ` +
    `${`${r.deliveries}/${r.expected}`.padStart(15)} ${fpd.padStart(6)}  ${(r.converged ? 'yes' : 'NO').padEnd(4)} ` +
    `${pct(r.serverCpu).padStart(5)} ${pct(r.generatorCpu).padStart(5)}${r.generatorCpu > 0.9 ? ' (generator-bound)' : ''}`;
}

const HEADER = `${'scenario'.padEnd(22)} ${'server'.padEnd(9)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)}  ` +
  `${'deliveries'.padStart(15)} ${'frm/dl'.padStart(6)}  conv ${'srv'.padStart(5)} ${'gen'.padStart(5)}`;

async function main() {
  const { values } = parseArgs({
    options: {
      servers: { type: 'string', default: 'reference,relay,folio' },
      seconds: { type: 'string', default: '20' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
    },
  });
  if (values.url) {
    const wsUrl = `${values.url.replace(/^http/, 'ws')}/sync`;
    servers.remote = async () => ({
      name: 'remote', wsUrl, params: { token: values.token }, viewerParams: { token: values.token },
      pgid: 0, stop: async () => { },
    });
    values.servers = 'remote';
  }
  const seconds = Number(values.seconds);
  const names = values.servers.split(',');
  const sweepRates = values.quick ? [10, 100] : [5, 10, 25, 50, 100, 200];
  const results = {};
  console.log('srv/gen: CPU of the server\'s processes and of the busiest load process, as a share of one core');
  console.log(`(this machine: 2 cores shared by server and generator)\n${HEADER}`);
  for (const name of names) {
    const server = await servers[name]();
    const mine = (results[name] = { basic: {}, sweep: [], viewers: null });
    try {
      if (!values.only || values.only === 'basic') {
        for (const writers of values.quick ? [2, 10] : [2, 10, 50]) {
          const r = await run(server, { writers, rate: 5, seconds });
          mine.basic[writers] = r;
          console.log(row(`${writers} x 5/s`, name, r));
        }
      }
      if (!values.only || values.only === 'sweep') {
        for (const rate of sweepRates) {
          const r = await run(server, { writers: 10, rate, seconds: Math.min(seconds, 10) });
          mine.sweep.push(r);
          console.log(row(`10 x ${rate}/s (${rate * 10}/s)`, name, r));
          if (!(r.ok && r.p99 < 100)) break;
        }
      }
      if (!values.only || values.only === 'viewers') {
        const r = await run(server, { writers: 1, viewers: values.quick ? 50 : 200, rate: 5, seconds: Math.min(seconds, 15) });
        mine.viewers = r;
        console.log(row(`1 x 5/s + ${r.viewers} viewers`, name, r));
      }
    } finally {
      await server.stop();
    }
  }
  console.log(`\n${summary(results)}`);
}

/** The comparison: per scenario, each server's p99 as a ratio of the reference server's. */
function summary(results) {
  const lines = ['summary (p99; ratio to the reference server in this run):'];
  const ref = results.reference;
  const ratio = (r, base) => (base && Number.isFinite(r.p99) && base.p99 > 0 ? ` (${(r.p99 / base.p99).toFixed(2)}x)` : '');
  for (const [name, mine] of Object.entries(results)) {
    const parts = [];
    for (const [w, r] of Object.entries(mine.basic)) {
      parts.push(`${w} writers p99 ${fmt(r.p99)} ms${ratio(r, ref?.basic[w])}${r.ok ? '' : ' INCOMPLETE'}, ${(r.frames / Math.max(1, r.deliveries)).toFixed(2)} frames/delivery`);
    }
    const passing = mine.sweep.filter((r) => r.ok && r.p99 < 100);
    if (mine.sweep.length) {
      const top = passing.at(-1);
      parts.push(`top rate at 10 writers with p99 < 100 ms: ${top ? `${top.rate * 10} edits/s (${(top.frames / Math.max(1, top.deliveries)).toFixed(2)} frames/delivery)` : 'none'}` +
        `${passing.length === mine.sweep.length ? ' (highest rate tried)' : ''}`);
    }
    if (mine.viewers) parts.push(`1 writer + ${mine.viewers.viewers} viewers p99 ${fmt(mine.viewers.p99)} ms${ratio(mine.viewers, ref?.viewers)}`);
    lines.push(`  ${name}: ${parts.join('; ')}`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
