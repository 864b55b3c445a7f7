// Reader throughput with wrk (Debian's), in one run on this machine: /health, a post from the
// edge cache, the same post with the cache off (a second wrangler dev with EDGE_CACHE=off: KV),
// a D1 list (never cached: it has a query), and a 1 MB image from the cache. Prints requests/s
// and each against /health of the same Folio. wrk and workerd share the 2 cores: the figures
// are ratios, not capacity.
import { execFileSync } from 'node:child_process';
import { startFolio, editDoc, paragraph } from '../tests/e2e/folio.mjs';
import { jpeg } from '../tests/images.mjs';

const SECONDS = Number(process.env.WRK_SECONDS ?? 10);
const wrk = (url) => {
  const out = execFileSync('wrk', ['-t2', '-c16', `-d${SECONDS}s`, '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? '?';
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  return { rps, p50, errors };
};

async function prepare(folio) {
  await editDoc(folio, 'bench-post', (d) => {
    d.getText('title').insert(0, 'Bench post');
    for (let i = 0; i < 20; i++) paragraph(d, `Paragraph ${i} of a post of ordinary length, read by many.`);
  });
  const res = await folio.api('/api/docs/bench-post/publish', { method: 'POST' });
  if (res.status !== 200) throw new Error(await res.text());
  await new Promise((r) => setTimeout(r, 1500)); // KV takes the version
  const image = jpeg(1000, 700, { noise: 60, quality: 95, seed: 7 });
  const up = await (await folio.api('/api/media', { method: 'POST', body: image, headers: { 'content-type': 'image/jpeg' } })).json();
  for (const path of ['/api/posts/bench-post', `/media/${up.id}`]) {
    for (let i = 0; i < 3; i++) await (await fetch(`${folio.url}${path}`)).arrayBuffer();
  }
  return { image: `/media/${up.id}`, bytes: image.length };
}

const rows = [];
const cached = await startFolio('bench-readers');
try {
  const { image, bytes } = await prepare(cached);
  const health = wrk(`${cached.url}/health`);
  rows.push(['/health', health, health.rps]);
  rows.push(['cached post (/api/posts/{slug}, Folio-Cache: hit)', wrk(`${cached.url}/api/posts/bench-post`), health.rps]);
  rows.push(['D1 list (/api/posts?limit=20)', wrk(`${cached.url}/api/posts?limit=20`), health.rps]);
  rows.push([`image (${(bytes / 1e6).toFixed(2)} MB, from the cache)`, wrk(`${cached.url}${image}`), health.rps]);
} finally {
  await cached.stop();
}
const plain = await startFolio('bench-readers-nocache', { vars: { EDGE_CACHE: 'off' } });
try {
  await prepare(plain);
  const health = wrk(`${plain.url}/health`);
  rows.push(['/health (cache off)', health, health.rps]);
  rows.push(['uncached post (KV, EDGE_CACHE=off)', wrk(`${plain.url}/api/posts/bench-post`), health.rps]);
} finally {
  await plain.stop();
}
console.log(`\nwrk -t2 -c16 -d${SECONDS}s on wrangler dev (workerd), this machine:\n`);
console.log('| request | requests/s | p50 | vs /health of the same Folio | non-2xx |');
console.log('|---|---|---|---|---|');
for (const [name, r, base] of rows) {
  console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${((100 * r.rps) / base).toFixed(0)} % | ${r.errors} |`);
}
