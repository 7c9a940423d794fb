import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { ArtifactStore, Payload } from '../../adapters/contract.js';
import { AlreadyConsumedError } from '../../server/db/errors.js';

/**
 * One behaviour for every ArtifactStore (adapters/contract.ts): each backend's test file calls this
 * with a factory, so Postgres, PGlite and Redis are held to exactly the same assertions.
 *
 * makeStore runs once per suite (in a before hook); the backend file owns setup and teardown of what
 * it connects to. Ids are random per test so that tests never see each other's artifacts.
 */
export interface StoreHandle {
  store: ArtifactStore;
  /** Releases whatever makeStore set up (connections, databases, keys). */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const uid = () => randomUUID();
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Waits for a rejection and hands back the error, failing the test if the promise resolved. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  expect.fail('expected the promise to reject');
}

export function artifactStoreContract(name: string, makeStore: () => Promise<StoreHandle>): void {
  describe(`ArtifactStore contract: ${name}`, function () {
    // One test waits out a 3-second expiry; the first start of a backend can take a few seconds more.
    this.timeout(60_000);

    let handle: StoreHandle;
    let store: ArtifactStore;
    before(async () => {
      handle = await makeStore();
      store = handle.store;
    });
    after(async () => handle?.close());

    it('finds what it stored, payload unchanged', async () => {
      const id = uid();
      const payload: Payload = {
        kind: 'AuthorizationCode',
        grantId: uid(),
        accountId: 'acc-1',
        scope: 'openid orders:read',
        nested: { list: [1, 'two', { three: true }], empty: {}, nothing: null },
        unicode: 'Grüße, 世界 ✓',
        iat: 1_700_000_000,
      };
      await store.upsert('AuthorizationCode', id, payload, 60);
      expect(await store.find('AuthorizationCode', id)).to.deep.equal(payload);
    });

    it('finds nothing for an id never stored', async () => {
      expect(await store.find('AuthorizationCode', uid())).to.equal(undefined);
    });

    it('replaces on a second upsert, indexes included', async () => {
      const id = uid();
      const [oldGrant, newGrant, oldUid, newUid] = [uid(), uid(), uid(), uid()];
      await store.upsert('Session', id, { v: 1, grantId: oldGrant, uid: oldUid, stale: 'field' }, 60);
      await store.upsert('Session', id, { v: 2, grantId: newGrant, uid: newUid }, 60);
      expect(await store.find('Session', id)).to.deep.equal({ v: 2, grantId: newGrant, uid: newUid });
      expect(await store.findByUid('Session', newUid)).to.deep.equal({ v: 2, grantId: newGrant, uid: newUid });
      expect(await store.findByUid('Session', oldUid)).to.equal(undefined);
      // The replaced artifact no longer belongs to its old grant: revoking that grant leaves it alone.
      await store.revokeByGrantId('Session', oldGrant);
      expect(await store.find('Session', id)).to.deep.equal({ v: 2, grantId: newGrant, uid: newUid });
    });

    it('replaces a consumed artifact with an unconsumed one', async () => {
      const id = uid();
      await store.upsert('AuthorizationCode', id, { v: 1 }, 60);
      await store.consume('AuthorizationCode', id);
      await store.upsert('AuthorizationCode', id, { v: 2 }, 60);
      expect(await store.find('AuthorizationCode', id)).to.deep.equal({ v: 2 });
      await store.consume('AuthorizationCode', id);
      expect((await store.find('AuthorizationCode', id))?.consumed).to.be.a('number');
    });

    it('forgets an artifact past its expiry, keeps one without expiry, and consumes neither wrongly', async () => {
      const [short, forever, shortUid, userCode, grantId] = [uid(), uid(), uid(), `UC-${uid()}`, uid()];
      const unexpiring = uid();
      // Expiry is each backend's own (a Redis TTL, a timestamp compared with the database's clock), so
      // it is waited out rather than moved; 3 seconds leave a loaded machine time for the steps before.
      const TTL = 3;
      const written = Date.now();
      await store.upsert('DeviceCode', short, { grantId, uid: shortUid, userCode }, TTL);
      await store.upsert('DeviceCode', forever, { v: 'forever' }, undefined);
      // A grant with one member that never expires and one that does: the grant's index must not
      // expire with the short-lived member, or revoking the grant would miss the long-lived one.
      await store.upsert('RefreshToken', unexpiring, { grantId }, undefined);
      await store.upsert('RefreshToken', uid(), { grantId }, TTL);
      const seenOnce = uid();
      expect(await store.create('ReplayDetection', seenOnce, { v: 1 }, TTL)).to.equal(true);
      expect(await store.find('DeviceCode', short)).to.deep.equal({ grantId, uid: shortUid, userCode });

      await sleep(Math.max(0, written + TTL * 1000 + 1100 - Date.now()));

      expect(await store.find('DeviceCode', short)).to.equal(undefined);
      // An expired record is absent to create() too (Postgres keeps the row until the sweep).
      expect(await store.create('ReplayDetection', seenOnce, { v: 2 }, 60)).to.equal(true);
      expect(await store.find('ReplayDetection', seenOnce)).to.deep.equal({ v: 2 });
      expect(await store.findByUid('DeviceCode', shortUid)).to.equal(undefined);
      expect(await store.findByUserCode('DeviceCode', userCode)).to.equal(undefined);
      // An expired artifact is absent: consuming it is refused, and it names no grant, because
      // nothing was reused (a grant id here would make the caller revoke the grant).
      const err = await rejection(store.consume('DeviceCode', short));
      expect(err).to.be.instanceOf(AlreadyConsumedError);
      expect((err as AlreadyConsumedError).grantId).to.equal(undefined);

      expect(await store.find('DeviceCode', forever)).to.deep.equal({ v: 'forever' });
      expect(await store.find('RefreshToken', unexpiring)).to.deep.equal({ grantId });
      await store.revokeByGrantId('RefreshToken', grantId);
      expect(await store.find('RefreshToken', unexpiring)).to.equal(undefined);
    });

    it('revokes by client and by account: only that model, only that owner, counting what it removed', async () => {
      const [client, other, account] = [`cl-${uid()}`, `cl-${uid()}`, uid()];
      const [a, b, c, d, e] = [uid(), uid(), uid(), uid(), uid()];
      await store.upsert('RefreshToken', a, { clientId: client, accountId: account }, 60);
      await store.upsert('RefreshToken', b, { clientId: client }, undefined);
      await store.upsert('RefreshToken', c, { clientId: other, accountId: account }, 60);
      await store.upsert('Grant', d, { clientId: client, accountId: account }, 60);
      // Replaced since it was indexed: it no longer belongs to the client and must survive.
      await store.upsert('RefreshToken', e, { clientId: client }, 60);
      await store.upsert('RefreshToken', e, { clientId: other }, 60);

      expect(await store.revokeByClientId('RefreshToken', client)).to.equal(2);
      expect(await store.find('RefreshToken', a)).to.equal(undefined);
      expect(await store.find('RefreshToken', b)).to.equal(undefined);
      expect(await store.find('RefreshToken', c)).to.deep.equal({ clientId: other, accountId: account });
      expect(await store.find('RefreshToken', e)).to.deep.equal({ clientId: other });
      expect(await store.find('Grant', d)).to.deep.equal({ clientId: client, accountId: account });
      expect(await store.revokeByClientId('RefreshToken', client)).to.equal(0);

      expect(await store.revokeByAccountId('RefreshToken', account)).to.equal(1);
      expect(await store.find('RefreshToken', c)).to.equal(undefined);
      expect(await store.revokeByAccountId('Grant', account)).to.equal(1);
      expect(await store.find('Grant', d)).to.equal(undefined);
      expect(await store.revokeByAccountId('Grant', uid())).to.equal(0);
    });

    it('finds by uid, only within the model and only while live', async () => {
      const [id, sessionUid] = [uid(), uid()];
      await store.upsert('Session', id, { uid: sessionUid, accountId: 'acc-2' }, 60);
      expect(await store.findByUid('Session', sessionUid)).to.deep.equal({ uid: sessionUid, accountId: 'acc-2' });
      expect(await store.findByUid('Interaction', sessionUid)).to.equal(undefined);
      expect(await store.findByUid('Session', uid())).to.equal(undefined);
      await store.destroy('Session', id);
      expect(await store.findByUid('Session', sessionUid)).to.equal(undefined);
    });

    it('destroys by uid: only that artifact of that model, and says whether there was one', async () => {
      const [id, other, sessionUid, otherUid] = [uid(), uid(), uid(), uid()];
      await store.upsert('Session', id, { uid: sessionUid, accountId: 'acc-3' }, 60);
      await store.upsert('Session', other, { uid: otherUid, accountId: 'acc-3' }, 60);
      expect(await store.destroyByUid('Interaction', sessionUid)).to.equal(false);
      expect(await store.destroyByUid('Session', sessionUid)).to.equal(true);
      expect(await store.find('Session', id)).to.equal(undefined);
      expect(await store.find('Session', other)).to.deep.equal({ uid: otherUid, accountId: 'acc-3' });
      expect(await store.destroyByUid('Session', sessionUid)).to.equal(false);
      // A session saved again under a new id (oidc-provider rotates it at sign-in) keeps its uid.
      const renamed = uid();
      await store.upsert('Session', renamed, { uid: otherUid, accountId: 'acc-3' }, 60);
      expect(await store.destroyByUid('Session', otherUid)).to.equal(true);
      expect(await store.find('Session', renamed)).to.equal(undefined);
    });

    it('finds by user code', async () => {
      const [id, userCode] = [uid(), `ABCD-${uid().slice(0, 4)}`];
      await store.upsert('DeviceCode', id, { userCode, clientId: 'tv' }, 60);
      expect(await store.findByUserCode('DeviceCode', userCode)).to.deep.equal({ userCode, clientId: 'tv' });
      expect(await store.findByUserCode('DeviceCode', 'WXYZ-0000')).to.equal(undefined);
      expect(await store.findByUserCode('BackchannelAuthenticationRequest', userCode)).to.equal(undefined);
    });

    it('consume marks the artifact consumed at the current time, in epoch seconds', async () => {
      const id = uid();
      await store.upsert('AuthorizationCode', id, { grantId: 'g', v: 1 }, 60);
      const before = nowSeconds();
      await store.consume('AuthorizationCode', id);
      const after = nowSeconds();
      const found = await store.find('AuthorizationCode', id);
      expect(found).to.include({ grantId: 'g', v: 1 });
      expect(found!.consumed).to.be.a('number').within(before, after);
    });

    it('consume is atomic: of 20 concurrent calls exactly one succeeds', async () => {
      const [id, grantId] = [uid(), uid()];
      await store.upsert('RefreshToken', id, { grantId }, 60);
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.consume('RefreshToken', id)));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).to.have.length(1);
      expect(lost).to.have.length(19);
      for (const { reason } of lost) {
        expect(reason).to.be.instanceOf(AlreadyConsumedError);
        // The loser learns which grant was reused, so the caller can revoke it (RFC 6749 §4.1.2).
        expect((reason as AlreadyConsumedError).grantId).to.equal(grantId);
        expect((reason as AlreadyConsumedError).model).to.equal('RefreshToken');
      }
    });

    it('create is atomic: of 20 concurrent calls for one id exactly one stores, and a live record stays', async () => {
      const id = uid();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.create('ReplayDetection', id, { caller: i }, 60)));
      expect(results.filter(Boolean)).to.have.length(1);
      const winner = results.indexOf(true);
      expect(await store.find('ReplayDetection', id)).to.deep.equal({ caller: winner });
      expect(await store.create('ReplayDetection', id, { caller: 'late' }, 60)).to.equal(false);
      expect(await store.find('ReplayDetection', id)).to.deep.equal({ caller: winner });
      // upsert() still replaces it (oidc-provider saves the record it claimed, with its real expiry).
      await store.upsert('ReplayDetection', id, { caller: winner, iss: 'client' }, 120);
      expect(await store.find('ReplayDetection', id)).to.deep.equal({ caller: winner, iss: 'client' });
      // Indexed fields would leave index entries behind for a caller that lost: refused.
      const err = await rejection(store.create('ReplayDetection', uid(), { grantId: uid() }, 60));
      expect(err).to.be.instanceOf(TypeError);
    });

    it('consume of an artifact already consumed rejects, naming its grant', async () => {
      const [id, grantId] = [uid(), uid()];
      await store.upsert('AuthorizationCode', id, { grantId }, 60);
      await store.consume('AuthorizationCode', id);
      const err = await rejection(store.consume('AuthorizationCode', id));
      expect(err).to.be.instanceOf(AlreadyConsumedError);
      expect((err as AlreadyConsumedError).grantId).to.equal(grantId);
    });

    it('consume of a missing id rejects without a grant', async () => {
      const err = await rejection(store.consume('AuthorizationCode', uid()));
      expect(err).to.be.instanceOf(AlreadyConsumedError);
      expect((err as AlreadyConsumedError).grantId).to.equal(undefined);
    });

    it('destroy removes the artifact and nothing else', async () => {
      const [a, b] = [uid(), uid()];
      await store.upsert('AccessToken', a, { v: 'a' }, 60);
      await store.upsert('AccessToken', b, { v: 'b' }, 60);
      await store.destroy('AccessToken', a);
      expect(await store.find('AccessToken', a)).to.equal(undefined);
      expect(await store.find('AccessToken', b)).to.deep.equal({ v: 'b' });
      // Destroying what is not there is not an error.
      await store.destroy('AccessToken', a);
    });

    it("revokeByGrantId removes only that grant's artifacts of that model", async () => {
      const [grant, other] = [uid(), uid()];
      const mine = [uid(), uid(), uid()];
      const [otherGrantToken, noGrantToken, sameGrantOtherModel] = [uid(), uid(), uid()];
      for (const id of mine) await store.upsert('AccessToken', id, { grantId: grant }, 60);
      await store.upsert('AccessToken', otherGrantToken, { grantId: other }, 60);
      await store.upsert('AccessToken', noGrantToken, { v: 'no grant' }, 60);
      await store.upsert('AuthorizationCode', sameGrantOtherModel, { grantId: grant }, 60);

      await store.revokeByGrantId('AccessToken', grant);

      for (const id of mine) expect(await store.find('AccessToken', id)).to.equal(undefined);
      expect(await store.find('AccessToken', otherGrantToken)).to.deep.equal({ grantId: other });
      expect(await store.find('AccessToken', noGrantToken)).to.deep.equal({ v: 'no grant' });
      expect(await store.find('AuthorizationCode', sameGrantOtherModel)).to.deep.equal({ grantId: grant });
      // Revoking a grant that holds nothing is not an error.
      await store.revokeByGrantId('AccessToken', uid());
    });

    it('keeps models apart when they share an id', async () => {
      const id = uid();
      await store.upsert('AccessToken', id, { model: 'AccessToken' }, 60);
      await store.upsert('RefreshToken', id, { model: 'RefreshToken' }, 60);
      expect(await store.find('AccessToken', id)).to.deep.equal({ model: 'AccessToken' });
      expect(await store.find('RefreshToken', id)).to.deep.equal({ model: 'RefreshToken' });

      await store.consume('AccessToken', id);
      expect((await store.find('AccessToken', id))?.consumed).to.be.a('number');
      expect(await store.find('RefreshToken', id)).to.deep.equal({ model: 'RefreshToken' });

      await store.destroy('AccessToken', id);
      expect(await store.find('AccessToken', id)).to.equal(undefined);
      expect(await store.find('RefreshToken', id)).to.deep.equal({ model: 'RefreshToken' });
    });
  });
}
