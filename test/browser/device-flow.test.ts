import { expect } from 'chai';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { heading, isConsentPage, isLoginPage, launchBrowser, newPage, signIn, skipWithoutChromium, submit, typeInto } from '../support/browser.js';
import { ORDERS_API, USER, postForm } from '../support/fixtures.js';
import { CookieJar } from '../support/code-flow.js';
import { useServer } from '../support/setup.js';
import type { TestServer } from '../support/server.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** A command-line tool: public (it cannot keep a secret), signing people in on another device. */
const TV = { id: 'tv-cli', name: 'Orders CLI' };

describe('device authorization grant (RFC 8628), with a person in Chromium', function () {
  this.timeout(120_000);
  let server: TestServer;
  let browser: Browser;
  let config: oidc.Configuration;

  before(async function () {
    skipWithoutChromium(this);
  });
  useServer({
    seed: (seed) => {
      seed.clients.push({
        client_id: TV.id, client_name: TV.name, type: 'native', grant_types: [DEVICE_GRANT, 'refresh_token'], redirect_uris: [],
        scope: 'openid offline_access orders:read', token_endpoint_auth_method: 'none',
      } as never);
    },
  }, (s) => ({ server } = s));
  before(async () => {
    browser = await launchBrowser();
    config = await oidc.discovery(new URL(server.url), TV.id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  });
  after(async () => browser?.close());

  async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
    const { context, page } = await newPage(browser);
    try {
      return await fn(page);
    } finally {
      await context.close();
    }
  }

  /** What the person does at the /device page the tool told them about, up to the consent page. */
  async function enterCode(page: Page, device: oidc.DeviceAuthorizationResponse, typed = device.user_code) {
    await page.goto(device.verification_uri.replace(server.issuer, server.url));
    expect(await heading(page)).to.equal('Connect a device');
    await typeInto(page, page.getByLabel('Code'), typed);
    await submit(page, page.getByRole('button', { name: 'Continue' }));
    expect(await heading(page)).to.equal(`Connect ${TV.name}?`);
    expect(await page.locator('.user-code code').textContent()).to.equal(device.user_code);
    await submit(page, page.getByRole('button', { name: 'Continue' }));
    if (await isLoginPage(page)) await signIn(page, USER);
    expect(await isConsentPage(page), await heading(page)).to.equal(true);
  }

  it('the tool starts, the person enters the code, signs in and allows, and the tool\'s polling gets tokens', async () => {
    const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid offline_access orders:read', resource: ORDERS_API });
    // RFC 8628 §6.1: 8 characters of an alphabet without vowels or look-alikes, shown XXXX-XXXX.
    expect(device.user_code).to.match(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(device.verification_uri).to.equal(`${server.issuer}/device`);
    const polling = oidc.pollDeviceAuthorizationGrant(config, device);
    await withPage(async (page) => {
      // Typed as a person might: lower case, without the dash.
      await enterCode(page, device, device.user_code.toLowerCase().replace('-', ''));
      await submit(page, page.getByRole('button', { name: 'Allow' }));
      expect(await heading(page)).to.equal('Device connected');
    });
    const tokens = await polling;
    expect(tokens.access_token).to.be.a('string');
    expect(tokens.refresh_token).to.be.a('string');
    expect(tokens.claims()?.sub).to.be.a('string');
  });

  it('a person who denies leaves the tool with access_denied', async () => {
    const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid orders:read', resource: ORDERS_API });
    const polling = oidc.pollDeviceAuthorizationGrant(config, device).catch((e) => e);
    await withPage(async (page) => {
      await enterCode(page, device);
      await submit(page, page.getByRole('button', { name: 'Deny' }));
    });
    const refused = await polling;
    expect(refused).to.be.instanceOf(oidc.ResponseBodyError);
    expect(refused.error).to.equal('access_denied');
  });

  it('a tool polling faster than the interval is told slow_down (RFC 8628 §3.5)', async () => {
    const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const poll = () => postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_GRANT, device_code: device.device_code, client_id: TV.id });
    expect((await poll()).json.error).to.equal('authorization_pending');
    const fast = await poll();
    expect(fast.status).to.equal(400);
    expect(fast.json.error).to.equal('slow_down');
    // The interval is now 5 s longer for every later poll: after the original 5 s it is still too soon.
    await new Promise((r) => setTimeout(r, 5_500));
    expect((await poll()).json.error).to.equal('slow_down');
    // That was a second slow_down: 15 s from it the device may poll again.
    await new Promise((r) => setTimeout(r, 15_500));
    expect((await poll()).json.error).to.equal('authorization_pending');
  });

  // Last in the file: it leaves this address refused at /device for BLOCK_SECONDS.
  it('an address that types ten wrong codes is refused for a while, even with a right one', async () => {
    const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const jar = new CookieJar();
    // Each page carries a new form token (the previous one is spent), as a browser would send it.
    let page = await (await jar.fetch(new URL('/device', server.url))).text();
    const send = async (code: string) => {
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      const res = await jar.fetch(new URL('/device', server.url), { method: 'POST', body: new URLSearchParams({ xsrf, user_code: code }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      page = await res.text();
      return { status: res.status, headers: res.headers, page };
    };
    for (let i = 0; i < 10; i++) {
      const wrong = await send('BCDF-GHJK');
      expect(wrong.status).to.equal(200);
      expect(wrong.page).to.include('That code is not right');
    }
    const refused = await send(device.user_code);
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers.get('retry-after'))).to.be.greaterThan(0);
    expect(refused.page).to.include('Too many wrong codes');
  });
});
