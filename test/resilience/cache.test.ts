import { expect } from 'chai';
import pg from 'pg';
import { SERVICE, baseSeed, basic, postForm } from '../support/fixtures.js';
import { startServer, usingRealServices, type TestServer } from '../support/server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { HEARTBEAT_MS } from '../../server/db/listen.js';

/**
 * Each node answers token requests from its own copy of clients, APIs, users, roles and API keys
 * (server/store/cache.ts). These tests change rows behind the node's back, with plain SQL as an
 * operator or another node would, and check that the change is obeyed at once on one node, within a
 * bound on another, and that a node which lost its notification channel stops trusting its copy.
 */

const ISSUER = 'http://gatehouse-cache.test';
/** Generous: notifications arrive in milliseconds; this only keeps a broken build from hanging. */
const PROPAGATION_LIMIT_MS = 5_000;

const token = (node: TestServer) =>
  postForm(`${node.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, { authorization: basic(SERVICE.id, SERVICE.secret) });

/** Polls until the node refuses the service client; returns how long that took. */
async function untilRefused(node: TestServer, limitMs = PROPAGATION_LIMIT_MS): Promise<number> {
  const started = performance.now();
  for (;;) {
    const res = await token(node);
    if (res.status === 401) return performance.now() - started;
    expect(res.status, res.text).to.equal(200);
    if (performance.now() - started > limitMs) throw new Error(`still issuing tokens after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function until(condition: () => boolean, limitMs: number, what: string) {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`not ${what} within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('per-node caches kept true by change notifications', () => {
  describe('one node', () => {
    let node: TestServer;
    before(async () => {
      node = await startServer({ seed: baseSeed() });
    });
    after(() => node?.destroy());

    it('caches in the steady state and obeys a change made with plain SQL at the next request', async () => {
      expect((await token(node)).status).to.equal(200);
      expect(node.runtime.cache.caching).to.equal(true);
      // Not through the Management API: any writer's change reaches the cache (migration 008 triggers).
      await node.runtime.db.query('UPDATE clients SET enabled = false WHERE client_id = $1', [SERVICE.id]);
      await node.runtime.cache.sync();
      expect((await token(node)).status).to.equal(401);
      await node.runtime.db.query('UPDATE clients SET enabled = true WHERE client_id = $1', [SERVICE.id]);
      await node.runtime.cache.sync();
      expect((await token(node)).status).to.equal(200);
    });

    it('applies a removed scope and an expired secret from the next request', async () => {
      expect((await token(node)).status).to.equal(200);
      await node.runtime.db.query(`UPDATE clients SET metadata = jsonb_set(metadata, '{scope}', '"orders:write"') WHERE client_id = $1`, [SERVICE.id]);
      await node.runtime.cache.sync();
      expect((await token(node)).json.error).to.equal('invalid_scope');
      await node.runtime.db.query(`UPDATE clients SET metadata = jsonb_set(metadata, '{scope}', '"orders:read"') WHERE client_id = $1`, [SERVICE.id]);
      await node.runtime.cache.sync();
      expect((await token(node)).status).to.equal(200);
      await node.runtime.db.query('UPDATE client_secrets SET expires_at = now() WHERE client_id = $1', [SERVICE.id]);
      await node.runtime.cache.sync();
      expect((await token(node)).status).to.equal(401);
    });

    it('a client that expires while cached is refused from its expiry, with no notification', async () => {
      await node.runtime.db.query('UPDATE client_secrets SET expires_at = NULL WHERE client_id = $1', [SERVICE.id]);
      await node.runtime.db.query(`UPDATE clients SET expires_at = now() + interval '1 second' WHERE client_id = $1`, [SERVICE.id]);
      await node.runtime.cache.sync();
      expect((await token(node)).status).to.equal(200);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await token(node)).status).to.equal(401);
    });
  });

  describe('two nodes on one Postgres (needs DATABASE_URL; skipped in embedded mode)', () => {
    let a: TestServer;
    let b: TestServer;
    let proxy: TcpProxy;
    let admin: pg.Client;
    const setEnabled = (enabled: boolean) => admin.query('UPDATE clients SET enabled = $2 WHERE client_id = $1', [SERVICE.id, enabled]);

    before(async function () {
      if (!usingRealServices) return this.skip();
      a = await startServer({ seed: baseSeed(), env: { ISSUER } });
      const target = new URL(a.databaseUrl!);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      // Node B reaches Postgres only through the proxy, its notification channel included.
      b = await startServer({ databaseUrl: proxy.through(a.databaseUrl!), env: { ISSUER } });
      admin = new pg.Client({ connectionString: a.databaseUrl });
      await admin.connect();
    });
    after(async () => {
      await admin?.end();
      await b?.stop();
      await proxy?.close();
      await a?.destroy();
    });

    afterEach(async function () {
      if (!usingRealServices) return;
      proxy.restore();
      await setEnabled(true);
      await until(() => b.runtime.cache.caching, 10_000, 'caching again');
      await b.runtime.cache.sync();
    });

    it('a node waits only for the other nodes’ change listeners: its other listeners (Shared Signals) are not counted', async () => {
      // Each node also listens on gatehouse_ssf; counted as nodes, they would never acknowledge and
      // every Management API write would wait out the sync timeout.
      const before = a.runtime.cache.syncTimeouts;
      for (let i = 0; i < 3; i++) await a.runtime.cache.sync();
      expect(a.runtime.cache.syncTimeouts - before).to.equal(0);
      const { rows } = await admin.query<{ application_name: string }>(
        "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'gatehouse-listener:%'",
      );
      const names = rows.map((r) => r.application_name).sort();
      expect(names.filter((n) => n === 'gatehouse-listener:gatehouse_changes')).to.have.length(2);
      expect(names.filter((n) => n === 'gatehouse-listener:gatehouse_ssf')).to.have.length(2);
    });

    it('a suspension on node A is refused by node B within a bound, over many trials', async () => {
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        expect((await token(b)).status).to.equal(200);
        expect(b.runtime.cache.caching).to.equal(true);
        await setEnabled(false);
        times.push(await untilRefused(b));
        await setEnabled(true);
        await b.runtime.cache.sync();
      }
      times.sort((x, y) => x - y);
      expect(times.at(-1)!).to.be.below(PROPAGATION_LIMIT_MS);
    });

    /** Node B's first answer once the proxy lets it reach Postgres again (503s meanwhile are fine). */
    async function firstAnswerAfterOutage() {
      let res = await token(b);
      for (let i = 0; res.status === 503 && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        res = await token(b);
      }
      return res;
    }

    it('a node whose notification connection is cut clears its cache and reads the database until it is back', async () => {
      expect((await token(b)).status).to.equal(200);
      proxy.cut();
      await until(() => !b.runtime.cache.caching, PROPAGATION_LIMIT_MS, 'uncached after the cut');
      // A change B cannot hear of: its notification goes nowhere.
      await setEnabled(false);
      proxy.restore();
      // Whatever the listener's state, B's next answer comes from the database.
      const res = await firstAnswerAfterOutage();
      expect(res.status, res.text).to.equal(401);
      await until(() => b.runtime.cache.caching, 10_000, 'caching again once the channel is back');
      await setEnabled(true);
      await b.runtime.cache.sync();
      expect((await token(b)).status).to.equal(200);
      await setEnabled(false);
      await untilRefused(b);
    });

    it('a stalled notification connection is noticed by its heartbeat within two periods', async function () {
      this.timeout(30_000);
      expect((await token(b)).status).to.equal(200);
      expect(b.runtime.cache.caching).to.equal(true);
      const stalled = Date.now();
      proxy.stall();
      await until(() => !b.runtime.cache.caching, 2 * HEARTBEAT_MS + 1000, 'uncached after a stall');
      expect(Date.now() - stalled).to.be.at.most(2 * HEARTBEAT_MS + 1000);
      await setEnabled(false);
      proxy.restore();
      const res = await firstAnswerAfterOutage();
      expect(res.status, res.text).to.equal(401);
      await until(() => b.runtime.cache.caching, 10_000, 'caching again once the channel is back');
    });
  });
});
