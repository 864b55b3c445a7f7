// Media in the editor, in real Chromium against the real worker: an author pastes an image
// into the body, it is uploaded (progress, then inserted as /media/{id}), the co-author sees it,
// the post is published and its public page serves it with a srcset; a refused file is said
// plainly; an image field is filled from the library browser with its alternative text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFolio, waitFor } from '../e2e/folio.mjs';
import { startBrowser, openDoc } from './browser.mjs';
import { jpeg } from '../images.mjs';

let folio;
let browser;
let author;
let consoleErrors;

before(async () => {
  folio = await startFolio('browser-media');
  ({ browser, author, consoleErrors } = await startBrowser(folio));
});
after(async () => {
  await browser?.close();
  await folio?.stop();
});

/** Pastes files (`[{name, type, base64}]`) into the focused editor, as a clipboard would. */
async function paste(page, files) {
  await page.locator('.body .ProseMirror').click();
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    const target = document.querySelector('.body .ProseMirror');
    target.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, files);
}

test('a pasted image is uploaded, seen by the co-author, and published with a srcset', async () => {
  const id = (await (await folio.api('/api/docs', { method: 'POST', body: '{}' })).json()).id;
  const ada = await author('Ada', '#e11d48');
  const grace = await author('Grace', '#2563eb');
  try {
    await openDoc(folio, ada.page, id);
    await openDoc(folio, grace.page, id);
    await ada.page.locator('input.title').fill('Pasted picture');
    const photo = jpeg(1600, 900, { noise: 15, seed: 9 });
    await paste(ada.page, [{ name: 'photo.jpg', type: 'image/jpeg', base64: photo.toString('base64') }]);
    await ada.page.locator('.upload', { hasText: 'Uploaded photo.jpg' }).waitFor({ timeout: 15_000 });
    const img = ada.page.locator('.body .ProseMirror img');
    await img.waitFor({ timeout: 10_000 });
    const src = await img.getAttribute('src');
    assert.match(src, /^\/media\/[0-9a-f]{32}$/);
    // The co-author sees it, loaded.
    const theirs = grace.page.locator(`.body .ProseMirror img[src="${src}"]`);
    await theirs.waitFor({ timeout: 10_000 });
    await waitFor(() => theirs.evaluate((el) => el.complete && el.naturalWidth === 1600), 10_000, 'the image loads for Grace');

    // A refused file: said plainly, nothing inserted.
    await paste(ada.page, [{ name: 'logo.svg', type: 'image/svg+xml', base64: Buffer.from('<svg/>').toString('base64') }]);
    await ada.page.locator('.upload.error', { hasText: 'SVG is not accepted' }).waitFor({ timeout: 5_000 });
    assert.equal(await ada.page.locator('.body .ProseMirror img').count(), 1);

    await ada.page.getByRole('button', { name: 'Publish', exact: true }).click();
    await ada.page.locator('.message', { hasText: 'Published version 1' }).waitFor({ timeout: 10_000 });
    const page = await grace.context.newPage();
    await page.goto(`${folio.url}/p/pasted-picture`);
    const published = page.locator('article img');
    assert.equal(await published.getAttribute('srcset'),
      [320, 640, 960, 1280].map((w) => `${src}?w=${w} ${w}w`).concat(`${src} 1600w`).join(', '));
    assert.deepEqual([await published.getAttribute('width'), await published.getAttribute('height'),
      await published.getAttribute('loading')], ['1600', '900', 'lazy']);
    // The browser picks a variant and it loads under the page's CSP.
    await waitFor(() => published.evaluate((el) => el.complete && el.naturalWidth > 0), 10_000, 'a variant loads');
    const chosen = await published.evaluate((el) => el.currentSrc);
    assert.match(chosen, /\/media\/[0-9a-f]{32}(\?w=\d+)?$/);
  } finally {
    await ada.context.close();
    await grace.context.close();
  }
});

test('an image field is filled from the library browser, with its alternative text', async () => {
  const fields = [{ name: 'name', type: 'text', required: true }, { name: 'cover', label: 'Cover', type: 'image' }];
  const created = await folio.api('/api/collections', { method: 'POST', body: JSON.stringify({ name: 'places', label: 'Places', fields }) });
  assert.equal(created.status, 201);
  const uploaded = await (await folio.api('/api/media?filename=harbour.jpg', { method: 'POST', body: jpeg(640, 480, { seed: 3 }), headers: { 'content-type': 'image/jpeg' } })).json();
  const doc = (await (await folio.api('/api/docs', { method: 'POST', body: JSON.stringify({ collection: 'places' }) })).json()).id;
  const ada = await author('Ada', '#e11d48');
  try {
    await openDoc(folio, ada.page, doc);
    await ada.page.locator('#field-cover-alt').fill('The harbour at dawn');
    await ada.page.getByRole('button', { name: 'Choose from library…' }).click();
    const dialog = ada.page.getByRole('dialog', { name: 'Choose an image' });
    await dialog.locator(`[data-media-id="${uploaded.id}"]`).click();
    await waitFor(async () => {
      const cover = (await (await folio.api(`/api/docs/${doc}`)).json()).fields.cover;
      return cover?.src === `/media/${uploaded.id}` && cover?.alt === 'The harbour at dawn';
    }, 10_000, 'the field holds the chosen file and the alt text');
    await ada.page.locator('.image-preview:not([hidden])').waitFor({ timeout: 5_000 });
  } finally {
    await ada.context.close();
  }
  assert.deepEqual(consoleErrors, []);
});
