import { expect } from 'chai';
import { WEB, baseSeed } from '../support/fixtures.js';
import { startServer, type TestServer } from '../support/server.js';

/** GET /oauth/logout from someone without a session stores nothing (it used to store a 14-day session). */
describe('logout without a session', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ seed: baseSeed() });
  });
  after(() => server?.destroy());

  async function sessionsStored(): Promise<number> {
    const { redis, db } = server.runtime;
    if (redis) return (await redis.keys('gatehouse:Session:*')).length;
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM oidc_artifacts WHERE model = 'Session'");
    return rows[0].n;
  }

  it('a hundred anonymous GET /oauth/logout store no session and set no session cookie; each says the person is signed out', async () => {
    const before = await sessionsStored();
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${server.url}/oauth/logout`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(res.status).to.equal(200);
      expect(res.headers.getSetCookie().filter((c) => c.startsWith('gh_session'))).to.deep.equal([]);
      if (i === 0) expect(await res.text()).to.match(/signed out/i);
      else await res.arrayBuffer();
    }
    expect(await sessionsStored()).to.equal(before);
  });

  it('with a registered post_logout_redirect_uri it goes straight back there with the state, still storing nothing', async () => {
    const before = await sessionsStored();
    const q = new URLSearchParams({ client_id: WEB.id, post_logout_redirect_uri: 'http://127.0.0.1:8080/', state: 'st4te' });
    const res = await fetch(`${server.url}/oauth/logout?${q}`, { redirect: 'manual' });
    expect(res.status).to.equal(303);
    expect(res.headers.get('location')).to.equal('http://127.0.0.1:8080/?state=st4te');
    // An unregistered one is refused as before, by oidc-provider.
    const bad = await fetch(`${server.url}/oauth/logout?${new URLSearchParams({ client_id: WEB.id, post_logout_redirect_uri: 'https://evil.example/' })}`, { redirect: 'manual', headers: { accept: 'application/json' } });
    expect(bad.status).to.equal(400);
    expect(await sessionsStored()).to.equal(before);
  });
});
