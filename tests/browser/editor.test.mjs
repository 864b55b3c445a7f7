// The authors' editor in real Chromium (Debian's, driven by playwright-core) against the real
// worker under wrangler dev: two authors co-editing with named carets, publishing and
// scheduling from the page, offline edits merging, restoring from the history panel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startFolio, waitFor, connect, disconnect, synced, Y } from '../e2e/folio.mjs';
import { startBrowser, openDoc as openDocIn } from './browser.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
let folio;
let browser;
let author;
let consoleErrors;

before(async () => {
  folio = await startFolio('browser', { faults: true });
  ({ browser, author, consoleErrors } = await startBrowser(folio));
});
after(async () => {
  await browser?.close();
  await folio?.stop();
});

async function newDoc() {
  const res = await folio.api(`/api/docs`, { method: 'POST' });
  return (await res.json()).id;
}

const openDoc = (page, id) => openDocIn(folio, page, id);

/** Two authors, Ada and Grace, on document `id`; `close()` ends both. */
async function pair(id) {
  const ada = await author('Ada', '#e11d48');
  const grace = await author('Grace', '#2563eb');
  await openDoc(ada.page, id);
  await openDoc(grace.page, id);
  return { ada, grace, close: async () => { await ada.context.close(); await grace.context.close(); } };
}

/** Types a title and body in `page` and waits until the server has the draft. */
async function writeDraft(page, id, title, text) {
  await page.locator('input.title').fill(title);
  await page.locator('.body .ProseMirror').click();
  await page.keyboard.type(text);
  await waitFor(async () => (await (await folio.api(`/api/docs/${id}`)).json()).text === text, 10_000, 'draft saved');
}

/** Clicks Publish and waits for version `n` to be confirmed on the page. */
async function publishFromPage(page, n) {
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await page.locator('.message', { hasText: `Published version ${n}` }).waitFor({ timeout: 10_000 });
}

/** The document's text as the editor holds it (carets of others are not text). */
const bodyText = (page) => page.evaluate(() => window.folio.editor.getText());

test('two authors type at once, see each other\'s text and named caret; the dashboard lists it', async () => {
  const { ada, grace, close } = await pair(await newDoc());
  try {
    await ada.page.locator('input.title').fill('Shared draft');
    await waitFor(async () => (await grace.page.locator('input.title').inputValue()) === 'Shared draft', 10_000, 'title shared');

    await ada.page.locator('.body .ProseMirror').click();
    await grace.page.locator('.body .ProseMirror').click();
    await Promise.all([
      ada.page.keyboard.type('Ada writes here. ', { delay: 20 }),
      grace.page.keyboard.type('Grace adds this. ', { delay: 20 }),
    ]);
    for (const p of [ada.page, grace.page]) {
      await waitFor(async () => {
        const t = await bodyText(p);
        return t.includes('Ada writes here.') && t.includes('Grace adds this.');
      }, 10_000, 'both texts everywhere');
    }
    assert.equal(await bodyText(ada.page), await bodyText(grace.page));
    // Named carets, and the presence list.
    await ada.page.locator('.collaboration-carets__label', { hasText: 'Grace' }).waitFor({ timeout: 10_000 });
    await grace.page.locator('.collaboration-carets__label', { hasText: 'Ada' }).waitFor({ timeout: 10_000 });
    await ada.page.locator('.people li', { hasText: 'Grace' }).waitFor();
    await ada.page.screenshot({ path: path.join(ROOT, 'docs/editor.png') });

    const dash = await ada.context.newPage(); // an author already known: no name dialog
    await dash.goto(`${folio.url}/#/`);
    // The registry learns titles at most 10 s after an edit (trailing touch) and the
    // dashboard refreshes every 5 s.
    await dash.locator('.docs li', { hasText: 'Shared draft' }).waitFor({ timeout: 25_000 });
    await dash.close();
  } finally {
    await close();
  }
});

