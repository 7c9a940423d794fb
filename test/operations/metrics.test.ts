import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../server/logger.js';
import { type MetricsListener, serveMetrics } from '../../server/telemetry/metrics-server.js';
import { SERVICE, USER, basic, postForm } from '../support/fixtures.js';
import { hasSeries, sample, scrape } from '../support/metrics.js';
import type { TestServer } from '../support/server.js';
import { useServer } from '../support/setup.js';
import { freshAddress, loginForm } from '../support/sign-in.js';

/**
 * /metrics of one node (METRICS_PORT): the node is in this process and its series are served on a
 * listener of their own, as server/serve.ts does. The cluster's aggregation and the process entry
 * are in metrics-process.test.ts.
 */
describe('Prometheus metrics (METRICS_PORT)', function () {
  // Starting a node (migrations, the seed's password hash) can take a minute on a busy machine.
  this.timeout(120_000);
  let server: TestServer;
  let listener: MetricsListener;
  let metricsUrl: string;
  useServer(
    // Low limits so that one test reaches them; TRUST_PROXY so that each test signs in from its own address.
    { start: { env: { METRICS_PORT: '0', TRUST_PROXY: 'true', LOGIN_MAX_FAILURES: '2', CLIENT_AUTH_MAX_FAILURES: '3' } } },
    (s) => (server = s.server),
  );
  before(async () => {
    listener = await serveMetrics(server.runtime.metrics!.exposition, 0, '127.0.0.1', createLogger('silent'));
    metricsUrl = `http://127.0.0.1:${listener.port}/metrics`;
  });
  after(() => listener?.close());

  const token = (form: Record<string, string>, secret = SERVICE.secret) =>
    postForm(`${server.url}/oauth/token`, form, { authorization: basic(SERVICE.id, secret), 'x-forwarded-for': freshAddress() });

  it('counts token requests by grant type and outcome, and never names a client or echoes what a caller sent', async () => {
    const before = await scrape(metricsUrl);
    const success = { grant_type: 'client_credentials', outcome: 'success' };
    const refused = { grant_type: 'client_credentials', outcome: 'invalid_client' };
    const unknown = { grant_type: 'other', outcome: 'unsupported_grant_type' };
    const made = `made-up-${randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 3; i++) expect((await token({ grant_type: 'client_credentials' })).status).to.equal(200);
    for (let i = 0; i < 2; i++) expect((await token({ grant_type: 'client_credentials' }, 'not-the-secret')).status).to.equal(401);
    expect((await token({ grant_type: made })).status).to.equal(400);

    const after = await scrape(metricsUrl);
    expect(sample(after, 'gatehouse_token_requests_total', success) - sample(before, 'gatehouse_token_requests_total', success)).to.equal(3);
    expect(sample(after, 'gatehouse_token_requests_total', refused) - sample(before, 'gatehouse_token_requests_total', refused)).to.equal(2);
    expect(sample(after, 'gatehouse_token_requests_total', unknown) - sample(before, 'gatehouse_token_requests_total', unknown)).to.equal(1);
    expect(after).not.to.include(SERVICE.id);
    expect(after).not.to.include(made);
    // The client was read once from the database, then from this node's cache.
    expect(sample(after, 'gatehouse_cache_hits_total', { cache: 'clients' })).to.be.greaterThan(sample(before, 'gatehouse_cache_hits_total', { cache: 'clients' }));
  });

  it('times each request under its route name or pattern, never its raw path', async () => {
    const stray = `/no-such-page-${randomBytes(4).toString('hex')}`;
    expect((await fetch(`${server.url}/oauth/jwks`)).status).to.equal(200);
    expect((await fetch(`${server.url}${stray}`)).status).to.equal(404);
    const text = await scrape(metricsUrl);
    expect(sample(text, 'gatehouse_http_request_duration_seconds_count', { route: 'jwks', method: 'GET' })).to.be.at.least(1);
    expect(sample(text, 'gatehouse_http_request_duration_seconds_count', { route: 'other', method: 'GET' })).to.be.at.least(1);
    expect(sample(text, 'gatehouse_http_request_duration_seconds_count', { route: 'token', method: 'POST' })).to.be.at.least(1);
    expect(text).not.to.include(stray);
    // The public port has no /metrics.
    expect((await fetch(`${server.url}/metrics`)).status).to.equal(404);
  });

  it('counts sign-ins by outcome, and the limits they reach', async () => {
    const before = await scrape(metricsUrl);
    const delta = (after: string, name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    const guesser = await loginForm(server, freshAddress());
    expect((await guesser.attempt(USER.email, 'wrong password one')).status).to.equal(401);
    // The second failure reaches LOGIN_MAX_FAILURES: a wait begins (a limit hit), and the next try is refused.
    expect((await guesser.attempt(USER.email, 'wrong password two')).status).to.equal(429);
    expect((await guesser.attempt(USER.email, USER.password)).status).to.equal(429);
    expect((await guesser.attempt('nobody@example.test', 'whatever it is')).status).to.equal(401);
    const person = await loginForm(server, freshAddress());
    expect((await person.attempt(USER.email, USER.password)).status).to.be.within(300, 399);

    const after = await scrape(metricsUrl);
    expect(delta(after, 'gatehouse_logins_total', { outcome: 'bad_password' })).to.equal(2);
    expect(delta(after, 'gatehouse_logins_total', { outcome: 'throttled' })).to.equal(1);
    expect(delta(after, 'gatehouse_logins_total', { outcome: 'unknown_account' })).to.equal(1);
    expect(delta(after, 'gatehouse_logins_total', { outcome: 'success' })).to.equal(1);
    expect(delta(after, 'gatehouse_limits_hit_total', { limit: 'login-account' })).to.equal(1);
    expect(delta(after, 'gatehouse_limit_refusals_total', { limit: 'login-account' })).to.equal(1);
    expect(after).not.to.include(USER.email);
  });

  it('counts failed client authentications reaching their limit', async () => {
    const before = await scrape(metricsUrl);
    const address = freshAddress();
    const attempt = () => postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(SERVICE.id, 'not-the-secret'), 'x-forwarded-for': address });
    for (let i = 0; i < 3; i++) expect((await attempt()).status).to.equal(401);
    expect((await attempt()).status).to.equal(429);
    const after = await scrape(metricsUrl);
    expect(sample(after, 'gatehouse_limits_hit_total', { limit: 'client-auth' }) - sample(before, 'gatehouse_limits_hit_total', { limit: 'client-auth' })).to.equal(1);
    const refusedBefore = sample(before, 'gatehouse_token_requests_total', { grant_type: 'client_credentials', outcome: 'too_many_requests' });
    expect(sample(after, 'gatehouse_token_requests_total', { grant_type: 'client_credentials', outcome: 'too_many_requests' }) - refusedBefore).to.equal(1);
  });

  it('reports the store, Redis, the signing keys and the process', async () => {
    const text = await scrape(metricsUrl);
    expect(sample(text, 'gatehouse_cache_live')).to.equal(1);
    expect(sample(text, 'gatehouse_signing_key_age_seconds', { kty: 'RSA' })).to.be.at.least(0);
    expect(hasSeries(text, 'gatehouse_signing_key_age_seconds')).to.equal(true);
    expect(hasSeries(text, 'process_cpu_user_seconds_total')).to.equal(true);
    expect(hasSeries(text, 'nodejs_eventloop_lag_seconds')).to.equal(true);
    // The pool exists with Postgres only; Redis only when configured.
    expect(hasSeries(text, 'gatehouse_db_pool_size')).to.equal(Boolean(server.databaseUrl));
    if (server.databaseUrl) expect(sample(text, 'gatehouse_db_pool_size')).to.be.at.least(1);
    expect(hasSeries(text, 'gatehouse_redis_up')).to.equal(Boolean(process.env.REDIS_URL));
    if (process.env.REDIS_URL) expect(sample(text, 'gatehouse_redis_up')).to.equal(1);
  });
});
