import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { SPA, USER, WEB, baseSeed } from './fixtures.js';
import { startServer, type TestServer } from './server.js';

/**
 * Browser tests drive the login and consent pages in a real headless Chromium, the way a person
 * would, with a tiny relying party on another port receiving the redirects and openid-client doing
 * what an application's back end does (discovery, PKCE, code exchange, refresh, userinfo).
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const chromiumAvailable = () => existsSync(CHROMIUM_PATH);

/**
 * For a suite's before hook: skips every test of the suite, saying why, when Chromium is not
 * installed (CI installs it; `apt-get install -y chromium` locally).
 */
export function skipWithoutChromium(ctx: Mocha.Context): void {
  if (chromiumAvailable()) return;
  const title = ctx.test?.parent?.fullTitle() ?? 'browser tests';
  console.warn(`      skipped "${title}": ${CHROMIUM_PATH} not found (apt-get install -y chromium)`);
  ctx.skip();
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh context is a fresh browser profile: no cookies, so no Gatehouse session. */
export async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(10_000);
  const page = await context.newPage();
  return { context, page };
}

/**
 * Waits of up to a minute instead of 10 s, for tests whose steps hash several passwords: sign-ins
 * hash at the lowest CPU priority, so on a busy machine one page can take longer than the default.
 */
export function patient(context: BrowserContext): void {
  context.setDefaultTimeout(60_000);
  context.setDefaultNavigationTimeout(60_000);
}

/**
 * The relying party's browser-facing side: an HTTP server on its own port that records every
 * request it receives (the redirect_uri callbacks and the post-logout landing) and answers with a
 * plain page, so the browser really leaves Gatehouse's origin.
 */
export interface RelyingParty {
  origin: string;
  /** Every URL the browser has requested from the relying party, in order. */
  hits: URL[];
  close(): Promise<void>;
}