test('publish from the page; a scheduled publish appears on the public page after its time', async () => {
  const ada = await author('Ada', '#e11d48');
  try {
    const id = await newDoc();
    await openDoc(ada.page, id);
    await writeDraft(ada.page, id, 'Page Post', 'Published from the editor.');
    await publishFromPage(ada.page, 1);
    const link = ada.page.locator('a.public-link');
    assert.equal(await link.textContent(), '/p/page-post');
    const pub = await browser.newPage();
    await pub.goto(`${folio.url}/p/page-post`);
    assert.match(await pub.locator('article').innerText(), /Published from the editor\./);

    // Schedule a second document a few seconds ahead.
    const later = await newDoc();
    await openDoc(ada.page, later);
    await writeDraft(ada.page, later, 'Later Post', 'Right on time.');
    const at = new Date(Date.now() + 4000);
    const local = new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    await ada.page.locator('#schedule-at').fill(local);
    await ada.page.getByRole('button', { name: 'Schedule', exact: true }).click();
    await ada.page.locator('.entries li', { hasText: 'publish' }).waitFor({ timeout: 10_000 });
    await waitFor(async () => (await folio.api(`/p/later-post`)).status === 200, 20_000, 'scheduled post public');
    await pub.goto(`${folio.url}/p/later-post`);
    assert.match(await pub.locator('article').innerText(), /Right on time\./);
    await pub.close();
  } finally {
    await ada.context.close();
  }
});

test('a publish that fails is shown with its reason and the author retries it; the dashboard lists it', async () => {
  const ada = await author('Ada', '#e11d48');
  try {
    const id = await newDoc();
    await openDoc(ada.page, id);
    await writeDraft(ada.page, id, 'Stuck Post', 'Too big, they said.');
    // The next D1 write fails as a row too large would (the test-only fault switch).
    const armed = await folio.api(`/api/docs/${id}/faults`, {
      method: 'POST', body: JSON.stringify({ fail_d1: 'D1_ERROR: string or blob too big: SQLITE_TOOBIG' }),
    });
    assert.equal(armed.status, 200);
    await ada.page.getByRole('button', { name: 'Publish', exact: true }).click();
    const pending = ada.page.locator('#pending');
    await pending.getByText(/Publishing failed: the store refused the post as too large/).waitFor({ timeout: 10_000 });
    // The dashboard shows it as failed, with the reason.
    const dash = await ada.context.newPage();
    await dash.goto(`${folio.url}/#/`);
    const row = dash.locator('.docs li', { hasText: 'Stuck Post' });
    await row.locator('.badge.failed').waitFor({ timeout: 15_000 });
    assert.match(await row.locator('.problem').innerText(), /publish failed: the store refused/);
    await dash.close();
    // The cause is gone: Retry publishes it.
    await ada.page.locator('#pending-retry').click();
    await ada.page.locator('a.public-link', { hasText: '/p/stuck-post' }).waitFor({ timeout: 10_000 });
    await waitFor(async () => (await pending.innerText()) === '', 10_000, 'the failure cleared');
  } finally {
    await ada.context.close();
  }
});

test('an author goes offline, both edit, they reconnect: nothing is lost', async () => {
  const { ada, grace, close } = await pair(await newDoc());
  try {
    await ada.page.locator('.body .ProseMirror').click();
    await ada.page.keyboard.type('Shared start.');
    await waitFor(async () => (await bodyText(grace.page)).includes('Shared start.'), 10_000, 'start shared');

    await grace.context.setOffline(true);
    await grace.page.evaluate(() => window.folio.provider.disconnect()); // the socket drops too
    await grace.page.locator('.conn[data-state=offline]').waitFor({ timeout: 10_000 });
    await grace.page.locator('.body .ProseMirror').click();
    await grace.page.keyboard.press('End');
    await grace.page.keyboard.type(' Grace offline.');
    await ada.page.keyboard.type(' Ada online.');
    await waitFor(async () => (await bodyText(ada.page)).includes('Ada online.'), 5000, 'ada typed');
    assert.ok(!(await bodyText(ada.page)).includes('Grace offline.'));

    await grace.context.setOffline(false);
    await grace.page.evaluate(() => window.folio.provider.connect());
    for (const p of [ada.page, grace.page]) {
      await waitFor(async () => {
        const t = await bodyText(p);
        return t.includes('Grace offline.') && t.includes('Ada online.') && t.includes('Shared start.');
      }, 15_000, 'converged after reconnect');
    }
    assert.equal(await bodyText(ada.page), await bodyText(grace.page));
    await grace.page.locator('.conn[data-state=connected]').waitFor();
  } finally {
    await close();
  }
});

