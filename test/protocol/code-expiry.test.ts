import { expect } from 'chai';
import { digest } from '../../server/crypto/tokens.js';
import { WEB } from '../support/fixtures.js';
import { authorize, exchangeCode } from '../support/code-flow.js';
import { useServer } from '../support/setup.js';
import type { TestServer } from '../support/server.js';

/**
 * Authorization codes live 60 seconds (RFC 6749 §4.1.2: "a maximum authorization code lifetime of
 * 10 minutes is RECOMMENDED"; ours is shorter, as the README says). Time is moved in the database,
 * not waited for: the code's stored expiry and its payload's iat/exp are set back, as if it had been
 * issued that long ago. Codes are kept in the database here (no Redis), so SQL can reach them.
 */
describe('authorization codes expire after 60 seconds', () => {
  let server: TestServer;
  useServer({ start: { redisUrl: null } }, (s) => ({ server } = s));

  /** Makes the code `seconds` older, in both places the expiry is kept. */
  async function age(code: string, seconds: number): Promise<void> {
    const { rowCount } = await server.runtime.db.query(
      `UPDATE oidc_artifacts
          SET expires_at = expires_at - make_interval(secs => $2::int),
              payload = payload || jsonb_build_object('iat', (payload->>'iat')::bigint - $2::int, 'exp', (payload->>'exp')::bigint - $2::int)
        WHERE model = 'AuthorizationCode' AND id = $1`,
      [digest(code), seconds],
    );
    expect(rowCount, 'the code is stored in the database under its digest').to.equal(1);
  }

  it('is stored with a 60-second lifetime', async () => {
    const flow = await authorize(server, { client: WEB, scope: 'openid' });
    const { rows } = await server.runtime.db.query<{ left: number; iat: number; exp: number }>(
      `SELECT extract(epoch FROM expires_at - now())::float AS left, (payload->>'iat')::bigint AS iat, (payload->>'exp')::bigint AS exp
         FROM oidc_artifacts WHERE model = 'AuthorizationCode' AND id = $1`,
      [digest(flow.code)],
    );
    expect(rows).to.have.length(1);
    expect(Number(rows[0].exp) - Number(rows[0].iat)).to.equal(60);
    expect(rows[0].left).to.be.within(50, 60);
  });

  it('is redeemed 50 seconds after it was issued (a margin for the seconds the test itself takes)', async () => {
    const flow = await authorize(server, { client: WEB, scope: 'openid' });
    await age(flow.code, 50);
    const res = await exchangeCode(server, WEB, flow);
    expect(res.status, res.text).to.equal(200);
    expect(res.json.id_token).to.be.a('string');
  });

  it('is refused with invalid_grant 61 seconds after it was issued', async () => {
    const flow = await authorize(server, { client: WEB, scope: 'openid' });
    await age(flow.code, 61);
    const res = await exchangeCode(server, WEB, flow);
    expect(res.status, res.text).to.equal(400);
    expect(res.json.error).to.equal('invalid_grant');
    expect(res.json).not.to.have.property('access_token');
  });
});
