import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMigrations } from '../../server/db/migrate.js';
import { projectRoot } from '../../server/paths.js';
import { SERVICE, baseSeed, basic } from '../support/fixtures.js';

import { MIGRATE, NODE, type Running, baseEnv, freePort, requireBuild, runServerProcess as run } from '../support/process.js';

/**
 * The built server as it runs in production: `node dist/server/index.js` in its own process, in
 * embedded mode, stopped with SIGTERM the way an orchestrator stops it. The Node binary is the one
 * the `node` package brings (24), not whatever is on the machine.
 */
/** A stack frame as Node prints it: "    at fn (file.js:1:2)" or "    at file.js:1:2". */
const STACK_FRAME = /^\s+at .*:\d+:\d+\)?$/m;

/**
 * A token request whose body arrives in two parts. `Expect: 100-continue` makes the server answer
 * "continue" once it has parsed the headers and handed the request to the app, so `started`
 * resolves when the request is really in flight; `finish` sends the rest of the body.
 */
function slowTokenRequest(port: number) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read' }).toString();
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/oauth/token',
    agent: false,
    headers: {
      authorization: basic(SERVICE.id, SERVICE.secret),
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(body),
      expect: '100-continue',
    },
  });
  const started = new Promise<void>((resolve, reject) => {
    req.once('continue', () => {
      req.write(body.slice(0, 10));
      resolve();
    });
    req.once('error', reject);
  });
  const response = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      res.on('error', reject);
    });
    req.once('error', reject);
  });
  req.flushHeaders();
  return { started, response, finish: () => req.end(body.slice(10)) };
}

