/**
 * `npm run bench`: the token endpoint under load, against the real services.
 *
 * Starts the built server (dist/, NODE_ENV=production, JSON logs at info as in production) in a child
 * process on a fresh Postgres database and the local Redis, then drives it over loopback with
 * keep-alive HTTP from this process. Three flows, each bounded by a request count and a duration:
 *   - client_credentials: one token per request;
 *   - authorization_code: only the /oauth/token exchange is timed; the codes are minted first through
 *     the login and consent forms (one sign-in, then one authorization request per code);
 *   - refresh_token: one rotating chain per connection, each refresh spending the previous token.
 * Machines are noisy, so besides absolute figures it prints each flow relative to client_credentials
 * measured in the same run; those ratios are what to compare between machines and commits.
 *
 * Environment: DATABASE_URL (an admin URL; a gatehouse_bench_* database is created from it and
 * dropped after), REDIS_URL, BENCH_CONCURRENCY (8), BENCH_SECONDS per flow (10), BENCH_REQUESTS
 * per flow (4000).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { projectRoot } from '../server/paths.js';
import { createPostgresDatabase } from '../server/db/postgres.js';
import { limiterCost } from './limiter-cost.js';
import { loginFlood } from './login-flood.js';
import { type CookieJar, authorize } from '../test/support/code-flow.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONCURRENCY = positive('BENCH_CONCURRENCY', 8);
const SECONDS = positive('BENCH_SECONDS', 10);
const MAX_REQUESTS = positive('BENCH_REQUESTS', 4000);
const WARMUP_REQUESTS = 300;
/** Codes live 60 s (server/oidc/provider.ts): minting and spending them must fit in that. */
const MINT_SECONDS = Math.min(SECONDS, 20);

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

const API = 'https://orders.bench.test';
const USER = { email: 'bench@example.test', name: 'Bench User', password: randomBytes(18).toString('base64url') };
const SERVICE = { id: 'bench-service', secret: randomBytes(24).toString('base64url') };
const WEB = { id: 'bench-web', secret: randomBytes(24).toString('base64url'), redirect: 'http://127.0.0.1:9/callback' };

