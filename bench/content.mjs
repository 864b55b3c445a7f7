// `make bench-content`: the reader API on a collection of 10,000 published entries under
// `wrangler dev`, against `/health` (the floor: a worker that does nothing) and a posts list
// (`/api/posts`, one indexed D1 query) in the same run, with the query plans that show every
// filter is an index lookup.
//
// The entries are written straight into local D1 in the shape publishing writes them
// (`entries` + `entry_values`, as src/edge/storage/d1.rs does); publishing 10,000 entries
// through their objects would take minutes and measure publishing, not reading.
//
//   node bench/content.mjs [--entries 10000] [--requests 200]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startFolio } from '../tests/e2e/folio.mjs';

const { values: args } = parseArgs({
  options: { entries: { type: 'string', default: '10000' }, requests: { type: 'string', default: '200' } },
});
const ENTRIES = Number(args.entries);
const REQUESTS = Number(args.requests);
const CATEGORIES = ['news', 'review', 'opinion', 'guide'];
const TAGS = ['rust', 'crdt', 'edge', 'cms', 'yjs', 'wasm', 'd1', 'kv'];

const folio = await startFolio('bench-content');
try {
  const define = await folio.api('/api/collections', {
    method: 'POST',
    body: JSON.stringify({
      name: 'articles', label: 'Articles', fields: [
        { name: 'headline', type: 'text', required: true },
        { name: 'body', type: 'richtext' },
        { name: 'rating', type: 'number', min: 0, max: 5 },
        { name: 'category', type: 'select', options: CATEGORIES },
        { name: 'tags', type: 'tags' },
        { name: 'day', type: 'date' },
      ],
    }),
  });
  if (define.status !== 201) throw new Error(`define: ${define.status} ${await define.text()}`);

  // A deterministic collection: entry i has rating i % 6 (0 = none), category i % 4, two tags
  // and a day in 2026.
  const q = (s) => `'${String(s).replaceAll("'", "''")}'`;
  const lines = [];
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < ENTRIES; i++) {
    const doc = `bench-${String(i).padStart(6, '0')}`;
    const rating = i % 6;
    const category = CATEGORIES[i % 4];
    const tags = [TAGS[i % 8], TAGS[(i * 3 + 1) % 8]].filter((t, k, a) => a.indexOf(t) === k);
    const day = t0 + (i % 365) * 86_400_000;
    const summary = { headline: `Entry ${i}`, rating: rating || null, category, tags, day: new Date(day).toISOString().slice(0, 10) };
    lines.push(`INSERT INTO entries (doc_id, collection, slug, status, version, title, summary, published_at, first_published_at) VALUES (${q(doc)}, 'articles', ${q(`entry-${i}`)}, 'published', 1, ${q(`Entry ${i}`)}, ${q(JSON.stringify(summary))}, ${t0 + i}, ${t0 + i});`);
    const values = [[ 'category', null, category ], [ 'day', day, null ], ...tags.map((t) => ['tags', null, t])];
    if (rating) values.push(['rating', rating, null]);
    for (const [field, num, txt] of values) {
      lines.push(`INSERT INTO entry_values (collection, field, doc_id, num, txt) VALUES ('articles', ${q(field)}, ${q(doc)}, ${num ?? 'NULL'}, ${txt === null ? 'NULL' : q(txt)});`);
    }
  }
  const file = path.join(folio.dir, 'seed.sql');
  writeFileSync(file, lines.join('\n'));
  // Written while the worker is stopped (a large write under a running `wrangler dev` made
  // it drop connections), as a deploy's migration would be.
  await folio.stop();
  const seeded = Date.now();
  folio.d1File(file);
  await folio.start();
  console.log(`seeded ${ENTRIES} entries (${lines.length} rows) in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

  async function timing(label, pathAndQuery, check) {
    const first = await fetch(`${folio.url}${pathAndQuery}`);
    const body = await first.json();
    if (first.status !== 200) throw new Error(`${label}: ${first.status} ${JSON.stringify(body)}`);
    check?.(body);
    const times = [];
    for (let i = 0; i < REQUESTS; i++) {
      const start = performance.now();
      const res = await fetch(`${folio.url}${pathAndQuery}`);
      await res.arrayBuffer();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const at = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
    return { label, p50: at(0.5), p90: at(0.9), p99: at(0.99), count: body.entries?.length ?? body.posts?.length ?? '-' };
  }

  const rows = [
    await timing('/health (floor)', '/health'),
    await timing('/api/posts (empty, one D1 query)', '/api/posts'),
    await timing('newest 20', '/api/content/articles'),
    await timing('category=news', '/api/content/articles?category=news', (b) => { if (b.entries.some((e) => e.fields.category !== 'news')) throw new Error('filter'); }),
    await timing('rating[gte]=4', '/api/content/articles?rating[gte]=4'),
    await timing('tags=crdt&category=review', '/api/content/articles?tags=crdt&category=review'),
    await timing('day range + sort=-rating', '/api/content/articles?day[gte]=2026-03-01&day[lt]=2026-04-01&sort=-rating'),
    await timing('sort=rating, limit=100', '/api/content/articles?sort=rating&limit=100'),
  ];
  console.log(`\n${ENTRIES} published entries, ${REQUESTS} sequential requests each (ms, wrangler dev, one client):`);
  console.log('| query | entries | p50 | p90 | p99 | p50 / health |');
  console.log('|---|---|---|---|---|---|');
  const floor = Number(rows[0].p50);
  for (const r of rows) console.log(`| ${r.label} | ${r.count} | ${r.p50} | ${r.p90} | ${r.p99} | ${(Number(r.p50) / floor).toFixed(1)}× |`);

  // The plans D1 (SQLite) uses: every filter a SEARCH on an entry_values index, the list a
  // SEARCH on entries_newest, never a SCAN of a collection.
  const plan = (sql) => {
    const out = JSON.parse(folio.d1Json(`EXPLAIN QUERY PLAN ${sql}`));
    return out[0].results.map((r) => `  ${r.detail}`).join('\n');
  };
  console.log('\nquery plan, category=news&rating[gte]=4, newest first:');
  console.log(plan(`SELECT e.doc_id FROM entries e WHERE e.collection = 'articles' AND e.status = 'published' AND e.doc_id IN (SELECT doc_id FROM entry_values WHERE collection = 'articles' AND field = 'category' AND txt = 'news') AND e.doc_id IN (SELECT doc_id FROM entry_values WHERE collection = 'articles' AND field = 'rating' AND num >= 4) ORDER BY e.first_published_at DESC, e.doc_id DESC LIMIT 21`));
  console.log('query plan, sort=-rating:');
  console.log(plan(`SELECT e.doc_id, s.num FROM entries e LEFT JOIN entry_values s ON s.collection = 'articles' AND s.field = 'rating' AND s.doc_id = e.doc_id WHERE e.collection = 'articles' AND e.status = 'published' ORDER BY (s.num IS NULL), s.num DESC, e.doc_id DESC LIMIT 21`));
} finally {
  await folio.stop();
}
