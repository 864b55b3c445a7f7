// Shared by the browser tests: Chromium with authors already signed in, against one Folio.
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

/**
 * Debian's Chromium (driven by playwright-core) for `folio`; `author(name, color, role)` opens a
 * browser context whose author is already known (name and colour remembered) and signed in with
 * `role` (null: not signed in). Console errors and page errors are collected in `consoleErrors`.
 */
export async function startBrowser(folio) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const consoleErrors = [];

  /** The session cookie value for `role`: the admin key for admins, an invitation otherwise. */
  const sessions = new Map();
  async function sessionCookie(role, user) {
    const key = `${role}:${user}`;
    if (!sessions.has(key)) {
      const body = role === 'admin'
        ? { key: folio.adminKey }
        : { invite: await folio.token({ user, role, use: 'invite' }) };
      const res = await fetch(`${folio.url}/api/session`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.status, 200, await res.clone().text());
      const cookie = res.headers.get('set-cookie');
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      assert.match(cookie, /Secure/);
      sessions.set(key, /folio_session=([^;]+)/.exec(cookie)[1]);
    }
    return sessions.get(key);
  }

  async function author(name, color, role = 'admin') {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    if (role) {
      await context.addCookies([{
        name: 'folio_session', value: await sessionCookie(role, name), url: folio.url,
        httpOnly: true, secure: true, sameSite: 'Strict',
      }]);
    }
    await context.addInitScript(([n, c]) => {
      localStorage.setItem('folio.user', JSON.stringify({ name: n, color: c }));
    }, [name, color]);
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${name}: ${m.text()}`); });
    page.on('pageerror', (e) => consoleErrors.push(`${name}: ${e.message}`));
    return { context, page };
  }

  return { browser, author, consoleErrors };
}

/** Opens document `id` and waits until it is connected and its writing area is shown. */
export async function openDoc(folio, page, id) {
  await page.goto(`${folio.url}/#/doc/${id}`);
  await page.locator('.conn[data-state=connected]').waitFor({ timeout: 15_000 });
  await page.locator('.writing').waitFor({ timeout: 15_000 });
}
