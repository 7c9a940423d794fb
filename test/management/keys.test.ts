import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { ORDERS_API, SERVICE, baseSeed, basic, jwksOf, postForm } from '../support/fixtures.js';
import { ADMIN_CLIENT, adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, usingRealServices, type TestServer } from '../support/server.js';
import { loadConfig } from '../../server/config.js';
import { statusOf } from '../../server/services/signing-keys.js';
import { type SeedDocument, useServer } from '../support/setup.js';
import { KEY_CHECK_INTERVAL_MS } from '../../server/oidc/key-rotation.js';

const EC_API = 'https://ec.example.test';
const EC_CLIENT = { id: 'ec-service', secret: 'ec-service-secret-0123456789abcdef' };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** An ES256 API and a client of it, beside the base seed's RS256 one (changes the seed it is given). */
const withEcApi = (s: SeedDocument) => {
  s.apis.push({ identifier: EC_API, name: 'EC API', scopes: ['ec:read'], signing_alg: 'ES256' } as never);
  s.clients.push({
    client_id: EC_CLIENT.id,
    client_secret: EC_CLIENT.secret,
    grant_types: ['client_credentials'],
    scope: 'ec:read',
    token_endpoint_auth_method: 'client_secret_basic',
  } as never);
};

const seed = () => {
  const s = baseSeed() as SeedDocument;
  s.clients.push(adminClientSeed() as never);
  withEcApi(s);
  return s;
};

const kidsOf = async (node: TestServer) => (await jwksOf(node)).keys.map((k) => k.kid as string);

async function serviceToken(node: TestServer, resource = ORDERS_API): Promise<string> {
  const [client, scope] = resource === EC_API ? [EC_CLIENT, 'ec:read'] : [SERVICE, 'orders:read'];
  const res = await postForm(`${node.url}/oauth/token`, { grant_type: 'client_credentials', scope, resource }, { authorization: basic(client.id, client.secret) });
  expect(res.status, res.text).to.equal(200);
  return res.json.access_token as string;
}

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid as string;

