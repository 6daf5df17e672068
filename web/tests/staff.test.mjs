// The management pages in a real browser: writing, previewing and opening a case that
// panelists then see, invitation letters (PDF and mail-merge sheet) whose codes log in
// through the QR link, a lost code replaced and another revoked, a new staff account,
// and the accessibility checks.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import {
  DESKTOP,
  PHONE,
  acceptHouseRulesIfAsked,
  checkA11y,
  collectErrors,
  loginPanelist,
  loginStaff,
  screenshot,
  useServerAndBrowser,
} from './harness.mjs';

const app = useServerAndBrowser({ before, after });

test('an admin writes, previews and opens a case, and panelists see it', async (t) => {
  const admin = await loginStaff(await app.context(t), app.server.url, 'beheer@utrecht.demo');
  const errors = collectErrors(admin);
  assert.equal(new URL(admin.url()).pathname, '/beheer');
  await checkA11y(admin, 'management start page');
  await screenshot(admin, 'staff-home');

  await admin.locator('#nieuwe-casus-utrecht').click();
  const title = 'Woningaanpassing: drempelhulpen geweigerd';
  await admin.locator('#title').fill(title);
  await admin.locator('#domain').selectOption('wmo');
  await admin.locator('#provision').fill('Drempelhulpen en een douchestoel');
  await admin.locator('#outcome-afgewezen').check();
  await admin.locator('#summary').fill('Een vrouw van 82 vroeg drempelhulpen; de gemeente vindt dat zij die zelf kan betalen.');
  // Saving without a situation is refused beside the field, keeping what was typed.
  await admin.locator('#opslaan').click();
  await admin.locator('#situation-fout').waitFor();
  assert.equal(await admin.locator('#title').inputValue(), title);
  await checkA11y(admin, 'case editor with errors');

  await admin.locator('#situation').fill(
    'Mevrouw A. is 82 en woont alleen. Zij struikelt over de drempels in haar huis en douchen gaat staand niet meer.',
  );
  await admin.locator('#decision').fill(
    'De gemeente wijst de aanvraag af: drempelhulpen en een douchestoel zijn algemeen gebruikelijk en goedkoop.',
  );
  await admin.locator('#panel-utrecht').check();
  await admin.locator('#voorbeeld-bekijken').click();
  await admin.locator('#voorbeeld').getByRole('heading', { name: title }).waitFor();
  await checkA11y(admin, 'case editor with preview');
  await screenshot(admin, 'case-editor');

  await admin.locator('#opslaan').click();
  await admin.getByText('De casus is opgeslagen als concept.').waitFor();
  // Opening asks first, and says what it means.
  await admin.getByText('Nu openen', { exact: true }).click();
  await admin.getByText('De casus wordt meteen zichtbaar voor de panels').waitFor();
  await checkA11y(admin, 'case editor asking to confirm opening');
  await admin.getByRole('button', { name: 'Ja, open de casus nu' }).click();
  await admin.getByText('De casus is nu open voor de panels.').waitFor();
  assert.equal(await admin.getByRole('button', { name: 'Ja, open de casus nu' }).count(), 0);

  // The closing time of an open case can be moved, not into the past.
  await admin.locator('#sluittijd').fill('2020-05-01T17:00');
  await admin.locator('#sluittijd-opslaan').click();
  await admin.locator('#sluittijd-fout').getByText('De sluitingstijd moet in de toekomst liggen.').waitFor();
  assert.equal(await admin.locator('#sluittijd').inputValue(), '2020-05-01T17:00', 'what was typed stays');
  await checkA11y(admin, 'case editor with a refused closing time');
  await admin.locator('#sluittijd').fill('2099-05-01T17:00');
  await admin.locator('#sluittijd-opslaan').click();
  await admin.getByText('De sluitingstijd is opgeslagen.').waitFor();
  await admin.locator('#sluit-op').getByText('2099').waitFor();
  assert.equal(await admin.locator('#sluittijd').inputValue(), '2099-05-01T17:00', 'the field shows the stored time');
  // The refused save above answered 422, as it should; nothing else may fail.
  assert.deepEqual(errors.filter((e) => !e.includes('status of 422')), []);

  const panelist = await loginPanelist(await app.context(t), app.server.url, 'UTRECHTPANEL2');
  await panelist.getByRole('link', { name: title }).click();
  await panelist.getByText('Mevrouw A. is 82 en woont alleen.').waitFor();
  await panelist.getByRole('heading', { name: 'Uw oordeel', exact: true }).waitFor();
});

