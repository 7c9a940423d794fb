import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../server/paths.js';
import { SERVICE, baseSeed, basic, postForm } from '../support/fixtures.js';
import { createTestDatabase, dropTestDatabase, freePort, usingRealServices } from '../support/server.js';
import { ENTRY, requireBuild } from '../support/process.js';

/**
 * WEB_CONCURRENCY: the server as a process of its own with two workers (node:cluster) on one
 * Postgres, run from dist/ as operators run it.
 */
const NODE = join(projectRoot, 'node_modules', '.bin', 'node');

describe('WEB_CONCURRENCY workers (needs DATABASE_URL; skipped in embedded mode)', () => {
  let child: ChildProcess;
  let out = '';
  let port: number;
  let databaseUrl: string;
  let dataDir: string;
  let exited: Promise<number | null>;

  const logLines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  const listening = () => logLines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('gatehouse listening'));

  async function until(condition: () => boolean, ms: number, what: string) {
    const started = Date.now();
    while (!condition()) {
      if (Date.now() - started > ms) throw new Error(`not ${what} within ${ms} ms:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  before(async function () {
    if (!usingRealServices) return this.skip();
    // The built server, as operators run it: three processes compiling TypeScript on the fly start
    // too slowly on a loaded machine.
    requireBuild();
    this.timeout(90_000);
    databaseUrl = (await createTestDatabase())!;
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cluster-'));
    const seedFile = join(dataDir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(baseSeed()), { mode: 0o600 });
    port = await freePort();
    child = spawn(NODE, [ENTRY], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME ?? tmpdir(),
        PORT: String(port),
        ISSUER: `http://127.0.0.1:${port}`,
        DATABASE_URL: databaseUrl,
        DATA_DIR: dataDir,
        SEED_FILE: seedFile,
        LOG_LEVEL: 'info',
        WEB_CONCURRENCY: '2',
        COOKIE_SECRETS: 'cluster-cookie-secret-0123456789abcdef0123',
        KEY_ENCRYPTION_SECRET: 'cluster-key-encryption-secret-0123456789ab',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
    exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    await until(() => listening().length >= 2, 60_000, 'two workers listening');
  });

  after(async function () {
    if (!usingRealServices) return;
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts two workers, each a full node answering token requests on the one port', async () => {
    const workers = new Set(listening().map((l) => l.worker));
    expect([...workers].sort()).to.deep.equal([1, 2]);
    // The migrations ran once, in the first worker, before the second started.
    expect(logLines().filter((l) => l.msg === 'migrations applied')).to.have.length(1);
    for (let i = 0; i < 10; i++) {
      const res = await postForm(`http://127.0.0.1:${port}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(SERVICE.id, SERVICE.secret), connection: 'close' });
      expect(res.status, res.text).to.equal(200);
    }
  });

  it('replaces a worker that dies, and stops every worker on SIGTERM', async function () {
    this.timeout(60_000);
    const before = listening().length;
    // Each worker names its process in its first line.
    const pid = listening()[0].pid as number;
    expect(pid).to.be.a('number');
    process.kill(pid, 'SIGKILL');
    await until(() => listening().length > before, 30_000, 'a replacement worker listening');
    const res = await postForm(`http://127.0.0.1:${port}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(SERVICE.id, SERVICE.secret) });
    expect(res.status).to.equal(200);

    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(logLines().filter((l) => l.msg === 'stopped').length).to.be.at.least(3);
  });
});
