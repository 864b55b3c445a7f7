// Content types in the editor, in real Chromium against the real worker: an admin defines a
// collection in the schema editor, two authors fill the form generated from it together —
// each field bound live to its Yjs type, who is in which field shown, what publishing would
// refuse shown as they type — and publish it; then a change the server calls incompatible is
// shown with what it would tighten and saved only when the admin insists.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startFolio, waitFor, editDoc } from '../e2e/folio.mjs';
import { startBrowser, openDoc } from './browser.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
let folio;
let browser;
let author;
let consoleErrors;

before(async () => {
  folio = await startFolio('browser-entries');
  ({ browser, author, consoleErrors } = await startBrowser(folio));
});
after(async () => {
  await browser?.close();
  await folio?.stop();
});

/** Fills row `i` of the schema editor: name, label, type, then the rules given as label → value. */
async function defineField(page, i, { name, label, type, required = false, rules = {} }) {
  const row = page.locator('.schema-field').nth(i);
  await row.locator('.f-name').fill(name);
  if (label) await row.locator('.f-label').fill(label);
  await row.locator('.f-type').selectOption(type);
  if (required) await row.getByLabel('Required').check();
  for (const [rule, value] of Object.entries(rules)) {
    const input = row.getByLabel(rule);
    if (value === true) await input.check();
    else await input.fill(String(value));
  }
}

const draft = async (id) => (await folio.api(`/api/docs/${id}`)).json();
const problemOf = (page, name) => page.locator(`#problem-${name}`);
/** Waits until field `name` shows no problem on `page`. */
const noProblem = (page, name) => waitFor(async () => (await problemOf(page, name).textContent()) === '', 10_000, `${name} valid`);

