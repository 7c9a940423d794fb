import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { eventually } from '../support/eventually.js';
import { baseSeed } from '../support/fixtures.js';
import { adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { freePort, requireBuild, runServerProcess } from '../support/process.js';
import { createTestDatabase, dropTestDatabase, startServer, usingRealServices, type TestServer } from '../support/server.js';
import { setUp } from '../support/setup.js';
import { startReceiver, verified } from '../support/webhook-receiver.js';

const SECRETS = {
  COOKIE_SECRETS: 'test-cookie-secret-0123456789abcdef0123456789',
  KEY_ENCRYPTION_SECRET: 'test-key-encryption-secret-0123456789abcdef',
};

/**
 * At least once, and never twice at the same time: a node killed (SIGKILL, a real process) in the
 * middle of a delivery loses nothing, and two nodes sharing one outbox send each event once.
 */
describe('webhook delivery across crashes and nodes', function () {
  this.timeout(480_000);

  // An embedded server starts from nothing twice here: minutes on a loaded machine, hence the timeouts.
  it('a node killed mid-delivery loses nothing: another node (or the same folder, restarted) delivers it, with the same webhook-id', async function () {
    requireBuild();
    // The first request is held open until the sender dies; later ones are answered.
    const receiver = await startReceiver((_r, i) => (i === 0 ? 'hold' : 204));
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-webhook-crash-'));
    const databaseUrl = await createTestDatabase();
    const seedFile = join(dataDir, 'seed.json');
    const seed = baseSeed();
    seed.clients.push(adminClientSeed() as never);
    writeFileSync(seedFile, JSON.stringify(seed));
    const port = await freePort();
    const env: Record<string, string> = { ...SECRETS, SEED_FILE: seedFile, OUTBOUND_PRIVATE_ADDRESSES: 'true', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
    const nodeA = runServerProcess(dataDir, port, env);
    let nodeB: TestServer | undefined;
    try {
      await nodeA.waitForLog(/gatehouse listening/, 240_000);
      const a = { url: `http://127.0.0.1:${port}`, issuer: `http://127.0.0.1:${port}`, runtime: { config: { issuer: `http://127.0.0.1:${port}` } } } as TestServer;
      const apiA = managementApi(a, await managementToken(a));
      const { body: endpoint } = await apiA.post('/webhooks', { url: receiver.url, event_types: ['client.created'] });
      expect(endpoint.secret).to.match(/^whsec_/);
      const created = await apiA.post('/clients', { client_name: 'Crash subject', type: 'service', scope: 'orders:read' });
      expect(created.status).to.equal(201);

      await eventually('node A sending the delivery', () => receiver.received.length === 1);
      nodeA.child.kill('SIGKILL');
      expect((await nodeA.exited).signal).to.equal('SIGKILL');

      if (databaseUrl) {
        // Node A's lease would run out after WEBHOOK_TIMEOUT and a margin: move time instead of waiting.
        const db = new pg.Client({ connectionString: databaseUrl });
        await db.connect();
        const moved = await db.query(`UPDATE outbox SET next_attempt_at = now() WHERE lease_id IS NOT NULL AND state = 'pending'`);
        await db.end();
        expect(moved.rowCount, 'the row node A held').to.equal(1);
      }
      // Another node on the same Postgres; in embedded mode, the same data folder opened again (its
      // one process owns every lease, so those left by the dead one are released at start).
      nodeB = await startServer(databaseUrl ? { databaseUrl, env: SECRETS } : { embedded: true, dataDir, env: SECRETS });
      await eventually('the delivery sent again', () => receiver.received.length === 2, 30_000);
      const [first, second] = receiver.received;
      expect(second.headers['webhook-id']).to.equal(first.headers['webhook-id']);
      const body = verified(endpoint.secret, second);
      expect(body.data.target).to.deep.equal({ type: 'client', id: created.body.client_id });

      const apiB = managementApi(nodeB, await managementToken(nodeB));
      await eventually('recorded as delivered by node B', async () => {
        const [d] = (await apiB.get(`/webhooks/${endpoint.id}/deliveries`)).body.data;
        // Node A's attempt counts (it may have reached the receiver) but died before it was recorded.
        expect(d).to.include({ state: 'delivered', attempts: 2 });
        expect(d.attempt_log).to.deep.equal([{ ...d.attempt_log[0], attempt: 2, status: 204, error: null }]);
      });
    } finally {
      if (nodeA.child.exitCode === null && nodeA.child.signalCode === null) nodeA.child.kill('SIGKILL');
      await nodeA.exited;
      await nodeB?.stop();
      await receiver.close();
      if (databaseUrl) await dropTestDatabase(databaseUrl);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('two nodes on one outbox send each event once, whichever claims it (needs DATABASE_URL; skipped in embedded mode, which is one process)', async function () {
    if (!usingRealServices) return this.skip();
    const { server: nodeA, admin } = await setUp({ admin: true });
    const nodeB = (await setUp({ start: { databaseUrl: nodeA.databaseUrl } })).server;
    const receiver = await startReceiver();
    try {
      const { body: endpoint } = await admin.post('/webhooks', { url: receiver.url, event_types: ['role.*'] });
      const n = 30;
      // Events committed on both nodes: each node's dispatcher is woken by every one of them.
      const adminB = managementApi(nodeB, await managementToken(nodeB));
      await Promise.all(
        Array.from({ length: n }, (_, i) => (i % 2 ? admin : adminB).post('/roles', { name: `r${i}`, permissions: ['audit:read'] })),
      );
      await eventually('every event delivered', async () => {
        const { body } = await admin.get(`/webhooks/${endpoint.id}/deliveries?limit=200`);
        expect(body.data.filter((d: { state: string }) => d.state === 'delivered')).to.have.length(n);
      }, 60_000);
      const ids = receiver.received.map((r) => r.headers['webhook-id']);
      expect(ids).to.have.length(n);
      expect(new Set(ids).size).to.equal(n);
      for (const r of receiver.received) expect(verified(endpoint.secret, r).type).to.equal('role.created');
    } finally {
      await receiver.close();
      await nodeB.stop();
      await nodeA.destroy();
    }
  });
});
