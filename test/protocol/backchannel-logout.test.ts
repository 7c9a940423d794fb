import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { USER, WEB } from '../support/fixtures.js';
import { CookieJar, authorize, exchangeCode } from '../support/code-flow.js';
import { eventually } from '../support/eventually.js';
import { type ManagementApi, useServer } from '../support/setup.js';
import type { TestServer } from '../support/server.js';

/** The relying party's back-channel logout endpoint: a real HTTP server that keeps what it is sent. */
interface Receiver {
  url: string;
  tokens: string[];
  /** How many POSTs arrived, answered or not. */
  posts: number;
  status: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver = { tokens: [] as string[], posts: 0, status: 200 } as Receiver;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      receiver.posts++;
      if (receiver.status === 200) receiver.tokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      // Back-Channel Logout 1.0 §2.8: 200 on success; anything else is a failure to be retried.
      res.writeHead(receiver.status, { 'cache-control': 'no-store' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`;
  receiver.close = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return receiver;
}

const PEOPLE = ['grace', 'edsger', 'barbara', 'alan', 'frances', 'ada'].map((n) => ({ email: `${n}@example.test`, name: n, password: USER.password }));

describe('back-channel logout (OpenID Connect Back-Channel Logout 1.0)', () => {
  let server: TestServer;
  let admin: ManagementApi;
  let receiver: Receiver;
  before(async () => (receiver = await startReceiver()));
  after(async () => receiver?.close());
  useServer({
    admin: true,
    start: { env: { OUTBOUND_PRIVATE_ADDRESSES: 'true' } },
    seed: (seed) => {
      seed.users.push(...PEOPLE);
    },
  }, (s) => ({ server, admin } = s));

  const web = { id: WEB.id, secret: WEB.secret, redirect: WEB.redirect };
  let userIds: Map<string, string>;

  before(async () => {
    const res = await admin.patch(`/clients/${WEB.id}`, { backchannel_logout_uri: receiver.url, backchannel_logout_session_required: true });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ backchannel_logout_uri: receiver.url, backchannel_logout_session_required: true });
    const users = await admin.get('/users?limit=100');
    userIds = new Map(users.body.data.map((u: { email: string; id: string }) => [u.email, u.id]));
  });

  /** Verifies a logout token as a relying party must (§2.6), with nothing but our JWKS. */
  async function verifyLogoutToken(token: string): Promise<JWTPayload> {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth/jwks`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: server.issuer, audience: WEB.id, typ: 'logout+jwt' });
    expect(protectedHeader.alg).to.be.oneOf(['RS256', 'PS256', 'ES256']);
    expect(payload.events).to.deep.equal({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(payload).to.not.have.property('nonce');
    expect(payload.jti).to.be.a('string');
    return payload;
  }

  async function nextToken(from: number): Promise<JWTPayload> {
    await eventually('a logout token to arrive', () => receiver.tokens.length > from);
    expect(receiver.tokens).to.have.length(from + 1);
    return verifyLogoutToken(receiver.tokens[from]);
  }

  const auditOf = async (type: string) => (await admin.get(`/audit-events?type=${type}&limit=100`)).body.data as { target: { id: string }; data: Record<string, unknown> }[];

  it('RP-initiated logout sends the client a logout token naming the person and the session', async () => {
    const jar = new CookieJar();
    await authorize(server, { client: web, scope: 'openid', user: PEOPLE[0], jar });
    const before = receiver.tokens.length;
    // The confirmation page, then "Sign out" (its form carries the xsrf token).
    const page = await jar.fetch(new URL(`${server.url}/oauth/logout?client_id=${WEB.id}`), { headers: { accept: 'text/html' } });
    const html = await page.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(xsrf, html.slice(0, 400)).to.be.a('string');
    const action = /id="op.logoutForm"[^>]*action="([^"]+)"|action="([^"]+)"[^>]*id="op.logoutForm"/.exec(html);
    const confirm = new URL(action?.[1] ?? action?.[2] ?? '/oauth/logout/confirm', server.url);
    const done = await jar.fetch(new URL(confirm.pathname, server.url), {
      method: 'POST',
      body: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(done.status).to.be.oneOf([200, 303]);
    const payload = await nextToken(before);
    expect(payload.sub).to.equal(userIds.get(PEOPLE[0].email));
    expect(payload.sid).to.be.a('string');
    await eventually('the delivery audited', async () => (await auditOf('backchannel_logout.delivered')).some((e) => e.data.user === payload.sub && e.data.reason === 'logout'));
  });

  /**
   * Signs the person in to the web client in a browser of their own; the sid its ID token names
   * (there is one while the client asks for it, backchannel_logout_session_required).
   */
  async function signIn(person: (typeof PEOPLE)[number]): Promise<{ sid: string | undefined; jar: CookieJar }> {
    const flow = await authorize(server, { client: web, scope: 'openid', user: person });
    const tokens = await exchangeCode(server, web, flow);
    expect(tokens.status, tokens.text).to.equal(200);
    const { sid } = decodeJwt(tokens.json.id_token as string);
    return { sid: sid as string | undefined, jar: flow.jar };
  }

  async function tokensFrom(from: number, count: number): Promise<JWTPayload[]> {
    await eventually(`${count} logout token(s) to arrive`, () => receiver.tokens.length >= from + count);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.tokens).to.have.length(from + count);
    return Promise.all(receiver.tokens.slice(from).map(verifyLogoutToken));
  }

  for (const [i, what, patch] of [
    [1, 'deactivating the person', { active: false }],
    [2, 'changing their password', { password: 'a brand new passphrase 42' }],
  ] as const) {
    it(`${what} sends a logout token per session once the change commits, with the sid the client requires`, async () => {
      const person = PEOPLE[i];
      // Two browsers: the client knows two sessions, and asked for a sid in each logout token
      // (backchannel_logout_session_required; Back-Channel Logout 1.0 §2.4: the OP MUST include it).
      const sessions = [await signIn(person), await signIn(person)];
      for (const { sid } of sessions) expect(sid).to.be.a('string');
      expect(sessions[0].sid).to.not.equal(sessions[1].sid);
      const before = receiver.tokens.length;
      const res = await admin.patch(`/users/${userIds.get(person.email)}`, patch);
      expect(res.status).to.equal(200);
      const payloads = await tokensFrom(before, 2);
      for (const payload of payloads) expect(payload.sub).to.equal(userIds.get(person.email));
      expect(payloads.map((p) => p.sid).sort()).to.deep.equal(sessions.map((s) => s.sid).sort());
      const reason = 'active' in patch ? 'deactivated' : 'password_changed';
      await eventually('the deliveries audited', async () => (await auditOf('backchannel_logout.delivered')).filter((e) => e.data.user === payloads[0].sub && e.data.reason === reason && e.data.sid === true).length === 2);
    });
  }

  it('a client that needs no sid is sent one logout token naming the person, for all their sessions', async () => {
    const person = PEOPLE[4];
    expect((await admin.patch(`/clients/${WEB.id}`, { backchannel_logout_session_required: false })).status).to.equal(200);
    try {
      await signIn(person);
      await signIn(person);
      const before = receiver.tokens.length;
      expect((await admin.patch(`/users/${userIds.get(person.email)}`, { active: false })).status).to.equal(200);
      const [payload] = await tokensFrom(before, 1);
      expect(payload.sub).to.equal(userIds.get(person.email));
      expect(payload).to.not.have.property('sid');
    } finally {
      expect((await admin.patch(`/clients/${WEB.id}`, { backchannel_logout_session_required: true })).status).to.equal(200);
    }
  });

  it('a person ending one of their sessions from /account sends a logout token for that session only', async () => {
    const person = PEOPLE[0];
    const [laptop, phone] = [await signIn(person), await signIn(person)];
    expect(phone.sid).to.be.a('string');
    const page = await laptop.jar.fetch(new URL(`${server.url}/account`));
    const html = await page.text();
    expect(page.status, html.slice(0, 300)).to.equal(200);
    // Each other session's row has a form that ends it; the laptop's own row has none.
    const forms = [...html.matchAll(/action="(\/account\/sessions\/[^"/]+\/end)"><input type="hidden" name="csrf" value="([^"]+)"/g)];
    expect(forms.length).to.be.at.least(1);
    const before = receiver.tokens.length;
    // Not this browser's own: every other session of the person ends, the phone's among them.
    const ended = await Promise.all(forms.map(([, action, csrf]) => laptop.jar.fetch(new URL(action, server.url), {
      method: 'POST',
      body: new URLSearchParams({ csrf }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
    })));
    for (const res of ended) expect(res.status).to.equal(303);
    const payloads = await tokensFrom(before, forms.length);
    const sids = payloads.map((p) => p.sid);
    expect(sids).to.include(phone.sid);
    expect(sids).to.not.include(laptop.sid);
    for (const p of payloads) expect(p.sub).to.equal(userIds.get(person.email));
    await eventually('the delivery audited', async () => (await auditOf('backchannel_logout.delivered')).some((e) => e.data.user === userIds.get(person.email) && e.data.reason === 'session_ended'));
  });

  it("ending another person's session from /account is refused with 404, and no client is told", async () => {
    const attacker = await signIn(PEOPLE[0]);
    const victimId = userIds.get(PEOPLE[5].email)!;
    await signIn(PEOPLE[5]);
    const { rows } = await server.runtime.db.query<{ session_uid: string }>('SELECT session_uid FROM user_sessions WHERE user_id = $1', [victimId]);
    expect(rows).to.have.length(1);
    const page = await attacker.jar.fetch(new URL(`${server.url}/account`));
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
    expect(csrf).to.be.a('string');
    // What a request queues is in the queue when it is answered, or already settled: sent or given
    // up, and audited (settling moves a delivery from one to the other in one transaction).
    const told = async () =>
      (await server.runtime.db.query("SELECT 1 FROM backchannel_logouts WHERE reason = 'session_ended'")).rows.length +
      [...(await auditOf('backchannel_logout.delivered')), ...(await auditOf('backchannel_logout.failed'))].filter((e) => e.data.reason === 'session_ended').length;
    const before = await told();
    const res = await attacker.jar.fetch(new URL(`/account/sessions/${rows[0].session_uid}/end`, server.url), {
      method: 'POST',
      body: new URLSearchParams({ csrf: csrf! }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
    });
    expect(res.status).to.equal(404);
    expect(await told()).to.equal(before);
    const kept = await server.runtime.db.query('SELECT 1 FROM user_sessions WHERE session_uid = $1', [rows[0].session_uid]);
    expect(kept.rows).to.have.length(1);
  });

  it('a receiver that keeps failing is tried three times, then the failure is audited', async function () {
    this.timeout(90_000);
    const person = PEOPLE[3];
    await authorize(server, { client: web, scope: 'openid', user: person });
    receiver.status = 503;
    const posts = receiver.posts;
    try {
      expect((await admin.patch(`/users/${userIds.get(person.email)}`, { active: false })).status).to.equal(200);
      const id = userIds.get(person.email);
      await eventually('the failure audited', async () => (await auditOf('backchannel_logout.failed')).some((e) => e.data.user === id), 60_000);
      const failed = (await auditOf('backchannel_logout.failed')).find((e) => e.data.user === id)!;
      expect(failed.target.id).to.equal(WEB.id);
      expect(failed.data).to.include({ attempts: 3, reason: 'deactivated' });
      expect(failed.data.error).to.match(/503/);
      expect(receiver.posts - posts).to.equal(3);
    } finally {
      receiver.status = 200;
    }
  });

  it('refuses a backchannel_logout_uri on a client that signs nobody in, with 400', async () => {
    const res = await admin.post('/clients', { client_name: 'Machine', type: 'service', backchannel_logout_uri: receiver.url });
    expect(res.status).to.equal(400);
    expect(res.body.field).to.equal('backchannel_logout_uri');
  });
});
