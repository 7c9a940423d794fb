import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { USER, baseSeed } from './fixtures.js';
import { launchBrowser, newPage, signIn, skipWithoutChromium } from './browser.js';
import { adminClientSeed, managementApi, managementToken } from './management.js';
import { startServer, type TestServer } from './server.js';

/** People of the console tests: an admin (the base seed's user), a developer and a viewer. */
export const ADMIN = { ...USER, roles: ['admin'] };
export const DEVELOPER = { email: 'dev@example.test', name: 'Dev Eloper', password: 'developer password 123', roles: ['developer'] };
export const VIEWER = { email: 'viewer@example.test', name: 'Vi Ewer', password: 'viewer password 1234', roles: ['viewer'] };

export interface ConsoleUser {
  id: string;
  email: string;
  name: string;
  roles: string[];
  active: boolean;
}

export interface ConsoleHarness {
  server: TestServer;
  browser: Browser;
  /** A Management API client with every permission (client credentials), to arrange and check state. */
  admin: ReturnType<typeof managementApi>;
  /** The user with this email, as the Management API shows them; undefined if there is none. */
  findUser(email: string): Promise<ConsoleUser | undefined>;
  close(): Promise<void>;
}

/**
 * A server seeded with the base seed, the three people above and an automation client; one Chromium.
 * `clients: false` leaves out the base seed's credentials (a first run: only the automation client);
 * `env` adds configuration (e.g. small attack-protection limits).
 */
export async function startConsoleHarness(options: { clients?: boolean; env?: Record<string, string> } = {}): Promise<ConsoleHarness> {
  const seed = baseSeed();
  // Without the base seed's clients, its APIs name no resource server (there would be none to name).
  const apis = options.clients === false ? seed.apis.map(({ resource_servers: _none, ...api }) => api) : seed.apis;
  const server = await startServer({
    seed: { ...seed, apis, users: [ADMIN, DEVELOPER, VIEWER], clients: [...(options.clients === false ? [] : seed.clients), adminClientSeed()] },
    env: options.env,
  });
  const browser = await launchBrowser();
  const admin = managementApi(server, await managementToken(server));
  return {
    server,
    browser,
    admin,
    async findUser(email) {
      const found = (await admin.get(`/users?q=${encodeURIComponent(email)}`)).body.data as ConsoleUser[];
      return found.find((u) => u.email === email);
    },
    async close() {
      await browser.close().catch(() => undefined);
      await server.destroy();
    },
  };
}

/**
 * For a describe(): a console harness for its tests (skipped, saying why, without Chromium), closed
 * after them. `bind` hands it to the file's own variable.
 */
export function useConsoleHarness(bind: (h: ConsoleHarness) => void, options: Parameters<typeof startConsoleHarness>[0] = {}): void {
  let harness: ConsoleHarness | undefined;
  before(async function () {
    skipWithoutChromium(this);
    harness = await startConsoleHarness(options);
    bind(harness);
  });
  after(async () => harness?.close());
}

/**
 * Opens the console in a fresh browser profile and signs in through the login page, as a person
 * does; resolves once the console shows its navigation. Collects page errors and CSP violations,
 * which a test can assert are none.
 */
export async function openConsole(
  harness: ConsoleHarness,
  who: { email: string; password: string } = ADMIN,
  options: { path?: string; viewport?: { width: number; height: number }; timezoneId?: string } = {},
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const { path, ...contextOptions } = options;
  const { context, page } = await newPage(harness.browser, contextOptions);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  await page.goto(`${harness.server.url}${path ?? '/console/'}`);
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  await signIn(page, who);
  // The navigation is in the page even where a phone layout folds it away.
  await page.locator('#main-nav').waitFor({ state: 'attached' });
  return { context, page, problems };
}

/**
 * A row's action, which lives in the row's menu (console/src/components/row-menu.tsx): opens that
 * menu if it is closed and answers the action, ready to click. Asking whether an action is there at
 * all, or disabled, needs no opening: `getByRole(role, { name, includeHidden: true })` sees it.
 */
export async function rowAction(scope: Page | Locator, name: string | RegExp, options: { exact?: boolean; role?: 'button' | 'link' } = {}): Promise<Locator> {
  const { role = 'button', exact } = options;
  const hidden = scope.getByRole(role, { name, exact, includeHidden: true });
  const menu = hidden.locator('xpath=ancestor::details[contains(concat(" ", @class, " "), " row-menu ")]');
  await menu.waitFor({ state: 'attached' });
  if (!(await menu.evaluate((d) => (d as unknown as { open: boolean }).open))) await menu.locator('summary').click();
  return scope.getByRole(role, { name, exact });
}
