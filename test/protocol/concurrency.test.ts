import { expect } from 'chai';
import { WEB, baseSeed } from '../support/fixtures.js';
import { authorize, exchangeCode, isActive, refresh } from '../support/code-flow.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * One-time credentials under concurrent use, through HTTP. A code or a rotated refresh token redeemed
 * by several requests at once must succeed exactly once, and the reuse must revoke what the grant
 * issued: RFC 6749 §4.1.2 and §10.5 for codes, RFC 9700 §4.14.2 for refresh token rotation.
 *
 * Each storage arrangement runs: the default of this test run (PGlite, or Postgres when DATABASE_URL
 * is set) with short-lived artifacts in the database, and, when REDIS_URL is set, codes in Redis
 * next to refresh tokens and grants in Postgres.
 */
const N = 10;
const client = WEB;

const variants: { name: string; redisUrl: string | null }[] = [
  { name: process.env.DATABASE_URL ? 'Postgres, no Redis' : 'embedded PGlite', redisUrl: null },
  ...(process.env.REDIS_URL ? [{ name: `${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'} + Redis`, redisUrl: process.env.REDIS_URL }] : []),
];

type Reply = Awaited<ReturnType<typeof refresh>>;

/** Exactly one 200; every other answer a 400 invalid_grant (RFC 6749 §5.2). Returns the winner. */
function exactlyOneWinner(replies: Reply[]): Reply {
  const summary = replies.map((r) => `${r.status} ${r.json.error ?? ''}`.trim());
  const winners = replies.filter((r) => r.status === 200);
  expect(winners, `answers: ${summary.join(', ')}`).to.have.length(1);
  for (const r of replies.filter((x) => x.status !== 200)) {
    expect(r.status, `answers: ${summary.join(', ')}`).to.equal(400);
    expect(r.json.error).to.equal('invalid_grant');
  }
  return winners[0];
}

for (const variant of variants) {
  describe(`concurrent redemption of one-time credentials (${variant.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ seed: baseSeed(), redisUrl: variant.redisUrl });
    });
    after(async () => server?.destroy());

    // An opaque access token (openid only) is stored, so its revocation can be seen; an API's JWT
    // access token cannot be recalled and is not checked here.
    const scope = 'openid email offline_access';

    it('a code redeemed once and then again: the second is refused and the first tokens are revoked', async () => {
      const flow = await authorize(server, { client, scope });
      const first = await exchangeCode(server, client, flow);
      expect(first.status, first.text).to.equal(200);
      const { access_token, refresh_token } = first.json as Record<string, string>;
      expect(await isActive(server, client, refresh_token)).to.equal(true);

      const again = await exchangeCode(server, client, flow);
      expect(again.status).to.equal(400);
      expect(again.json.error).to.equal('invalid_grant');
      expect(await isActive(server, client, access_token)).to.equal(false);
      expect(await isActive(server, client, refresh_token)).to.equal(false);
    });

    it(`the same code redeemed by ${N} requests at once: one gets tokens, the rest invalid_grant, and the winner's tokens are revoked`, async () => {
      const flow = await authorize(server, { client, scope });
      const replies = await Promise.all(Array.from({ length: N }, () => exchangeCode(server, client, flow)));
      const winner = exactlyOneWinner(replies);
      const { access_token, refresh_token } = winner.json as Record<string, string>;
      expect(access_token).to.be.a('string');
      expect(refresh_token).to.be.a('string');

      // RFC 6749 §4.1.2: a code used more than once revokes the tokens issued on it.
      expect(await isActive(server, client, access_token)).to.equal(false);
      expect(await isActive(server, client, refresh_token)).to.equal(false);
      const later = await refresh(server, client, refresh_token);
      expect(later.status).to.equal(400);
      expect(later.json.error).to.equal('invalid_grant');
    });

    it(`one refresh token redeemed by ${N} requests at once: one rotation succeeds and the whole family is revoked`, async () => {
      const flow = await authorize(server, { client, scope });
      const exchanged = await exchangeCode(server, client, flow);
      expect(exchanged.status, exchanged.text).to.equal(200);
      const original = exchanged.json.refresh_token as string;

      const replies = await Promise.all(Array.from({ length: N }, () => refresh(server, client, original)));
      const winner = exactlyOneWinner(replies);
      const rotated = winner.json.refresh_token as string;
      expect(rotated).to.be.a('string').and.not.equal(original);

      // RFC 9700 §4.14.2: the rotated token presented again means one of the holders is not the
      // client; every token of the grant goes, the newest included.
      for (const token of [original, rotated, winner.json.access_token as string, exchanged.json.access_token as string]) {
        expect(await isActive(server, client, token)).to.equal(false);
      }
      const later = await refresh(server, client, rotated);
      expect(later.status).to.equal(400);
      expect(later.json.error).to.equal('invalid_grant');
    });

    it('sequential rotation still works: each refresh token is good exactly once', async () => {
      const flow = await authorize(server, { client, scope });
      const exchanged = await exchangeCode(server, client, flow);
      let token = exchanged.json.refresh_token as string;
      for (let i = 0; i < 3; i++) {
        const next = await refresh(server, client, token);
        expect(next.status, next.text).to.equal(200);
        expect(next.json.refresh_token).to.be.a('string').and.not.equal(token);
        token = next.json.refresh_token as string;
      }
      expect(await isActive(server, client, token)).to.equal(true);
    });
  });
}
