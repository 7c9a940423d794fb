import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE, baseSeed, basic, postForm } from '../support/fixtures.js';
import { eventually } from '../support/eventually.js';
import { hasSeries, sample, scrape } from '../support/metrics.js';
import { type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js';
import { type Running, freePort, requireBuild, runServerProcess } from '../support/process.js';
import { createTestDatabase, dropTestDatabase, redisPrefixOf } from '../support/server.js';

/**
 * The built server in a process of its own, as operators run it, with OTEL_EXPORTER_OTLP_ENDPOINT
 * pointing at a real OTLP/HTTP receiver in this process, and METRICS_PORT set. Instrumentation has
 * to be in place before pg, ioredis and koa load, which only a fresh process shows.
 */
describe('OpenTelemetry traces and /metrics of the server process', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let server: Running;
  let databaseUrl: string | undefined;
  let dataDir: string;
  let metricsPort: number;

  before(async function () {
    this.timeout(120_000);
    requireBuild();
    receiver = await startOtlpReceiver();
    databaseUrl = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-tracing-'));
    const seedFile = join(dataDir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(baseSeed()), { mode: 0o600 });
    metricsPort = await freePort();
    server = runServerProcess(dataDir, await freePort(), {
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...(databaseUrl && process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: redisPrefixOf(databaseUrl, dataDir) } : {}),
      SEED_FILE: seedFile,
      COOKIE_SECRETS: 'tracing-cookie-secret-0123456789abcdef0123',
      KEY_ENCRYPTION_SECRET: 'tracing-key-encryption-secret-0123456789ab',
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    await server.waitForLog(/^gatehouse listening/, 100_000);
  });

  after(async function () {
    this.timeout(30_000);
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await receiver?.close();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const base = () => `http://127.0.0.1:${server.port}`;

  it('sends the spans of a token request: http, koa, the token request, client authentication, the database and signing', async () => {
    // The first request after start finds nothing cached: it reads the client from the database.
    const res = await postForm(`${base()}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    expect(res.status).to.equal(200);

    let trace: ReceivedSpan[] = [];
    await eventually(
      'the token request spans reach the receiver',
      () => {
        const token = receiver.spans.find((s) => s.name === 'oauth.token');
        if (!token) return false;
        trace = receiver.spans.filter((s) => s.traceId === token.traceId);
        expect(trace.map((s) => s.name)).to.include.members(['oauth.client_authentication', 'oauth.sign']);
        expect(trace.some((s) => s.scope.includes('instrumentation-http'))).to.equal(true);
      },
      30_000,
    );
    const names = trace.map((s) => s.name);
    const token = trace.find((s) => s.name === 'oauth.token')!;
    expect(token.attributes['oauth.grant_type']).to.equal('client_credentials');
    expect(token.attributes['http.response.status_code']).to.equal(200);
    // The server span of node:http is the root; koa's middleware spans are under it.
    const root = trace.find((s) => !s.parentSpanId)!;
    expect(root.scope).to.include('instrumentation-http');
    expect(trace.some((s) => s.scope.includes('instrumentation-koa'))).to.equal(true, `koa spans in ${names.join(', ')}`);
    // The database: pg's spans with Postgres, ours with the embedded one.
    const database = trace.filter((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql');
    expect(database, `database spans in ${names.join(', ')}`).to.not.be.empty;
    if (databaseUrl) expect(database.some((s) => s.scope.includes('instrumentation-pg'))).to.equal(true);
    if (databaseUrl && process.env.REDIS_URL) {
      expect(trace.some((s) => s.scope.includes('instrumentation-ioredis')), `redis spans in ${names.join(', ')}`).to.equal(true);
    }
    // Signing and client authentication are children of the token request.
    const tokenDescendant = (span: ReceivedSpan): boolean => {
      const parent = trace.find((s) => s.spanId === span.parentSpanId);
      return parent ? parent.spanId === token.spanId || tokenDescendant(parent) : false;
    };
    expect(tokenDescendant(trace.find((s) => s.name === 'oauth.sign')!)).to.equal(true);
    expect(tokenDescendant(trace.find((s) => s.name === 'oauth.client_authentication')!)).to.equal(true);
    // No secret in any attribute.
    expect(JSON.stringify(trace)).not.to.include(SERVICE.secret);

    // The request's log line carries the trace id.
    await eventually('the request line is written', () => {
      const line = server
        .stdout()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'request' && l.path === '/oauth/token');
      expect(line, 'the request line').to.exist;
      expect(line!.trace_id).to.equal(token.traceId);
      expect(line!.span_id).to.match(/^[0-9a-f]{16}$/);
    });
  });

  it('serves /metrics on METRICS_PORT only, with the token request counted', async () => {
    const text = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(sample(text, 'gatehouse_token_requests_total', { grant_type: 'client_credentials', outcome: 'success' })).to.be.at.least(1);
    expect(hasSeries(text, 'process_resident_memory_bytes')).to.equal(true);
    expect((await fetch(`${base()}/metrics`)).status).to.equal(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/anything-else`)).status).to.equal(404);
  });
});
