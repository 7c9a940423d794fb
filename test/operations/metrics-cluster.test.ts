import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE, baseSeed, basic, postForm } from '../support/fixtures.js';
import { eventually } from '../support/eventually.js';
import { sample, scrape } from '../support/metrics.js';
import { type Running, freePort, requireBuild, runServerProcess } from '../support/process.js';
import { createTestDatabase, dropTestDatabase, usingRealServices } from '../support/server.js';

/**
 * With WEB_CONCURRENCY=2 the primary serves /metrics and each scrape gathers every worker's series
 * (prom-client's AggregatorRegistry over the cluster channel): one scrape, the whole process group.
 */
describe('/metrics of several workers (needs DATABASE_URL; skipped in embedded mode)', function () {
  this.timeout(120_000);
  let server: Running;
  let databaseUrl: string;
  let dataDir: string;
  let metricsPort: number;
  const listening = () => server.stdout().split('\n').filter((l) => l.includes('"gatehouse listening')).length;

  before(async function () {
    if (!usingRealServices) return this.skip();
    requireBuild();
    databaseUrl = (await createTestDatabase())!;
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-metrics-cluster-'));
    const seedFile = join(dataDir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(baseSeed()), { mode: 0o600 });
    metricsPort = await freePort();
    server = runServerProcess(dataDir, await freePort(), {
      DATABASE_URL: databaseUrl,
      WEB_CONCURRENCY: '2',
      SEED_FILE: seedFile,
      COOKIE_SECRETS: 'metrics-cookie-secret-0123456789abcdef0123',
      KEY_ENCRYPTION_SECRET: 'metrics-key-encryption-secret-0123456789ab',
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
    });
    await eventually('two workers listening', () => listening() >= 2, 100_000);
  });

  after(async function () {
    if (!usingRealServices) return;
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('one scrape of the primary counts the token requests of both workers', async () => {
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    const success = { grant_type: 'client_credentials', outcome: 'success' };
    const before = await scrape(url);
    // A connection each: the primary hands connections to the workers in turn.
    for (let i = 0; i < 20; i++) {
      const res = await postForm(`http://127.0.0.1:${server.port}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(SERVICE.id, SERVICE.secret), connection: 'close' });
      expect(res.status).to.equal(200);
    }
    const after = await scrape(url);
    expect(sample(after, 'gatehouse_token_requests_total', success) - sample(before, 'gatehouse_token_requests_total', success)).to.equal(20);
    // Each worker read the client from the database once, into its own cache: both are in the sum.
    expect(sample(after, 'gatehouse_cache_misses_total', { cache: 'clients' })).to.be.at.least(2);
    // Gauges that must not add up across workers: the key age is the oldest, not the sum.
    const age = sample(after, 'gatehouse_signing_key_age_seconds', { kty: 'RSA' });
    expect(age).to.be.at.least(0).and.below(3600);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).to.equal(404);
  });
});
