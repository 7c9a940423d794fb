/**
 * `npm run bench`: Gatehouse against bare oidc-provider, flow by flow, in one run on one machine.
 *
 * Starts, each in its own process:
 *   - Gatehouse node A, built (dist/), NODE_ENV=production, JSON logs at info written to /dev/null (so
 *     their cost is measured), on a fresh Postgres database and the local Redis;
 *   - Gatehouse node B on the same database (for the cross-node revocation time);
 *   - Gatehouse with WEB_CONCURRENCY=2 on the same database (for 1 against 2 workers);
 *   - bare oidc-provider (bench/bare.ts): in-memory adapter, static clients, the same signing algorithm.
 * and drives them over loopback with keep-alive HTTP from this process. Each flow runs BENCH_ROUNDS
 * times on each side, alternating in mirrored pairs (Gatehouse, bare, bare, Gatehouse, ...), so that
 * whatever else the machine is doing, and any drift over the flow's runs, falls on both; each run is
 * bounded by BENCH_SECONDS and BENCH_REQUESTS. Each row gives each server's CPU per request (from
 * /proc), and a second table splits it by thread: main, libuv's pool (signing), V8's helpers.
 *
 * Flows: client_credentials; authorization_code (only the exchange at /oauth/token is timed; codes
 * are minted first, through the login and consent pages for Gatehouse and through the library's
 * models for bare); refresh_token (one rotating chain per connection); introspection of a JWT and of
 * an API key; RFC 8693 token exchange of an API key; JWKS. Then client_credentials with one worker
 * against two, and the time from a suspension through node A's Management API to the first refusal
 * at node B (BENCH_TRIALS trials). With BENCH_PROFILE=1, a last client_credentials run under
 * `--cpu-prof` and a summary of where node A's main thread spent its time, then one under the
 * sampling heap profiler: what each request allocates, by function (bench/allocations.ts).
 *
 * Environment: DATABASE_URL (an admin URL; a gatehouse_bench_* database is created from it and
 * dropped after), REDIS_URL, BENCH_ALG (RS256), BENCH_CONCURRENCY (16), BENCH_SECONDS per run (5),
 * BENCH_REQUESTS per run (5000), BENCH_ROUNDS (2), BENCH_TRIALS (50), BENCH_PROFILE (1 or
 * client_credentials profiles that flow, refresh_token the refresh flow, JWKS the key set, a request
 * that touches no database, introspection that of a JWT), BENCH_FLOWS (a comma-separated
 * list of the flows to measure, by the names printed, plus `workers` and `revocation`; all by default),
 * BENCH_LOG_LEVEL (info: every request line is written, as in production; warn shows what they cost),
 * BENCH_PROFILE_DIR (a folder to keep the .cpuprofile files in, for Chrome DevTools or a script of
 * one's own; they are deleted after the summary otherwise).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { projectRoot } from '../server/paths.js';
import { createPostgresDatabase } from '../server/db/postgres.js';
import { limiterCost } from './limiter-cost.js';
import { loginFlood } from './login-flood.js';
import { type CookieJar, authorize } from '../test/support/code-flow.js';
import { type Allocations, compareAllocations, sampleAllocations } from './allocations.js';
import { compareProfiles, now, type ProfiledRun, summarizeProfile } from './profile.js';
import { NODE, THREAD_KINDS, type ThreadKind, cpuMs, freePort, ready, running, start, stop, storesCpu, storesCpuSince, threadCpuMs } from './processes.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ALG = (process.env.BENCH_ALG ?? 'RS256') as 'RS256' | 'ES256' | 'PS256';
const CONCURRENCY = positive('BENCH_CONCURRENCY', 16);
const SECONDS = positive('BENCH_SECONDS', 5);
const MAX_REQUESTS = positive('BENCH_REQUESTS', 5000);
const ROUNDS = positive('BENCH_ROUNDS', 2);
const TRIALS = positive('BENCH_TRIALS', 50);
const PROFILE = process.env.BENCH_PROFILE === '1' ? 'client_credentials' : process.env.BENCH_PROFILE || undefined;
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR || undefined;
const FLOWS = process.env.BENCH_FLOWS ? new Set(process.env.BENCH_FLOWS.split(',').map((f) => f.trim())) : undefined;
/** Whether a flow is measured in this run (BENCH_FLOWS narrows a run to what one is working on). */
const wanted = (flow: string) => !FLOWS || FLOWS.has(flow);
const WARMUP_REQUESTS = 500;
/**
 * Before each flow, each side runs it this many times (at most FLOW_WARMUP_SECONDS): a server's
 * JIT keeps improving for thousands of requests, and one side busy in the flows before would
 * otherwise be measured riper than one that sat idle (the embedded node, bare oidc-provider).
 */
const FLOW_WARMUP_REQUESTS = 5000;
const FLOW_WARMUP_SECONDS = 3;
/** Codes live 60 s (server/oidc/provider.ts): minting and spending them must fit in that. */
const MINT_SECONDS = 20;

