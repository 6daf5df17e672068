// A resident's own data and leaving the panel, as a resident meets them: the overview of
// everything kept (with the JSON download), the leaving form that asks for a choice and
// a confirmation, and the page after. Every state is checked with axe at the desktop
// and the phone width.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DESKTOP,
  PHONE,
  checkA11y,
  loginPanelist,
  screenshot,
  useServerAndBrowser,
} from './harness.mjs';

const app = useServerAndBrowser({ before, after });

/** axe on the page as it is, at the desktop and at the phone width. */
async function checkBoth(page, label) {
  await checkA11y(page, `${label} (desktop)`);
  await page.setViewportSize(PHONE);
  try {
    await checkA11y(page, `${label} (phone)`);
  } finally {
    await page.setViewportSize(DESKTOP);
  }
}

test('a resident sees everything kept about them and can download it', async (t) => {
  const page = await loginPanelist(await app.context(t), app.server.url, 'UTRECHTPANEL2');
  await page.goto(`${app.server.url}/privacy`);
  await page.getByRole('link', { name: 'Bekijk en download wat wij van u bewaren' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mijn gegevens' }).waitFor();
  await page.getByRole('heading', { level: 2, name: 'Uw berichten', exact: true }).waitFor();
  await checkBoth(page, 'own data');
  await screenshot(page, 'mijn-gegevens');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download mijn gegevens (JSON)' }).click(),
  ]);
  const path = await download.path();
  const { readFile } = await import('node:fs/promises');
  const data = JSON.parse(await readFile(path, 'utf8'));
  assert.equal(data.municipality, 'Gemeente Utrecht');
  assert.ok(Array.isArray(data.posts) && Array.isArray(data.weighings));
});

test('leaving asks for a choice and a confirmation, then ends the session', async (t) => {
  const page = await loginPanelist(await app.context(t), app.server.url, 'UTRECHTPANEL3');
  await page.goto(`${app.server.url}/profiel`);
  await page.getByRole('link', { name: 'Het panel verlaten' }).click();
  await page.getByRole('heading', { level: 1, name: 'Het panel verlaten' }).waitFor();
  await checkBoth(page, 'leaving the panel');

  await page.getByLabel('Laat mijn berichten staan', { exact: false }).check();
  await page.getByRole('button', { name: 'Panel verlaten' }).click();
  const summary = page.getByRole('alert').filter({ hasText: 'Er is een probleem' });
  await summary.waitFor();
  assert.ok(
    await summary.evaluate((el) => el === document.activeElement),
    'focus is on the error summary',
  );
  assert.ok(
    await page.getByLabel('Laat mijn berichten staan', { exact: false }).isChecked(),
    'the choice is kept',
  );
  await checkBoth(page, 'leaving without confirming');

  await page.getByLabel('Ik begrijp dat dit niet ongedaan kan worden gemaakt').check();
  await page.getByRole('button', { name: 'Panel verlaten' }).click();
  await page.getByRole('heading', { level: 1, name: 'U heeft het panel verlaten' }).waitFor();
  await checkBoth(page, 'after leaving');
  await screenshot(page, 'panel-verlaten');

  // The code no longer logs in.
  await page.goto(`${app.server.url}/`);
  await page.getByLabel('Uw code', { exact: true }).fill('UTRECHTPANEL3');
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForLoadState();
  assert.equal(
    await page.getByRole('heading', { level: 1, name: 'Mijn casussen' }).count(),
    0,
    'the code is refused',
  );
});