test('restoring a version from the history panel reaches the other author live', async () => {
  const id = await newDoc();
  const { ada, grace, close } = await pair(id);
  try {
    await writeDraft(ada.page, id, 'History', 'The first version.');
    await publishFromPage(ada.page, 1);
    await ada.page.locator('.body .ProseMirror').click(); // focus left with the Publish button
    await ada.page.keyboard.press('ControlOrMeta+a');
    await ada.page.keyboard.type('A rewrite.');
    await waitFor(async () => (await bodyText(grace.page)) === 'A rewrite.', 10_000, 'rewrite shared');
    await waitFor(async () => (await (await folio.api(`/api/docs/${id}`)).json()).text === 'A rewrite.', 10_000, 'saved');
    await publishFromPage(ada.page, 2);

    await ada.page.locator('.versions button[data-version="1"]').click();
    await ada.page.locator('.message', { hasText: 'Restored version 1' }).waitFor({ timeout: 10_000 });
    await waitFor(async () => (await bodyText(grace.page)) === 'The first version.', 10_000, 'grace sees the restore');
  } finally {
    await close();
  }
});

test('usable on a narrow screen and from the keyboard', async () => {
  const ada = await author('Ada', '#e11d48');
  try {
    await ada.page.setViewportSize({ width: 390, height: 800 });
    const id = await newDoc();
    await openDoc(ada.page, id);
    const overflow = await ada.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at 390 px (overflow ${overflow} px)`);
    await ada.page.getByRole('button', { name: 'Publish', exact: true }).scrollIntoViewIfNeeded();
    assert.ok(await ada.page.getByRole('button', { name: 'Publish', exact: true }).isVisible());
    // Keyboard only: Tab from the back link reaches the title, the toolbar, then the body.
    await ada.page.locator('a', { hasText: 'Documents' }).focus();
    await ada.page.keyboard.press('Tab');
    assert.equal(await ada.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Title');
    await ada.page.keyboard.type('Keyboard title');
    // The formatting toolbar is one tab stop; the arrow keys move inside it.
    await ada.page.keyboard.press('Tab');
    assert.equal(await ada.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Bold');
    await ada.page.keyboard.press('ArrowRight');
    assert.equal(await ada.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Italic');
    await ada.page.keyboard.press('Tab');
    await ada.page.keyboard.type('Typed without a mouse.');
    await waitFor(async () => (await (await folio.api(`/api/docs/${id}`)).json()).text === 'Typed without a mouse.', 10_000, 'keyboard edit saved');
    assert.equal(await ada.page.locator('input.title').inputValue(), 'Keyboard title');
  } finally {
    await ada.context.close();
  }
});

test('signing in with the admin key, a wrong key refused, signing out', async () => {
  const visitor = await author('Visitor', '#16a34a', null);
  try {
    await visitor.page.goto(`${folio.url}/#/`);
    const secret = visitor.page.getByLabel('Admin key or invitation');
    await secret.fill('not-the-key');
    await visitor.page.getByRole('button', { name: 'Sign in' }).click();
    await visitor.page.locator('.signin .message', { hasText: 'not the admin key' }).waitFor({ timeout: 10_000 });
    await secret.fill(folio.adminKey);
    await visitor.page.getByRole('button', { name: 'Sign in' }).click();
    await visitor.page.locator('#role', { hasText: 'admin · admin' }).waitFor({ timeout: 10_000 });
    await visitor.page.getByRole('button', { name: 'New document' }).waitFor();
    // The cookie is HttpOnly: scripts on the page cannot read it.
    assert.equal(await visitor.page.evaluate(() => document.cookie), '');
    await visitor.page.getByRole('button', { name: 'Sign out' }).click();
    await secret.waitFor({ timeout: 10_000 });
    await visitor.page.reload();
    await secret.waitFor({ timeout: 10_000 }); // still signed out after a reload
  } finally {
    await visitor.context.close();
  }
});

