import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../server/config.js';
import { csrfTokens } from '../../server/interactions/csrf.js';

/** loadConfig(env) is pure apart from the development secrets it may write into DATA_DIR. */
const COOKIE_A = 'cookie-secret-a-0123456789abcdef0123456789';
const COOKIE_B = 'cookie-secret-b-0123456789abcdef0123456789';
const KEK = 'key-encryption-secret-0123456789abcdef01';
const configured = { COOKIE_SECRETS: COOKIE_A, KEY_ENCRYPTION_SECRET: KEK };

function refusal(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  expect.fail(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
}

describe('configuration (loadConfig)', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('has defaults for everything but secrets', () => {
    const c = loadConfig({ ...configured });
    expect(c).to.deep.include({
      production: false,
      port: 3000,
      issuer: 'http://localhost:3000',
      databaseUrl: undefined,
      redisUrl: undefined,
      dataDir: resolve('data'),
      seedFile: undefined,
      logLevel: 'info',
      keyEncryptionSecret: KEK,
      trustProxy: false, // X-Forwarded-* is only believed when a proxy is declared
      hstsIncludeSubdomains: false, // binding every subdomain to https is the operator's call
    });
    expect(c.cookieSecrets).to.deep.equal([COOKIE_A]);
    expect(c.generatedSecrets).to.deep.equal([]);
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      ...configured,
      PORT: '8443',
      ISSUER: 'https://id.example.com/',
      DATABASE_URL: 'postgresql://gatehouse@db:5432/gatehouse',
      REDIS_URL: 'rediss://cache:6380',
      DATA_DIR: dataDir,
      SEED_FILE: 'examples/seed.json',
      LOG_LEVEL: 'warn',
      TRUST_PROXY: 'false',
      HSTS_INCLUDE_SUBDOMAINS: 'true',
    });
    expect(c).to.deep.include({
      port: 8443,
      issuer: 'https://id.example.com', // trailing slash dropped: it would double up in endpoint URLs
      databaseUrl: 'postgresql://gatehouse@db:5432/gatehouse',
      redisUrl: 'rediss://cache:6380',
      dataDir,
      seedFile: resolve('examples/seed.json'),
      logLevel: 'warn',
      trustProxy: false,
      hstsIncludeSubdomains: true,
    });
  });

  it('treats an empty variable as unset', () => {
    const c = loadConfig({ ...configured, PORT: '', REDIS_URL: '', ISSUER: '' });
    expect(c.port).to.equal(3000);
    expect(c.redisUrl).to.equal(undefined);
    expect(c.issuer).to.equal('http://localhost:3000');
  });

  for (const [name, value] of [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['ISSUER', 'ftp://x'],
    ['ISSUER', 'https://id.example.com/?tenant=1'],
    ['DATABASE_URL', 'mysql://root:hunter2-db-password@db/gatehouse'],
    ['REDIS_URL', 'memcached://cache'],
    ['LOG_LEVEL', 'loud'],
    ['TRUST_PROXY', 'maybe'],
    ['HSTS_INCLUDE_SUBDOMAINS', 'sometimes'],
    ['COOKIE_SECRETS', 'short-cookie-secret'],
    ['KEY_ENCRYPTION_SECRET', 'short-kek'],
    ['SMTP_URL', 'http://mail:hunter2-smtp-password@relay.example.com'],
    ['SMTP_FROM', 'not an address'],
    ['METRICS_PORT', 'ninety'],
    ['METRICS_PORT', '70000'],
    ['METRICS_HOST', 'metrics.example'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
  ] as const) {
    it(`names ${name} when it is ${JSON.stringify(value)}, without echoing the value`, () => {
      const message = refusal({ ...configured, DATA_DIR: dataDir, [name]: value });
      expect(message).to.match(new RegExp(`^\\s*${name}\\b`, 'm'));
      // A bad DATABASE_URL or secret must not end up in a log collector through the error.
      expect(message).not.to.include(value);
    });
  }

  describe('METRICS_PORT and OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    it('has no metrics and no tracing unless asked', () => {
      expect(loadConfig({ ...configured })).to.deep.include({ metricsPort: undefined, metricsHost: '0.0.0.0', tracing: false });
      const c = loadConfig({ ...configured, METRICS_PORT: '9464', METRICS_HOST: '127.0.0.1', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
      expect(c).to.deep.include({ metricsPort: 9464, metricsHost: '127.0.0.1', tracing: true });
    });

    it('never serves /metrics on the public port', () => {
      expect(refusal({ ...configured, DATA_DIR: dataDir, PORT: '8080', METRICS_PORT: '8080' })).to.match(/^\s*METRICS_PORT\b.*public port/m);
    });
  });

  describe('WEB_CONCURRENCY', () => {
    it('is one process by default, a number of workers, or one per core with auto', () => {
      expect(loadConfig({ ...configured }).workers).to.equal(1);
      const db = 'postgres://gatehouse@db/gatehouse';
      expect(loadConfig({ ...configured, DATABASE_URL: db, WEB_CONCURRENCY: '3' }).workers).to.equal(3);
      expect(loadConfig({ ...configured, DATABASE_URL: db, WEB_CONCURRENCY: 'auto' }).workers).to.equal(availableParallelism());
    });

    it('refuses more than one worker on the embedded database, saying why', () => {
      const message = refusal({ ...configured, DATA_DIR: dataDir, WEB_CONCURRENCY: '2' });
      expect(message).to.match(/^\s*WEB_CONCURRENCY\b/m).and.to.include('DATABASE_URL').and.to.include('one process');
    });

    for (const value of ['0', '-1', '1.5', 'many']) {
      it(`refuses WEB_CONCURRENCY=${value}`, () => {
        expect(refusal({ ...configured, DATA_DIR: dataDir, WEB_CONCURRENCY: value })).to.match(/^\s*WEB_CONCURRENCY\b/m);
      });
    }
  });

  it('sends mail only with SMTP_URL, from SMTP_FROM or no-reply at the issuer', () => {
    expect(loadConfig({ ...configured, DATA_DIR: dataDir }).mail).to.equal(undefined);
    const url = 'smtps://accounts:app-password@smtp.example.com:465';
    expect(loadConfig({ ...configured, DATA_DIR: dataDir, SMTP_URL: url, ISSUER: 'https://id.example.com' }).mail).to.deep.equal({ url, from: 'Gatehouse <no-reply@id.example.com>' });
    expect(loadConfig({ ...configured, DATA_DIR: dataDir, SMTP_URL: url, SMTP_FROM: 'Example <accounts@example.com>' }).mail?.from).to.equal('Example <accounts@example.com>');
    expect(refusal({ ...configured, DATA_DIR: dataDir, SMTP_FROM: 'accounts@example.com' })).to.match(/SMTP_FROM: needs SMTP_URL/);
  });

  it('names a short secret among several COOKIE_SECRETS', () => {
    expect(refusal({ ...configured, COOKIE_SECRETS: `${COOKIE_A},too-short` })).to.include('COOKIE_SECRETS');
  });

  it('lists every bad variable at once', () => {
    const message = refusal({ ...configured, PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(message).to.include('PORT').and.to.include('LOG_LEVEL');
  });

  describe('NODE_ENV=production', () => {
    const production = { NODE_ENV: 'production', ISSUER: 'https://id.example.com', ...configured };

    for (const name of ['COOKIE_SECRETS', 'KEY_ENCRYPTION_SECRET', 'ISSUER'] as const) {
      it(`refuses to start without ${name}`, () => {
        const message = refusal({ ...production, DATA_DIR: dataDir, [name]: undefined });
        expect(message).to.include(name).and.to.include('production');
        // Never falls back to a development secret on disk.
        expect(existsSync(join(dataDir, 'dev-secrets.json'))).to.equal(false);
      });
    }

    it('starts with all three', () => {
      const c = loadConfig({ ...production, DATA_DIR: dataDir });
      expect(c.production).to.equal(true);
      expect(c.generatedSecrets).to.deep.equal([]);
    });
  });

  it('outside production, generates missing secrets into DATA_DIR and says so', () => {
    const c = loadConfig({ DATA_DIR: dataDir });
    expect(c.generatedSecrets).to.deep.equal(['COOKIE_SECRETS', 'KEY_ENCRYPTION_SECRET']);
    expect(c.cookieSecrets[0]).to.have.length.of.at.least(32);
    expect(c.keyEncryptionSecret).to.have.length.of.at.least(32);
    expect(existsSync(join(dataDir, 'dev-secrets.json'))).to.equal(true);
    const again = loadConfig({ DATA_DIR: dataDir });
    expect(again.cookieSecrets).to.deep.equal(c.cookieSecrets);
    expect(again.keyEncryptionSecret).to.equal(c.keyEncryptionSecret);
  });

  describe('COOKIE_SECRETS rotation', () => {
    it('keeps the order given, trimmed: the first signs, the rest only verify', () => {
      const c = loadConfig({ ...configured, COOKIE_SECRETS: ` ${COOKIE_B} , ${COOKIE_A} ,` });
      expect(c.cookieSecrets).to.deep.equal([COOKIE_B, COOKIE_A]);
    });

    it('a token signed before the rotation still verifies after it; new ones use the new secret', () => {
      const before = csrfTokens(loadConfig({ ...configured, COOKIE_SECRETS: COOKIE_A }).cookieSecrets);
      const after = csrfTokens(loadConfig({ ...configured, COOKIE_SECRETS: `${COOKIE_B},${COOKIE_A}` }).cookieSecrets);
      const retired = csrfTokens(loadConfig({ ...configured, COOKIE_SECRETS: COOKIE_B }).cookieSecrets);
      const old = before.issue('uid-1');
      expect(after.verify('uid-1', old)).to.equal(true);
      expect(after.issue('uid-1')).not.to.equal(old);
      expect(before.verify('uid-1', after.issue('uid-1'))).to.equal(false);
      // Once the old secret is dropped, what it signed stops verifying.
      expect(retired.verify('uid-1', old)).to.equal(false);
    });
  });
});
