// The draw of a case's panel in a real browser: the demo's drawn case shows its report, the
// draw checks out when redone, a draw without a seed or with an unreadable target line is
// refused beside the field with an error summary, and a new draw replaces the old one.
// axe on every state, at desktop and phone width.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PHONE, checkA11y, collectErrors, loginStaff, screenshot, useServerAndBrowser } from './harness.mjs';

const app = useServerAndBrowser({ before, after });
const TITLE = 'Gehandicaptenparkeerkaart geweigerd na medische keuring';

test('an admin reads, checks and redoes the draw of a scheduled case', async (t) => {
  const admin = await loginStaff(await app.context(t), app.server.url, 'beheer@utrecht.demo');
  const errors = collectErrors(admin);
  await admin.getByRole('link', { name: /^Loting/ }).filter({ hasText: TITLE }).click();
  await admin.getByRole('heading', { level: 1, name: `Loting van het panel voor ‘${TITLE}’` }).waitFor();

  // The demo drew 8 seats of this case from the 12 panelists of Utrecht.
  assert.equal(await admin.locator('#loting-feiten [data-size]').getAttribute('data-size'), '8');
  assert.equal(await admin.locator('#loting-feiten [data-pool]').getAttribute('data-pool'), '12');
  assert.equal(await admin.locator('#loting-feiten [data-seated]').getAttribute('data-seated'), '8');
  await admin.locator('#tabel-wmo_experience').waitFor();
  await checkA11y(admin, 'draw page with report');
  await screenshot(admin, 'draw');

  await admin.locator('#controleer').click();
  await admin.getByText('Gecontroleerd: de opgeslagen gegevens zijn ongewijzigd').waitFor();
  await checkA11y(admin, 'draw page after the check');

  // No seed: refused beside the field, with a summary that links to it.
  await admin.locator('#startgetal-veld').fill('');
  await admin.locator('#loten').click();
  await admin.locator('#foutoverzicht').waitFor();
  await admin.locator('#startgetal-fout').waitFor();
  assert.match(await admin.locator('#foutoverzicht a').first().getAttribute('href'), /#veld-seed/);
  await checkA11y(admin, 'draw form with an error');

  // An unreadable target line is named by its line number; what was typed stays.
  await admin.locator('#startgetal-veld').fill('trekking 1 december: 3 9 27');
  await admin.locator('#aandelen-wmo_experience').fill('zelf 40\ngeen: 60');
  await admin.locator('#loten').click();
  await admin.locator('#aandelen-wmo_experience-fout').getByText('Regel 1').waitFor();
  assert.equal(await admin.locator('#startgetal-veld').inputValue(), 'trekking 1 december: 3 9 27');

  await admin.setViewportSize(PHONE);
  await checkA11y(admin, 'draw form with an error, phone width');

  // Balancing on age alone, with the pool's own shares (prefilled), draws again.
  await admin.goto(`${admin.url().split('?')[0].split('#')[0]}`);
  await admin.locator('#startgetal-veld').fill('trekking 1 december: 3 9 27');
  await admin.locator('#balanceer-district').uncheck();
  await admin.locator('#balanceer-wmo_experience').uncheck();
  await admin.locator('#plaatsen').fill('6');
  await admin.locator('#loten').click();
  await admin.getByText('Het panel is geloot.').waitFor();
  assert.equal(await admin.locator('#startgetal').textContent(), 'trekking 1 december: 3 9 27');
  assert.equal(await admin.locator('#loting-feiten [data-seated]').getAttribute('data-seated'), '6');
  await admin.locator('#tabel-age_band').waitFor();
  assert.equal(await admin.locator('#tabel-wmo_experience').count(), 0);
  await checkA11y(admin, 'draw page after a new draw, phone width');
  // The refused forms above answered 422, as they should; nothing else may fail.
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422')), []);
});
