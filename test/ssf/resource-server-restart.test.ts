import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../server/paths.js';
import { type TestServer } from '../support/server.js';
import { ORDERS_API, WEB } from '../support/fixtures.js';
import type { ManagementApi } from '../support/setup.js';
import { useServer } from '../support/setup.js';
import { newPerson, signInTokens } from '../support/accounts.js';
import { eventually } from '../support/eventually.js';
import { NODE, baseEnv, freePort } from '../support/process.js';
import { RECEIVER, receiverSeed, receiverToken, ssf } from '../support/ssf.js';

const USERS = 10;

/**
 * Issue 16, "a restart of a resource server in the middle catches up without a gap": the library
 * in a process of its own (bench/ssf-receiver.ts, a poll stream), killed with SIGKILL while
 * revocations stream in, more revocations while it is down, then started again with the same stream
 * name. Its first answers already refuse every revoked token, those it had applied (and acknowledged)
 * before the kill included: the revocations it held died with it, so it starts a new stream, which
 * brings the last hour's events, rather than resuming the old one from its last acknowledgement.
 */
describe('resource-server library: a process killed mid-stream and restarted', function () {
  this.timeout(120_000);
  let server: TestServer;
  let admin: ManagementApi;
  let child: ChildProcess | undefined;

  useServer({ admin: true, seed: (seed) => seed.clients.push(receiverSeed(RECEIVER) as never) }, (s) => ({ server, admin } = s));
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  /** The resource server; it listens only once start() has applied the stream's backlog. */
  async function startResourceServer(port: number): Promise<{ child: ChildProcess; exited: Promise<NodeJS.Signals | null> }> {
    let stderr = '';
    const proc = spawn(NODE, ['--import', 'tsx', join(projectRoot, 'bench', 'ssf-receiver.ts')], {
      cwd: projectRoot,
      env: baseEnv({
        ISSUER: server.issuer,
        GATEHOUSE_URL: server.url,
        AUDIENCE: ORDERS_API,
        CLIENT_ID: RECEIVER.id,
        CLIENT_SECRET: RECEIVER.secret,
        STREAM_NAME: 'restarted-process',
        PORT: String(port),
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child = proc;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
    await eventually(
      'the resource server listening',
      async () => {
        if (proc.exitCode !== null) throw new Error(`the resource server exited (${proc.exitCode}):\n${stderr}`);
        await fetch(`http://127.0.0.1:${port}/orders`);
      },
      60_000,
    );
    return { child: proc, exited };
  }

  const status = async (port: number, token: string) =>
    (await fetch(`http://127.0.0.1:${port}/orders`, { headers: { authorization: `Bearer ${token}` } })).status;

  it('refuses, at its first requests after the restart, every token revoked before the kill and while it was down', async () => {
    const people = [];
    for (let i = 0; i < USERS + 1; i++) {
      const person = await newPerson(admin, []);
      people.push({ person, token: (await signInTokens(server, WEB, person, 'openid orders:read', { resource: ORDERS_API })).access_token });
    }
    const [kept, ...revoked] = people;
    const port = await freePort();
    const first = await startResourceServer(port);
    for (const { token } of people) expect(await status(port, token)).to.equal(200);

    // Half revoked while it streams; the last of them seen refused, so SETs have arrived (and some wait for their ack).
    const half = USERS / 2;
    for (const { person } of revoked.slice(0, half)) expect((await admin.patch(`/users/${person.id}`, { active: false })).status).to.equal(200);
    await eventually('a revocation applied', async () => {
      expect(await status(port, revoked[half - 1].token)).to.equal(401);
    });
    first.child.kill('SIGKILL');
    expect(await first.exited).to.equal('SIGKILL');

    for (const { person } of revoked.slice(half)) expect((await admin.patch(`/users/${person.id}`, { active: false })).status).to.equal(200);

    await startResourceServer(port);
    // No waiting: the first answer for each token is already the right one.
    for (const [i, { token }] of revoked.entries()) expect(await status(port, token), `user ${i + 1}`).to.equal(401);
    expect(await status(port, kept.token)).to.equal(200);
    // Its earlier stream was replaced, not left behind.
    const streams = (await ssf(server, await receiverToken(server), 'GET', '/ssf/streams')).body as { description: string }[];
    expect(streams.filter((s) => s.description === 'restarted-process')).to.have.length(1);
  });
});
