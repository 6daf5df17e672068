// The panelist's pages in a real browser: giving a verdict, seeing others' posts arrive
// live, moderation reaching the thread, personal data held back, keyboard use, and the
// accessibility checks on every page.

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

/** A demo panelist code of Utrecht by its last character (which demo panelists have
 * already reacted to which case is fixed by the demo seed). */
const utrecht = (last) => `UTRECHTPANEL${last}`;

const WHEELCHAIR = 'Aanvraag elektrische rolstoel afgewezen';
const RESPITE = 'Begeleiding en logeeropvang voor kind toegekend';

/** Gives a verdict with a reason through the form. */
async function giveVerdict(page, choice, reason) {
  await sendVerdict(page, choice, reason);
  await page.getByText('Dank u wel, uw oordeel is ontvangen.').waitFor();
}

test('a reaction reaches another panelist live: announced, then shown on request', async (t) => {
  const writer = await loginPanelist(await app.context(t), app.server.url, utrecht('9'));
  const reader = await loginPanelist(await app.context(t), app.server.url, utrecht('C'));
  const errors = collectErrors(reader);
  await openCase(writer, RESPITE);
  await openCase(reader, RESPITE);
  await waitLive(reader);
  await checkA11y(writer, 'case page with the verdict form');

  const reason =
    'Ik vind het goed dat de gemeente de ouders ontlast, want zonder logeeropvang houden zij het niet vol.';
  await giveVerdict(writer, 'Ja, ik ben het eens met het besluit', reason);
  await checkA11y(writer, 'case page after giving a verdict');

  // The reader is told, politely, and the thread does not move by itself.
  const button = reader.locator('#nieuwe-berichten');
  await button.waitFor({ state: 'visible' });
  assert.equal((await button.innerText()).trim(), '1 nieuwe reactie tonen');
  assert.equal(await reader.getByText(reason).count(), 0, 'not inserted before asked');
  await reader.locator('#aankondiging').filter({ hasText: '1 nieuwe reactie' }).waitFor({ state: 'attached' });

  await button.click();
  const post = reader.locator('article.post', { hasText: reason });
  await post.waitFor();
  // The reader gave no verdict yet and the case hides the tally until then, so the
  // verdict badge stays hidden as well.
  assert.equal(await post.locator('.verdict').count(), 0);
  assert.ok(await button.isHidden(), 'the button goes once everything is shown');
  // The new post arrives with the same controls as the rest of the thread.
  await post.getByRole('button', { name: /^Overtuigt mij \d/ }).waitFor();
  await checkA11y(reader, 'case page with a live-inserted post');
  assert.deepEqual(errors, []);
});

test('a moderator hides a post and panelists see the placeholder without reloading', async (t) => {
  const writer = await loginPanelist(await app.context(t), app.server.url, utrecht('2'));
  const reader = await loginPanelist(await app.context(t), app.server.url, utrecht('D'));
  await openCase(writer, WHEELCHAIR);
  const reason =
    'Ik vind dat de gemeente te weinig kijkt naar hoe zijn ziekte verloopt; over een jaar is het te laat.';
  await giveVerdict(writer, 'Nee, ik ben het niet eens met het besluit', reason);
  const postId = await writer.locator('article.post.mine').first().getAttribute('data-id');

  await openCase(reader, WHEELCHAIR);
  await waitLive(reader);
  const post = reader.locator(`#bericht-${postId}`);
  assert.match(await post.innerText(), /te weinig kijkt/);

  // The moderator hides it through the API (the moderation page has its own test).
  const moderator = await loginStaff(await app.context(t), app.server.url, 'moderator@utrecht.demo');
  const status = await moderator.evaluate(async (id) => {
    const session = await (await fetch('/api/v1/auth/session')).json();
    const res = await fetch(`/api/v1/moderation/posts/${id}/hide`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token },
      body: JSON.stringify({ reason: 'beledigend' }),
    });
    return res.status;
  }, postId);
  assert.equal(status, 200);

  await post.getByText('Dit bericht is verborgen door een moderator (reden: Beledigend).').waitFor();
  assert.equal(await reader.getByText('te weinig kijkt').count(), 0);
  // The author is told why, on the same page after a reload.
  await writer.reload();
  await writer.getByText('Een moderator heeft uw bericht verborgen (reden: Beledigend).').waitFor();
  // The start page says so too, next to the case.
  await writer.goto(`${app.server.url}/`);
  await writer
    .getByRole('listitem')
    .filter({ hasText: WHEELCHAIR })
    .getByText('Een moderator heeft 1 van uw berichten verborgen.')
    .waitFor();
});

