/**
 * The console page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no
 * browser download): it loads with only local assets, runs a query with a session token and shows the
 * result, signs in with the MAL sandbox from the page and runs its default document, and runs a
 * subscription over the AppSync real-time protocol and shows a published event.
 * CI installs Chromium (.ci/install-chromium.sh); elsewhere the test is skipped when it is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { LocalStack } from '../../local/stack';
import { createTestUser, useTestStack } from '../support/stack';
import { publishSyncProgress } from '../../functions/shared/progress-publisher';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);

/** The stack of the describe below (skipped, with its stack, where Chromium is missing). */
let stack: LocalStack;
let context: BrowserContext | undefined;
let profile: string | undefined;
const requestedHosts = new Set<string>();

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function openConsole(query: string, token: string): Promise<Page> {
  const page = await context!.newPage();
  page.on('request', (request) => requestedHosts.add(new URL(request.url()).host));
  // GraphiQL keeps tabs in localStorage; start each scenario from the given query.
  await page.goto(`${stack.url}/`);
  await page.evaluate(() => localStorage.clear());
  await page.goto(`${stack.url}/?query=${encodeURIComponent(query)}`);
  await page.locator('#auth-mode').selectOption('token');
  await page.locator('#auth-token').fill(token);
  await page.locator('.graphiql-execute-button').waitFor({ state: 'visible', timeout: 30_000 });
  return page;
}

const responseText = (page: Page) => page.locator('.graphiql-response').innerText();

describe.skipIf(!available && !process.env.CI)('console page in headless Chromium', () => {
  stack = useTestStack();
  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
  }, 90_000);

  // Runs before the stack's stop (hooks after all run in reverse order).
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('runs a query with a session token and shows its result', { timeout: 60_000 }, async () => {
    const user = await createTestUser(stack, 'browser-user');
    const page = await openConsole('query Me { me { userId malUserName } }', user.token);
    // The schema arrives by introspection through the same fetcher: the docs explorer can show it.
    await page.locator('.graphiql-execute-button').click();
    await until(async () => (await responseText(page)).includes(user.userId), 'the query result');
    expect(await responseText(page)).toContain('browser-user');
    await page.close();
  });

  it('signs in with the MAL sandbox from the page, then runs its default document on the first click', { timeout: 90_000 }, async () => {
    const page = await context!.newPage();
    // A first visit: no saved GraphiQL tabs, no session (cleared from a page of the origin without GraphiQL,
    // which would save its tabs again on leaving).
    await page.goto(`${stack.url}/auth/callback`);
    await page.evaluate(() => {
      localStorage.clear();
      sessionStorage.clear();
    });
    await page.goto(`${stack.url}/`);
    await page.locator('#sign-in-mal').click();
    // MAL's consent page (the sandbox's), then back through /auth/callback to the console.
    await page.locator('#user_name').fill('consolefan');
    await page.locator('button[value="approve"]').click();
    await page.waitForURL(`${stack.url}/`, { timeout: 30_000 });
    await page.locator('.graphiql-execute-button').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator('#auth-mode').inputValue()).toBe('token');
    expect(await page.locator('#auth-token').inputValue()).toMatch(/\S{20,}/);
    // The default document is in the editor (Monaco fills it in once loaded): one operation, run as is.
    await until(async () => /query\sMe/.test(await page.locator('.graphiql-query-editor').innerText()), 'the default document');
    await page.locator('.graphiql-execute-button').click();
    await until(async () => (await responseText(page)).includes('consolefan'), 'the default query result');
    expect(await responseText(page)).toMatch(/"malUserName":\s*"consolefan"/);
    await page.close();
  });

  it('runs a subscription over the real-time endpoint and shows a published event', { timeout: 60_000 }, async () => {
    const user = await createTestUser(stack);
    const jobId = `job-${randomUUID()}`;
    const page = await openConsole(`subscription { onSyncProgress(jobId: "${jobId}") { jobId seq phase } }`, user.token);
    await page.locator('.graphiql-execute-button').click();
    await until(() => stack.realtime.subscriptionCount === 1, 'the subscription to start');
    await publishSyncProgress(stack.graphqlUrl, stack.iam.region, stack.iam.credentials, { jobId, userId: user.userId, seq: 3, status: 'RUNNING', phase: 'MATCHING', processed: 1, total: 5 });
    await until(async () => (await responseText(page)).includes(jobId), 'the subscription event');
    expect(await responseText(page)).toContain('MATCHING');
    // Stopping in the page sends `stop`: the server forgets the subscription.
    await page.locator('.graphiql-execute-button').click();
    await until(() => stack.realtime.subscriptionCount === 0, 'the subscription to stop');
    await page.close();
    // Everything the page loaded came from the local stack.
    expect([...requestedHosts]).toEqual([new URL(stack.url).host]);
  });
});