test('an admin defines a collection; two authors fill its form together, see the problems live, and publish', async () => {
  const ada = await author('Ada', '#e11d48');
  const grace = await author('Grace', '#2563eb', 'writer');
  try {
    // The schema editor: a refused definition is marked, then fixed and created.
    await ada.page.goto(`${folio.url}/#/`);
    await ada.page.getByRole('link', { name: 'New collection' }).click();
    await ada.page.locator('#collection-name').fill('reviews');
    await ada.page.locator('#collection-label').fill('Reviews');
    await defineField(ada.page, 0, { name: 'headline', label: 'Headline', type: 'text', required: true, rules: { 'Max length': 60 } });
    const fields = [
      { name: 'body', label: 'Review', type: 'richtext', required: true },
      { name: 'rating', type: 'number', rules: { Min: 0, Max: 5, 'Whole numbers': true } },
      { name: 'verdict', type: 'select', required: true, rules: { Options: 'buy\nskip' } },
      { name: 'reviewed_on', label: 'Reviewed on', type: 'date' },
      { name: 'featured', type: 'boolean' },
      { name: 'slug', type: 'tags' }, // reserved: refused, then renamed
    ];
    for (const [i, f] of fields.entries()) {
      await ada.page.getByRole('button', { name: 'Add field' }).click();
      await defineField(ada.page, i + 1, f);
    }
    await ada.page.getByRole('button', { name: 'Create collection' }).click();
    await ada.page.locator('.schema-editor .message.error', { hasText: 'reserved' }).waitFor({ timeout: 10_000 }).catch(async (e) => {
      // Say what the editor showed and what the browser holds invalid, not only the timeout.
      const state = await ada.page.evaluate(() => ({
        message: document.querySelector('.schema-editor .message')?.textContent,
        invalid: [...document.querySelectorAll('.schema-editor :invalid')].map((el) => el.id || el.className),
        rows: document.querySelectorAll('.schema-field').length,
      }));
      throw new Error(`${e.message}\nthe schema editor: ${JSON.stringify(state)}`);
    });
    assert.equal(await ada.page.locator('.schema-field.invalid').count(), 1);
    assert.equal(await ada.page.locator('.schema-field.invalid .f-name').inputValue(), 'slug');
    await ada.page.locator('.schema-field').nth(6).locator('.f-name').fill('topics');
    // Reordering: the date moves above the rating.
    await ada.page.getByRole('button', { name: 'Move reviewed_on up' }).click();
    await ada.page.getByRole('button', { name: 'Move reviewed_on up' }).click();
    await ada.page.getByRole('button', { name: 'Create collection' }).click();
    await ada.page.locator('.collections li[data-collection=reviews]').waitFor({ timeout: 10_000 });
    const defined = await (await folio.api('/api/collections/reviews')).json();
    assert.deepEqual(defined.fields.map((f) => f.name), ['headline', 'body', 'reviewed_on', 'rating', 'verdict', 'featured', 'topics']);
    assert.deepEqual(defined.fields[0], { name: 'headline', type: 'text', label: 'Headline', required: true, max_length: 60 });
    assert.deepEqual(defined.fields[3], { name: 'rating', type: 'number', min: 0, max: 5, integer: true });
    assert.deepEqual(defined.fields[4].options, ['buy', 'skip']);

    // A new entry in it, opened by both.
    await ada.page.getByRole('button', { name: 'New entry in Reviews' }).click();
    await ada.page.waitForURL(/#\/doc\//);
    const id = /#\/doc\/(.+)$/.exec(ada.page.url())[1];
    await openDoc(folio, ada.page, id);
    await openDoc(folio, grace.page, id);
    assert.equal((await draft(id)).collection, 'reviews');
    // Before anything is written, publishing would refuse the required fields: said per field.
    await problemOf(grace.page, 'headline').filter({ hasText: /required/ }).waitFor({ timeout: 10_000 });
    await grace.page.locator('.problems-summary', { hasText: '3 fields to fix' }).waitFor();

    // Text: a root Y.Text, shared live.
    await ada.page.locator('#field-headline').fill('A calm keyboard');
    await waitFor(async () => (await grace.page.locator('#field-headline').inputValue()) === 'A calm keyboard', 10_000, 'headline shared');
    await noProblem(grace.page, 'headline');

    // Presence: Grace in the rating field is shown to Ada there; an out-of-range number is
    // refused live, then fixed.
    await grace.page.locator('#field-rating').fill('7');
    await ada.page.locator('[data-field=rating] .field-people .person', { hasText: 'Grace' }).waitFor({ timeout: 10_000 });
    await problemOf(ada.page, 'rating').filter({ hasText: /5/ }).waitFor({ timeout: 10_000 });
    await grace.page.locator('#field-rating').fill('4');
    await noProblem(ada.page, 'rating');
    await waitFor(async () => (await ada.page.locator('#field-rating').inputValue()) === '4', 10_000, 'rating shared');

    // Select, date and boolean: keys of the Y.Map `fields`.
    await ada.page.locator('#field-verdict').selectOption('buy');
    await ada.page.locator('#field-reviewed_on').fill('2026-11-20');
    await ada.page.locator('#field-featured').check();
    await grace.page.locator('#field-topics').fill('keyboards, calm, keyboards');
    await waitFor(async () => (await grace.page.locator('#field-verdict').inputValue()) === 'buy', 10_000, 'verdict shared');
    assert.equal(await grace.page.locator('#field-featured').isChecked(), true);

    // Publishing before the rich text is written: 422, said on the page; nothing published.
    await ada.page.getByRole('button', { name: 'Publish', exact: true }).click();
    await ada.page.locator('.message.error', { hasText: /not valid \(first: body/ }).waitFor({ timeout: 10_000 });

    // Rich text: TipTap on the Y.XmlFragment `body`, with the toolbar; Ada sees Grace's caret.
    const body = grace.page.locator('[data-field=body] .ProseMirror');
    await body.click();
    await grace.page.keyboard.type('Quiet keys, ');
    await grace.page.getByRole('button', { name: 'Bold', exact: true }).click();
    await grace.page.keyboard.type('firm');
    await grace.page.getByRole('button', { name: 'Bold', exact: true }).click();
    await grace.page.keyboard.type(' travel.');
    await ada.page.locator('[data-field=body] .collaboration-carets__label', { hasText: 'Grace' }).waitFor({ timeout: 10_000 });
    await ada.page.locator('[data-field=body] .ProseMirror strong', { hasText: 'firm' }).waitFor({ timeout: 10_000 });
    await ada.page.locator('.problems-summary.ok', { hasText: 'Ready to publish' }).waitFor({ timeout: 10_000 });

    // What both wrote is the contract every Yjs client reads.
    const written = await draft(id);
    assert.deepEqual(written.problems, []);
    assert.equal(written.fields.headline, 'A calm keyboard');
    assert.equal(written.fields.rating, 4);
    assert.equal(written.fields.verdict, 'buy');
    assert.equal(written.fields.reviewed_on, '2026-11-20');
    assert.equal(written.fields.featured, true);
    assert.deepEqual(written.fields.topics, ['keyboards', 'calm']);
    assert.match(written.fields.body.html, /<strong>firm<\/strong>/);

    await ada.page.getByRole('button', { name: 'Publish', exact: true }).click();
    await ada.page.locator('.message', { hasText: 'Published version 1' }).waitFor({ timeout: 10_000 });
    await ada.page.screenshot({ path: path.join(ROOT, 'docs/entry-editor.png'), fullPage: true });
    assert.equal(await ada.page.locator('a.public-link').textContent(), '/api/content/reviews/a-calm-keyboard');
    const res = await fetch(`${folio.url}/api/content/reviews/a-calm-keyboard`);
    assert.equal(res.status, 200);
    const entry = await res.json();
    assert.equal(entry.fields.rating, 4);
    assert.match(entry.fields.body.html, /Quiet keys, <strong>firm<\/strong> travel\./);

    // The dashboard lists the entry with its collection, and filters by it.
    await ada.page.goto(`${folio.url}/#/`);
    await ada.page.locator('#collection-filter').selectOption('reviews');
    const row = ada.page.locator('.docs li', { hasText: 'A calm keyboard' });
    await row.locator('.badge.kind', { hasText: 'Reviews' }).waitFor({ timeout: 25_000 });
  } finally {
    await ada.context.close();
    await grace.context.close();
  }
});

test('a schema change that would invalidate a published entry names it, and is saved only when forced', async () => {
  const ada = await author('Ada', '#e11d48');
  try {
    const created = await folio.api('/api/collections', {
      method: 'POST',
      body: JSON.stringify({ name: 'notes', label: 'Notes', fields: [{ name: 'text', type: 'text' }, { name: 'score', type: 'number' }] }),
    });
    assert.equal(created.status, 201);
    // A published note scored 50: a max of 10 would invalidate it.
    const { id } = await (await folio.api('/api/docs', { method: 'POST', body: JSON.stringify({ collection: 'notes' }) })).json();
    await editDoc(folio, id, (doc) => {
      doc.getText('text').insert(0, 'High score');
      doc.getMap('fields').set('score', 50);
    });
    assert.equal((await folio.api(`/api/docs/${id}/publish`, { method: 'POST' })).status, 200);
    await ada.page.goto(`${folio.url}/#/collections/notes`);
    const score = ada.page.locator('.schema-field[data-name=score]');
    await score.getByLabel('Max').fill('10');
    await ada.page.getByRole('button', { name: 'Save changes' }).click();
    await ada.page.locator('.changes li', { hasText: 'score: max lowered to 10' }).waitFor({ timeout: 10_000 });
    const broken = ada.page.locator('.changes li.broken-entry', { hasText: 'score must be at most 10' });
    assert.equal(await broken.locator('a').textContent(), 'High score');
    assert.equal(await broken.locator('a').getAttribute('href'), `#/doc/${id}`);
    assert.equal((await (await folio.api('/api/collections/notes')).json()).version, 1, 'not saved yet');
    await ada.page.getByRole('button', { name: 'Save anyway' }).click();
    await ada.page.locator('.collections li[data-collection=notes]', { hasText: 'v2' }).waitFor({ timeout: 10_000 });
    const notes = await (await folio.api('/api/collections/notes')).json();
    assert.equal(notes.fields[1].max, 10);
  } finally {
    await ada.context.close();
  }
});

test('no errors in the browser console', () => {
  // The publish refused on purpose (the rich text not written yet) answers 422, as it should.
  const real = consoleErrors.filter((e) => !/^Ada: Failed to load resource: .* (422|409|400)/.test(e));
  assert.deepEqual(real, []);
});
