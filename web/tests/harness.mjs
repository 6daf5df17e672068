// Browser test harness: starts the real `beraad` binary on a fresh SQLite database and
// drives Debian's Chromium through playwright-core. Used by the `*.test.mjs` files here,
// which `server/tests/browser.rs` runs with `node --test` as part of `cargo test`.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

/** The repository's root directory. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Viewport of the desktop screenshots and of new browser contexts. */
export const DESKTOP = { width: 1280, height: 800 };
/** Viewport of the phone screenshots (a small phone in portrait). */
export const PHONE = { width: 375, height: 740 };

/** How long the server may take to answer `/readyz` (a debug build seeds slowly). */
const READY_TIMEOUT_MS = 60_000;

// Servers started by this process, for cleanup at exit and for their logs on failure.
const started = new Set();
let exitHooksInstalled = false;

function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', (code) => {
    const failed = code !== 0 || (process.exitCode ?? 0) !== 0;
    for (const s of started) {
      if (s.child.pid && s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
      }
      if (failed) printLog(s, 'test process failed');
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
  }
}

function printLog(s, why) {
  if (s.logPrinted) return;
  s.logPrinted = true;
  process.stderr.write(
    `\n--- beraad at ${s.url} (${why}): stdout and stderr ---\n` +
      `${s.stdout}${s.stderr}--- end of beraad output ---\n`,
  );
}

/** A port on 127.0.0.1 that was free a moment ago. */
async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Environment for the server: ours without `BERAAD_*` settings that could leak in. */
function serverEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('BERAAD_')) env[k] = v;
  }
  // Plain log lines, for reading in a failed test's output.
  env.NO_COLOR = '1';
  return { ...env, ...extra };
}

/**
 * Starts `beraad serve --demo` on a fresh SQLite database in a temporary directory, bound
 * to a free port on 127.0.0.1, and waits until `/readyz` answers 200.
 *
 * The binary is `$BERAAD_BIN`, else `target/debug/beraad` under the repository root.
 * `options.env` adds environment variables for the server (e.g. `BERAAD_RATE_LIMITS`).
 * The server's output is printed only when starting fails or the test process fails.
 *
 * @returns {Promise<{url: string, stop: () => Promise<void>}>} `url` has no trailing
 *   slash (`http://127.0.0.1:PORT`); `stop()` ends the server and removes its database.
 */
export async function startServer(options = {}) {
  const bin = process.env.BERAAD_BIN || join(REPO_ROOT, 'target', 'debug', 'beraad');
  if (!existsSync(bin)) {
    throw new Error(`no beraad binary at ${bin}: run 'cargo build -p beraad' or set BERAAD_BIN`);
  }
  installExitHooks();
  // The port is free when picked but could be taken before the server binds it: retry.
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, await freePort(), options);
    } catch (e) {
      lastError = e;
      if (!e.portTaken) throw e;
    }
  }
  throw lastError;
}

