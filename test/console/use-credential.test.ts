import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import { BILLING_API, ORDERS_API } from '../support/fixtures.js';
import { skipWithoutChromium, startRelyingParty, type RelyingParty } from '../support/browser.js';
import { openConsole, startConsoleHarness, type ConsoleHarness } from '../support/console.js';

const run = promisify(execFile);

/** Runs shell text as a person pasting it would, with these variables set; answers its output. */
async function shell(script: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return run('bash', ['-euo', 'pipefail', '-c', script], { env: { PATH: process.env.PATH!, ...env }, timeout: 30_000 });
}

/** The text of the snippet labelled `label` on the page. */
const snippet = (page: Page, label: string) => page.getByLabel(label, { exact: true }).textContent() as Promise<string>;

/**
 * "Use this credential": the credential page's examples, copied and run in bash against the server
 * as someone who has never seen Gatehouse would; the downloads' endpoint, resources and scopes; the
 * scope editor's warning about `resource` when a credential spans two APIs.
 */
describe('console: use this credential', function () {
  this.timeout(120_000);
  let h: ConsoleHarness;
  let rp: RelyingParty;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
    rp = await startRelyingParty();
  });
  after(async () => {
    await rp?.close();
    await h?.close();
  });

  it('a service credential: per API, a token request with resource and scopes and a call with it, that work as copied', async () => {
    const created = await h.admin.post('/clients', { client_name: 'Two APIs', type: 'service', scope: 'orders:read billing:read clients:read' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const { client_id: clientId, client_secret: secret } = created.body as { client_id: string; client_secret: string };
    const env = { GATEHOUSE_CLIENT_SECRET: secret };
    const { context, page, problems } = await openConsole(h, undefined, { path: `/console/credentials/${clientId}` });
    try {
      await page.getByRole('heading', { name: 'Use this credential' }).waitFor();
      const groups = page.getByRole('group', { name: /^Use with / });
      await groups.first().waitFor();
      expect(await groups.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))).to.deep.equal([
        'Use with Billing API',
        'Use with Orders API',
        'Use with Gatehouse Management API',
      ]);

      // Orders API: the token is for it alone, with its scope.
      const orders = await snippet(page, 'Get a token for Orders API');
      expect(orders).to.include(`resource='${ORDERS_API}'`).and.include(`${h.server.url}/oauth/token`);
      const token = (await shell(`${orders}\nprintf '%s' "$ACCESS_TOKEN"`, env)).stdout;
      expect(decodeJwt(token)).to.include({ aud: ORDERS_API, scope: 'orders:read', client_id: clientId });
      expect(await snippet(page, 'Call Orders API')).to.equal(`curl -s -H "Authorization: Bearer $ACCESS_TOKEN" '${ORDERS_API}'`);
      expect(await snippet(page, 'Get a token for Billing API')).to.include(`resource='${BILLING_API}'`);

      // The Management API: token and call, run as they stand.
      const mgmt = `${await snippet(page, 'Get a token for Gatehouse Management API')}\n${await snippet(page, 'Call Gatehouse Management API')}`;
      const me = JSON.parse((await shell(mgmt, env)).stdout);
      expect(me.permissions).to.deep.equal(['clients:read']);

      // The scope editor says why resource matters.
      await page.goto(`${h.server.url}/console/credentials/${clientId}/scopes`);
      const note = page.getByRole('note').filter({ hasText: 'These scopes belong to 3 APIs' });
      await note.waitFor();
      expect(await note.textContent()).to.include('invalid_target').and.include('resource');
      await page.getByRole('region', { name: 'Gatehouse Management API' }).getByRole('checkbox', { name: 'clients:read' }).uncheck();
      await page.getByRole('region', { name: 'Billing API' }).getByLabel('Select all Billing API scopes').uncheck();
      await note.waitFor({ state: 'detached' });

      // A rotation's downloads: token endpoint, each API's identifier and its scopes.
      await page.goto(`${h.server.url}/console/credentials/${clientId}`);
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      await page.getByRole('dialog', { name: 'Rotate secret' }).getByRole('button', { name: 'Rotate secret' }).click();
      const issued = page.getByRole('dialog', { name: 'New secret' });
      const [json] = await Promise.all([page.waitForEvent('download'), issued.getByRole('button', { name: 'Download credentials' }).click()]);
      const file = JSON.parse(readFileSync(await json.path(), 'utf8'));
      expect(file).to.include({ client_id: clientId, token_endpoint: `${h.server.url}/oauth/token`, issuer: h.server.url });
      expect(file.apis).to.deep.include({ name: 'Orders API', resource: ORDERS_API, scope: 'orders:read' });
      expect(file.apis).to.have.length(3);
      const [dotenv] = await Promise.all([page.waitForEvent('download'), issued.getByRole('button', { name: 'Download .env' }).click()]);
      const text = readFileSync(await dotenv.path(), 'utf8');
      expect(text).to.include(`GATEHOUSE_TOKEN_ENDPOINT=${h.server.url}/oauth/token`).and.include(`GATEHOUSE_ORDERS_API_RESOURCE=${ORDERS_API}`).and.include('GATEHOUSE_ORDERS_API_SCOPE="orders:read"');
      expect(text).to.match(/^GATEHOUSE_CLIENT_SECRET=sk_/m);
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('a single-page app: the authorization URL with PKCE and the code exchange work as copied', async () => {
    const redirect = `${rp.origin}/callback`;
    const created = await h.admin.post('/clients', { client_name: 'Storefront', type: 'spa', redirect_uris: [redirect], scope: 'openid orders:read' });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const clientId = created.body.client_id as string;
    const { context, page, problems } = await openConsole(h, undefined, { path: `/console/credentials/${clientId}` });
    try {
      const example = await snippet(page, 'Get a token for Orders API');
      expect(example).to.include('code_challenge_method=S256').and.include(`resource=${encodeURIComponent(ORDERS_API)}`);
      const [start, exchange] = example.split('CODE=paste-the-code-here\n');
      // Steps 1 and 2 in the shell; the printed URL in the (signed-in) browser; the code from the redirect.
      const first = (await shell(`${start}\nprintf '%s\\n' "$CODE_VERIFIER"`)).stdout.trim().split('\n');
      const [url, codeVerifier] = [first[0]!, first[1]!];
      expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?/);
      await page.goto(url);
      const allow = page.getByRole('button', { name: /Allow|Continue|Authorize/ });
      await Promise.race([page.waitForURL(`${rp.origin}/**`), allow.waitFor().then(() => allow.click())]);
      await page.waitForURL(`${rp.origin}/**`);
      const code = new URL(page.url()).searchParams.get('code')!;
      expect(code).to.be.a('string').and.not.equal('');
      const token = (await shell(`${exchange}\nprintf '%s' "$ACCESS_TOKEN"`, { CODE: code, CODE_VERIFIER: codeVerifier })).stdout;
      expect(decodeJwt(token)).to.include({ aud: ORDERS_API, client_id: clientId });
      expect(String(decodeJwt(token).scope).split(' ')).to.include('orders:read');
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
