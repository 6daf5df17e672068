// The moderator's pages in a real browser: a flagged post hidden through the reason
// dialog reaching a panelist live, a held post arriving in the queue live and handled
// with the redaction dialog and the keyboard shortcuts, and the accessibility checks.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  checkA11y,
  collectErrors,
  loginPanelist,
  loginStaff,
  openCase,
  screenshot,
  sendVerdict,
  useServerAndBrowser,
  waitLive,
} from './harness.mjs';

const app = useServerAndBrowser({ before, after });

/** A demo panelist code of Zoetermeer by its last character. */
const zoetermeer = (last) => `ZTMEERPANELD${last}`;
const BATHROOM = 'Badkameraanpassing deels toegekend';
const SCOOTER = 'Scootmobiel toegekend in bruikleen';


test('a flagged post hidden by a moderator turns into a placeholder for panelists live', async (t) => {
  const writer = await loginPanelist(await app.context(t), app.server.url, zoetermeer('2'));
  const reader = await loginPanelist(await app.context(t), app.server.url, zoetermeer('3'));
  await openCase(writer, BATHROOM);
  await openCase(reader, BATHROOM);
  await waitLive(reader);
  const text = 'Wat een onzin, die ambtenaren snappen er helemaal niets van en doen maar wat.';
  await sendVerdict(writer, 'Nee, ik ben het niet eens met het besluit', text);
  await writer.getByText('Dank u wel, uw oordeel is ontvangen.').waitFor();
  const id = await writer.locator('article.post.mine', { hasText: 'ambtenaren' }).getAttribute('data-id');

  // The reader shows the new post and reports it through the flag dialog.
  await reader.locator('#nieuwe-berichten').click();
  const post = reader.locator(`#bericht-${id}`);
  await post.getByText('Melden', { exact: true }).click();
  await post.getByLabel('Beledigend').check();
  await post.getByRole('button', { name: 'Melding versturen' }).click();
  await reader.getByText('Dank u, uw melding is doorgegeven aan de moderatoren.').waitFor();
  await waitLive(reader);

  const moderator = await loginStaff(await app.context(t), app.server.url, 'moderator@zoetermeer.demo');
  assert.equal(new URL(moderator.url()).pathname, '/moderatie');
  await moderator.locator('#mod-tabs a[data-queue="flagged"]').click();
  const item = moderator.locator(`#item-${id}`);
  await item.waitFor();
  assert.match(await item.innerText(), /ambtenaren/);
  await checkA11y(moderator, 'flagged queue');
  await item.getByText('Verbergen…').click();
  await item.locator(`#item-${id}-hide-beledigend`).check();
  await checkA11y(moderator, 'flagged queue with the hide dialog open');
  await screenshot(moderator, 'moderation');
  await item.getByRole('button', { name: 'Bericht verbergen' }).click();
  await moderator.locator('#melding').waitFor();

  await reader
    .locator(`#bericht-${id}`)
    .getByText('Dit bericht is verborgen door een moderator (reden: Beledigend).')
    .waitFor();
  assert.equal(await reader.getByText('ambtenaren').count(), 0);
});

