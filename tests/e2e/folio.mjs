// Test support for end-to-end tests: runs the real worker under `wrangler dev` (workerd, local
// Durable Objects/D1/KV) with a fresh state directory, and connects real Yjs clients to it.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';

const ROOT = path.resolve(import.meta.dirname, '../..');
const STATE = path.join(ROOT, 'tests/e2e/.state');
const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');
const running = new Set();
// Every y-websocket provider adds a process 'exit' listener; tests run dozens at once.
process.setMaxListeners(100);

/** A TCP port free on 127.0.0.1 at the time of asking. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The environment wrangler runs in: no metrics, no network fetches of its own. */
export function wranglerEnv() {
  return { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
}

/** The admin key `wrangler dev` reads from `.dev.vars` (`make` creates it; see scripts/dev-vars.sh). */
export function adminKey() {
  execFileSync(path.join(ROOT, 'scripts/dev-vars.sh'), { stdio: 'ignore' });
  const line = readFileSync(path.join(ROOT, '.dev.vars'), 'utf8').split('\n').find((l) => l.startsWith('ADMIN_KEY='));
  return line.slice('ADMIN_KEY='.length).trim();
}

/**
 * A running Folio: `url`, `wsUrl`, `stop()`, `restart()`, and as the operator: `api(path,
 * init)` (fetch with the admin key), `socketToken` (an admin API token for sockets) and
 * `token(claims)` (a token of the given user/role/doc/ttl_seconds/use). Each call gets its
 * own state. With `{ faults: true }` the worker's test-only fault switch is on.
 */
export async function startFolio(name, { faults = false, vars = {} } = {}) {
  const dir = path.join(STATE, `${name}-${process.pid}-${Date.now()}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync(WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', dir], {
    cwd: ROOT, env: wranglerEnv(), stdio: ['ignore', 'ignore', 'inherit'],
  });
  let port = await freePort();
  const folio = {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/sync`,
    dir,
    child: null,
    adminKey: adminKey(),
    socketToken: null,
    /** fetch(`${url}${path}`) as the operator (the admin key as a bearer token). */
    api(p, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${this.adminKey}`);
      return fetch(`${this.url}${p}`, { ...init, headers });
    },
    /** A token from POST /api/tokens with these claims, issued by the operator. */
    async token(claims = {}) {
      const res = await this.api('/api/tokens', { method: 'POST', body: JSON.stringify(claims) });
      if (res.status !== 201) throw new Error(`token ${res.status}: ${await res.text()}`);
      return (await res.json()).token;
    },
    async start() {
      const inspector = await freePort();
      this.inspectorPort = inspector;
      const log = openSync(path.join(dir, 'wrangler.log'), 'a');
      this.child = spawn(WRANGLER, ['dev', '--ip', '127.0.0.1', '--port', String(port),
        '--inspector-port', String(inspector), '--persist-to', dir,
        // The test-only fault switch (POST /api/docs/{doc}/faults); off unless asked for.
        ...(faults ? ['--var', 'FOLIO_FAULTS:on'] : []),
        ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
        '--show-interactive-dev-session=false'], {
        cwd: ROOT, env: wranglerEnv(), stdio: ['ignore', log, log], detached: true,
      });
      closeSync(log);
      running.add(this);
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (this.child.exitCode !== null) break;
        try {
          if ((await fetch(`${this.url}/health`)).ok) {
            this.socketToken ??= await this.token({ user: 'tests', ttl_seconds: 86_400 });
            return this;
          }
        } catch { /* not up yet */ }
        await sleep(200);
      }
      const out = readFileSync(path.join(dir, 'wrangler.log'), 'utf8');
      await this.stop();
      throw new Error(`wrangler dev did not start:\n${out.slice(-3000)}`);
    },
    /** Stops wrangler and both workerd children (the whole process group). */
    async stop() {
      const child = this.child;
      running.delete(this);
      if (!child || child.exitCode !== null || child.signalCode) return;
      const exited = new Promise((r) => child.once('exit', r));
      try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
      const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { } }, 5000);
      await exited;
      clearTimeout(timer);
      // workerd children may outlive wrangler by a moment; make sure the group is gone.
      for (let i = 0; i < 50; i++) {
        try { process.kill(-child.pid, 0); } catch { return; }
        await sleep(100);
      }
      try { process.kill(-child.pid, 'SIGKILL'); } catch { }
    },
    async restart() {
      await this.stop();
      return this.start();
    },
    log() {
      return readFileSync(path.join(dir, 'wrangler.log'), 'utf8');
    },
    /** `d1`, answering wrangler's JSON only. */
    d1Json(sql) {
      return execFileSync(WRANGLER, ['d1', 'execute', 'DB', '--local', '--persist-to', dir, '--json', '--command', sql], {
        cwd: ROOT, env: wranglerEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
      });
    },
    /** Runs a file of SQL on this instance's local D1 (see `d1`). */
    d1File(file) {
      return execFileSync(WRANGLER, ['d1', 'execute', 'DB', '--local', '--persist-to', dir, '--file', file, '--yes'], {
        cwd: ROOT, env: wranglerEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20,
      });
    },
    /** Runs SQL on this instance's local D1 (the running worker shares the database). */
    d1(sql) {
      return execFileSync(WRANGLER, ['d1', 'execute', 'DB', '--local', '--persist-to', dir, '--command', sql], {
        cwd: ROOT, env: wranglerEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
      });
    },
  };
  // A free port can be taken by another process between probing and binding (another test
  // run on the machine): start again on fresh ports rather than fail.
  for (let attempt = 1; ; attempt++) {
    try {
      return await folio.start();
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/.test(String(e))) throw e;
      const fresh = await freePort();
      folio.url = `http://127.0.0.1:${fresh}`;
      folio.wsUrl = `ws://127.0.0.1:${fresh}/sync`;
      port = fresh;
    }
  }
}

function stopAll() {
  for (const f of running) {
    try { process.kill(-f.child.pid, 'SIGKILL'); } catch { }
  }
}
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopAll(); process.exit(130); });