export async function startRelyingParty(): Promise<RelyingParty> {
  const hits: URL[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', origin);
    hits.push(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end('<!doctype html><html lang="en"><title>Relying party</title><h1>Back at the application</h1></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The fixtures' redirect URIs point at 127.0.0.1:8080; ours point at the running relying party. */
const FIXTURE_ORIGIN = 'http://127.0.0.1:8080';

export const redirectUriFor = (rp: RelyingParty, fixtureUri: string) => fixtureUri.replace(FIXTURE_ORIGIN, rp.origin);

/** Extra people, so that tests of one file do not see each other's remembered consent. */
export interface Person {
  email: string;
  name: string;
  password: string;
}

export const person = (n: number): Person => ({ email: `person${n}@example.test`, name: `Person ${n}`, password: USER.password });

export function seedFor(rp: RelyingParty, people = 0) {
  const seed = baseSeed();
  for (let n = 1; n <= people; n++) seed.users.push(person(n));
  for (const client of seed.clients as { redirect_uris: string[]; post_logout_redirect_uris?: string[] }[]) {
    client.redirect_uris = client.redirect_uris.map((u) => redirectUriFor(rp, u));
    if (client.post_logout_redirect_uris) client.post_logout_redirect_uris = client.post_logout_redirect_uris.map((u) => redirectUriFor(rp, u));
  }
  return seed;
}

/** One server, one relying party and one browser for a whole test file. */
export interface BrowserHarness {
  server: TestServer;
  rp: RelyingParty;
  browser: Browser;
  web: oidc.Configuration;
  spa: oidc.Configuration;
  webRedirect: string;
  spaRedirect: string;
  close(): Promise<void>;
}

/**
 * `people`: how many extra users (person(1) … person(n)) to seed next to USER; `env`: the server's
 * extra settings; `seed`: changes the seed in place (an admin client, say); `localhost` and
 * `adminTwoFactors`: see startServer.
 */
export async function startHarness(
  opts: { people?: number; env?: Record<string, string>; seed?: (seed: ReturnType<typeof seedFor>) => void; localhost?: boolean; adminTwoFactors?: boolean } = {},
): Promise<BrowserHarness> {
  const rp = await startRelyingParty();
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  try {
    const seed = seedFor(rp, opts.people);
    opts.seed?.(seed);
    server = await startServer({ seed, env: opts.env, localhost: opts.localhost, adminTwoFactors: opts.adminTwoFactors });
    browser = await launchBrowser();
    const [web, spa] = await Promise.all([rpConfig(server, 'web'), rpConfig(server, 'spa')]);
    const [s, b] = [server, browser];
    return {
      server: s,
      rp,
      browser: b,
      web,
      spa,
      webRedirect: redirectUriFor(rp, WEB.redirect),
      spaRedirect: redirectUriFor(rp, SPA.redirect),
      async close() {
        await b.close().catch(() => undefined);
        await s.destroy();
        await rp.close();
      },
    };
  } catch (err) {
    // A half-started harness would leave a database and a browser behind the failed hook.
    await browser?.close().catch(() => undefined);
    await server?.destroy().catch(() => undefined);
    await rp.close();
    throw err;
  }
}

/** openid-client over plain http: the test issuer is http://127.0.0.1:<port>. */
export async function rpConfig(server: TestServer, which: 'web' | 'spa'): Promise<oidc.Configuration> {
  const issuer = new URL(server.url);
  const options = { execute: [oidc.allowInsecureRequests] };
  return which === 'web'
    ? oidc.discovery(issuer, WEB.id, undefined, oidc.ClientSecretBasic(WEB.secret), options)
    : oidc.discovery(issuer, SPA.id, undefined, oidc.None(), options);
}

/** What the application keeps between sending the browser off and receiving the callback. */
export interface PendingAuthorization {
  url: URL;
  redirectUri: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** Builds an authorization request with PKCE S256 (RFC 7636 §4.2), a state and a nonce. */
export async function authorizationRequest(
  config: oidc.Configuration,
  redirectUri: string,
  params: Record<string, string>,
): Promise<PendingAuthorization> {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, redirectUri, state, nonce, codeVerifier };
}

/** The application's token request for the callback it received (openid-client checks state, PKCE, ID token). */
export function exchangeCode(config: oidc.Configuration, pending: PendingAuthorization, callback: URL, idTokenExpected: boolean) {
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: pending.codeVerifier,
    expectedState: pending.state,
    expectedNonce: idTokenExpected ? pending.nonce : undefined,
    idTokenExpected,
  });
}

/** Which of our pages the browser is on, told by its main heading. */
export async function heading(page: Page): Promise<string> {
  return ((await page.locator('h1').first().textContent()) ?? '').trim();
}

export const isLoginPage = async (page: Page) => (await heading(page)) === 'Sign in';
export const isConsentPage = async (page: Page) => /^Allow .+ to access your account\?$/.test(await heading(page));

/** Types into the labelled fields and clicks Sign in, as a person does. */
export async function signIn(page: Page, who: Pick<Person, 'email' | 'password'> = USER): Promise<void> {
  const { email: login, password } = who;
  await typeInto(page, page.getByLabel('Email'), login);
  await typeInto(page, page.getByLabel('Password'), password);
  await submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
}

/** Clicks a field, selects what is in it (a failed sign-in keeps the email) and types over it. */
export async function typeInto(page: Page, field: Locator, text: string): Promise<void> {
  await field.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(text);
}

/**
 * Clicks a submit button and waits for the page the browser ends on (after any redirects) to
 * load, so that what comes next looks at the new page, not the one being left.
 */
export async function submit(page: Page, button: Locator): Promise<void> {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

/** Resolves once the browser has landed on the relying party; returns the URL it landed on. */
export async function waitForRelyingParty(page: Page, rp: RelyingParty): Promise<URL> {
  await page.waitForURL((u) => u.origin === rp.origin);
  return new URL(page.url());
}

/**
 * Starts at the authorization endpoint, signs in if asked, allows if asked, and returns the
 * callback URL the application received.
 */
export async function authorizeInBrowser(
  page: Page,
  rp: RelyingParty,
  url: URL,
  who: Pick<Person, 'email' | 'password'> = USER,
): Promise<{ callback: URL; sawLogin: boolean; sawConsent: boolean }> {
  await page.goto(url.href);
  let sawLogin = false;
  let sawConsent = false;
  if (new URL(page.url()).origin !== rp.origin && (await isLoginPage(page))) {
    sawLogin = true;
    await signIn(page, who);
  }
  if (new URL(page.url()).origin !== rp.origin && (await isConsentPage(page))) {
    sawConsent = true;
    await page.getByRole('button', { name: 'Allow' }).click();
  }
  return { callback: await waitForRelyingParty(page, rp), sawLogin, sawConsent };
}

/** The permission lines of the consent page, in plain words. */
export async function listedPermissions(page: Page): Promise<string[]> {
  return (await page.locator('.permissions .permission').allTextContents()).map((t) => t.trim());
}

/**
 * The OAuth error code of a call the server refused with a 4xx (from the JSON body, or from the
 * WWW-Authenticate challenge of a resource endpoint such as userinfo), or undefined if it succeeded.
 * Anything else (a 5xx, a network error, a body without an error code) fails the test: a crash is
 * not a refusal.
 */
export async function refusal(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    const { status, error, cause } = err as { status?: number; error?: string; cause?: unknown };
    if (typeof status !== 'number' || status < 400 || status >= 500) throw err;
    const challenged = Array.isArray(cause) ? (cause[0] as { parameters?: { error?: string } })?.parameters?.error : undefined;
    const code = error ?? challenged;
    if (!code) throw err;
    return code;
  }
}
