// The OpenAPI document says what the server answers: the real worker's answers to the requests
// the editor makes validate against the success schema the document states for that path and
// method (the schemas the editor's generated types come from), and the document's route table
// is the router's: an undeclared method is a 405 with the table's Allow, never another route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startFolio, connect, disconnect, synced, waitFor } from './folio.mjs';
import { png } from '../images.mjs';

let folio;
let spec;
let ajv;
before(async () => {
  folio = await startFolio('openapi');
  spec = await (await fetch(`${folio.url}/api/openapi.json`)).json();
  ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  ajv.addSchema(spec, 'openapi.json');
});
after(async () => { await folio?.stop(); });

const pointer = (s) => s.replaceAll('~', '~0').replaceAll('/', '~1');

/** Sends the request and checks its answer against the document's schema for `template`. */
async function answers(template, method, path, init = {}) {
  const res = await folio.api(path, { method, ...init });
  const text = await res.text();
  const op = spec.paths[template]?.[method.toLowerCase()];
  assert.ok(op, `${method} ${template} is in the document`);
  const stated = Object.keys(op.responses).filter((k) => k !== 'default');
  assert.deepEqual(stated, [String(res.status)], `${method} ${path}: ${res.status} ${text}`);
  const body = text ? JSON.parse(text) : null;
  if (op.responses[res.status].content) {
    const ref = `openapi.json#/paths/${pointer(template)}/${method.toLowerCase()}/responses/${res.status}/content/application~1json/schema`;
    const valid = ajv.compile({ $ref: ref });
    assert.ok(valid(body), `${method} ${path}: ${JSON.stringify(valid.errors)} in ${text.slice(0, 400)}`);
  }
  return body;
}

const json = (body) => ({ body: JSON.stringify(body) });

test('the answers the editor reads match the schemas the document states for them', async () => {
  await answers('/api/session', 'GET', '/api/session');
  const token = await answers('/api/tokens', 'POST', '/api/tokens', json({ user: 'ada', role: 'editor', ttl_seconds: 600 }));
  assert.equal(typeof token.expires_at, 'string');
  const { id } = await answers('/api/docs', 'POST', '/api/docs', json({}));
  const c = connect(folio, id);
  await synced(c.provider);
  c.doc.getText('title').insert(0, 'Typed');
  await waitFor(async () => (await (await folio.api(`/api/docs/${id}`)).json()).title === 'Typed', 10_000, 'title stored');
  disconnect(c);
  const published = await answers('/api/docs/{doc}/publish', 'POST', `/api/docs/${id}/publish`);
  assert.equal(published.version, 1);
  await answers('/api/docs/{doc}/versions', 'GET', `/api/docs/${id}/versions`);
  await answers('/api/docs/{doc}/publishing', 'GET', `/api/docs/${id}/publishing`);
  const at = new Date(Date.now() + 3_600_000).toISOString();
  await answers('/api/docs/{doc}/schedule', 'POST', `/api/docs/${id}/schedule`, json({ action: 'unpublish', at }));
  const { entries } = await answers('/api/docs/{doc}/schedule', 'GET', `/api/docs/${id}/schedule`);
  assert.equal(entries.length, 1);
  await answers('/api/docs/{doc}/schedule/{entry}', 'DELETE', `/api/docs/${id}/schedule/${entries[0].id}`);
  await answers('/api/docs/{doc}/preview', 'POST', `/api/docs/${id}/preview`);
  const { documents } = await answers('/api/docs', 'GET', '/api/docs');
  assert.ok(documents.some((d) => d.id === id && d.status === 'published'));
  await answers('/api/docs/{doc}/unpublish', 'POST', `/api/docs/${id}/unpublish`);
  await answers('/api/media', 'POST', '/api/media?filename=a.png', { body: png(40, 30), headers: { 'content-type': 'image/png' } });
  const { media } = await answers('/api/media', 'GET', '/api/media?limit=5');
  assert.equal(media.length, 1);
  await answers('/api/collections', 'GET', '/api/collections');
  await answers('/api/docs/{doc}/versions/{version}/restore', 'POST', `/api/docs/${id}/versions/1/restore`);
});

test('a method the table does not have for a path is 405 with its Allow; an unknown path is 404', async () => {
  const hook = '/api/webhooks/wh_0123456789abcdef01234567';
  for (const method of ['QUERY', 'PUT', 'POST']) {
    const res = await folio.api(hook, { method });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get('allow'), 'GET, PATCH, DELETE', method);
    assert.equal((await res.json()).error.code, 'method_not_allowed');
  }
  // Each path's methods in the document are exactly those the Allow header names.
  for (const [path, item] of Object.entries(spec.paths)) {
    if (!path.includes('{')) {
      const res = await fetch(`${folio.url}${path}`, { method: 'QUERY' });
      assert.equal(res.status, 405, `${path}: ${res.status} ${await res.clone().text()}`);
      assert.ok(res.headers.get('allow'), `${path}: no Allow`);
      const allowed = res.headers.get('allow').split(', ').map((m) => m.toLowerCase()).sort();
      assert.deepEqual(allowed, Object.keys(item).sort(), path);
    }
  }
  assert.equal((await fetch(`${folio.url}/api/nope`)).status, 404);
  // Sign-out answers 204 with no content, as the document says (no body, so no content type).
  const out = await fetch(`${folio.url}/api/session`, { method: 'DELETE' });
  assert.equal(out.status, 204);
  assert.deepEqual(Object.keys(spec.paths['/api/session'].delete.responses).sort(), ['204', 'default']);
  assert.equal(spec.paths['/api/session'].delete.responses['204'].content, undefined);
});
