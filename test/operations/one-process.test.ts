import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirInUseError } from '../../server/db/data-dir-lock.js';
import { SERVICE, basic, postForm } from '../support/fixtures.js';
import { CLI, baseEnv, freePort, requireBuild, runProcess, runServerProcess } from '../support/process.js';
import { setUp, type ManagementApi } from '../support/setup.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * One process per embedded database (issue 11 item 5). PGlite keeps the database in the memory of
 * the process that opened it, so a second process on the same DATA_DIR (the CLI while the server
 * runs, a second server) would work on a copy and overwrite the server's changes when it closes.
 * It is refused at once instead, with the holder's pid and what to do, and it changes nothing.
 * Embedded mode on purpose, in both CI passes: that is where the folder is shared.
 */
const SECRETS = {
  COOKIE_SECRETS: 'one-process-cookie-secret-0123456789abcdef',
  KEY_ENCRYPTION_SECRET: 'one-process-key-encryption-secret-0123456789',
};

describe('one process per embedded database', function () {
  this.timeout(120_000);
  let dataDir: string;
  let server: TestServer | undefined;
  let admin: ManagementApi;

  before(requireBuild);
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-one-process-'));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The real `gatehouse` command (dist/, as package.json "bin" runs it) on this DATA_DIR, embedded. */
  const gatehouse = (...args: string[]) => runProcess(CLI, args, { env: baseEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...SECRETS }) });

  /** A client made through the Management API of the running server: the state that must survive. */
  async function clientMadeWhileRunning(): Promise<{ client_id: string; client_secret: string }> {
    const res = await admin.post('/clients', { client_name: 'Made while running', type: 'service', scope: 'orders:read' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body;
  }

  async function startEmbedded(): Promise<TestServer> {
    const setup = await setUp({ admin: true, start: { embedded: true, dataDir, env: SECRETS } });
    admin = setup.admin;
    return setup.server;
  }

  it('refuses the CLI beside a running server, naming the server, and loses nothing', async () => {
    server = await startEmbedded();
    const made = await clientMadeWhileRunning();

    // A write and a read, as JSON for scripts and as text for people: each refused, exit status 1.
    const create = await gatehouse('clients', 'create', '--name', 'From the CLI', '--grant-type', 'client_credentials', '--scope', 'orders:read', '--json');
    expect(create.code, create.stderr).to.equal(1);
    expect(create.stdout).to.equal('');
    const refusal = JSON.parse(create.stderr) as { error: string; error_description: string };
    expect(refusal.error).to.equal('data_dir_in_use');
    expect(refusal.error_description)
      .to.include(`process ${process.pid}`)
      .and.include(`the Gatehouse server (${server.issuer})`)
      .and.include('Management API')
      .and.include(`kill -TERM ${process.pid}`);
    const list = await gatehouse('clients', 'list');
    expect(list.code).to.equal(1);
    expect(list.stderr).to.match(/^gatehouse: the embedded database in .* is in use by process \d+/);

    // The server still has everything and still works: its client gets tokens, and nothing was added.
    const listed = (await admin.get('/clients')).body.data as { client_id: string; client_name: string }[];
    expect(listed.map((c) => c.client_id)).to.include(made.client_id);
    expect(listed.map((c) => c.client_name)).not.to.include('From the CLI');
    const token = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(made.client_id, made.client_secret) });
    expect(token.status, token.text).to.equal(200);

    // Once the server stops, the folder holds what it wrote, and the CLI works on it.
    await server.stop();
    server = undefined;
    const after = await gatehouse('clients', 'list', '--json');
    expect(after.code, after.stderr).to.equal(0);
    expect((after.json as { client_id: string }[]).map((c) => c.client_id)).to.include.members([made.client_id, SERVICE.id]);
    const created = await gatehouse('clients', 'create', '--name', 'From the CLI', '--grant-type', 'client_credentials', '--scope', 'orders:read', '--json');
    expect(created.code, created.stderr).to.equal(0);

    // …and a server started again sees both.
    server = await startServer({ embedded: true, dataDir, env: SECRETS });
    const fresh = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(created.json.client_id, created.json.client_secret) });
    expect(fresh.status, fresh.text).to.equal(200);
    expect((await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(made.client_id, made.client_secret) })).status).to.equal(200);
  });

  it('refuses a second server on the same folder, in this process and in another', async () => {
    server = await startEmbedded();
    const made = await clientMadeWhileRunning();

    const inProcess = await startServer({ embedded: true, dataDir, env: SECRETS }).then(
      () => new Error('a second server started'),
      (err: unknown) => err,
    );
    expect(inProcess).to.be.instanceOf(DataDirInUseError);
    expect((inProcess as DataDirInUseError).holder).to.include({ pid: process.pid, what: `the Gatehouse server (${server.issuer})` });

    const port = await freePort();
    const second = runServerProcess(dataDir, port, SECRETS);
    const exit = await second.exited;
    expect(exit.code).to.equal(1);
    expect(second.stderr()).to.include('gatehouse failed to start: the embedded database').and.include(`in use by process ${process.pid}`);
    expect(second.stderr()).not.to.match(/^\s+at /m);

    const listed = (await admin.get('/clients')).body.data as { client_id: string }[];
    expect(listed.map((c) => c.client_id)).to.include(made.client_id);
  });

  it('the lock dies with its process: after a crash (SIGKILL) the folder opens at once', async () => {
    const port = await freePort();
    const holder = runServerProcess(dataDir, port, SECRETS);
    try {
      await holder.waitForLog(/gatehouse listening/, 60_000);
      const refused = await gatehouse('clients', 'list', '--json');
      expect(refused.code).to.equal(1);
      expect(JSON.parse(refused.stderr).error_description).to.include(`process ${holder.child.pid}, the Gatehouse server (http://127.0.0.1:${port})`);
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
    const after = await gatehouse('clients', 'list', '--json');
    expect(after.code, after.stderr).to.equal(0);
    expect((after.json as unknown[]).length).to.be.greaterThan(0);
  });

  it('two CLI commands at once: each runs or is refused, and nothing either did is lost', async () => {
    // Schema and an API first, so that both race on the same write.
    expect((await gatehouse('seed', 'examples/seed.json')).code).to.equal(1); // the schema is not there yet: it says so
    expect((await gatehouse('migrate')).code).to.equal(0);
    expect((await gatehouse('seed', 'examples/seed.json')).code).to.equal(0);
    const create = (name: string) => gatehouse('clients', 'create', '--name', name, '--grant-type', 'client_credentials', '--scope', 'orders:read', '--json');
    const runs = await Promise.all([create('Racer A'), create('Racer B')]);
    // Usually one is refused; both succeed when the first is done before the second opens the folder.
    expect(runs.some((r) => r.code === 0), runs.map((r) => r.stderr).join('\n')).to.equal(true);
    for (const r of runs) if (r.code !== 0) expect(JSON.parse(r.stderr).error).to.equal('data_dir_in_use');
    const names = ((await gatehouse('clients', 'list', '--json')).json as { client_name: string }[]).map((c) => c.client_name);
    runs.forEach((r, i) => expect(names.includes(i ? 'Racer B' : 'Racer A'), `${i ? 'B' : 'A'} exited ${r.code}`).to.equal(r.code === 0));
  });
});
