// Smoke test: the server starts, serves its pages to a real browser, and they pass the
// accessibility checks.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  checkA11y,
  collectErrors,
  launchBrowser,
  newContext,
  screenshot,
  startServer,
} from './harness.mjs';

let server;
let browser;

before(async () => {
  const [s, b] = await Promise.allSettled([startServer(), launchBrowser()]);
  server = s.value;
  browser = b.value;
  for (const r of [s, b]) if (r.status === 'rejected') throw r.reason;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh page in its own context, closed when the test ends. */
async function openPage(t) {
  const context = await newContext(browser);
  t.after(() => context.close());
  const page = await context.newPage();
  return { page, errors: collectErrors(page) };
}

test('the landing page welcomes residents in Dutch and passes the accessibility checks', async (t) => {
  const { page, errors } = await openPage(t);
  const response = await page.goto(`${server.url}/`);
  assert.equal(response.status(), 200);
  assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
  await page.locator('h1').first().waitFor({ state: 'visible' });
  assert.notEqual((await page.locator('h1').first().innerText()).trim(), '');
  assert.notEqual((await page.title()).trim(), '', 'the page has a title');
  await checkA11y(page, 'landing page');
  assert.deepEqual(errors, [], 'the browser reports no errors (a CSP block shows up here)');
  await screenshot(page, 'landing');
});

test('the landing page may not be shown inside another site\'s frame', async (t) => {
  const { page } = await openPage(t);
  const response = await page.goto(`${server.url}/`);
  const csp = response.headers()['content-security-policy'];
  assert.ok(csp, 'the answer has a Content-Security-Policy');
  assert.match(csp, /(^|;)\s*frame-ancestors 'none'\s*(;|$)/);
});

test('a page that does not exist says so in Dutch and passes the accessibility checks', async (t) => {
  const { page, errors } = await openPage(t);
  const response = await page.goto(`${server.url}/bestaat-niet`);
  assert.equal(response.status(), 404);
  assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
  await page.locator('h1').first().waitFor({ state: 'visible' });
  await page.locator('a[href="/"]').first().waitFor({ state: 'visible' });
  await checkA11y(page, 'page not found');
  const own404 = `(${server.url}/bestaat-niet)`;
  assert.deepEqual(
    errors.filter((e) => !e.endsWith(own404)),
    [],
    'the browser reports no errors besides the 404 itself',
  );
});
