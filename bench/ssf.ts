/**
 * `npm run bench:ssf`: how fast a revocation reaches resource servers through Shared Signals.
 *
 * Starts Gatehouse node A and node B (built, dist/) on a fresh Postgres database and the local Redis,
 * and two resource-server processes (bench/ssf-receiver.ts, the library with a poll stream), the first
 * streaming from node A, the second from node B. Then:
 *   1. first refusal: BENCH_TRIALS (50) times, a client is suspended through node A's Management API
 *      while both resource servers are asked, without pause, to accept a token issued to it before;
 *      the time from sending the PATCH to each one's first 401;
 *   2. restart: the first resource server is killed (SIGKILL), a user is deactivated, and it is
 *      started again: its first answer to that user's token (must be 401: caught up, no gap);
 *   3. verification cost: the library's verify() against plain jose jwtVerify on the same token and
 *      key set, alternating rounds in this process, with 10 000 revocations held.
 * Ports 4180-4183 (BENCH_SSF_PORT moves the first). DATABASE_URL, REDIS_URL as for `npm run bench`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import pg from 'pg';
import { projectRoot } from '../server/paths.js';
import { ResourceServer } from '../packages/resource-server/src/index.js';
import { type Proc, ready, running, start, stop } from './processes.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TRIALS = Number(process.env.BENCH_TRIALS ?? 50);
const BASE_PORT = Number(process.env.BENCH_SSF_PORT ?? 4180);
const API = 'https://orders.bench.test';
const secret = () => randomBytes(24).toString('base64url');
const VICTIM = { id: 'ssf-victim', secret: secret() };
const ADMIN = { id: 'ssf-admin', secret: secret() };
const RECEIVERS = [
  { id: 'ssf-rs-1', secret: secret() },
  { id: 'ssf-rs-2', secret: secret() },
];
const USER = { email: 'ssf-bench@example.test', name: 'Bench', password: secret() };
const basic = (c: { id: string; secret: string }) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function form(url: string, body: Record<string, string>, client: { id: string; secret: string }) {
  const res = await fetch(url, { method: 'POST', headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function percentiles(values: number[]) {
  const s = [...values].sort((x, y) => x - y);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  return { p50: at(50), p99: at(99), max: s[s.length - 1] };
}

const fmt = (n: number) => n.toFixed(1);

async function main() {
  const dbName = `gatehouse_bench_ssf_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const workDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-ssf-'));
  const seedFile = join(workDir, 'seed.json');
  const [aPort, bPort, rs1Port, rs2Port] = [0, 1, 2, 3].map((i) => BASE_PORT + i);
  const ISSUER = `http://127.0.0.1:${aPort}`;
  const service = (c: { id: string; secret: string }, scope: string) => ({
    client_id: c.id, client_secret: c.secret, client_name: c.id, grant_types: ['client_credentials'], redirect_uris: [], scope, token_endpoint_auth_method: 'client_secret_basic',
  });
  writeFileSync(seedFile, JSON.stringify({
    apis: [{ identifier: API, name: 'Orders', scopes: ['orders:read'] }],
    users: [USER],
    clients: [service(VICTIM, 'orders:read'), service(ADMIN, 'clients:read clients:write clients:admin users:read users:write'), ...RECEIVERS.map((r) => service(r, 'ssf:stream'))],
  }));
  const secrets = { COOKIE_SECRETS: secret() + secret(), KEY_ENCRYPTION_SECRET: secret() + secret() };
  const node = (name: string, port: number, extra: Record<string, string> = {}) =>
    start(name, [join(projectRoot, 'dist', 'server', 'index.js')], {
      PORT: String(port), ISSUER, DATABASE_URL: dbUrl.toString(), REDIS_URL, REDIS_PREFIX: `${dbName}:`, DATA_DIR: workDir, LOG_LEVEL: 'warn', ...secrets, ...extra,
    }, port);
  const receiver = (i: number, gatehousePort: number, port: number): Proc =>
    start(`resource server ${i + 1}`, ['--import', 'tsx', join(projectRoot, 'bench', 'ssf-receiver.ts')], {
      ISSUER, GATEHOUSE_URL: `http://127.0.0.1:${gatehousePort}`, AUDIENCE: API, CLIENT_ID: RECEIVERS[i].id, CLIENT_SECRET: RECEIVERS[i].secret,
      STREAM_NAME: `bench-${i + 1}`, PORT: String(port),
    }, port);

  try {
    const a = node('node A', aPort, { SEED_FILE: seedFile });
    await ready(a, '/readyz');
    const b = node('node B', bPort);
    await ready(b, '/readyz');
    let rs1 = receiver(0, aPort, rs1Port);
    const rs2 = receiver(1, bPort, rs2Port);
    const accepts = async (port: number, token: string) => (await fetch(`http://127.0.0.1:${port}/orders`, { headers: { authorization: `Bearer ${token}` } })).status;
    const adminToken = (await form(`${ISSUER}/oauth/token`, { grant_type: 'client_credentials', resource: `${ISSUER}/api/v1`, scope: 'clients:admin clients:write users:write' }, ADMIN)).json.access_token as string;
    const manage = (method: string, path: string, body?: unknown) =>
      fetch(`${ISSUER}/api/v1${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    const victimToken = async () => (await form(`http://127.0.0.1:${bPort}/oauth/token`, { grant_type: 'client_credentials', scope: 'orders:read' }, VICTIM)).json.access_token as string;
    const waitUntil = async (what: string, check: () => Promise<boolean>) => {
      const until = Date.now() + 60_000;
      while (!(await check().catch(() => false))) {
        if (Date.now() > until) throw new Error(`timed out: ${what}`);
        await sleep(50);
      }
    };
    const firstToken = await victimToken();
    await waitUntil('both resource servers answer', async () => (await accepts(rs1Port, firstToken)) === 200 && (await accepts(rs2Port, firstToken)) === 200);

    console.log(`load average at the start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} cores`);
    console.log(`\n1. first refusal after a suspension on node A (${TRIALS} trials)`);
    const times: number[][] = [[], []];
    const patchTimes: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      let token = '';
      // A token of the suspension's own second is refused by it (whole seconds): take a later one.
      await waitUntil('a fresh token accepted', async () => {
        token = await victimToken();
        return (await accepts(rs1Port, token)) === 200 && (await accepts(rs2Port, token)) === 200;
      });
      const t0 = performance.now();
      const watch = [rs1Port, rs2Port].map(async (port, i) => {
        while ((await accepts(port, token)) === 200);
        times[i].push(performance.now() - t0);
      });
      const res = await manage('PATCH', `/clients/${VICTIM.id}`, { enabled: false });
      patchTimes.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`suspend: ${res.status}`);
      await Promise.all(watch);
      await manage('PATCH', `/clients/${VICTIM.id}`, { enabled: true });
    }
    console.log('| resource server | streams from | p50 ms | p99 ms | max ms |');
    console.log('|---|---|---:|---:|---:|');
    for (const [i, from] of ['node A', 'node B'].entries()) {
      const p = percentiles(times[i]);
      console.log(`| ${i + 1} | ${from} | ${fmt(p.p50)} | ${fmt(p.p99)} | ${fmt(p.max)} |`);
    }
    const pt = percentiles(patchTimes);
    console.log(`   (the PATCH itself, until node A answered: p50 ${fmt(pt.p50)} ms, p99 ${fmt(pt.p99)} ms)`);

    console.log('\n2. restart of resource server 1 with a revocation in between');
    // As in each trial above: a token of the last re-enabling's own second is still refused, so take a later one.
    let userToken = '';
    await waitUntil('a fresh token accepted before the restart', async () => {
      userToken = await victimToken();
      return (await accepts(rs1Port, userToken)) === 200;
    });
    rs1.child.kill('SIGKILL');
    await rs1.exited;
    running.splice(running.indexOf(rs1), 1);
    const suspended = await manage('PATCH', `/clients/${VICTIM.id}`, { enabled: false });
    if (suspended.status !== 200) throw new Error(`suspend: ${suspended.status}`);
    rs1 = receiver(0, aPort, rs1Port);
    await waitUntil('resource server 1 back', async () => {
      await fetch(`http://127.0.0.1:${rs1Port}/`);
      return true;
    });
    const first = await accepts(rs1Port, userToken);
    console.log(`   first answer after the restart to a token of the client suspended while it was down: ${first} (${first === 401 ? 'refused: caught up' : 'ACCEPTED: a gap'})`);
    await manage('PATCH', `/clients/${VICTIM.id}`, { enabled: true });

    console.log('\n3. verification cost: library verify() against plain jose jwtVerify');
    const jwks = createLocalJWKSet((await (await fetch(`${ISSUER}/oauth/jwks`)).json()) as never);
    await sleep(1100);
    const token = await victimToken();
    const lib = new ResourceServer({ issuer: ISSUER, audience: API, jwks });
    for (let i = 0; i < 10_000; i++) lib.revocations.add({ client: `client-${i}` }, Math.floor(Date.now() / 1000));
    const plain = () => jwtVerify(token, jwks, { issuer: ISSUER, audience: API, typ: 'at+jwt', algorithms: ['RS256', 'PS256', 'ES256'] });
    const ours = () => lib.verify(token);
    const N = 3000;
    const run = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) await fn();
      return N / ((performance.now() - t0) / 1000);
    };
    await run(plain);
    await run(ours);
    const rates = { plain: [] as number[], ours: [] as number[] };
    // Which goes first swaps each round: the first of a pair pays for the garbage the other left behind.
    for (let round = 0; round < 6; round++) {
      if (round % 2 === 0) {
        rates.plain.push(await run(plain));
        rates.ours.push(await run(ours));
      } else {
        rates.ours.push(await run(ours));
        rates.plain.push(await run(plain));
      }
    }
    const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
    const [p, o] = [median(rates.plain), median(rates.ours)];
    console.log(`   plain jose: ${p.toFixed(0)} verifications/s; library: ${o.toFixed(0)} verifications/s (median of 6 rounds of ${N}, taking turns to go first); library costs ${(((p / o) - 1) * 100).toFixed(1)}% more per verification`);
  } finally {
    for (const proc of [...running]) await stop(proc);
    rmSync(workDir, { recursive: true, force: true });
    const cleanup = new pg.Client({ connectionString: ADMIN_URL });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await cleanup.end();
  }
}

await main();