test('a post with a citizen service number is held and never shown to others', async (t) => {
  const writer = await loginPanelist(await app.context(t), app.server.url, utrecht('4'));
  const reader = await loginPanelist(await app.context(t), app.server.url, utrecht('C'));
  await openCase(writer, RESPITE);
  await openCase(reader, RESPITE);
  await waitLive(reader);

  const bsn = '111222333';
  await sendVerdict(
    writer,
    'Ik twijfel',
    `Mijn buurman (BSN ${bsn}) kreeg precies dezelfde hulp en dat ging eerst ook mis.`,
  );
  await writer.getByText('Uw oordeel is opgeslagen, maar anderen zien het nog niet').waitFor();
  await writer.getByText('Alleen u ziet dit bericht nu.').waitFor();
  assert.ok((await writer.content()).includes(bsn), 'the author still sees their own text');
  await writer.goto(`${app.server.url}/`);
  await writer
    .getByRole('listitem')
    .filter({ hasText: RESPITE })
    .getByText('1 van uw berichten wacht op een moderator')
    .waitFor();

  await reader.locator('#nieuwe-berichten').waitFor({ state: 'visible' });
  await reader.locator('#nieuwe-berichten').click();
  await reader.getByText('Dit bericht wacht op een moderator.').first().waitFor();
  assert.ok(!(await reader.content()).includes(bsn), 'the number never reaches the reader');
  await reader.reload();
  assert.ok(!(await reader.content()).includes(bsn), 'not after a reload either');
});

test('staff watching a case see the tally change live', async (t) => {
  const staff = await loginStaff(await app.context(t), app.server.url, 'analist@utrecht.demo');
  await staff.goto(`${app.server.url}/beheer/casus/1`);
  await waitLive(staff);
  const cell = staff.locator('[data-tally="twijfel"]');
  const before = Number(await cell.innerText());

  const writer = await loginPanelist(await app.context(t), app.server.url, utrecht('5'));
  await openCase(writer, WHEELCHAIR);
  await giveVerdict(
    writer,
    'Ik twijfel',
    'Ik snap dat hij nog een rolstoel heeft, maar hij wordt wel steeds zwakker. Lastig.',
  );
  await staff.waitForFunction(
    ([sel, n]) => Number(document.querySelector(sel)?.textContent) === n,
    ['[data-tally="twijfel"]', before + 1],
  );
});

test('giving a verdict works with the keyboard alone, with a visible focus', async (t) => {
  const page = await (await app.context(t)).newPage();
  await page.goto(`${app.server.url}/`);

  /** Presses Tab until the focused element matches, checking the focus is visible. */
  async function tabTo(predicate, what) {
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const hit = await page.evaluate(predicate);
      if (hit) {
        const outline = await page.evaluate(() => {
          const s = getComputedStyle(document.activeElement);
          return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
        });
        assert.ok(outline, `focus on ${what} is visible`);
        return;
      }
    }
    assert.fail(`could not reach ${what} with Tab`);
  }

  await tabTo(() => document.activeElement?.classList.contains('skip'), 'the skip link');
  await tabTo(() => document.activeElement?.id === 'code', 'the code field');
  await page.keyboard.type(utrecht('7'));
  await page.keyboard.press('Enter');
  // The first login asks to accept the house rules.
  await page.getByRole('heading', { level: 1, name: 'Huisregels van het panel' }).waitFor();
  await tabTo(() => document.activeElement?.textContent === 'Ik accepteer de huisregels', 'the accept button');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Mijn casussen' }).waitFor();

  await tabTo(() => document.activeElement?.textContent === 'Aanvraag elektrische rolstoel afgewezen', 'the case link');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: WHEELCHAIR }).waitFor();

  await tabTo(() => document.activeElement?.id === 'oordeel-eens', 'the first verdict choice');
  await page.keyboard.press('ArrowDown');
  assert.ok(await page.locator('#oordeel-oneens').isChecked(), 'arrow keys choose');
  await tabTo(() => document.activeElement?.id === 'reden', 'the reason field');
  await page.keyboard.type('Met de scootmobiel komt hij buiten wel verder, maar binnen lukt het niet meer goed.');
  await tabTo(() => document.activeElement?.textContent?.trim() === 'Oordeel versturen', 'the send button');
  await page.keyboard.press('Enter');
  await page.getByText('Dank u wel, uw oordeel is ontvangen.').waitFor();
  await page.locator('article.post.mine', { hasText: 'binnen lukt het niet meer goed' }).waitFor();
});