test('a held post appears in the live queue and is redacted and approved with the keyboard', async (t) => {
  const moderator = await loginStaff(await app.context(t), app.server.url, 'moderator@zoetermeer.demo');
  const errors = collectErrors(moderator);
  await waitLive(moderator);
  const pendingBefore = Number(await moderator.locator('[data-count="pending"]').first().innerText());

  const writer = await loginPanelist(await app.context(t), app.server.url, zoetermeer('5'));
  await openCase(writer, SCOOTER);
  await sendVerdict(
    writer,
    'Ja, ik ben het eens met het besluit',
    'Goed besluit. Wie meer wil weten kan mij bellen op 06-12345678, ik heb er ervaring mee.',
  );
  await writer.getByText('Alleen u ziet dit bericht nu.').waitFor();

  // The count rises live and a calm link offers the refresh.
  await moderator.waitForFunction(
    (n) => Number(document.querySelector('[data-count="pending"]')?.textContent) === n,
    pendingBefore + 1,
  );
  const refresh = moderator.locator('#mod-vernieuwen');
  await refresh.waitFor({ state: 'visible' });
  await refresh.click();
  const item = moderator.locator('article.mod-item', { hasText: '06-12345678' });
  await item.waitFor();
  const id = (await item.getAttribute('id')).replace('item-', '');
  // Why it was held speaks to the moderator, not to the author.
  await item
    .locator('.mod-why')
    .getByText('De automatische controle vond mogelijk persoonsgegevens: een telefoonnummer.', { exact: false })
    .waitFor();
  assert.equal(await item.getByText('Haal het nummer weg', { exact: false }).count(), 0);

  // Redact through its dialog.
  await item.getByText('Persoonsgegevens weglakken…').click();
  await item
    .locator(`#item-${id}-redact-body`)
    .fill('Goed besluit. Wie meer wil weten kan mij bellen op [weggelakt], ik heb er ervaring mee.');
  await item.getByRole('button', { name: 'Opgeschoonde tekst opslaan' }).click();
  await moderator.locator('#melding').waitFor();

  // Then claim and approve with the shortcuts.
  const again = moderator.locator(`#item-${id}`);
  await again.waitFor();
  assert.ok(!(await again.innerText()).includes('06-12345678'), 'the number is gone');
  await moderator.locator('body').click({ position: { x: 1, y: 1 } });
  while (!(await moderator.evaluate((i) => document.activeElement?.closest(`#item-${i}`) !== null, id))) {
    await moderator.keyboard.press('j');
  }
  await moderator.keyboard.press('c');
  await moderator.getByText('U heeft het bericht in behandeling genomen.').waitFor();
  await moderator.locator(`#item-${id}`).focus();
  await moderator.keyboard.press('a');
  await moderator.getByText('Het bericht is goedgekeurd.').waitFor();
  assert.equal(await moderator.locator(`#item-${id}`).count(), 0, 'the item left the queue');

  // Other panelists now read the cleaned text.
  const reader = await loginPanelist(await app.context(t), app.server.url, zoetermeer('3'));
  await openCase(reader, SCOOTER);
  await reader.getByText('bellen op [weggelakt]').waitFor();
  assert.ok(!(await reader.content()).includes('06-12345678'));
  assert.deepEqual(errors, []);
});

// Runs after the tests above, whose actions fill the handled list.
test('the handled list and the audit log pass the accessibility checks', async (t) => {
  const moderator = await loginStaff(await app.context(t), app.server.url, 'moderator@zoetermeer.demo');
  await moderator.goto(`${app.server.url}/moderatie/afgehandeld`);
  await moderator.locator('table#afgehandeld').waitFor();
  await checkA11y(moderator, 'handled list');
  await screenshot(moderator, 'moderation-handled');
  // Moderators read the moderation part of the audit log, including the hide above.
  await moderator.getByRole('link', { name: 'Auditlog' }).click();
  await moderator.locator('#audit-bereik').waitFor();
  assert.match(await moderator.locator('table#auditlog').innerText(), /post\.hide/);
  // In words, with the code beside them.
  assert.match(await moderator.locator('table#auditlog').innerText(), /Bericht verborgen post\.hide/);
  assert.equal(await moderator.locator('#audit-csv').count(), 0, 'no download for moderators');
  await checkA11y(moderator, 'audit log for a moderator');

  const admin = await loginStaff(await app.context(t), app.server.url, 'beheer@zoetermeer.demo');
  await admin.goto(`${app.server.url}/moderatie/audit`);
  await admin.locator('table#auditlog').waitFor();
  await checkA11y(admin, 'audit log');
  await screenshot(admin, 'audit-log');
  await admin.getByRole('link', { name: 'English' }).click();
  await admin.locator('table#auditlog').waitFor();
  await checkA11y(admin, 'audit log in English');
});
