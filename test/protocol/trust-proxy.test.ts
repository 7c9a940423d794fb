import { expect } from 'chai';
import { basic, postForm } from '../support/fixtures.js';
import { auditOf, newKey, newPerson } from '../support/accounts.js';
import { setUp, type Setup } from '../support/setup.js';

/**
 * TRUST_PROXY decides which address a request comes from, and the IP allowlists of clients and API
 * keys rest on it. Off (the default), X-Forwarded-For is whatever the caller wrote and is ignored:
 * the address is the TCP peer. On, the server sits behind one proxy, and only the entry that proxy
 * appended (the last one) counts; entries to its left came from the caller (RFC 7239 §5.2 and
 * X-Forwarded-For practice: each hop appends what it saw).
 *
 * The tests connect from 127.0.0.1, which no allowlist below contains.
 */
const ALLOWED = '203.0.113.5'; // in 203.0.113.0/24 (RFC 5737 documentation range)
const OTHER = '198.51.100.7';

describe('TRUST_PROXY: which address the IP allowlists see', function () {
  this.timeout(60_000);

  /** A client and an API key that may be used from 203.0.113.0/24 only. */
  async function arrange({ server, admin }: Setup) {
    const created = await admin.post('/clients', { client_name: 'Allowlisted', type: 'service', scope: 'orders:read', ip_allowlist: ['203.0.113.0/24'] });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const person = await newPerson(admin, ['viewer']);
    const { key } = await newKey(admin, person.id, ['clients:read'], { ip_allowlist: ['203.0.113.0/24'] });
    return {
      clientId: created.body.client_id as string,
      /** A client-credentials request with this X-Forwarded-For. */
      token: (forwardedFor?: string) =>
        postForm(
          `${server.url}/oauth/token`,
          { grant_type: 'client_credentials' },
          { authorization: basic(created.body.client_id, created.body.client_secret), ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
        ),
      /** A Management API call with the API key and this X-Forwarded-For. */
      management: async (forwardedFor?: string) =>
        (await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}`, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) } })).status,
    };
  }

  describe('off (the default): X-Forwarded-For is ignored', () => {
    let setup: Setup;
    before(async () => {
      // Each refusal's own audit row is what is checked: folding of repeated failures is off here.
      setup = await setUp({ admin: true, start: { env: { AUDIT_FOLD_WINDOW: '0' } } });
    });
    after(async () => setup?.server.destroy());

    it('a faked allowed address gets neither a token nor the Management API, and the audit names the real peer', async () => {
      const { token, management, clientId } = await arrange(setup);
      for (const header of [undefined, ALLOWED, `${OTHER}, ${ALLOWED}`]) {
        const res = await token(header);
        expect(res.status, `X-Forwarded-For: ${header}`).to.equal(401);
        expect(res.json.error).to.equal('invalid_client');
        expect(await management(header), `X-Forwarded-For: ${header}`).to.equal(401);
      }
      const refused = await auditOf(setup.server, 'client.token_refused', clientId);
      expect(refused).to.have.length(3);
      for (const event of refused) expect(event).to.deep.include({ ip: '127.0.0.1', data: { reason: 'ip_not_allowed' } });
    });
  });

  describe('on: only the entry the proxy added counts', () => {
    let setup: Setup;
    before(async () => {
      setup = await setUp({ admin: true, start: { env: { TRUST_PROXY: 'true', AUDIT_FOLD_WINDOW: '0' } } });
    });
    after(async () => setup?.server.destroy());

    it('the proxy saw an allowed address: a token and the Management API', async () => {
      const { token, management } = await arrange(setup);
      const res = await token(ALLOWED);
      expect(res.status, res.text).to.equal(200);
      expect(await management(ALLOWED)).to.equal(200);
      // What the caller wrote before the proxy appended the real address does not matter.
      expect((await token(`${OTHER}, ${ALLOWED}`)).status).to.equal(200);
      expect(await management(`${OTHER}, ${ALLOWED}`)).to.equal(200);
    });

    it('a caller who writes an allowed address in front of what the proxy added is refused', async () => {
      const { token, management, clientId } = await arrange(setup);
      const res = await token(`${ALLOWED}, ${OTHER}`);
      expect(res.status).to.equal(401);
      expect(res.json.error).to.equal('invalid_client');
      expect(await management(`${ALLOWED}, ${OTHER}`)).to.equal(401);
      const refused = await auditOf(setup.server, 'client.token_refused', clientId);
      expect(refused.map((e) => e.ip)).to.deep.equal([OTHER]);
    });
  });
});