const seed = {
  apis: [{ identifier: API, name: 'Bench Orders API', scopes: ['orders:read', 'orders:write'] }],
  users: [USER],
  clients: [
    { client_id: SERVICE.id, client_secret: SERVICE.secret, grant_types: ['client_credentials'], scope: 'orders:read', token_endpoint_auth_method: 'client_secret_basic' },
    {
      client_id: WEB.id,
      client_secret: WEB.secret,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [WEB.redirect],
      scope: 'openid profile offline_access orders:read',
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
};

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

// ---------------------------------------------------------------------------------------------
// HTTP: one keep-alive agent with a socket per worker, so requests reuse connections as a busy
// client (or a proxy in front of the server) would.

let agent: http.Agent;
let port: number;

function postForm(path: string, form: Record<string, string>, authorization: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            /* left empty: counted as an error by the caller through the status */
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Result {
  flow: string;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);

/**
 * Runs `op` from `workers` concurrent loops until `limit` operations have started or `seconds` have
 * passed. op(worker) returns whether the response was the expected one.
 */
async function measure(flow: string, workers: number, limit: number, seconds: number, op: (worker: number) => Promise<boolean>): Promise<Result> {
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  const begin = performance.now();
  const deadline = begin + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (started < limit && performance.now() < deadline) {
        started++;
        const t0 = performance.now();
        let ok = false;
        try {
          ok = await op(worker);
        } catch {
          ok = false;
        }
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - begin) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    flow,
    requests: latencies.length,
    errors,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
  };
}

// ---------------------------------------------------------------------------------------------
// The server under test

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const p = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return p;
}

async function waitUntilReady(child: ChildProcess, stderr: () => string): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${stderr()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the server was not ready within 60 s:\n${stderr()}`);
}

function databaseUrlFor(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');

function printTable(results: Result[]) {
  const cc = results.find((r) => r.flow === 'client_credentials')!;
  const header = ['flow', 'requests', 'errors', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'req/s vs cc', 'p50 vs cc'];
  const rows = results.map((r) => [
    r.flow,
    String(r.requests),
    String(r.errors),
    r.rps.toFixed(0),
    ms(r.p50),
    ms(r.p95),
    ms(r.p99),
    ms(r.max),
    (r.rps / cc.rps).toFixed(2),
    (r.p50 / cc.p50).toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

async function main() {
  const startedAt = Date.now();
  const cpus = os.cpus();
  console.log('Gatehouse benchmark');
  console.log(`machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`);
  // Another busy process on the machine shows up here first; the ratios below are less affected.
  console.log(`load average before the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min)`);
  console.log(`node ${process.version} (server and load generator), concurrency ${CONCURRENCY}, at most ${MAX_REQUESTS} requests or ${SECONDS} s per flow`);

  console.log('building dist/ ...');
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: projectRoot, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}${built.stderr}`);

  const dbName = `gatehouse_bench_${Date.now().toString(36)}`;
  await admin((c) => c.query(`CREATE DATABASE ${dbName}`));
  const workDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-'));
  const seedFile = join(workDir, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(seed), { mode: 0o600 });

  port = await freePort();
  agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let stderr = '';
  const child = spawn(process.execPath, [join(projectRoot, 'dist', 'server', 'index.js')], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      ISSUER: `http://127.0.0.1:${port}`,
      DATABASE_URL: databaseUrlFor(dbName),
      REDIS_URL,
      DATA_DIR: workDir,
      SEED_FILE: seedFile,
      LOG_LEVEL: 'info',
      COOKIE_SECRETS: randomBytes(32).toString('base64url'),
      KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
      // The login flood (bench/login-flood.ts) sends each attempt from its own X-Forwarded-For address.
      TRUST_PROXY: 'true',
    },
    // The server's log lines are written (that cost is part of what is measured) and discarded.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  try {
    await waitUntilReady(child, () => stderr);
    console.log(`server: dist/server/index.js on 127.0.0.1:${port}, Postgres database ${dbName}, Redis ${new URL(REDIS_URL).host}`);

    const cc = () =>
      postForm('/oauth/token', { grant_type: 'client_credentials' }, basic(SERVICE.id, SERVICE.secret)).then((r) => r.status === 200 && typeof r.json.access_token === 'string');
    await measure('warm-up', CONCURRENCY, WARMUP_REQUESTS, SECONDS, cc);

    const results: Result[] = [];
    results.push(await measure('client_credentials', CONCURRENCY, MAX_REQUESTS, SECONDS, cc));

    // authorization_code: sign in once (login + consent), then mint codes with that session.
    const server = { url: `http://127.0.0.1:${port}` };
    const first = await authorize(server, { client: WEB, scope: 'openid profile orders:read', user: USER });
    const jar: CookieJar = first.jar;
    const codes: { code: string; verifier: string }[] = [{ code: first.code, verifier: first.verifier }];
    const mintDeadline = performance.now() + MINT_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (codes.length < MAX_REQUESTS && performance.now() < mintDeadline) {
          const flow = await authorize(server, { client: WEB, scope: 'openid profile orders:read', user: USER, jar });
          codes.push({ code: flow.code, verifier: flow.verifier });
        }
      }),
    );
    console.log(`minted ${codes.length} authorization codes (untimed)`);
    let next = 0;
    results.push(
      await measure('authorization_code', CONCURRENCY, codes.length, SECONDS, async () => {
        const { code, verifier } = codes[next++];
        const r = await postForm('/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: WEB.redirect, code_verifier: verifier }, basic(WEB.id, WEB.secret));
        return r.status === 200 && typeof r.json.id_token === 'string';
      }),
    );

    // refresh_token: one chain per worker, each started by a code flow with offline_access.
    const chains: string[] = [];
    for (let i = 0; i < CONCURRENCY; i++) {
      const flow = await authorize(server, { client: WEB, scope: 'openid offline_access orders:read', user: USER, jar });
      const r = await postForm('/oauth/token', { grant_type: 'authorization_code', code: flow.code, redirect_uri: WEB.redirect, code_verifier: flow.verifier }, basic(WEB.id, WEB.secret));
      if (typeof r.json.refresh_token !== 'string') throw new Error(`no refresh token to start a chain (status ${r.status})`);
      chains.push(r.json.refresh_token);
    }
    results.push(
      await measure('refresh_token', CONCURRENCY, MAX_REQUESTS, SECONDS, async (worker) => {
        const r = await postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: chains[worker] }, basic(WEB.id, WEB.secret));
        if (r.status !== 200 || typeof r.json.refresh_token !== 'string') return false;
        chains[worker] = r.json.refresh_token;
        return true;
      }),
    );

    // Issue 9: client_credentials while 50 bad sign-ins are in flight (bench/login-flood.ts).
    const flood = await loginFlood(server.url, WEB, (flow, op) => measure(flow, CONCURRENCY, MAX_REQUESTS, SECONDS, op), cc);
    results.push(flood.idle, flood.flooded);
    const benchDb = createPostgresDatabase(databaseUrlFor(dbName), { max: 2 });
    const cost = await limiterCost(benchDb, REDIS_URL).finally(() => benchDb.close());

    console.log('');
    printTable(results);
    console.log(`login flood: sign-in answers ${JSON.stringify(flood.answers)}; client_credentials p50 ${ms(flood.flooded.p50)} ms flooded vs ${ms(flood.idle.p50)} ms idle = ${(flood.flooded.p50 / flood.idle.p50).toFixed(2)}x (goal: at most 2x)`);
    console.log(
      `limits on the token path (Redis): ${cost.cachedMicros.toFixed(1)} µs per good request in the steady state, ` +
        `${cost.uncachedMicros.toFixed(0)} µs when the store is asked (once a second per client and address); ` +
        `client_credentials p50 ${ms(results[0].p50)} ms`,
    );
    console.log('');
    console.log('ratios: req/s and p50 of each flow divided by client_credentials in this run');
    const failed = results.filter((r) => r.errors);
    if (failed.length) console.log(`WARNING: unexpected responses in ${failed.map((r) => `${r.flow} (${r.errors})`).join(', ')}`);
    console.log(`total bench time ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
    if (failed.length) process.exitCode = 1;
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    if (code === 'timeout') child.kill('SIGKILL');
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch((err) => console.error(`could not drop ${dbName}: ${err.message}`));
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
