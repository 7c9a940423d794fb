import { expect } from 'chai';
import { loadConfig } from '../../server/config.js';
import { seedSchema } from '../../server/seed.js';
import { checkPassword } from '../../server/services/password-rules.js';
import { baseSeed } from '../support/fixtures.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, type TestServer } from '../support/server.js';

/** NIST SP 800-63B §5.1.1.2: a minimum length (12 by default), no common or breached password, a message naming the rule. */
describe('password rules', () => {
  let server: TestServer;
  let admin: ReturnType<typeof managementApi>;
  before(async () => {
    const seed = baseSeed();
    seed.clients.push(adminClientSeed() as never);
    server = await startServer({ seed });
    admin = managementApi(server, await managementToken(server));
  });
  after(() => server?.destroy());

  it('the Management API refuses short and common passwords on create and on change, naming the rule', async () => {
    const cases: [string, RegExp][] = [
      ['12345678', /at least 12 characters/],
      ['elevenchars', /at least 12 characters/],
      ['qwerty123456', /list of common or breached passwords/],
      ['LeaveMeAlone', /list of common or breached passwords/],
    ];
    for (const [password, message] of cases) {
      const res = await admin.post('/users', { email: 'rules@example.test', name: 'Rules', password });
      expect(res.status, password).to.equal(400);
      expect(res.body.field).to.equal('password');
      expect(res.body.error_description).to.match(message);
    }
    const made = await admin.post('/users', { email: 'rules@example.test', name: 'Rules', password: 'twelve chars' });
    expect(made.status).to.equal(201);
    const change = await admin.patch(`/users/${made.body.id}`, { password: '1qaz2wsx3edc' });
    expect(change.status).to.equal(400);
    expect(change.body.error_description).to.match(/common or breached/);
    // Long passphrases are welcome (NIST: at least 64 characters must be allowed), in any script.
    expect((await admin.patch(`/users/${made.body.id}`, { password: 'ünïcødé pässphrase '.repeat(5) })).status).to.equal(200);
    expect((await admin.get('/me')).body.password_min_length).to.equal(12);
  });

  it('the seed file refuses them too, with the path of the mistake', () => {
    const seed = baseSeed();
    seed.users[0] = { ...seed.users[0], password: 'password' };
    const parsed = seedSchema.safeParse(seed);
    expect(parsed.success).to.equal(false);
    expect(parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).to.include('users.0.password: passwords need at least 12 characters');
  });

  it('counts characters, not UTF-16 units; PASSWORD_MIN_LENGTH is checked at start', () => {
    expect(checkPassword('😀'.repeat(11))).to.match(/at least 12/);
    expect(checkPassword('😀'.repeat(12))).to.equal(undefined);
    expect(() => loadConfig({ PASSWORD_MIN_LENGTH: '7' })).to.throw(/PASSWORD_MIN_LENGTH: must be at least 8/);
    expect(() => loadConfig({ LOGIN_MAX_FAILURES: 'many' })).to.throw(/LOGIN_MAX_FAILURES: must be a number of failures/);
  });
});
