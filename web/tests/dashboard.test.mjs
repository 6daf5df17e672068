// Staff pages of one case in a real browser: the analysis dashboard with charts and
// their tables, the municipality's response reaching panelists after close, quotes
// chosen for the printable report, and the accessibility checks.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  checkA11y,
  collectErrors,
  loginPanelist,
  loginStaff,
  screenshot,
  useServerAndBrowser,
} from './harness.mjs';

const app = useServerAndBrowser({ before, after });

// Demo case 2 (Utrecht) is closed with a discussion.
const CLOSED = 2;

test('the dashboard shows every chart with its data table and passes the accessibility checks', async (t) => {
  const analyst = await loginStaff(await app.context(t), app.server.url, 'analist@utrecht.demo');
  const errors = collectErrors(analyst);
  await analyst.goto(`${app.server.url}/beheer/casus/${CLOSED}/analyse`);
  await analyst.getByRole('heading', { level: 1 }).waitFor();
  for (const id of ['#deelname', '#oordelen', '#activiteit', '#profiel-age_band']) {
    await analyst.locator(`table${id}`).waitFor();
  }
  // The charts are pictures of the tables next to them, hidden from screen readers.
  const svgs = analyst.locator('svg');
  assert.ok((await svgs.count()) >= 3, 'charts are drawn');
  for (const svg of await svgs.all()) {
    assert.equal(await svg.getAttribute('aria-hidden'), 'true');
  }
  // Twelve demo panelists cannot fill five-person groups in every age band.
  assert.ok((await analyst.locator('#profiel-age_band td.suppressed').count()) > 0);
  await checkA11y(analyst, 'analysis dashboard');
  await screenshot(analyst, 'dashboard');
  assert.deepEqual(errors, []);

  await analyst.goto(`${app.server.url}/beheer/casus/${CLOSED}`);
  await analyst.locator('#draad article.post').first().waitFor();
  await checkA11y(analyst, 'live watch');
  await screenshot(analyst, 'watch');
});

test('the response and the chosen quotes reach the report, and panelists read the response', async (t) => {
  const admin = await loginStaff(await app.context(t), app.server.url, 'beheer@utrecht.demo');
  await admin.goto(`${app.server.url}/beheer/casus/${CLOSED}/reactie`);
  const response =
    'De gemeente neemt de zorgen van het panel serieus en bekijkt de herbeoordelingen opnieuw.';
  await admin.getByRole('textbox', { name: 'Reactie van de gemeente' }).fill(response);
  await admin.getByRole('button', { name: 'Reactie opslaan' }).click();
  await admin.getByText('De reactie is opgeslagen.').waitFor();

  const first = admin.locator('input[name="quote"]').first();
  const quoteId = await first.getAttribute('value');
  const quoteText = (await admin.locator(`#citaat-${quoteId}-tekst`).innerText()).trim();
  await first.check();
  await admin.getByRole('button', { name: 'Citaten opslaan' }).click();
  await admin.getByText('De citaten zijn opgeslagen.').waitFor();
  await checkA11y(admin, 'response and quotes');

  await admin.goto(`${app.server.url}/beheer/casus/${CLOSED}/rapport`);
  const quotes = admin.locator('ul#citaten');
  await quotes.getByText(quoteText.slice(0, 40)).waitFor();
  assert.match(await admin.locator('#reactie-gemeente').innerText(), /herbeoordelingen opnieuw/);
  await checkA11y(admin, 'report');
  await screenshot(admin, 'report');
  await admin.emulateMedia({ media: 'print' });
  assert.ok(await admin.locator('header.site nav').isHidden(), 'no navigation on paper');
  await admin.emulateMedia({ media: 'screen' });

  const panelist = await loginPanelist(await app.context(t), app.server.url, 'UTRECHTPANEL2');
  await panelist.goto(`${app.server.url}/casus/${CLOSED}`);
  await panelist.getByText(response).waitFor();
});