describe('signing keys: GET /keys, POST /keys/rotate, scheduled rotation', () => {
  let server: TestServer;
  let api: ReturnType<typeof managementApi>;
  useServer({ admin: true, seed: withEcApi }, (s) => ({ server, admin: api } = s));

  it('lists one active key per key type, without private material', async () => {
    const res = await api.get('/keys');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(res.body.next_cursor).to.equal(null);
    const active = res.body.data.filter((k: { status: string }) => k.status === 'active');
    expect(active.map((k: { kty: string }) => k.kty).sort()).to.deep.equal(['EC', 'RSA']);
    for (const key of res.body.data) {
      expect(key).to.have.keys('id', 'kid', 'kty', 'algs', 'status', 'created_at', 'activates_at', 'retired_at', 'published_until');
      expect(key.id).to.equal(key.kid);
      for (const m of PRIVATE_MEMBERS) expect(JSON.stringify(key)).not.to.include(`"${m}"`);
    }
    expect(active.find((k: { kty: string }) => k.kty === 'RSA').algs).to.deep.equal(['RS256', 'PS256']);
    expect(await kidsOf(server)).to.include.members(active.map((k: { kid: string }) => k.kid));
  });

  it('needs a token (401), apis:read to list and keys:write to rotate (403 naming the scope)', async () => {
    const anonymous = managementApi(server, undefined);
    expect((await anonymous.get('/keys')).status).to.equal(401);
    const rotate = await anonymous.post('/keys/rotate', {});
    expect(rotate.status).to.equal(401);
    expect(rotate.headers.get('www-authenticate')).to.match(/error="invalid_token"/);

    const reader = managementApi(server, await managementToken(server, ['audit:read']));
    const list = await reader.get('/keys');
    expect(list.status).to.equal(403);
    expect(list.headers.get('www-authenticate')).to.include('scope="apis:read"');

    const lister = managementApi(server, await managementToken(server, ['apis:read']));
    expect((await lister.get('/keys')).status).to.equal(200);
    const refused = await lister.post('/keys/rotate', { activate_in: 1 });
    expect(refused.status).to.equal(403);
    expect(refused.body).to.include({ error: 'insufficient_scope', scope: 'keys:write' });
  });

  for (const [body, field] of [
    [{ activate_in: -1 }, 'activate_in'],
    [{ activate_in: 1.5 }, 'activate_in'],
    [{ activate_in: '60' }, 'activate_in'],
    [{ activate_in: 8 * 24 * 3600 }, 'activate_in'],
    [{ activate_at: 60 }, undefined],
  ] as const) {
    it(`refuses ${JSON.stringify(body)} with 400 and creates no key`, async () => {
      const before = (await api.get('/keys')).body.data.length;
      const res = await api.post('/keys/rotate', body);
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid_request');
      if (field) expect(res.body.field).to.equal(field);
      expect((await api.get('/keys')).body.data.length).to.equal(before);
    });
  }

  it('publishes the new keys at once, signs with the old ones until activation, then with the new ones', async () => {
    const oldRsa = kidOf(await serviceToken(server));
    const oldEc = kidOf(await serviceToken(server, EC_API));
    const tokenBefore = await serviceToken(server);

    // An hour: the pending phase is observed at leisure, then the activation is moved to now in the
    // database (not waited for) and the node, checking often, switches on its own.
    const res = await api.post('/keys/rotate', { activate_in: 3600 });
    expect(res.status).to.equal(201);
    const created = res.body.keys as { kid: string; kty: string; status: string; activates_at: string }[];
    expect(created.map((k) => k.kty).sort()).to.deep.equal(['EC', 'RSA']);
    for (const k of created) expect(k.status).to.equal('pending');
    expect(res.body.retiring).to.include.members([oldRsa, oldEc]);
    const newRsa = created.find((k) => k.kty === 'RSA')!.kid;
    const newEc = created.find((k) => k.kty === 'EC')!.kid;

    // Published immediately, next to the old keys.
    expect(await kidsOf(server)).to.include.members([oldRsa, oldEc, newRsa, newEc]);
    // Not signing yet.
    expect(kidOf(await serviceToken(server))).to.equal(oldRsa);
    expect(kidOf(await serviceToken(server, EC_API))).to.equal(oldEc);
    expect(Date.now(), 'the pending phase was observed').to.be.below(Date.parse(created[0].activates_at));
    const listed = (await api.get('/keys')).body.data as { kid: string; status: string; retired_at: string | null }[];
    expect(listed.find((k) => k.kid === newRsa)!.status).to.equal('pending');
    expect(listed.find((k) => k.kid === oldRsa)!.retired_at).to.equal(created[0].activates_at);

    await server.runtime.db.query(`UPDATE signing_keys SET activates_at = now() WHERE kid = ANY($1::text[])`, [[newRsa, newEc]]);
    await server.runtime.db.query(`UPDATE signing_keys SET retired_at = now() WHERE kid = ANY($1::text[])`, [[oldRsa, oldEc]]);
    const activatesAt = (await server.runtime.db.query<{ at: Date }>(`SELECT activates_at AS at FROM signing_keys WHERE kid = $1`, [newRsa])).rows[0].at;
    server.runtime.keyMaintenance.setCheckInterval(200);
    try {
      await eventually('the new RSA key to sign', async () => kidOf(await serviceToken(server)) === newRsa);
    } finally {
      server.runtime.keyMaintenance.setCheckInterval(KEY_CHECK_INTERVAL_MS);
    }
    expect(Date.now()).to.be.at.least(new Date(activatesAt).getTime());
    expect(kidOf(await serviceToken(server, EC_API))).to.equal(newEc);

    // The old key stays published: tokens it signed still verify with the current JWKS.
    const jwks = await jwksOf(server);
    expect(jwks.keys.map((k) => k.kid)).to.include.members([oldRsa, oldEc, newRsa, newEc]);
    for (const k of jwks.keys) for (const m of PRIVATE_MEMBERS) expect(k).not.to.have.property(m);
    const { protectedHeader } = await jwtVerify(tokenBefore, createLocalJWKSet(jwks), { issuer: server.issuer, audience: ORDERS_API });
    expect(protectedHeader.kid).to.equal(oldRsa);
    const statuses = Object.fromEntries(((await api.get('/keys')).body.data as { kid: string; status: string }[]).map((k) => [k.kid, k.status]));
    expect(statuses).to.include({ [newRsa]: 'active', [newEc]: 'active', [oldRsa]: 'retired', [oldEc]: 'retired' });

    // The Management API itself (a resource server of this issuer) takes tokens from either key.
    expect((await managementApi(server, await managementToken(server)).get('/keys')).status).to.equal(200);
  });

  it('drops a retired key from the JWKS once every token it signed has expired', async () => {
    const signedByOld = await managementToken(server);
    expect((await managementApi(server, signedByOld).get('/keys')).status).to.equal(200);
    const rotated = await api.post('/keys/rotate', { activate_in: 0 });
    expect(rotated.status).to.equal(201);
    const retiring = rotated.body.retiring as string[];
    expect(await kidsOf(server)).to.include.members(retiring);
    // Move the retirement back past the longest token lifetime (1 h) and the clock margin.
    await server.runtime.db.query(`UPDATE signing_keys SET retired_at = now() - interval '66 minutes' WHERE kid = ANY($1::text[])`, [retiring]);
    await server.runtime.keyMaintenance.reload();
    const kids = await kidsOf(server);
    for (const kid of retiring) expect(kids).not.to.include(kid);
    // Still listed (the row is kept), as retired.
    const listed = (await api.get('/keys')).body.data as { kid: string; status: string }[];
    for (const kid of retiring) expect(listed.find((k) => k.kid === kid)?.status).to.equal('retired');
    // ...and our own resource server no longer accepts what it signed.
    expect(retiring).to.include(kidOf(signedByOld));
    expect((await managementApi(server, signedByOld).get('/keys')).status).to.equal(401);
  });

  it('records each rotation in the audit log with the caller as actor', async () => {
    const res = await api.get('/audit-events?type=signing_key.rotated');
    expect(res.status).to.equal(200);
    expect(res.body.data.length).to.be.at.least(2);
    const [latest] = res.body.data;
    expect(latest.actor).to.include({ type: 'client', id: ADMIN_CLIENT.id });
    expect(latest.data.reason).to.equal('manual');
    expect(latest.data.kids).to.have.length(2);
  });

  it('a second rotation supersedes a pending one: the pending keys never sign', async () => {
    const first = await api.post('/keys/rotate', { activate_in: 3600 });
    const second = await api.post('/keys/rotate', { activate_in: 0 });
    expect(second.status).to.equal(201);
    const firstKids = (first.body.keys as { kid: string }[]).map((k) => k.kid);
    expect(second.body.retiring).to.include.members(firstKids);
    const listed = (await api.get('/keys')).body.data as { kid: string; status: string }[];
    for (const kid of firstKids) expect(listed.find((k) => k.kid === kid)?.status).to.equal('retired');
    const newRsa = (second.body.keys as { kid: string; kty: string }[]).find((k) => k.kty === 'RSA')!.kid;
    expect(kidOf(await serviceToken(server))).to.equal(newRsa);
    expect(listed.filter((k) => k.status === 'active')).to.have.length(2);
  });

  it('rotates on schedule once the newest key is older than KEY_ROTATION_DAYS, and only once', async () => {
    const count = async () => (await server.runtime.db.query<{ n: number }>('SELECT count(*)::int AS n FROM signing_keys')).rows[0].n;
    const before = await count();
    await server.runtime.keyMaintenance.tick();
    expect(await count(), 'nothing is due yet').to.equal(before);

    await server.runtime.db.query(`UPDATE signing_keys SET created_at = created_at - interval '91 days', activates_at = activates_at - interval '91 days'`);
    await server.runtime.keyMaintenance.tick();
    expect(await count()).to.equal(before + 2);
    const events = (await api.get('/audit-events?type=signing_key.rotated&limit=1')).body.data;
    expect(events[0].actor.type).to.equal('system');
    expect(events[0].data.reason).to.equal('scheduled');
    // The new keys are pending (KEY_ACTIVATION_DELAY, 10 minutes by default): nothing more is due.
    const pending = ((await api.get('/keys')).body.data as { status: string; kid: string; activates_at: string }[]).filter((k) => k.status === 'pending');
    expect(pending).to.have.length(2);
    expect(Date.parse(pending[0].activates_at) - Date.now()).to.be.within(540_000, 601_000);
    expect(await kidsOf(server)).to.include.members(pending.map((k) => k.kid));
    await server.runtime.keyMaintenance.tick();
    expect(await count()).to.equal(before + 2);
  });
});

