// What a resident meets beyond the happy path: a held post that can be fixed, errors
// summed up at the top of the page with focus on them, no dead ends (flagging, closed
// cases), one wording for weighing, and verdicts kept out of sight until one's own.
// Every state is checked with axe at the desktop and the phone width.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DESKTOP,
  PHONE,
  checkA11y,
  loginPanelist,
  loginStaff,
  openCase,
  screenshot,
  sendVerdict,
  useServerAndBrowser,
} from './harness.mjs';

const app = useServerAndBrowser({ before, after });

const utrecht = (last) => `UTRECHTPANEL${last}`;
const WHEELCHAIR = 'Aanvraag elektrische rolstoel afgewezen';
const HOUSEHOLD = 'Minder uren huishoudelijke hulp na herbeoordeling';
const RESPITE = 'Begeleiding en logeeropvang voor kind toegekend';

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

/** Asserts the error summary is at the top, has focus, is in view and names `texts`. */
async function assertErrorSummary(page, texts) {
  const summary = page.getByRole('alert').filter({ hasText: 'Er is een probleem' });
  await summary.waitFor();
  assert.ok(
    await summary.evaluate((el) => el === document.activeElement),
    'focus is on the error summary',
  );
  const top = await summary.evaluate((el) => el.getBoundingClientRect().top);
  assert.ok(top >= 0 && top < 400, `the summary is in view near the top (at ${top} px)`);
  assert.match(await page.title(), /^Fout: /, 'the title says there is an error');
  for (const text of texts) {
    await summary.getByRole('link', { name: text }).waitFor();
  }
  return summary;
}

test('a held post says it waits, and can be fixed from the case page', async (t) => {
  const page = await loginPanelist(await app.context(t), app.server.url, utrecht('3'));
  await openCase(page, RESPITE);
  await sendVerdict(
    page,
    'Ik twijfel',
    'Mijn buurman (BSN 111222333) kreeg precies dezelfde hulp en dat ging eerst ook mis.',
  );
  await page.getByText('Uw oordeel is opgeslagen, maar anderen zien het nog niet').waitFor();
  assert.equal(await page.getByText('Dank u wel, uw oordeel is ontvangen.').count(), 0);
  const mine = page.locator('article.post.mine').first();
  await checkBoth(page, 'case page with a held reaction');

  await mine.getByRole('link', { name: 'Aanpassen' }).click();
  await page.getByRole('heading', { level: 1, name: 'Uw bericht aanpassen' }).waitFor();
  await checkBoth(page, 'editing a held post');
  await page
    .getByLabel('Tekst')
    .fill('Mijn buurman kreeg precies dezelfde hulp en dat ging eerst ook mis.');
  await page.getByRole('button', { name: 'Wijziging opslaan' }).click();
  await page
    .getByText('Uw bericht is aangepast. Een moderator bekijkt de nieuwe tekst voordat anderen die zien.')
    .waitFor();
  assert.ok(!(await page.content()).includes('111222333'), 'the number is gone');
  await page.locator('article.post.mine', { hasText: 'Mijn buurman kreeg precies' }).waitFor();
  await checkBoth(page, 'case page after fixing a held post');
  await screenshot(page, 'case-held-post-fixed');
});

test('a verdict without a choice: an error summary at the top, focused, linking to the field', async (t) => {
  const page = await loginPanelist(await app.context(t), app.server.url, utrecht('2'));
  await openCase(page, WHEELCHAIR);
  await page
    .getByLabel('Waarom? Leg uit hoe u tot uw oordeel komt.')
    .fill('Ik weet het nog niet goed, maar dit is wel mijn uitleg.');
  await page.getByRole('button', { name: 'Oordeel versturen' }).click();
  const summary = await assertErrorSummary(page, [
    'Kies of u het eens bent, oneens bent of twijfelt.',
  ]);
  await checkBoth(page, 'case page with an error summary');
  await screenshot(page, 'case-error-summary');
  await summary.getByRole('link', { name: 'Kies of u het eens bent' }).click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'oordeel-eens');
  assert.equal(
    await page.getByLabel('Waarom? Leg uit hoe u tot uw oordeel komt.').inputValue(),
    'Ik weet het nog niet goed, maar dit is wel mijn uitleg.',
    'the typed text is kept',
  );

  // A reply that is too short: the same summary, linking to the reply's field.
  const first = page.locator('article.post').first();
  await first.getByText('Reageren').click();
  await first.getByRole('textbox').fill('Kort');
  await first.getByRole('button', { name: 'Antwoord versturen' }).click();
  const replySummary = await assertErrorSummary(page, [/te kort/]);
  await replySummary.getByRole('link', { name: /te kort/ }).click();
  assert.match(await page.evaluate(() => document.activeElement?.id), /^antwoord-\d+$/);
  await checkBoth(page, 'case page with a reply error');
});