if (!['RS256', 'ES256', 'PS256'].includes(ALG)) throw new Error('BENCH_ALG must be RS256, ES256 or PS256');
if (PROFILE && !['client_credentials', 'refresh_token', 'client_credentials/embedded', 'JWKS', 'introspection'].includes(PROFILE)) {
  throw new Error('BENCH_PROFILE must be 1, client_credentials, refresh_token, client_credentials/embedded, JWKS or introspection');
}

/** Copies a profile into BENCH_PROFILE_DIR, when set, as <side>-<flow>.cpuprofile. */
function keepProfile(file: string, side: 'gatehouse' | 'bare') {
  if (!PROFILE || !PROFILE_DIR) return;
  mkdirSync(PROFILE_DIR, { recursive: true });
  const kept = join(PROFILE_DIR, `${side}-${PROFILE.replace(/\W+/g, '-')}.cpuprofile`);
  copyFileSync(file, kept);
  console.log(`kept ${kept}`);
}

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

const API = 'https://orders.bench.test';
const USER = { email: 'bench@example.test', name: 'Bench User', password: randomBytes(18).toString('base64url') };
const secret = () => randomBytes(24).toString('base64url');
const SERVICE = { id: 'bench-service', secret: secret() };
const WEB = { id: 'bench-web', secret: secret(), redirect: 'http://127.0.0.1:9/callback' };
const EXCHANGER = { id: 'bench-exchange', secret: secret() };
const ADMIN = { id: 'bench-admin', secret: secret() };
const VICTIM = { id: 'bench-victim', secret: secret() };
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

const seed = {
  // The service client is the API's resource server: only it may introspect the API's tokens and keys.
  apis: [{ identifier: API, name: 'Bench Orders API', scopes: ['orders:read', 'orders:write'], resource_servers: [SERVICE.id], signing_alg: ALG }],
  users: [USER],
  clients: [
    { client_id: SERVICE.id, client_secret: SERVICE.secret, grant_types: ['client_credentials'], scope: 'orders:read' },
    {
      client_id: WEB.id,
      client_secret: WEB.secret,
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [WEB.redirect],
      scope: 'openid profile offline_access orders:read',
    },
    { client_id: EXCHANGER.id, client_secret: EXCHANGER.secret, grant_types: [TOKEN_EXCHANGE], scope: 'orders:read' },
    // Suspends and resumes VICTIM through the Management API in the revocation trials.
    // VICTIM belongs to no one (a seed made it): changing it needs clients:admin.
    { client_id: ADMIN.id, client_secret: ADMIN.secret, grant_types: ['client_credentials'], scope: 'clients:read clients:write clients:admin' },
    { client_id: VICTIM.id, client_secret: VICTIM.secret, grant_types: ['client_credentials'], scope: 'orders:read' },
  ],
};

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

// ---------------------------------------------------------------------------------------------
// HTTP: one keep-alive agent per server with a socket per concurrent loop, as a busy client (or a
// proxy in front of the server) would hold.

const agents = new Map<number, http.Agent>();
const agentFor = (port: number) => {
  let agent = agents.get(port);
  if (!agent) agents.set(port, (agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })));
  return agent;
};

interface Reply {
  status: number;
  json: Record<string, unknown>;
}

function send(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method, agent: agentFor(port), headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } },
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

const postForm = (port: number, path: string, form: Record<string, string>, authorization: string) =>
  send(port, 'POST', path, new URLSearchParams(form).toString(), { authorization, 'content-type': 'application/x-www-form-urlencoded' });

// ---------------------------------------------------------------------------------------------
// Measuring

interface Run {
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
  /** CPU time the server process used during the run (ms), where its pid is known. */
  cpuMs?: number;
  /** The same by kind of thread (main, libuv's pool, V8's helpers, other). */
  threadsMs?: Record<ThreadKind, number>;
  /** CPU time the local Postgres and Redis processes used during the run (ms), where they run here. */
  storesMs?: number;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);

/**
 * Runs `op` from CONCURRENCY loops until `limit` operations have started or SECONDS have passed.
 * op(worker) returns whether the response was the expected one.
 */
async function measure(limit: number, op: (worker: number) => Promise<boolean>, seconds = SECONDS): Promise<Run> {
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  const begin = performance.now();
  const deadline = begin + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
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
  return { requests: latencies.length, errors, seconds: (performance.now() - begin) / 1000, latencies };
}

interface Totals {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  /** The server process's own CPU per request (µs): its user + system time over the runs. */
  cpuUs?: number;
  /** cpuUs by kind of thread. */
  threadsUs?: Record<ThreadKind, number>;
  /** The local Postgres and Redis processes' CPU per request (µs), where they run on this machine. */
  storesUs?: number;
}

function total(runs: Run[]): Totals {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  return {
    requests: latencies.length,
    errors: runs.reduce((s, r) => s + r.errors, 0),
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuUs: runs.every((r) => r.cpuMs !== undefined) ? (1000 * runs.reduce((s, r) => s + r.cpuMs!, 0)) / latencies.length : undefined,
    storesUs: runs.every((r) => r.storesMs !== undefined) ? (1000 * runs.reduce((s, r) => s + r.storesMs!, 0)) / latencies.length : undefined,
    threadsUs: runs.every((r) => r.threadsMs !== undefined)
      ? (Object.fromEntries(THREAD_KINDS.map((k) => [k, (1000 * runs.reduce((s, r) => s + r.threadsMs![k], 0)) / latencies.length])) as Record<ThreadKind, number>)
      : undefined,
  };
}

