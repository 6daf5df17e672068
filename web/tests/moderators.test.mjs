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