test('flagging has no dead ends: a missing note is shown in place, a second flag is not offered', async (t) => {
  const page = await loginPanelist(await app.context(t), app.server.url, utrecht('7'));
  await openCase(page, RESPITE);
  const post = page.locator('article.post:not(.mine)').first();
  const postId = await post.getAttribute('data-id');
  await post.getByText('Melden').click();
  await post.getByLabel('Anders', { exact: true }).check();
  await post.getByRole('button', { name: 'Melding versturen' }).click();

  await assertErrorSummary(page, [/Licht bij 'anders' kort toe/]);
  assert.equal(await page.getByText('Dat lukte niet').count(), 0, 'no dead-end page');
  const again = page.locator(`#bericht-${postId}`);
  const note = again.getByLabel(/Toelichting/);
  assert.ok(await note.isVisible(), 'the flag form stays open');
  assert.equal(await note.getAttribute('aria-invalid'), 'true');
  assert.ok(await again.getByLabel('Anders', { exact: true }).isChecked(), 'the chosen reason is kept');
  await checkBoth(page, 'case page with a flag error');

  await note.fill('Dit gaat over iemand anders dan in de casus.');
  await again.getByRole('button', { name: 'Melding versturen' }).click();
  await page.getByText('Dank u, uw melding is doorgegeven aan de moderatoren.').waitFor();
  const flagged = page.locator(`#bericht-${postId}`);
  await flagged.getByText('U heeft dit bericht gemeld.').waitFor();
  assert.equal(await flagged.getByText('Melden', { exact: true }).count(), 0, 'no second flag');
  await checkBoth(page, 'case page after flagging');
});