/** One side of a comparison: an optional untimed preparation before each run, then the timed op. */
interface Side {
  prepare?(): Promise<number>;
  op(worker: number): Promise<boolean>;
  /** The server process answering, whose CPU time per request is reported next to its throughput. */
  pid?: number;
}

interface Row {
  flow: string;
  ours: Totals;
  baseline?: Totals;
  baselineName: string;
  note?: string;
}

/**
 * Alternates the two sides ROUNDS times each, Gatehouse first in even rounds and the baseline first in
 * odd ones, so that a machine slowing down or speeding up over a flow's runs falls on both sides
 * alike; the baseline is left out where there is none.
 */
async function compare(flow: string, ours: Side, baseline: Side | undefined, baselineName = 'bare oidc-provider', note?: string): Promise<Row | undefined> {
  if (!wanted(flow)) return undefined;
  const mine: Run[] = [];
  const theirs: Run[] = [];
  // Each side warms up right before its flow, not only at the start (FLOW_WARMUP_REQUESTS). Measured:
  // after the refresh flow, client_credentials at the embedded node cost 703 µs of CPU per request
  // against bare's 474 with no warm-up here, 604 against 461 with it. Sides that prepare each run
  // (minted codes) are left out: their operations are counted.
  for (const side of [ours, baseline]) if (side && !side.prepare) await measure(FLOW_WARMUP_REQUESTS, side.op, FLOW_WARMUP_SECONDS);
  for (let round = 0; round < ROUNDS; round++) {
    const sides = [[ours, mine], [baseline, theirs]] as const;
    for (const [side, runs] of round % 2 === 0 ? sides : [...sides].reverse()) {
      if (!side) continue;
      const limit = side.prepare ? await side.prepare() : MAX_REQUESTS;
      const cpuBefore = cpuMs(side.pid);
      const threadsBefore = threadCpuMs(side.pid);
      const storesBefore = side === ours ? storesCpu() : undefined;
      const run = await measure(Math.min(limit, MAX_REQUESTS), side.op);
      const cpuAfter = cpuMs(side.pid);
      const threadsAfter = threadCpuMs(side.pid);
      if (cpuBefore !== undefined && cpuAfter !== undefined) run.cpuMs = cpuAfter - cpuBefore;
      if (threadsBefore && threadsAfter) run.threadsMs = Object.fromEntries(THREAD_KINDS.map((k) => [k, threadsAfter[k] - threadsBefore[k]])) as Record<ThreadKind, number>;
      if (storesBefore) run.storesMs = storesCpuSince(storesBefore);
      runs.push(run);
    }
  }
  const row: Row = { flow, ours: total(mine), baseline: baseline ? total(theirs) : undefined, baselineName, note };
  const ratio = row.baseline ? ` (${(row.ours.rps / row.baseline.rps).toFixed(2)}×${cpuRatio(row) ? `; CPU per request ${cpuRatio(row)}` : ''})` : '';
  console.log(`  ${flow}: ${row.ours.rps.toFixed(0)} req/s${row.baseline ? ` against ${row.baseline.rps.toFixed(0)}` : ''}${ratio}`);
  return row;
}

function databaseUrlFor(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
const num = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '-');

function table(header: string[], rows: string[][]) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

/**
 * The baseline's CPU per request over ours: like the throughput ratio, above 1 is better, but it
 * counts only what each server process spent (not Postgres, Redis or the load generator), so other
 * work on the machine moves it far less. Gatehouse's database work in other processes is not in it.
 */
const cpuRatio = (r: Row) => (r.ours.cpuUs && r.baseline?.cpuUs ? `${(r.baseline.cpuUs / r.ours.cpuUs).toFixed(2)}×` : undefined);

/**
 * The same ratio with Gatehouse's Postgres and Redis work counted in (the baseline keeps everything
 * in its own memory): what the stores cost per request, where they share the machine.
 */
const withStoresRatio = (r: Row) =>
  r.ours.cpuUs && r.ours.storesUs !== undefined && r.baseline?.cpuUs ? `${(r.baseline.cpuUs / (r.ours.cpuUs + r.ours.storesUs)).toFixed(2)}×` : undefined;