test('a viewer watches a writer live but cannot edit or publish', async () => {
  const id = await newDoc();
  const writer = await author('Wren', '#9333ea', 'writer');
  const viewer = await author('Vic', '#0891b2', 'viewer');
  try {
    await openDoc(writer.page, id);
    await openDoc(viewer.page, id);
    await writer.page.locator('.body .ProseMirror').click();
    await writer.page.keyboard.type('Written by a writer.');
    await waitFor(async () => (await bodyText(viewer.page)) === 'Written by a writer.', 10_000, 'viewer sees it live');
    // A writer edits but does not publish; a viewer does neither.
    assert.equal(await writer.page.getByRole('button', { name: 'Publish', exact: true }).count(), 0);
    assert.equal(await viewer.page.getByRole('button', { name: 'Publish', exact: true }).count(), 0);
    assert.equal(await viewer.page.locator('.body .ProseMirror').getAttribute('contenteditable'), 'false');
    assert.equal(await viewer.page.locator('input.title').getAttribute('readonly'), '');
    await viewer.page.locator('.body .ProseMirror').click();
    await viewer.page.keyboard.type('Viewer was here.');
    // Even an edit forced into the viewer's document never reaches the server or the writer.
    await viewer.page.evaluate(() => window.folio.ydoc.getText('title').insert(0, 'forced '));
    await new Promise((r) => setTimeout(r, 1000));
    const draft = await (await folio.api(`/api/docs/${id}`)).json();
    assert.equal(draft.text, 'Written by a writer.');
    assert.equal(draft.title, '');
    assert.equal(await writer.page.locator('input.title').inputValue(), '');
    // The writer shares a preview link; it opens without signing in.
    await writer.page.getByRole('button', { name: 'Share a preview link' }).click();
    await writer.page.locator('#preview-link[href]').waitFor({ timeout: 10_000 });
    const href = await writer.page.locator('#preview-link').getAttribute('href');
    assert.match(href, /\/preview\/[^?]+\?token=v1\./);
    const anon = await browser.newPage();
    await anon.goto(href);
    assert.match(await anon.locator('article').innerText(), /Written by a writer\./);
    await anon.close();
  } finally {
    await writer.context.close();
    await viewer.context.close();
  }
});

test('a hostile awareness name and colour never reach a style attribute or the DOM as HTML', async () => {
  const id = await newDoc();
  const ada = await author('Ada', '#e11d48');
  const mallory = connect(folio, id, { params: { token: await folio.token({ user: 'mallory', role: 'writer' }) } });
  try {
    // The editor's own page carries a Content-Security-Policy: its own script only.
    const page = await fetch(`${folio.url}/`);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    await openDoc(ada.page, id);
    await ada.page.locator('.body .ProseMirror').click();
    await ada.page.keyboard.type('Hello world');
    await synced(mallory.provider);
    await waitFor(() => mallory.doc.getXmlFragment('body').toString().includes('Hello world'), 10_000, 'Mallory synced');
    const text = mallory.doc.getXmlFragment('body').get(0).get(0);
    const at = (i) => Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, i));
    mallory.provider.awareness.setLocalState({
      user: { name: '<img src=x onerror=pwned=1>Mallory', color: 'red; background-image: url(/pwned)' },
      cursor: { anchor: at(2), head: at(7) },
    });
    const label = ada.page.locator('.collaboration-carets__label', { hasText: 'Mallory' });
    await label.waitFor({ timeout: 10_000 }).catch(async (e) => {
      const states = await ada.page.evaluate(() => JSON.stringify([...window.folio.provider.awareness.getStates()]));
      const html = await ada.page.locator('.body').innerHTML();
      throw new Error(`${e.message}\nstates: ${states}\nhtml: ${html}`);
    });
    const seen = await ada.page.evaluate(() => ({
      styles: [...document.querySelectorAll('[style]')].map((e) => e.getAttribute('style')),
      imgs: document.querySelectorAll('.ProseMirror img, .collaboration-carets__label img').length,
      pwned: window.pwned ?? null,
      label: document.querySelector('.collaboration-carets__label')?.textContent,
      color: getComputedStyle(document.querySelector('.collaboration-carets__label')).backgroundColor,
      selection: document.querySelectorAll('.collaboration-carets__selection').length,
    }));
    assert.ok(seen.styles.every((s) => !/url\(|background-image|red/.test(s)), JSON.stringify(seen.styles));
    assert.equal(seen.imgs, 0);
    assert.equal(seen.pwned, null);
    assert.equal(seen.label, '<img src=x onerror=pwned=1>Mallory');
    assert.equal(seen.color, 'rgb(136, 136, 136)', 'the fallback grey');
    assert.ok(seen.selection > 0, 'the selection is drawn, in the fallback colour');
    // Names in the presence list are text too.
    assert.match(await ada.page.locator('.people').innerText(), /<img src=x/);
  } finally {
    disconnect(mallory);
    await ada.context.close();
  }
});

test('no errors in the browser console', () => {
  // WebSocket failures while deliberately offline are the browser's own report, not the app's.
  const real = consoleErrors.filter((e) => !/WebSocket connection .* failed|ERR_INTERNET_DISCONNECTED/.test(e))
    // Signed out, the page's session check and the wrong key answer 401, as they should.
    .filter((e) => !/^Visitor: Failed to load resource: .* 401/.test(e))
    // The publish refused on purpose (fault switch) answers 413, as it should.
    .filter((e) => !/^Ada: Failed to load resource: .* 413/.test(e));
  assert.deepEqual(real, []);
});