test('an admin makes letters, a QR link logs in, and a lost code is replaced and another revoked', async (t) => {
  const ctx = await app.context(t, { acceptDownloads: true });
  const admin = await loginStaff(ctx, app.server.url, 'beheer@utrecht.demo');
  const errors = collectErrors(admin);
  await admin.goto(`${app.server.url}/beheer/panels?gemeente=utrecht`);
  await admin.locator('#panels-tabel').waitFor();
  await checkA11y(admin, 'panels page');
  await screenshot(admin, 'panels');
  await admin.locator('#aantal-utrecht').fill('3');
  await admin.locator('#scheiding-utrecht-puntkomma').check();
  await admin.locator('#uitnodigen-utrecht').click();

  // One page holds both downloads; the codes are in them only.
  await admin.locator('#gemaakt-kop').waitFor();
  await checkA11y(admin, 'letters made');
  await admin.setViewportSize(PHONE);
  await checkA11y(admin, 'letters made, phone width');
  await admin.setViewportSize(DESKTOP);
  const [pdfDownload] = await Promise.all([
    admin.waitForEvent('download'),
    admin.locator('#brieven-pdf').click(),
  ]);
  assert.match(pdfDownload.suggestedFilename(), /^brieven-\d{4}-\d{3}\.pdf$/);
  const pdf = await readFile(await pdfDownload.path(), 'latin1');
  assert.ok(pdf.startsWith('%PDF-'), 'a PDF');
  assert.equal((pdf.match(/\/Type \/Page\b/g) ?? []).length, 3, 'one page per letter');
  const [csvDownload] = await Promise.all([
    admin.waitForEvent('download'),
    admin.locator('#brieven-csv').click(),
  ]);
  const csv = await readFile(await csvDownload.path(), 'utf8');
  assert.equal(csv.charCodeAt(0), 0xfeff, 'UTF-8 with a byte order mark');
  const rows = csv.slice(1).trim().split(/\r?\n/).map((r) => r.split(';'));
  assert.equal(rows.length, 4, 'a header and three letters');
  assert.equal(rows[0][0], 'uitnodigingsnummer');
  const [number, code] = rows[1];
  const [otherNumber] = rows[2];

  // The QR code's link fills the code in; the fragment leaves the address bar.
  const resident = await (await app.context(t)).newPage();
  await resident.goto(`${app.server.url}/#code=${code}`);
  await resident.waitForFunction(
    () => document.querySelector('#code')?.value !== '' && window.location.hash === '',
  );
  assert.equal(await resident.locator('#code').inputValue(), code);
  await resident.getByRole('button', { name: 'Inloggen' }).click();
  // A first login asks to accept the house rules before "Mijn casussen".
  await acceptHouseRulesIfAsked(resident);
  await resident.getByRole('heading', { level: 1, name: 'Mijn casussen' }).waitFor();

  // The lost-code call: look the number up, give a new code, download its letter.
  await admin.goto(`${app.server.url}/beheer/brieven?gemeente=utrecht`);
  await admin.locator('#partijen-tabel').waitFor();
  await checkA11y(admin, 'letters and codes');
  await admin.locator('#nummer').fill(number);
  await admin.locator('#nummer-opzoeken').click();
  await admin.locator('#gevonden-status[data-status="active"]').waitFor();
  await checkA11y(admin, 'invitation found');
  await admin.setViewportSize(PHONE);
  await checkA11y(admin, 'invitation found, phone width');
  await admin.setViewportSize(DESKTOP);
  await screenshot(admin, 'letters');
  await admin.locator('#code-vervangen').click();
  await admin.locator('#gemaakt-kop').waitFor();
  const [replacement] = await Promise.all([
    admin.waitForEvent('download'),
    admin.locator('#brieven-pdf').click(),
  ]);
  const letter = await readFile(await replacement.path(), 'latin1');
  assert.equal((letter.match(/\/Type \/Page\b/g) ?? []).length, 1, 'one new letter');

  // The old code's session ended and the code is refused.
  await resident.reload();
  await resident.getByLabel('Uw code', { exact: true }).waitFor();
  await resident.getByLabel('Uw code', { exact: true }).fill(code);
  await resident.getByRole('button', { name: 'Inloggen' }).click();
  await resident.locator('#code-fout').waitFor();

  // Another code is revoked by its number.
  await admin.goto(`${app.server.url}/beheer/brieven?gemeente=utrecht&nummer=${otherNumber}`);
  await admin.locator('#code-intrekken').click();
  await admin.locator('#melding').waitFor();
  await admin.locator('#gevonden-status[data-status="revoked"]').waitFor();
  await checkA11y(admin, 'invitation revoked');
  await admin.goto(`${app.server.url}/beheer/brieven?gemeente=utrecht&nummer=${number}`);
  await admin.locator('#gevonden-status[data-status="replaced"]').waitFor();
  assert.deepEqual(errors, []);
});

test('an admin adds a colleague who logs in with the password shown once and then sets their own', async (t) => {
  const admin = await loginStaff(await app.context(t), app.server.url, 'beheer@utrecht.demo');
  await admin.goto(`${app.server.url}/beheer/medewerkers?gemeente=utrecht`);
  await admin.locator('#medewerkers-tabel').waitFor();
  await checkA11y(admin, 'staff accounts');
  await admin.locator('#email').fill('nieuw.analist@utrecht.demo');
  await admin.locator('#naam').fill('Nieuwe Analist');
  await admin.locator('#rol-analyst').check();
  await admin.locator('#medewerker-toevoegen').click();
  const password = (await admin.locator('#eenmalig-wachtwoord').innerText()).trim();
  assert.ok(password.length >= 16, 'a long generated password');
  await checkA11y(admin, 'new colleague confirmation');

  const colleague = await loginStaff(await app.context(t), app.server.url, 'nieuw.analist@utrecht.demo', password);
  assert.equal(new URL(colleague.url()).pathname, '/beheer');
  await colleague.getByText('Nieuwe Analist').first().waitFor();

  // The colleague replaces the generated password with one of their own.
  await colleague.getByRole('link', { name: 'Wachtwoord' }).click();
  await colleague.getByLabel('Huidig wachtwoord').fill(password);
  await colleague.getByLabel('Nieuw wachtwoord', { exact: true }).fill('mijn eigen lange wachtwoord');
  await colleague.getByLabel('Nieuw wachtwoord nog een keer').fill('mijn eigen lange wachtwoord');
  await colleague.getByRole('button', { name: 'Wachtwoord wijzigen' }).click();
  await colleague.getByText('Uw wachtwoord is gewijzigd.').waitFor();
  await checkA11y(colleague, 'password page');
  const again = await loginStaff(
    await app.context(t),
    app.server.url,
    'nieuw.analist@utrecht.demo',
    'mijn eigen lange wachtwoord',
  );
  assert.equal(new URL(again.url()).pathname, '/beheer');
});
