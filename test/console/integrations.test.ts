import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT, calculateJwkThumbprint, exportJWK } from 'jose';
import { ORDERS_API, SERVICE, WEB, postForm } from '../support/fixtures.js';
import { skipWithoutChromium } from '../support/browser.js';
import { openConsole, startConsoleHarness, type ConsoleHarness } from '../support/console.js';

/**
 * A credential's "Sign-in and logout" settings in Chromium: a person pastes a public key in PEM,
 * sees its key id and algorithm, saves, and the credential then authenticates with private_key_jwt;
 * device sign-in and back-channel logout are switched on for a web app.
 */
describe('console: sign-in and logout settings of a credential', function () {
  this.timeout(90_000);
  let h: ConsoleHarness;

  before(async function () {
    skipWithoutChromium(this);
    h = await startConsoleHarness();
  });
  after(async () => h?.close());

  it('pastes a PEM public key, shows its key id and algorithm, and the credential then signs in with private_key_jwt', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const kid = await calculateJwkThumbprint(await exportJWK(createPublicKey(pem)));
    const { context, page, problems } = await openConsole(h, undefined, { path: `/console/credentials/${SERVICE.id}` });
    try {
      const section = page.getByRole('region', { name: 'Sign-in and logout' });
      await section.getByRole('radio', { name: /public keys pasted here/ }).check();
      // A private key is refused before anything is sent.
      await section.getByLabel('Public key (PEM) or JWKS').fill((privateKey.export({ type: 'pkcs8', format: 'pem' }) as string));
      await section.getByText(/This is a private key/).waitFor();
      await section.getByLabel('Public key (PEM) or JWKS').fill(pem);
      const keys = section.getByRole('table', { name: 'Public keys' });
      await keys.getByText(kid).waitFor();
      expect(await keys.getByRole('cell', { name: 'ES256' }).count()).to.equal(1);
      await section.getByRole('button', { name: 'Save sign-in settings' }).click();
      await page.getByText('Sign-in settings saved').waitFor();
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
    const client = (await h.admin.get(`/clients/${SERVICE.id}`)).body;
    expect(client.token_endpoint_auth_method).to.equal('private_key_jwt');
    expect(client.keys).to.deep.equal([{ kid, kty: 'EC', alg: 'ES256' }]);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(SERVICE.id).setSubject(SERVICE.id).setAudience(h.server.issuer).setJti(crypto.randomUUID()).setIssuedAt().setExpirationTime('1m')
      .sign(privateKey);
    const res = await postForm(`${h.server.url}/oauth/token`, {
      grant_type: 'client_credentials', resource: ORDERS_API, client_id: SERVICE.id,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    expect(res.status, JSON.stringify(res.json)).to.equal(200);
  });

  it('turns on device sign-in and back-channel logout for a web app', async () => {
    const { context, page } = await openConsole(h, undefined, { path: `/console/credentials/${WEB.id}` });
    try {
      const section = page.getByRole('region', { name: 'Sign-in and logout' });
      await section.getByRole('checkbox', { name: /device authorization/ }).check();
      await section.getByLabel('Back-channel logout URL').fill('https://shop.example.test/backchannel-logout');
      await section.getByRole('checkbox', { name: /name the session/ }).check();
      await section.getByRole('button', { name: 'Save sign-in settings' }).click();
      await page.getByText('Sign-in settings saved').waitFor();
    } finally {
      await context.close();
    }
    const client = (await h.admin.get(`/clients/${WEB.id}`)).body;
    expect(client.grant_types).to.include('urn:ietf:params:oauth:grant-type:device_code');
    expect(client).to.include({ backchannel_logout_uri: 'https://shop.example.test/backchannel-logout', backchannel_logout_session_required: true });
  });
});