test('a verdict without a reason is refused beside the field and the choice is kept', async (t) => {
  const page = await loginPanelist(await app.context(t), app.server.url, utrecht('A'));
  await openCase(page, WHEELCHAIR);
  await page.getByLabel('Ik twijfel').check();
  await page.getByLabel('Waarom? Leg uit hoe u tot uw oordeel komt.').fill('Te kort');
  await page.getByRole('button', { name: 'Oordeel versturen' }).click();
  const field = page.locator('#reden');
  await page.locator('#reden-fout').waitFor();
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  assert.match(await field.getAttribute('aria-describedby'), /reden-fout/);
  assert.equal(await field.inputValue(), 'Te kort');
  assert.ok(await page.locator('#oordeel-twijfel').isChecked());
  await checkA11y(page, 'case page with an error');
});

test('every panelist page passes the accessibility checks, in Dutch and in English, and reflows at 320 px', async (t) => {
  const ctx = await app.context(t);
  const visitor = await ctx.newPage();
  for (const path of ['/', '/inloggen', '/toegankelijkheid', '/bestaat-niet']) {
    await visitor.goto(`${app.server.url}${path}`);
    await checkA11y(visitor, path);
  }
  await visitor.goto(`${app.server.url}/inloggen`);
  await screenshot(visitor, 'staff-login');
  await visitor.goto(`${app.server.url}/toegankelijkheid`);
  await visitor.getByRole('heading', { level: 1, name: 'Toegankelijkheidsverklaring' }).waitFor();

  const page = await loginPanelist(ctx, app.server.url, utrecht('8'));
  await checkA11y(page, 'my cases');
  await screenshot(page, 'my-cases');
  await openCase(page, WHEELCHAIR);
  await checkA11y(page, 'case page');
  await screenshot(page, 'case');
  await page.goto(`${app.server.url}/casus/2`);
  await page.getByRole('heading', { name: 'De uitkomst van het panel' }).waitFor();
  await checkA11y(page, 'closed case with the outcome');
  await screenshot(page, 'case-outcome');

  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'What the panel concluded' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await checkA11y(page, 'closed case in English');
  await page.getByRole('link', { name: 'Nederlands' }).click();
  await page.getByRole('heading', { name: 'De uitkomst van het panel' }).waitFor();

  await page.setViewportSize({ width: 320, height: 640 });
  await page.goto(`${app.server.url}/casus/1`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 320, `no sideways scrolling at 320 px (page is ${overflow} px wide)`);
});

test('a panelist shares a profile with consent and erases it by withdrawing consent', async (t) => {
  const page = await loginPanelist(await app.context(t), app.server.url, utrecht('B'));
  await page.getByRole('link', { name: 'Over mij' }).click();
  await page.getByRole('heading', { level: 1, name: 'Over mij (vrijwillig)' }).waitFor();
  await checkA11y(page, 'profile page');
  await page.getByLabel('Ik vind het goed dat mijn antwoorden worden gebruikt').check();
  await page.getByLabel('Leeftijd').selectOption('75+');
  await page.getByLabel('Wijk', { exact: true }).fill('Overvecht');
  await page.getByLabel('Ja, via iemand die dicht bij mij staat').check();
  await page.getByRole('button', { name: 'Opslaan' }).click();
  await page.getByText('Uw keuze is opgeslagen.').waitFor();
  assert.equal(await page.getByLabel('Leeftijd').inputValue(), '75+');
  assert.equal(await page.getByLabel('Wijk', { exact: true }).inputValue(), 'Overvecht');
  await screenshot(page, 'profile');

  await page.getByLabel('Ik vind het goed dat mijn antwoorden worden gebruikt').uncheck();
  await page.getByRole('button', { name: 'Opslaan' }).click();
  await page.getByText('Uw keuze is opgeslagen.').waitFor();
  assert.equal(await page.getByLabel('Leeftijd').inputValue(), '');
  assert.equal(await page.getByLabel('Wijk', { exact: true }).inputValue(), '');
});

test('before an idle session ends, a warning offers to stay logged in', async (t) => {
  const ctx = await app.context(t);
  const page = await loginPanelist(ctx, app.server.url, utrecht('B'));
  await page.clock.install();
  await page.goto(`${app.server.url}/profiel`);
  const dialog = page.getByRole('alertdialog', { name: 'Uw sessie verloopt bijna' });
  assert.ok(await dialog.isHidden());
  // Sessions last 12 hours; the warning comes five minutes before the end.
  await page.clock.fastForward('11:56:00');
  await dialog.waitFor();
  const stay = page.getByRole('button', { name: 'Ingelogd blijven' });
  assert.ok(await stay.evaluate((b) => b === document.activeElement), 'focus moves to the button');
  await checkA11y(page, 'session warning');
  // Staying asks the server for the session, which extends it (the server's own clock
  // has not moved in this test, so the dialog's reappearance is not checked here).
  const [answer] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/session'),
    stay.click(),
  ]);
  assert.equal(answer.status(), 200);
  assert.ok((await answer.json()).expires_at, 'the answer carries the new expiry');
});