test('weighing asks whether an argument convinces, with one wording everywhere', async (t) => {
  const page = await loginPanelist(await app.context(t), app.server.url, utrecht('8'));
  await openCase(page, RESPITE);
  const post = page.locator('article.post:not(.mine)').first();
  await post.getByText('Overtuigt dit argument u?').waitFor();
  for (const name of ['Overtuigt mij', 'Overtuigt mij niet', 'Weet ik niet']) {
    await post.getByRole('button', { name: new RegExp(`^${name} \\d+$`) }).waitFor();
  }
  assert.equal(await page.getByRole('button', { name: /Mee eens|Weet niet/ }).count(), 0);
  await post.getByRole('button', { name: /^Overtuigt mij niet/ }).click();
  await page.getByText('Uw waardering is opgeslagen.').waitFor();
  await checkBoth(page, 'case page after weighing');

  // The closed case: the outcome uses the same words, and nothing can be pressed.
  await page.goto(`${app.server.url}/`);
  await openCase(page, HOUSEHOLD);
  const outcome = page.locator('section.outcome');
  await outcome.getByText(/overtuigd/).first().waitFor();
  assert.equal(await outcome.getByText('vonden dit een goed argument').count(), 0);
  for (const name of [/^Overtuigt mij/, /^Weet ik niet/, 'Reageren', 'Melden']) {
    assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name} on a closed case`);
  }
  assert.equal(await page.getByText('Live verbonden').count(), 0, 'a closed case is not live');
  assert.equal(await page.locator('#aanwezig').count(), 0, 'no presence on a closed case');
  await checkBoth(page, 'closed case');
});

test('a case that hides the tally until one\'s own verdict hides the verdict badges too', async (t) => {
  const page = await loginPanelist(await app.context(t), app.server.url, utrecht('5'));
  await openCase(page, WHEELCHAIR);
  await page.getByText('U ziet hoe het panel erover denkt nadat u zelf uw oordeel heeft gegeven.').waitFor();
  const others = page.locator('article.post:not(.mine)');
  assert.ok((await others.count()) > 0);
  assert.equal(await page.locator('article.post .verdict').count(), 0, 'no badges before');
  await sendVerdict(
    page,
    'Nee, ik ben het niet eens met het besluit',
    'Hij wordt steeds zwakker; de gemeente moet verder kijken dan vandaag.',
  );
  await page.getByText('Dank u wel, uw oordeel is ontvangen.').waitFor();
  await page.locator('article.post:not(.mine) .verdict').first().waitFor();
  await checkBoth(page, 'case page with badges after one\'s own verdict');
});

test('the first login asks for the house rules; every page says how to reach the municipality and what a verdict does', async (t) => {
  const ctx = await app.context(t);
  const page = await ctx.newPage();
  await page.goto(`${app.server.url}/`);
  await page.getByLabel('Uw code', { exact: true }).fill(utrecht('C'));
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.getByRole('heading', { level: 1, name: 'Huisregels van het panel' }).waitFor();
  await page.getByText('Noem geen namen, adressen, telefoonnummers').waitFor();
  await checkBoth(page, 'house rules at the first login');
  await screenshot(page, 'house-rules');
  await page.getByRole('button', { name: 'Ik accepteer de huisregels' }).click();
  await page.getByRole('heading', { level: 1, name: 'Mijn casussen' }).waitFor();

  // Accepted once: the rules stay readable, without the button.
  await page.goto(`${app.server.url}/huisregels`);
  await page.getByRole('heading', { level: 1, name: 'Huisregels van het panel' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Ik accepteer de huisregels' }).count(), 0);
  await page.goto(`${app.server.url}/`);
  await page.getByRole('heading', { level: 1, name: 'Mijn casussen' }).waitFor();

  for (const where of ['my cases', 'case page']) {
    if (where === 'case page') await openCase(page, WHEELCHAIR);
    const footer = page.locator('footer');
    await footer.getByRole('heading', { name: 'Vragen? Neem contact op met Gemeente Utrecht' }).waitFor();
    await footer.getByRole('link', { name: '030 000 00 00' }).waitFor();
    await footer.getByRole('link', { name: 'panel@utrecht.demo' }).waitFor();
    await footer.getByRole('link', { name: 'Huisregels' }).waitFor();
    await footer.getByRole('link', { name: 'Privacy' }).waitFor();
  }
  const consequences = page.locator('section', {
    has: page.getByRole('heading', { name: 'Wat uw oordeel wel en niet doet' }),
  });
  await consequences.getByText('verandert niets aan het besluit over de persoon').waitFor();
  for (const step of ['second opinion', 'bemiddeling', 'bezwaar', 'klacht']) {
    await consequences.getByText(step).first().waitFor();
  }
  await page.locator('#oordeel-formulier').getByRole('link', { name: 'Lees de huisregels' }).waitFor();
  await checkBoth(page, 'case page with what a verdict does');

  await page.locator('footer').getByRole('link', { name: 'Privacy' }).click();
  await page.getByRole('heading', { level: 1, name: 'Privacyverklaring' }).waitFor();
  await page.getByRole('heading', { name: 'Hoe lang' }).waitFor();
  await checkBoth(page, 'privacy statement');
  await screenshot(page, 'privacy');
});

test('an author contests a moderator\'s decision from the case page, and the moderators see it', async (t) => {
  const writer = await loginPanelist(await app.context(t), app.server.url, utrecht('D'));
  await openCase(writer, WHEELCHAIR);
  await sendVerdict(
    writer,
    'Nee, ik ben het niet eens met het besluit',
    'Die mensen op het gemeentehuis begrijpen echt helemaal niets van rolstoelen.',
  );
  await writer.getByText('Dank u wel, uw oordeel is ontvangen.').waitFor();
  const postId = await writer.locator('article.post.mine').first().getAttribute('data-id');
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

  await writer.reload();
  const mine = writer.locator(`#bericht-${postId}`);
  await mine.getByText('Een moderator heeft uw bericht verborgen (reden: Beledigend).').waitFor();
  await mine.getByText('Bent u het niet eens met deze beslissing?').click();
  await checkBoth(writer, 'case page with the contest form');
  await mine
    .getByLabel('Waarom vindt u dat uw bericht weer zichtbaar moet worden?')
    .fill('Ik bedoelde niemand te beledigen; ik ben boos over de regels.');
  await mine.getByRole('button', { name: 'Bezwaar versturen' }).click();
  await writer.getByText('Uw bezwaar is doorgegeven. Een moderator kijkt opnieuw naar uw bericht.').waitFor();
  await writer.locator(`#bericht-${postId}`).getByText('U heeft bezwaar gemaakt').waitFor();
  await checkBoth(writer, 'case page after contesting');

  await moderator.goto(`${app.server.url}/moderatie`);
  await moderator.locator('#mod-tabs a[data-queue="flagged"]').click();
  const item = moderator.locator(`#item-${postId}`);
  await item.getByText('Bezwaar van de schrijver').waitFor();
  await item.getByText('Ik bedoelde niemand te beledigen').waitFor();
  await checkBoth(moderator, 'flagged queue with a contest');
});
