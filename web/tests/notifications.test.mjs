// Notifications by e-mail as a resident meets them: the settings page reached from the
// menu, an address that is not one (error summary, typed text kept), saving choices,
// removing the address; the pages behind a message's links without a login; and the
// staff's announcement form with the notice that mail is not configured. Every state is
// checked with axe at the desktop and the phone width.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DESKTOP,
  PHONE,
  checkA11y,
  loginPanelist,
  loginStaff,
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

test('a panelist adds, changes and removes an e-mail address for notifications', async (t) => {
  const page = await loginPanelist(await app.context(t), app.server.url, 'UTRECHTPANEL9');
  await page.getByRole('link', { name: 'Meldingen' }).click();
  await page.getByRole('heading', { level: 1, name: 'Meldingen per e-mail' }).waitFor();
  await page.getByText('kan op dit moment geen e-mail versturen').waitFor();
  await checkBoth(page, 'notification settings, empty');

  // Not an address: the error summary at the top, the typed text kept.
  await page.getByLabel('Uw e-mailadres').fill('geen adres');
  await page.getByRole('button', { name: 'Opslaan' }).click();
  const summary = page.getByRole('alert').filter({ hasText: 'Er is een probleem' });
  await summary.waitFor();
  assert.equal(await page.getByLabel('Uw e-mailadres').inputValue(), 'geen adres');
  await checkBoth(page, 'notification settings with an error');

  await page.getByLabel('Uw e-mailadres').fill('bewoner@example.nl');
  await page.getByLabel('Er is een casus voor u geopend').check();
  await page.getByLabel('Iemand heeft gereageerd op uw bericht').check();
  await page.getByLabel('Eén keer per dag', { exact: false }).check();
  await page.getByRole('button', { name: 'Opslaan' }).click();
  await page.getByText('Uw keuzes zijn opgeslagen.').waitFor();
  await page.getByText('Uw e-mailadres is nog niet bevestigd.').waitFor();
  assert.ok(await page.getByLabel('Er is een casus voor u geopend').isChecked());
  assert.ok(!(await page.getByLabel('Een casus sluit binnenkort').isChecked()));
  await checkBoth(page, 'notification settings, saved');
  await screenshot(page, 'notification-settings');

  await page.getByRole('button', { name: 'E-mailadres verwijderen' }).click();
  await page.getByText('Uw e-mailadres is verwijderd.').waitFor();
  assert.equal(await page.getByLabel('Uw e-mailadres').inputValue(), '');
  await checkBoth(page, 'notification settings after removal');
});

test('the pages behind a message link work without a login and say when a link is bad', async (t) => {
  const page = await (await app.context(t)).newPage();
  await page.goto(`${app.server.url}/afmelden?token=geen.token`);
  await page.getByRole('heading', { level: 1, name: 'Afmelden voor e-mails' }).waitFor();
  await page.getByText('Deze link is niet (meer) geldig.').waitFor();
  await checkBoth(page, 'unsubscribe with a bad link');
  await page.goto(`${app.server.url}/meldingen/bevestigen?token=iets.anders`);
  await page.getByRole('button', { name: 'Bevestigen' }).click();
  await page.getByText('Deze link is niet (meer) geldig.').waitFor();
  await checkBoth(page, 'confirmation with a bad link');
});

test('staff see that mail is not configured beside the announcement form', async (t) => {
  const page = await loginStaff(await app.context(t), app.server.url, 'beheer@utrecht.demo');
  await page.goto(`${app.server.url}/beheer/casus/2/reactie`);
  await page.getByRole('heading', { level: 2, name: 'E-mail aan het panel' }).waitFor();
  await page.getByText('E-mail is niet ingesteld op deze server').waitFor();
  await checkBoth(page, 'response page with the announcement form');
  await page.getByLabel('Herinnering: de casus staat open').check();
  await page.getByRole('button', { name: 'Melding versturen' }).click();
  await page.getByText(/Melding klaargezet voor/).waitFor();
  await checkBoth(page, 'response page after an announcement');
});