function printComparison(rows: Row[]) {
  table(
    ['flow', 'Gatehouse req/s', 'p50 ms', 'p99 ms', 'baseline req/s', 'p50 ms', 'p99 ms', 'ratio', 'CPU µs/req (ours / baseline)', 'CPU ratio', 'Postgres + Redis µs/req', 'CPU ratio with them', 'errors (ours / baseline)'],
    rows.map((r) => [
      r.flow,
      num(r.ours.rps),
      ms(r.ours.p50),
      ms(r.ours.p99),
      r.baseline ? num(r.baseline.rps) : '-',
      r.baseline ? ms(r.baseline.p50) : '-',
      r.baseline ? ms(r.baseline.p99) : '-',
      r.baseline ? `${(r.ours.rps / r.baseline.rps).toFixed(2)}×` : '-',
      r.ours.cpuUs ? `${num(r.ours.cpuUs)} / ${r.baseline?.cpuUs ? num(r.baseline.cpuUs) : '-'}` : '-',
      cpuRatio(r) ?? '-',
      r.ours.storesUs !== undefined ? num(r.ours.storesUs) : '-',
      withStoresRatio(r) ?? '-',
      r.baseline ? `${r.ours.errors} / ${r.baseline.errors}` : String(r.ours.errors),
    ]),
  );
  for (const r of rows) if (r.note) console.log(`  ${r.flow}: ${r.note}`);

  // The CPU per request by thread: where the two sides' work differs. Signing runs on libuv's pool on
  // both; Gatehouse's own code, and most of what the library does for it, on the main thread.
  const split = rows.filter((r) => r.ours.threadsUs && r.baseline?.threadsUs);
  if (!split.length) return;
  console.log('\nCPU µs per request by thread (ours / baseline): main thread, libuv\'s pool (signing, hashing), V8\'s helpers (garbage collector, compiler), other');
  table(
    ['flow', 'main thread', 'libuv pool', 'V8 helpers', 'other'],
    split.map((r) => [r.flow, ...THREAD_KINDS.map((k) => `${num(r.ours.threadsUs![k])} / ${num(r.baseline!.threadsUs![k])}`)]),
  );
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const startedAt = Date.now();
  const cpus = os.cpus();
  console.log('Gatehouse benchmark');
  console.log(`machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`);
  // Another busy process on the machine shows up here first; the ratios below are less affected.
  console.log(`load average before the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min)`);
  const nodeVersion = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`servers on node ${nodeVersion}, load generator on node ${process.version}; ${ALG}; concurrency ${CONCURRENCY}; ${ROUNDS} alternating runs per side of at most ${MAX_REQUESTS} requests or ${SECONDS} s`);

  console.log('building dist/ ...');
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: projectRoot, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}${built.stderr}`);

  const dbName = `gatehouse_bench_${Date.now().toString(36)}`;
  await admin(ADMIN_URL, (c) => c.query(`CREATE DATABASE ${dbName}`));
  const databaseUrl = databaseUrlFor(dbName);
  const workDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-'));
  const seedFile = join(workDir, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(seed), { mode: 0o600 });
  const issuerPort = await freePort();
  const ISSUER = `http://127.0.0.1:${issuerPort}`;
  const secrets = { COOKIE_SECRETS: randomBytes(32).toString('base64url'), KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url') };
  const gatehouseEnv = (port: number, extra: Record<string, string> = {}) => ({
    NODE_ENV: 'production',
    PORT: String(port),
    // Every node serves one issuer, as behind a load balancer; tokens from one verify at the others.
    ISSUER,
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    DATA_DIR: workDir,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'info',
    // The login flood (bench/login-flood.ts) sends each attempt from its own X-Forwarded-For address.
    TRUST_PROXY: 'true',
    ...secrets,
    ...extra,
  });
  const gatehouse = (name: string, port: number, extra: Record<string, string> = {}, nodeArgs: string[] = []) =>
    start(name, [...nodeArgs, join(projectRoot, 'dist', 'server', 'index.js')], gatehouseEnv(port, extra), port);

  const cleanups: (() => void)[] = [];
  // Node A serves /metrics (README "Metrics"), so the figures below include what the metrics cost,
  // and the run shows its token counters moving.
  const metricsPort = await freePort();
  const tokenCounters = async () => {
    const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    return text.split('\n').filter((l) => l.startsWith('gatehouse_token_requests_total'));
  };
  try {
    const a = gatehouse('node A', issuerPort, { SEED_FILE: seedFile, METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1' });
    await ready(a, '/readyz');
    const [bPort, twoPort, barePort, helperPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const b = gatehouse('node B', bPort);
    const two = gatehouse('two workers', twoPort, { WEB_CONCURRENCY: '2' });
    const startBare = (name: string, port: number, helper: number, nodeArgs: string[] = []) =>
      start(
        name,
        [...nodeArgs, '--import', 'tsx', join(projectRoot, 'bench', 'bare.ts')],
        {
          PORT: String(port),
          HELPER_PORT: String(helper),
          BENCH_ALG: ALG,
          BENCH_API: API,
          BENCH_REDIRECT: WEB.redirect,
          BENCH_SERVICE_SECRET: SERVICE.secret,
          BENCH_WEB_SECRET: WEB.secret,
        },
        port,
      );
    const bare = startBare('bare oidc-provider', barePort, helperPort);
    // The embedded default (PGlite in its own data folder, no Redis): what `npm start` runs.
    const embeddedPort = await freePort();
    const embeddedDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-embedded-'));
    const embedded = start(
      'embedded',
      [join(projectRoot, 'dist', 'server', 'index.js')],
      (({ DATABASE_URL: _db, REDIS_URL: _redis, ...rest }) => ({ ...rest, ISSUER: `http://127.0.0.1:${embeddedPort}`, DATA_DIR: embeddedDir, SEED_FILE: seedFile }))(gatehouseEnv(embeddedPort)),
      embeddedPort,
    );
    cleanups.push(() => rmSync(embeddedDir, { recursive: true, force: true }));
    await Promise.all([ready(b, '/readyz'), ready(two, '/readyz'), ready(bare, '/oauth/jwks'), ready(embedded, '/readyz')]);
    console.log(`Gatehouse: dist/server/index.js, Postgres database ${dbName}, Redis ${new URL(REDIS_URL).host}; node A :${a.port}, node B :${b.port}, two workers :${two.port}; embedded :${embedded.port}; bare :${bare.port}`);

    // An API key of the bench user, made with the CLI as an operator would.
    const cli = spawnSync(NODE, [join(projectRoot, 'dist', 'server', 'cli', 'index.js'), 'api-keys', 'create', '--user', USER.email, '--name', 'bench', '--scope', 'orders:read', '--json'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, ...gatehouseEnv(0) },
      encoding: 'utf8',
    });
    if (cli.status !== 0) throw new Error(`could not create an API key:\n${cli.stdout}${cli.stderr}`);
    const apiKey = (JSON.parse(cli.stdout) as { key: string }).key;

    // ------------------------------------------------------------------------------- flows
    const cc = (port: number, client = SERVICE) => () =>
      postForm(port, '/oauth/token', { grant_type: 'client_credentials' }, basic(client.id, client.secret)).then((r) => r.status === 200 && typeof r.json.access_token === 'string');
    console.log('warming up ...');
    for (const port of [a.port, bare.port, two.port, b.port, embedded.port]) await measure(WARMUP_REQUESTS, cc(port));

    console.log('measuring (Gatehouse node A against bare oidc-provider, alternating):');
    const rows: Row[] = [];
    const add = (row: Row | undefined) => row && rows.push(row);
    const countersBefore = await tokenCounters();
    add(await compare('client_credentials', { op: cc(a.port), pid: a.child.pid }, { op: cc(bare.port), pid: bare.child.pid }));
    console.log(`  node A's /metrics before and after the client_credentials runs:\n    ${countersBefore.join('\n    ') || '(no token request counted yet)'}\n    ->\n    ${(await tokenCounters()).join('\n    ')}`);

    // authorization_code. Gatehouse: sign in once, then one authorization request per code through
    // the pages with that session. Bare: codes made with the library's models. Same count each run.
    // Both sides answer with the same three tokens (access, ID and refresh token): Gatehouse issues a
    // refresh token to every client allowed the grant (server/oidc/provider.ts issueRefreshToken),
    // the library by default only with offline_access, which the codes of both sides therefore carry.
    const CODE_SCOPE = 'openid profile offline_access orders:read';
    const server = { url: `http://127.0.0.1:${a.port}` };
    // One browser per loop: offline_access asks for consent (an interaction) on every request, and
    // concurrent interactions in one browser would replace each other's cookies.
    const browsers: (CookieJar | undefined)[] = Array.from({ length: CONCURRENCY }, () => undefined);
    let gatehouseCodes: { code: string; verifier: string }[] = [];
    let bareCodes: { code: string; verifier: string }[] = [];
    let minted = 0;
    const mintGatehouse = async () => {
      const codes: { code: string; verifier: string }[] = [];
      const deadline = performance.now() + MINT_SECONDS * 1000;
      await Promise.all(
        browsers.map(async (_, i) => {
          while (codes.length < MAX_REQUESTS && performance.now() < deadline) {
            const flow = await authorize(server, { client: WEB, scope: CODE_SCOPE, user: USER, jar: browsers[i] });
            browsers[i] = flow.jar;
            codes.push({ code: flow.code, verifier: flow.verifier });
          }
        }),
      );
      return codes;
    };
    const mintBare = async (n: number, scope: string, helper = helperPort) => {
      const res = await fetch(`http://127.0.0.1:${helper}/codes?n=${n}&scope=${encodeURIComponent(scope)}`);
      if (res.status !== 200) throw new Error(`bare could not mint codes: ${await res.text()}`);
      return (await res.json()) as { code: string; verifier: string }[];
    };
    const exchange = (side: string, port: number, codes: () => { code: string; verifier: string }[]) => {
      let next = 0;
      let reported = false;
      return {
        reset: () => (next = 0),
        op: async () => {
          const { code, verifier } = codes()[next++];
          const r = await postForm(port, '/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: WEB.redirect, code_verifier: verifier }, basic(WEB.id, WEB.secret));
          const ok = r.status === 200 && ['access_token', 'id_token', 'refresh_token'].every((t) => typeof r.json[t] === 'string');
          if (!ok && !reported) {
            reported = true;
            console.log(`  ${side}: unexpected code exchange answer ${r.status} ${JSON.stringify(r.json)}`);
          }
          return ok;
        },
      };
    };
    const ghExchange = exchange('Gatehouse', a.port, () => gatehouseCodes);
    const bareExchange = exchange('bare', bare.port, () => bareCodes);
    add(await compare(
        'authorization_code',
        {
          prepare: async () => {
            gatehouseCodes = await mintGatehouse();
            minted = gatehouseCodes.length;
            ghExchange.reset();
            return minted;
          },
          op: ghExchange.op,
          pid: a.child.pid,
        },
        {
          prepare: async () => {
            bareCodes = await mintBare(minted, CODE_SCOPE);
            bareExchange.reset();
            return bareCodes.length;
          },
          op: bareExchange.op,
          pid: bare.child.pid,
        },
      ),
    );

    // refresh_token: one rotating chain per loop, each refresh spending the previous token.
    /** One refresh chain per loop at a Gatehouse node, each started by a sign-in and a code exchange. */
    const chainsAt = async (port: number, signedIn?: CookieJar) => {
      const chains: string[] = [];
      let browser = signedIn;
      for (let i = 0; i < CONCURRENCY; i++) {
        const flow = await authorize({ url: `http://127.0.0.1:${port}` }, { client: WEB, scope: 'openid offline_access orders:read', user: USER, jar: browser });
        browser = flow.jar;
        const r = await postForm(port, '/oauth/token', { grant_type: 'authorization_code', code: flow.code, redirect_uri: WEB.redirect, code_verifier: flow.verifier }, basic(WEB.id, WEB.secret));
        if (typeof r.json.refresh_token !== 'string') throw new Error(`Gatehouse: no refresh token to start a chain (status ${r.status})`);
        chains.push(r.json.refresh_token);
      }
      return chains;
    };
    const gatehouseChains = await chainsAt(a.port, browsers[0]);
    /** One refresh chain per loop (and one token more) at a bare oidc-provider, from codes its helper mints. */
    const bareChainsAt = async (port: number, helper: number) => {
      const chains: string[] = [];
      for (const { code, verifier } of await mintBare(CONCURRENCY + 1, 'openid offline_access orders:read', helper)) {
        const r = await postForm(port, '/oauth/token', { grant_type: 'authorization_code', code, redirect_uri: WEB.redirect, code_verifier: verifier }, basic(WEB.id, WEB.secret));
        if (typeof r.json.refresh_token !== 'string') throw new Error(`bare: no refresh token to start a chain (status ${r.status})`);
        chains.push(r.json.refresh_token);
      }
      return chains;
    };
    const bareChains = await bareChainsAt(bare.port, helperPort);
    // The last bare refresh token is kept unspent for the introspection baseline below.
    const bareOpaque = bareChains.pop()!;
    const refresh = (port: number, chains: string[]) => async (worker: number) => {
      const r = await postForm(port, '/oauth/token', { grant_type: 'refresh_token', refresh_token: chains[worker] }, basic(WEB.id, WEB.secret));
      if (r.status !== 200 || typeof r.json.refresh_token !== 'string') return false;
      chains[worker] = r.json.refresh_token;
      return true;
    };
    add(await compare('refresh_token', { op: refresh(a.port, gatehouseChains), pid: a.child.pid }, { op: refresh(bare.port, bareChains), pid: bare.child.pid }));
    // The embedded default against the same baseline.
    add(await compare('client_credentials/embedded', { op: cc(embedded.port), pid: embedded.child.pid }, { op: cc(bare.port), pid: bare.child.pid }));
    if (wanted('refresh_token/embedded')) {
      const embeddedChains = await chainsAt(embedded.port);
      add(await compare('refresh_token/embedded', { op: refresh(embedded.port, embeddedChains), pid: embedded.child.pid }, { op: refresh(bare.port, bareChains), pid: bare.child.pid }));
    }

    // Introspection (RFC 7662). oidc-provider answers only for what it stores and refuses JWTs
    // (unsupported_token_type), so its closest operation is introspecting a stored opaque token.
    const jwt = (await postForm(a.port, '/oauth/token', { grant_type: 'client_credentials' }, basic(SERVICE.id, SERVICE.secret))).json.access_token as string;
    const introspect = (port: number, token: string, client: { id: string; secret: string }) => () =>
      postForm(port, '/oauth/introspect', { token }, basic(client.id, client.secret)).then((r) => r.status === 200 && r.json.active === true);
    add(await compare('introspection, JWT', { op: introspect(a.port, jwt, SERVICE), pid: a.child.pid }, { op: introspect(bare.port, bareOpaque, WEB), pid: bare.child.pid }, 'bare oidc-provider', 'the baseline introspects a stored refresh token: oidc-provider refuses to introspect JWTs'),
    );
    add(await compare('introspection, API key', { op: introspect(a.port, apiKey, SERVICE) }, undefined, '', 'no baseline: oidc-provider has no API keys'));
    add(await compare(
        'token exchange (API key)',
        {
          op: () =>
            postForm(
              a.port,
              '/oauth/token',
              { grant_type: TOKEN_EXCHANGE, subject_token: apiKey, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', resource: API },
              basic(EXCHANGER.id, EXCHANGER.secret),
            ).then((r) => r.status === 200 && typeof r.json.access_token === 'string'),
        },
        undefined,
        '',
        'no baseline: oidc-provider 9 has no RFC 8693 grant built in',
      ),
    );
    const jwks = (port: number) => () => send(port, 'GET', '/oauth/jwks').then((r) => r.status === 200 && Array.isArray(r.json.keys));
    add(await compare('JWKS', { op: jwks(a.port), pid: a.child.pid }, { op: jwks(bare.port), pid: bare.child.pid }));

    if (wanted('workers')) console.log('measuring client_credentials with two workers against one (WEB_CONCURRENCY):');
    const workers = wanted('workers') ? await compare('client_credentials, 2 workers vs 1', { op: cc(two.port) }, { op: cc(a.port) }, 'one worker (node A)') : undefined;

    // ------------------------------------------------------------------ revocation across nodes
    if (wanted('revocation')) console.log(`measuring the time from a suspension on node A to the first refusal at node B (${TRIALS} trials) ...`);
    const adminToken = (await postForm(a.port, '/oauth/token', { grant_type: 'client_credentials', scope: 'clients:write clients:admin' }, basic(ADMIN.id, ADMIN.secret))).json.access_token;
    if (typeof adminToken !== 'string') throw new Error('no Management API token for the admin client');
    const setEnabled = async (enabled: boolean) => {
      const r = await send(a.port, 'PATCH', `/api/v1/clients/${VICTIM.id}`, JSON.stringify({ enabled }), {
        authorization: `Bearer ${adminToken}`,
        'content-type': 'application/json',
      });
      if (r.status !== 200) throw new Error(`PATCH enabled=${enabled}: ${r.status} ${JSON.stringify(r.json)}`);
    };
    const victimAt = (port: number) => postForm(port, '/oauth/token', { grant_type: 'client_credentials' }, basic(VICTIM.id, VICTIM.secret)).then((r) => r.status);
    const operator = new pg.Client({ connectionString: databaseUrl });
    // If a trial fails, the cleanup below drops the database WITH (FORCE), which ends this connection:
    // without a listener that 'error' event would end the process and hide the failure itself.
    operator.on('error', () => undefined);
    await operator.connect();
    /**
     * One trial: node B is polled without pause from the moment `revoke` starts until it refuses the
     * client; returns that time. The resolution is one token request at node B.
     */
    const trial = async (revoke: () => Promise<unknown>): Promise<number> => {
      if ((await victimAt(b.port)) !== 200) throw new Error('node B refuses the client before the trial');
      const t0 = performance.now();
      let refusedAt: number | undefined;
      const poll = (async () => {
        while (refusedAt === undefined) {
          const status = await victimAt(b.port);
          if (status === 401) refusedAt = performance.now();
          else if (status !== 200) throw new Error(`node B answered ${status}`);
          else if (performance.now() - t0 > 10_000) throw new Error('node B still issues tokens 10 s after the suspension');
        }
      })();
      // A failed poll (node B dropping a connection under load) is thrown by `await poll` below, into
      // main's cleanup; left unobserved while revoke() runs, it would end the process with every
      // server it started still running.
      poll.catch(() => undefined);
      await revoke();
      await poll;
      return refusedAt! - t0;
    };
    const resume = async () => {
      await setEnabled(true);
      const t1 = performance.now();
      while ((await victimAt(b.port)) !== 200) if (performance.now() - t1 > 10_000) throw new Error('node B did not see the client resumed');
    };
    const viaApi: number[] = [];
    const viaSql: number[] = [];
    for (let i = 0; i < (wanted('revocation') ? TRIALS : 0); i++) {
      viaApi.push(await trial(() => setEnabled(false)));
      await resume();
      viaSql.push(await trial(() => operator.query('UPDATE clients SET enabled = false WHERE client_id = $1', [VICTIM.id])));
      await resume();
    }
    await operator.end();
    for (const times of [viaApi, viaSql]) times.sort((x, y) => x - y);

    // ------------------------------------------------------------------------------ profile
    let profileSummary: string | undefined;
    if (PROFILE) {
      const onEmbedded = PROFILE.endsWith('/embedded');
      console.log(`profiling ${onEmbedded ? 'an embedded node (a data folder of its own)' : 'a node like node A'} under ${PROFILE} load (--cpu-prof) ...`);
      const dir = mkdtempSync(join(os.tmpdir(), 'gatehouse-profile-'));
      const profPort = await freePort();
      // The inspector (loopback only) is for the allocation sampling that follows the CPU profile.
      const inspectPort = await freePort();
      const profArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--inspect=127.0.0.1:${inspectPort}`];
      const prof = onEmbedded
        ? start(
            'profiled embedded node',
            [...profArgs, join(projectRoot, 'dist', 'server', 'index.js')],
            (({ DATABASE_URL: _db, REDIS_URL: _redis, ...rest }) => ({ ...rest, ISSUER: `http://127.0.0.1:${profPort}`, DATA_DIR: join(dir, 'data'), SEED_FILE: seedFile }))(gatehouseEnv(profPort)),
            profPort,
          )
        : gatehouse('profiled node', profPort, {}, profArgs);
      await ready(prof, '/readyz');
      // The refresh chains live in the database the profiled node shares: it carries them on.
      const loads: Record<string, () => (worker: number) => Promise<boolean>> = {
        refresh_token: () => refresh(prof.port, gatehouseChains),
        JWKS: () => jwks(prof.port),
        introspection: () => introspect(prof.port, jwt, SERVICE),
      };
      // Each profiled side is warmed up, then run once at length. Only that run is summarised (its
      // window on the clock the samples carry), so the start-up before it and the shutdown after it
      // are not counted against its requests.
      // Its main thread's CPU time over the run too (/proc), which the samples only approximate.
      const profiledRun = async (op: (worker: number) => Promise<boolean>, pid: number | undefined): Promise<ProfiledRun> => {
        await measure(WARMUP_REQUESTS, op);
        const from = now();
        const before = threadCpuMs(pid)?.main;
        const { requests } = await measure(3 * MAX_REQUESTS, op, 3 * SECONDS);
        const after = threadCpuMs(pid)?.main;
        return { requests, window: { from, to: now() }, mainCpuMs: before !== undefined && after !== undefined ? after - before : undefined };
      };
      // Then, on the same warm process, what each request allocates (bench/allocations.ts).
      const allocationRun = (port: number, op: (worker: number) => Promise<boolean>) =>
        sampleAllocations(port, async () => (await measure(MAX_REQUESTS, op, SECONDS)).requests);
      const oursOp = (loads[PROFILE] ?? (() => cc(prof.port)))();
      const ours = await profiledRun(oursOp, prof.child.pid);
      const oursAllocations = await allocationRun(inspectPort, oursOp);
      await stop(prof);
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      profileSummary = file ? summarizeProfile(join(dir, file), ours, PROFILE) : 'no profile was written';
      // The same load on a profiled bare oidc-provider, where it has the same operation: what
      // Gatehouse spends beyond the library, function by function.
      const bareLoads: Record<string, (port: number, helper: number) => Promise<(worker: number) => Promise<boolean>>> = {
        client_credentials: async (port) => cc(port),
        'client_credentials/embedded': async (port) => cc(port),
        JWKS: async (port) => jwks(port),
        // Chains of its own, started before the measured runs as Gatehouse's were.
        refresh_token: async (port, helper) => refresh(port, await bareChainsAt(port, helper)),
      };
      let bareAllocations: Allocations | undefined;
      if (file && bareLoads[PROFILE]) {
        const bareDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-profile-bare-'));
        const [profiledHelper, bareInspectPort] = [await freePort(), await freePort()];
        const profiledBare = startBare('profiled bare oidc-provider', await freePort(), profiledHelper, ['--cpu-prof', `--cpu-prof-dir=${bareDir}`, `--inspect=127.0.0.1:${bareInspectPort}`]);
        await ready(profiledBare, '/oauth/jwks');
        const bareOp = await bareLoads[PROFILE](profiledBare.port, profiledHelper);
        const bare = await profiledRun(bareOp, profiledBare.child.pid);
        bareAllocations = await allocationRun(bareInspectPort, bareOp);
        await stop(profiledBare);
        const bareFile = readdirSync(bareDir).find((f) => f.endsWith('.cpuprofile'));
        if (bareFile) {
          profileSummary += `\n${compareProfiles({ file: join(dir, file), ...ours }, { file: join(bareDir, bareFile), ...bare })}`;
          keepProfile(join(bareDir, bareFile), 'bare');
        }
        rmSync(bareDir, { recursive: true, force: true });
      }
      profileSummary += `\n${compareAllocations(oursAllocations, bareAllocations)}`;
      if (file) keepProfile(join(dir, file), 'gatehouse');
      rmSync(dir, { recursive: true, force: true });
    }

    // ------------------------------------------------------------------------------- report
    console.log('');
    printComparison(rows);
    console.log('');
    if (workers) {
      table(
        ['client_credentials', 'req/s', 'p50 ms', 'p99 ms', 'ratio'],
        [
          ['WEB_CONCURRENCY=2', num(workers.ours.rps), ms(workers.ours.p50), ms(workers.ours.p99), `${(workers.ours.rps / workers.baseline!.rps).toFixed(2)}×`],
          ['WEB_CONCURRENCY=1', num(workers.baseline!.rps), ms(workers.baseline!.p50), ms(workers.baseline!.p99), '1.00×'],
        ],
      );
      console.log('');
    }
    if (viaApi.length) {
      console.log(`from a suspension to the first refusal at node B, ${TRIALS} trials each (node B polled without pause; resolution one token request):`);
      table(
        ['suspended through', 'p50 ms', 'p99 ms', 'max ms'],
        [
          ['node A’s Management API (PATCH sent)', ms(percentile(viaApi, 50)), ms(percentile(viaApi, 99)), ms(viaApi.at(-1)!)],
          ['plain SQL, as the CLI or psql (UPDATE sent)', ms(percentile(viaSql, 50)), ms(percentile(viaSql, 99)), ms(viaSql.at(-1)!)],
        ],
      );
    }
    if (profileSummary) console.log(`\n${profileSummary}`);
    const failed = [...rows, ...(workers ? [workers] : [])].filter((r) => r.ours.errors || r.baseline?.errors);
    if (failed.length) console.log(`WARNING: unexpected responses in ${failed.map((r) => r.flow).join(', ')}`);
    console.log(`total bench time ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
    if (failed.length) process.exitCode = 1;
  } finally {
    for (const agent of agents.values()) agent.destroy();
    for (const proc of [...running]) await stop(proc);
    for (const cleanup of cleanups) cleanup();
    await admin(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)).catch((err) => console.error(`could not drop ${dbName}: ${err.message}`));
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