function connect(port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('the built server process (dist, embedded mode)', function () {
  this.timeout(120_000);
  const cleanup: string[] = [];

  before(requireBuild);
  after(() => {
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  });

  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-proc-'));
    cleanup.push(dir);
    return dir;
  };

  describe('SIGTERM', () => {
    let server: Running;
    let issued: string[] = [];
    let shutdown: { inFlight: { status: number; json: Record<string, unknown> }[]; refusedWhileDraining: string; exit: { code: number | null; signal: string | null } };

    before(async () => {
      const dataDir = tempDir();
      const seedFile = join(dataDir, 'seed.json');
      writeFileSync(seedFile, JSON.stringify(baseSeed()));
      server = run(dataDir, await freePort(), { SEED_FILE: seedFile });
      await server.waitForLog(/gatehouse listening/, 60_000);

      // A few ordinary requests first, one with a request id from "the proxy".
      for (const requestId of ['proxy-req-1', undefined]) {
        const res = await fetch(`http://127.0.0.1:${server.port}/oauth/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials' }),
          headers: { authorization: basic(SERVICE.id, SERVICE.secret), ...(requestId ? { 'x-request-id': requestId } : {}) },
        });
        expect(res.status).to.equal(200);
        if (requestId) expect(res.headers.get('x-request-id')).to.equal(requestId);
        issued.push(((await res.json()) as { access_token: string }).access_token);
      }

      const slow = [1, 2, 3].map(() => slowTokenRequest(server.port));
      await Promise.all(slow.map((s) => s.started));
      server.child.kill('SIGTERM');
      await server.waitForLog(/shutting down/, 10_000);
      // The listener closes just after that line is written, so a connection attempted at once may
      // still slip into the accept queue (and be reset). Try until refused: it must happen while
      // the requests in flight are still open, since they cannot finish before we send the rest.
      let refusedWhileDraining = await connect(server.port);
      for (let attempt = 0; attempt < 50 && refusedWhileDraining !== 'ECONNREFUSED'; attempt++) {
        await new Promise((r) => setTimeout(r, 100));
        refusedWhileDraining = await connect(server.port);
      }
      for (const s of slow) s.finish();
      const inFlight = await Promise.all(slow.map((s) => s.response));
      issued = [...issued, ...inFlight.map((r) => r.json.access_token as string)];
      // The bound is the liveness of shutdown (the server forces connections shut after 10 s), not
      // a performance figure.
      const exit = await Promise.race([
        server.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still running 15 s after SIGTERM')), 15_000)),
      ]);
      shutdown = { inFlight, refusedWhileDraining, exit };
    });
    after(() => {
      if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    });

    it('finishes the requests in flight', () => {
      for (const r of shutdown.inFlight) {
        expect(r.status).to.equal(200);
        expect(r.json.access_token).to.be.a('string');
      }
    });

    it('refuses new connections once draining, and after it exits', async () => {
      expect(shutdown.refusedWhileDraining).to.equal('ECONNREFUSED');
      expect(await connect(server.port)).to.equal('ECONNREFUSED');
    });

    it('exits 0, by itself, after logging that it stopped', () => {
      expect(shutdown.exit).to.deep.equal({ code: 0, signal: null });
      const messages = server.stdout().trim().split('\n').map((l) => JSON.parse(l).msg);
      // The three drained requests are logged between the two.
      expect(messages.at(-1)).to.equal('stopped');
      expect(messages.slice(-5, -4)).to.deep.equal(['shutting down: draining in-flight requests']);
      expect(messages.slice(-4, -1)).to.deep.equal(['request', 'request', 'request']);
    });

    it('prints no runtime warning and no stack trace', () => {
      for (const output of [server.stdout(), server.stderr()]) {
        expect(output).not.to.include('Unsupported runtime');
        expect(output).not.to.match(STACK_FRAME);
      }
      expect(server.stderr().trim()).to.equal('');
    });

    it('writes JSON lines, with a request id on every request line', () => {
      const lines = server.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const requests = lines.filter((l) => l.msg === 'request');
      expect(requests).to.have.length(5);
      for (const r of requests) {
        expect(r.reqId).to.be.a('string').and.not.equal('');
        expect(r).to.include({ method: 'POST', path: '/oauth/token', status: 200 });
      }
      expect(requests.map((r) => r.reqId)).to.include('proxy-req-1');
      expect(new Set(requests.map((r) => r.reqId)).size).to.equal(5);
    });

    it('logs no secret or token', () => {
      const output = server.stdout() + server.stderr();
      expect(output).not.to.include(SERVICE.secret);
      expect(output).not.to.include(Buffer.from(`${SERVICE.id}:${SERVICE.secret}`).toString('base64'));
      for (const token of issued) expect(output).not.to.include(token);
    });
  });

  describe('npm run migrate (dist/server/cli/migrate.js)', () => {
    const migrateIn = (dataDir: string) =>
      spawnSync(NODE, [MIGRATE], { cwd: projectRoot, env: baseEnv({ DATA_DIR: dataDir }), encoding: 'utf8' });

    it('applies every migration to the embedded database, then has nothing to do', () => {
      const dataDir = tempDir();
      const first = migrateIn(dataDir);
      expect(first.status, first.stderr).to.equal(0);
      const line = JSON.parse(first.stdout.trim().split('\n').pop()!);
      expect(line.applied).to.deep.equal(readMigrations().map((m) => m.version));

      const second = migrateIn(dataDir);
      expect(second.status, second.stderr).to.equal(0);
      expect(JSON.parse(second.stdout.trim().split('\n').pop()!).msg).to.equal('database is up to date');
    });

    it('refuses a bad DATABASE_URL by name, exiting 1 without a stack trace', () => {
      const res = spawnSync(NODE, [MIGRATE], {
        cwd: projectRoot,
        env: baseEnv({ DATA_DIR: tempDir(), DATABASE_URL: 'mysql://root:hunter2@db/gatehouse' }),
        encoding: 'utf8',
      });
      expect(res.status).to.equal(1);
      expect(res.stderr).to.include('DATABASE_URL').and.not.include('hunter2');
      expect(res.stderr).not.to.match(STACK_FRAME);
    });
  });
});