/** A stock y-websocket client on `docId`, with the operator's socket token unless `opts.params` says otherwise. */
export function connect(folio, docId, opts = {}) {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(folio.wsUrl, docId, doc, {
    WebSocketPolyfill: WebSocket, disableBc: true, params: { token: folio.socketToken }, ...opts,
  });
  return { doc, provider, text: doc.getText('t') };
}

/** Closes a client from `connect` and frees its timers (awareness renews on an interval). */
export function disconnect(client) {
  client.provider.destroy();
  client.doc.destroy();
}

/** Resolves once `provider` has completed the sync handshake. */
export function synced(provider, ms = 15_000) {
  if (provider.synced) return Promise.resolve();
  return waitFor(() => provider.synced, ms, 'provider sync');
}

/** Polls `predicate` until it is true, or fails after `ms`. */
export async function waitFor(predicate, ms = 10_000, what = 'condition') {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await sleep(20);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** GET /api/docs/{id}/state as bytes (null on 404). */
export async function documentState(folio, docId) {
  const res = await folio.api(`/api/docs/${docId}/state`);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`state ${res.status}: ${await res.text()}`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), headers: res.headers };
}

/** A Y.Doc loaded from the server's state of `docId`. */
export async function serverDoc(folio, docId) {
  const state = await documentState(folio, docId);
  const doc = new Y.Doc();
  if (state) Y.applyUpdate(doc, state.bytes);
  return doc;
}

/** A raw WebSocket to `docId` that records every frame and the close code/reason. */
export async function rawSocket(folio, docId, token = folio.socketToken) {
  const ws = new WebSocket(`${folio.wsUrl}/${docId}?token=${encodeURIComponent(token)}`);
  ws.binaryType = 'nodebuffer';
  const frames = [];
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data) => frames.push(new Uint8Array(data)));
  ws.on('error', () => { });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return { ws, frames, closed };
}

/** Tries a WebSocket upgrade of `url`: `{opened: true}`, or `{opened: false, status, body}` of the refusal (JSON when it is). */
export function upgrade(url, headers = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => { ws.close(); resolve({ opened: true, status: 101 }); });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        let parsed = body;
        try { parsed = JSON.parse(body); } catch { /* a page, not an API error */ }
        resolve({ opened: false, status: res.statusCode, body: parsed });
      });
    });
    ws.on('error', () => { });
  });
}

/** Opens `doc`, lets `write` edit it (one transaction), and waits until the server has it. */
export async function editDoc(folio, doc, write) {
  const c = connect(folio, doc);
  try {
    await synced(c.provider);
    c.doc.transact(() => write(c.doc));
    const want = Y.encodeStateVector(c.doc);
    await waitFor(async () => {
      const res = await folio.api(`/api/docs/${doc}/state`);
      if (!res.ok) return false;
      const server = new Y.Doc();
      Y.applyUpdate(server, new Uint8Array(await res.arrayBuffer()));
      return Buffer.compare(Buffer.from(Y.encodeStateVector(server)), Buffer.from(want)) === 0 ||
        Y.encodeStateAsUpdate(c.doc, Y.encodeStateVector(server)).length <= 2;
    }, 10_000, `edit of ${doc} stored`);
  } finally {
    disconnect(c);
  }
}

/** Appends a paragraph with `text` to the document's rich-text body. */
export function paragraph(doc, text) {
  const p = new Y.XmlElement('paragraph');
  doc.getXmlFragment('body').insert(doc.getXmlFragment('body').length, [p]);
  p.insert(0, [new Y.XmlText(text)]);
}

export { Y };