describe('signing-key rotation on two nodes (needs DATABASE_URL; skipped in embedded mode)', () => {
  let a: TestServer;
  let b: TestServer;
  const ISSUER = 'http://gatehouse-keys.test';
  before(async function () {
    if (!usingRealServices) this.skip();
    a = await startServer({ seed: seed(), env: { ISSUER } });
    b = await startServer({ databaseUrl: a.databaseUrl, env: { ISSUER } });
  });
  after(async () => {
    await b?.stop();
    await a?.destroy();
  });

  it('a rotation on node A reaches node B on its own: published, then signing, then both JWKS agree', async () => {
    b.runtime.keyMaintenance.setCheckInterval(300);
    const old = kidOf(await serviceToken(b));
    const res = await managementApi(a, await managementToken(a)).post('/keys/rotate', { activate_in: 2 });
    expect(res.status).to.equal(201);
    const newRsa = (res.body.keys as { kid: string; kty: string }[]).find((k) => k.kty === 'RSA')!.kid;
    await eventually('node B to publish the new key', async () => (await kidsOf(b)).includes(newRsa), 5000);
    const tokenFromB = await serviceToken(b);
    await eventually('node B to sign with the new key', async () => kidOf(await serviceToken(b)) === newRsa);
    await eventually('node A to sign with the new key', async () => kidOf(await serviceToken(a)) === newRsa);
    expect(await kidsOf(a)).to.deep.equal(await kidsOf(b));
    const jwksA = createLocalJWKSet(await jwksOf(a));
    // A token node B signed before the switch verifies with node A's JWKS, and one of A's with B's.
    await jwtVerify(tokenFromB, jwksA, { issuer: ISSUER, audience: ORDERS_API });
    await jwtVerify(await serviceToken(a), createLocalJWKSet(await jwksOf(b)), { issuer: ISSUER, audience: ORDERS_API });
    expect(await kidsOf(b)).to.include(old);
  });

  it('two nodes checking the schedule at once create one set of keys', async () => {
    const count = async () => (await a.runtime.db.query<{ n: number }>('SELECT count(*)::int AS n FROM signing_keys')).rows[0].n;
    // Nothing pending, newest keys long past KEY_ROTATION_DAYS.
    await a.runtime.db.query(`UPDATE signing_keys SET created_at = created_at - interval '200 days', activates_at = activates_at - interval '200 days',
      retired_at = retired_at - interval '200 days'`);
    const before = await count();
    await Promise.all([a.runtime.keyMaintenance.tick(), b.runtime.keyMaintenance.tick(), a.runtime.keyMaintenance.tick(), b.runtime.keyMaintenance.tick()]);
    expect(await count()).to.equal(before + 2);
    const { rows } = await a.runtime.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'signing_key.rotated' AND data->>'reason' = 'scheduled'`);
    expect(rows[0].n).to.equal(1);
  });
});

describe('signing-key settings and status', () => {
  const base = { COOKIE_SECRETS: 'c'.repeat(40), KEY_ENCRYPTION_SECRET: 'k'.repeat(40), DATA_DIR: '/tmp/gatehouse-keys-config' };

  it('defaults to a 10-minute activation delay and 90-day rotation', () => {
    const c = loadConfig(base);
    expect(c.keyActivationDelay).to.equal(600);
    expect(c.keyRotationDays).to.equal(90);
    const set = loadConfig({ ...base, KEY_ACTIVATION_DELAY: '120', KEY_ROTATION_DAYS: '0' });
    expect([set.keyActivationDelay, set.keyRotationDays]).to.deep.equal([120, 0]);
  });

  for (const [name, value] of [
    ['KEY_ACTIVATION_DELAY', 'ten minutes'],
    ['KEY_ACTIVATION_DELAY', '-1'],
    ['KEY_ACTIVATION_DELAY', '1.5'],
    ['KEY_ACTIVATION_DELAY', '604801'],
    ['KEY_ROTATION_DAYS', '-3'],
    ['KEY_ROTATION_DAYS', '99999'],
  ] as const) {
    it(`refuses ${name}=${value}, naming it`, () => {
      expect(() => loadConfig({ ...base, [name]: value })).to.throw(new RegExp(`${name}: `));
    });
  }

  it('tells pending, active and retired keys apart, including a pending key superseded before it activated', () => {
    const now = new Date('2025-06-01T12:00:00Z');
    const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
    expect(statusOf({ activatesAt: at(5), retiredAt: null }, now)).to.equal('pending');
    expect(statusOf({ activatesAt: at(-5), retiredAt: null }, now)).to.equal('active');
    expect(statusOf({ activatesAt: at(-5), retiredAt: at(5) }, now)).to.equal('active');
    expect(statusOf({ activatesAt: at(-50), retiredAt: at(-5) }, now)).to.equal('retired');
    expect(statusOf({ activatesAt: at(10), retiredAt: at(5) }, now)).to.equal('retired');
  });
});