async function startOnce(bin, port, options) {
  const url = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'beraad-browser-'));
  const args = [
    'serve',
    '--demo',
    '--database-url',
    `sqlite://${join(dir, 'beraad.db')}`,
    '--bind',
    `127.0.0.1:${port}`,
    // The browser's origin is this URL, so its writes pass the origin check.
    '--public-url',
    url,
  ];
  const child = spawn(bin, args, {
    env: serverEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const s = { child, dir, url, stdout: '', stderr: '', logPrinted: false };
  started.add(s);
  child.stdout.setEncoding('utf8').on('data', (d) => (s.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (s.stderr += d));
  let spawnError;
  const exited = new Promise((resolve) => {
    child.once('exit', resolve);
    child.once('error', (e) => resolve((spawnError = e)));
  });

  const stop = async () => {
    if (!spawnError && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(5_000, false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const reason = spawnError
      ? `could not start ${bin}: ${spawnError.message}`
      : child.exitCode !== null || child.signalCode !== null
        ? `beraad exited (${child.exitCode ?? child.signalCode}) before it was ready`
        : Date.now() > deadline
          ? `beraad did not answer ${url}/readyz within ${READY_TIMEOUT_MS / 1000} s`
          : null;
    if (reason) {
      await stop();
      started.delete(s);
      const error = new Error(`${reason}\n--- beraad output ---\n${s.stdout}${s.stderr}`);
      error.portTaken = /cannot listen/.test(s.stderr);
      throw error;
    }
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200 && s.stdout.includes(`Beraad draait op ${url}`)) break;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  return { url, stop };
}

/** Debian's Chromium (or `$CHROMIUM`), headless, without network chatter of its own. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `no Chromium at ${executablePath}: install it with 'apt-get install chromium' ` +
        '(scripts/test does) or set CHROMIUM',
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/**
 * A new browser context (its own cookies) with the desktop viewport and a Dutch locale;
 * `options` are Playwright's `browser.newContext` options and override these.
 */
export async function newContext(browser, options = {}) {
  return browser.newContext({ viewport: DESKTOP, locale: 'nl-NL', ...options });
}

/**
 * Collects what the browser reports as errors on this page from now on: console errors
 * (failed loads, blocked by the Content-Security-Policy, ...) with the address they
 * concern, and uncaught exceptions. A missing `/favicon.ico`, which the browser asks for
 * on its own, is left out.
 *
 * @returns {string[]} a live list, filled as errors happen.
 */
export function collectErrors(page) {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url ?? '';
    if (new URL(where || 'about:blank').pathname === '/favicon.ico') return;
    errors.push(where ? `${m.text()} (${where})` : m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught ${e.name}: ${e.message}`));
  return errors;
}

let axeSource;

/**
 * Runs axe-core's WCAG 2.0 and 2.1 level A and AA rules on the page as it is now and
 * fails with a readable list of the violations if there are any. `label` names the page
 * in that message.
 *
 * axe is evaluated through the DevTools protocol (`page.evaluate`), which the page's
 * Content-Security-Policy does not govern, so the CSP stays in force for the page itself.
 */
export async function checkA11y(page, label) {
  axeSource ??= readFileSync(
    join(REPO_ROOT, 'web', 'tests', 'node_modules', 'axe-core', 'axe.min.js'),
    'utf8',
  );
  const hasAxe = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!hasAxe) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '),
        summary: n.failureSummary,
      })),
    }));
  });
  if (violations.length === 0) return;
  const lines = [`${label}: ${violations.length} accessibility violation(s) (axe, WCAG 2.1 AA)`];
  for (const v of violations) {
    lines.push(`- ${v.id} [${v.impact}]: ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes) {
      lines.push(`    at ${n.target}`);
      if (n.summary) lines.push(...n.summary.split('\n').map((l) => `      ${l}`));
    }
  }
  assert.fail(lines.join('\n'));
}

/**
 * Saves full-page screenshots of the page at the desktop and the phone width, as
 * `docs/screenshots/NAME-desktop.png` and `NAME-phone.png`, and puts the page's
 * viewport back as it was.
 *
 * @returns {Promise<{desktop: string, phone: string}>} the files' paths.
 */
export async function screenshot(page, name) {
  assert.match(name, /^[a-z0-9-]+$/, 'screenshot names are lowercase words with dashes');
  const dir = join(REPO_ROOT, 'docs', 'screenshots');
  await mkdir(dir, { recursive: true });
  const before = page.viewportSize();
  const paths = {};
  try {
    for (const [kind, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ]) {
      await page.setViewportSize(viewport);
      paths[kind] = join(dir, `${name}-${kind}.png`);
      await page.screenshot({ path: paths[kind], fullPage: true, animations: 'disabled' });
    }
  } finally {
    if (before) await page.setViewportSize(before);
  }
  return paths;
}

/** The demo's panelist codes (`beraad serve --demo`), by municipality. */
export const DEMO_CODES = {
  utrecht: [...'23456789ABCD'].map((c) => `UTRECHTPANEL${c}`),
  zoetermeer: [...'23456789ABCD'].map((c) => `ZTMEERPANELD${c}`),
};

/** The demo's staff password. */
export const DEMO_PASSWORD = 'beraad-demo-2026';

/** Limits loose enough for many logins and posts from one address in a test run. */
export const TEST_SERVER_ENV = {
  BERAAD_LOGIN_PER_IP_PER_MINUTE: '10000',
  BERAAD_LOGIN_GLOBAL_PER_SECOND: '1000',
};

/**
 * Logs a panelist in through the start page's form, as a resident would, accepts the
 * house rules if this is their first login, and returns the page (showing "Mijn
 * casussen").
 */
export async function loginPanelist(context, url, code) {
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.getByLabel('Uw code', { exact: true }).fill(code);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await acceptHouseRulesIfAsked(page);
  await page.getByRole('heading', { level: 1, name: 'Mijn casussen' }).waitFor();
  return page;
}

/** On the house rules a first login leads to, presses the button that accepts them. */
export async function acceptHouseRulesIfAsked(page) {
  const cases = page.getByRole('heading', { level: 1, name: 'Mijn casussen' });
  const rules = page.getByRole('heading', { level: 1, name: 'Huisregels van het panel' });
  await cases.or(rules).waitFor();
  if (await rules.isVisible()) {
    await page.getByRole('button', { name: 'Ik accepteer de huisregels' }).click();
  }
}

/** Logs a staff member in through `/inloggen` and returns the page. */
export async function loginStaff(context, url, email, password = DEMO_PASSWORD) {
  const page = await context.newPage();
  await page.goto(`${url}/inloggen`);
  await page.getByLabel('E-mailadres').fill(email);
  await page.getByLabel('Wachtwoord').fill(password);
  await page.getByRole('button', { name: 'Inloggen' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/inloggen'));
  return page;
}

/** Waits until the page's live connection says it is connected. */
export async function waitLive(page) {
  await page.locator('#verbinding[data-state="online"]').waitFor();
}

/**
 * Registers `before`/`after` hooks of the calling test file that start one server (with
 * `TEST_SERVER_ENV`) and one browser for all its tests. Returns an object whose
 * `server` and `browser` are set once the hooks ran, and `context(t, options)`, a fresh
 * browser context (own cookies) closed when test `t` ends.
 */
export function useServerAndBrowser(hooks) {
  const shared = {
    server: null,
    browser: null,
    async context(t, options) {
      const ctx = await newContext(shared.browser, options);
      t.after(() => ctx.close());
      return ctx;
    },
  };
  hooks.before(async () => {
    const [s, b] = await Promise.allSettled([
      startServer({ env: TEST_SERVER_ENV }),
      launchBrowser(),
    ]);
    shared.server = s.value;
    shared.browser = b.value;
    for (const r of [s, b]) if (r.status === 'rejected') throw r.reason;
  });
  hooks.after(async () => {
    await shared.browser?.close();
    await shared.server?.stop();
  });
  return shared;
}

/** Opens a case from "Mijn casussen" by its title, as a resident would. */
export async function openCase(page, title) {
  await page.getByRole('link', { name: title }).click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
}

/** Fills in and sends the verdict form (the confirmation is left to the caller). */
export async function sendVerdict(page, choice, reason) {
  await page.getByLabel(choice).check();
  await page.getByLabel('Waarom? Leg uit hoe u tot uw oordeel komt.').fill(reason);
  await page.getByRole('button', { name: 'Oordeel versturen' }).click();
}
