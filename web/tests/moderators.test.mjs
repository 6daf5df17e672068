// What moderators do, told truthfully: a post hidden by flags says so (not that a
// moderator hid it), a suspended panelist reads the reason the form promised, and the
// queue's buttons say what they do. Every state is checked with axe at both widths.

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
  useServerAndBrowser,
} from './harness.mjs';

const app = useServerAndBrowser({ before, after });

const utrecht = (last) => `UTRECHTPANEL${last}`;
const RESPITE = 'Begeleiding en logeeropvang voor kind toegekend';

async function checkBoth(page, label) {
  await checkA11y(page, `${label} (desktop)`);
  await page.setViewportSize(PHONE);
  try {
    await checkA11y(page, `${label} (phone)`);
  } finally {
    await page.setViewportSize(DESKTOP);
  }
}

/** Calls the JSON API from a logged-in page, with its CSRF token. */
async function api(page, method, path, body) {
  return page.evaluate(
    async ([method, path, body]) => {
      const session = await (await fetch('/api/v1/auth/session')).json();
      const res = await fetch(path, {
        method,
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    },
    [method, path, body],
  );
}

test('a post hidden by flags says so, a suspended author reads why, and the queue says what its buttons do', async (t) => {
  const author = await loginPanelist(await app.context(t), app.server.url, utrecht('3'));
  await openCase(author, RESPITE);
  const created = await api(author, 'POST', '/api/v1/cases/3/posts', {
    verdict: 'oneens',
    body: 'Dat soort ouders moet gewoon beter opletten, dan is die hulp niet nodig.',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;

  // Three panelists flag it: the default threshold hides it pending review.
  for (const last of ['6', '7', '8']) {
    const p = await loginPanelist(await app.context(t), app.server.url, utrecht(last));
    const res = await api(p, 'POST', `/api/v1/posts/${id}/flags`, { reason: 'beledigend' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const reader = await loginPanelist(await app.context(t), app.server.url, utrecht('9'));
  await openCase(reader, RESPITE);
  await reader
    .locator(`#bericht-${id}`)
    .getByText('Tijdelijk verborgen na meldingen van panelleden; een moderator kijkt ernaar.')
    .waitFor();
  assert.equal(await reader.getByText('verborgen door een moderator').count(), 0);
  await checkBoth(reader, 'case page with a post hidden by flags');

  await author.reload();
  await author
    .locator(`#bericht-${id}`)
    .getByText('Andere panelleden hebben uw bericht gemeld, daarom is het tijdelijk verborgen.')
    .waitFor();

  // The queue: the flagged post is hidden, so its button makes it visible again.
  const moderator = await loginStaff(await app.context(t), app.server.url, 'moderator@utrecht.demo');
  await moderator.locator('#mod-tabs a[data-queue="flagged"]').click();
  const item = moderator.locator(`#item-${id}`);
  await item.getByRole('button', { name: 'Weer zichtbaar maken' }).waitFor();
  assert.equal(await item.getByRole('button', { name: 'Goedkeuren' }).count(), 0);
  await item.getByRole('button', { name: 'In behandeling nemen' }).click();
  await moderator
    .locator(`#item-${id}`)
    .getByRole('button', { name: 'Terug in de wachtrij zetten' })
    .waitFor();
  await checkBoth(moderator, 'flagged queue with a claimed, flag-hidden post');

  // A suspension: the author reads the reason the form promised.
  const queue = await api(moderator, 'GET', '/api/v1/moderation/utrecht/queue?kind=flagged');
  const entry = queue.body.items.find((i) => i.post.id === id);
  const suspended = await api(moderator, 'POST', `/api/v1/moderation/panelists/${entry.panelist_id}/suspend`, {
    hours: 48,
    reason: 'Herhaaldelijk kwetsende opmerkingen over ouders.',
  });
  assert.equal(suspended.status, 204, JSON.stringify(suspended.body));
  await author.goto(`${app.server.url}/`);
  await author.getByText('Reden: Herhaaldelijk kwetsende opmerkingen over ouders.').waitFor();
  await checkBoth(author, 'my cases while suspended');
});

test('a moderator hides an insult nobody flagged, from the watch page', async (t) => {
  const author = await loginPanelist(await app.context(t), app.server.url, utrecht('4'));
  await openCase(author, RESPITE);
  const created = await api(author, 'POST', '/api/v1/cases/3/posts', {
    verdict: 'eens',
    body: 'Wie daar anders over denkt, heeft gewoon geen hersens in zijn hoofd.',
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.status, 'visible', 'the automatic checks let it through');
  const id = created.body.id;

  // Nobody flags it. The moderator sees it on the watch page and moderates it there.
  const moderator = await loginStaff(await app.context(t), app.server.url, 'moderator@utrecht.demo');
  await moderator.goto(`${app.server.url}/beheer/casus/3`);
  await moderator.locator(`#bericht-${id}`).getByRole('link', { name: /Modereren/ }).click();
  await moderator.getByRole('heading', { level: 1, name: 'Bericht modereren' }).waitFor();
  await moderator.locator('.mod-body').getByText('heeft gewoon geen hersens in zijn hoofd').waitFor();
  await checkBoth(moderator, 'moderation card of an unflagged post');

  const card = moderator.locator(`#item-${id}`);
  await card.getByText('Verbergen…').click();
  await card.locator('.mod-dialog-hide').getByLabel('Beledigend').check();
  await card.getByRole('button', { name: 'Bericht verbergen' }).click();
  await moderator.getByText('Het bericht is verborgen.').waitFor();
  // A hidden post is not offered "Verbergen" again, but keeping it hidden with a reason.
  await card.getByText('Verborgen houden, met uw reden…').waitFor();
  assert.equal(await card.getByText('Verbergen…', { exact: true }).count(), 0);
  await checkBoth(moderator, 'moderation card after hiding');
  await screenshot(moderator, 'moderation-card');
  // Back to where the moderator came from.
  await moderator.getByRole('link', { name: 'Terug naar de discussie' }).click();
  await moderator.locator(`#bericht-${id}`).getByText('Verborgen voor panelleden', { exact: false }).waitFor();

  // Other panelists read that a moderator hid it, not the text.
  const reader = await loginPanelist(await app.context(t), app.server.url, utrecht('5'));
  await openCase(reader, RESPITE);
  await reader.locator(`#bericht-${id}`).getByText('verborgen door een moderator', { exact: false }).waitFor();
  assert.equal(await reader.getByText('geen hersens in zijn hoofd').count(), 0);

  // A panelist gets no moderation link and no card.
  assert.equal(await reader.getByRole('link', { name: /Modereren/ }).count(), 0);
  const res = await reader.goto(`${app.server.url}/moderatie/bericht/${id}`);
  assert.equal(res.status(), 403);
});
