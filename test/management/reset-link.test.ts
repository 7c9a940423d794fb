import { expect } from 'chai';
import { digest } from '../../server/crypto/tokens.js';
import { auditOf, newKey, newPerson, newRole } from '../support/accounts.js';
import { managementApi, type ApiResponse } from '../support/management.js';
import { type ManagementApi, useServer } from '../support/setup.js';
import type { TestServer } from '../support/server.js';

/** POST /users/{id}/password-reset-link: a link an administrator hands over where no email is sent. */
describe('management: password reset links', function () {
  let server: TestServer;
  let admin: ManagementApi;
  useServer({ admin: true }, (s) => ({ server, admin } = s));

  const linkFor = (api: ManagementApi, id: string): Promise<ApiResponse> => api.post(`/users/${id}/password-reset-link`);

  it('makes a single-use link, shown once and stored as a digest, and audits it', async () => {
    const who = await newPerson(admin, []);
    const res = await linkFor(admin, who.id);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const url = new URL(res.body.url);
    expect(`${url.origin}${url.pathname}`).to.equal(`${server.issuer}/account/reset`);
    const token = url.searchParams.get('token')!;
    const minutes = (Date.parse(res.body.expires_at) - Date.now()) / 60_000;
    expect(minutes).to.be.within(28, 30.5);

    const { rows } = await server.runtime.db.query<{ token_hash: string }>('SELECT token_hash FROM account_links WHERE user_id = $1', [who.id]);
    expect(rows.map((r) => r.token_hash)).to.deep.equal([digest(token)]);
    const [event] = await auditOf(server, 'user.reset_link_created', who.id);
    expect(event).to.include({ actor_type: 'client', actor_id: 'ops-automation' });
    expect(JSON.stringify(event.data)).not.to.include(token);

    // The link opens the form once; used, it opens nothing.
    const form = await fetch(res.body.url);
    expect(form.status).to.equal(200);
    expect(await form.text()).to.include(who.email);
    const set = await fetch(`${server.url}/account/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, new_password: 'handed over and chosen anew' }),
    });
    expect(set.status).to.equal(200);
    expect((await fetch(res.body.url)).status).to.equal(400);
    expect((await auditOf(server, 'user.password_reset', who.id)).length).to.equal(1);
  });

  it('answers 404 for an unknown user, and 400 for a token that names no link', async () => {
    expect((await linkFor(admin, '00000000-0000-4000-8000-000000000000')).status).to.equal(404);
    expect((await linkFor(admin, 'not-a-uuid')).status).to.equal(404);
    for (const token of ['', 'short', 'x'.repeat(43), '%00']) {
      expect((await fetch(`${server.url}/account/reset?token=${token}`)).status, token).to.equal(400);
    }
    const posted = await fetch(`${server.url}/account/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'y'.repeat(43), new_password: 'whatever it is, long enough' }),
    });
    expect(posted.status).to.equal(400);
  });

  it('follows the delegation rule: only for people holding no more than the caller', async () => {
    const role = await newRole(admin, ['users:read', 'users:write']);
    const helpdesk = await newPerson(admin, [role]);
    const key = await newKey(admin, helpdesk.id, ['users:read', 'users:write']);
    const asHelpdesk = managementApi(server, key.key);
    const plain = await newPerson(admin, []);
    const boss = await newPerson(admin, ['admin']);
    expect((await linkFor(asHelpdesk, plain.id)).status).to.equal(201);
    const refused = await linkFor(asHelpdesk, boss.id);
    expect(refused.status).to.equal(403);
    expect(refused.body.error).to.equal('insufficient_scope');
    const viewer = managementApi(server, (await newKey(admin, helpdesk.id, ['users:read'])).key);
    expect((await linkFor(viewer, plain.id)).body).to.include({ error: 'insufficient_scope', scope: 'users:write' });
  });
});
