import type { Queryable } from '../server/db/database.js';
import { AlreadyConsumedError } from '../server/db/errors.js';
import { type ArtifactStore, type OwnerField, type Payload, assertUnindexed, createLifetime, epochNow, indexFields } from './contract.js';

interface Row {
  payload: Payload;
  consumed: number | null;
}

const LIVE = '(expires_at IS NULL OR expires_at > now())';
const SELECT = `SELECT payload, extract(epoch FROM consumed_at)::bigint AS consumed FROM oidc_artifacts`;

function toPayload(row: Row | undefined): Payload | undefined {
  if (!row) return undefined;
  return row.consumed ? { ...row.payload, consumed: Number(row.consumed) } : row.payload;
}

/** Artifacts in the oidc_artifacts table: grants and refresh tokens, and everything in embedded mode. */
export class PostgresArtifactStore implements ArtifactStore {
  readonly name = 'postgres';
  constructor(private readonly db: Queryable) {}

  /** Replaces the whole artifact, its consumed mark included (as Redis does), not just the payload. */
  async upsert(model: string, id: string, payload: Payload, expiresIn: number | undefined): Promise<void> {
    const { grantId, uid } = indexFields(payload);
    await this.db.query(
      `INSERT INTO oidc_artifacts (model, id, payload, grant_id, uid, expires_at)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::int IS NULL THEN NULL ELSE now() + make_interval(secs => $6::int) END)
       ON CONFLICT (model, id) DO UPDATE
         SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid,
             expires_at = EXCLUDED.expires_at, consumed_at = NULL`,
      [model, id, JSON.stringify(payload), grantId ?? null, uid ?? null, expiresIn ?? null],
    );
  }

  async create(model: string, id: string, payload: Payload, expiresIn: number): Promise<boolean> {
    assertUnindexed(payload);
    // The insert, or the replacement of an expired row the sweep has not removed yet; a live row is
    // left as it is and nothing is returned. Row locking decides between concurrent callers.
    const { rowCount } = await this.db.query(
      `INSERT INTO oidc_artifacts (model, id, payload, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4::int))
       ON CONFLICT (model, id) DO UPDATE
         SET payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at, grant_id = NULL, uid = NULL, consumed_at = NULL
         WHERE oidc_artifacts.expires_at IS NOT NULL AND oidc_artifacts.expires_at <= now()`,
      [model, id, JSON.stringify(payload), createLifetime(expiresIn)],
    );
    return rowCount === 1;
  }

  async find(model: string, id: string): Promise<Payload | undefined> {
    const { rows } = await this.db.query<Row>(`${SELECT} WHERE model = $1 AND id = $2 AND ${LIVE}`, [model, id]);
    return toPayload(rows[0]);
  }

  /**
   * An artifact and the grant it belongs to, in one round trip: a refresh reads both, one after the
   * other (oidc-provider's refresh_token grant), and they are the same snapshot this way.
   */
  async findWithGrant(model: string, id: string): Promise<{ payload?: Payload; grant?: Payload }> {
    const { rows } = await this.db.query<Row & { grant_payload: Payload | null; grant_consumed: number | null }>(
      `SELECT a.payload, extract(epoch FROM a.consumed_at)::bigint AS consumed,
              g.payload AS grant_payload, extract(epoch FROM g.consumed_at)::bigint AS grant_consumed
       FROM oidc_artifacts a
       LEFT JOIN oidc_artifacts g ON g.model = 'Grant' AND g.id = a.grant_id AND (g.expires_at IS NULL OR g.expires_at > now())
       WHERE a.model = $1 AND a.id = $2 AND (a.expires_at IS NULL OR a.expires_at > now())`,
      [model, id],
    );
    const row = rows[0];
    if (!row) return {};
    return {
      payload: toPayload(row),
      grant: row.grant_payload ? toPayload({ payload: row.grant_payload, consumed: row.grant_consumed }) : undefined,
    };
  }

  /**
   * consume(consumed) and upsert(model, id, ...) in one statement, one round trip: the new artifact
   * (a rotated refresh token) is written only if this call consumed the old one, atomically, so of
   * two concurrent calls exactly one writes; the other throws AlreadyConsumedError, as consume() does.
   */
  async consumeAndUpsert(consumed: { model: string; id: string }, model: string, id: string, payload: Payload, expiresIn: number | undefined): Promise<void> {
    const { grantId, uid } = indexFields(payload);
    const { rowCount } = await this.db.query(
      `WITH consumed AS (
         UPDATE oidc_artifacts SET consumed_at = to_timestamp($7)
         WHERE model = $8 AND id = $9 AND consumed_at IS NULL AND ${LIVE}
         RETURNING 1)
       INSERT INTO oidc_artifacts (model, id, payload, grant_id, uid, expires_at)
       SELECT $1::text, $2::text, $3::jsonb, $4::text, $5::text,
              CASE WHEN $6::int IS NULL THEN NULL ELSE now() + make_interval(secs => $6::int) END
       WHERE EXISTS (SELECT 1 FROM consumed)
       ON CONFLICT (model, id) DO UPDATE
         SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid,
             expires_at = EXCLUDED.expires_at, consumed_at = NULL`,
      [model, id, JSON.stringify(payload), grantId ?? null, uid ?? null, expiresIn ?? null, epochNow(), consumed.model, consumed.id],
    );
    if (rowCount === 1) return;
    const { rows } = await this.db.query<{ grant_id: string | null }>(
      `SELECT grant_id FROM oidc_artifacts WHERE model = $1 AND id = $2 AND ${LIVE}`,
      [consumed.model, consumed.id],
    );
    throw new AlreadyConsumedError(consumed.model, rows[0]?.grant_id ?? undefined);
  }

  async findByUid(model: string, uid: string): Promise<Payload | undefined> {
    const { rows } = await this.db.query<Row>(`${SELECT} WHERE model = $1 AND uid = $2 AND ${LIVE} LIMIT 1`, [model, uid]);
    return toPayload(rows[0]);
  }

  async findByUserCode(model: string, userCode: string): Promise<Payload | undefined> {
    // Only the device flow uses this, and it is not enabled, so no index backs it.
    const { rows } = await this.db.query<Row>(
      `${SELECT} WHERE model = $1 AND payload->>'userCode' = $2 AND ${LIVE} LIMIT 1`,
      [model, userCode],
    );
    return toPayload(rows[0]);
  }

  async consume(model: string, id: string): Promise<void> {
    // One UPDATE guarded by "consumed_at IS NULL": Postgres row locking lets exactly one of two
    // concurrent callers match the row.
    const { rowCount } = await this.db.query(
      `UPDATE oidc_artifacts SET consumed_at = to_timestamp($3)
       WHERE model = $1 AND id = $2 AND consumed_at IS NULL AND ${LIVE}`,
      [model, id, epochNow()],
    );
    if (rowCount === 1) return;
    // Only a live row names its grant: an expired one is absent, as it is in Redis, and the caller
    // revokes the grant of whatever grantId it is given.
    const { rows } = await this.db.query<{ grant_id: string | null }>(
      `SELECT grant_id FROM oidc_artifacts WHERE model = $1 AND id = $2 AND ${LIVE}`,
      [model, id],
    );
    throw new AlreadyConsumedError(model, rows[0]?.grant_id ?? undefined);
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.db.query('DELETE FROM oidc_artifacts WHERE model = $1 AND id = $2', [model, id]);
  }

  async destroyByUid(model: string, uid: string): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM oidc_artifacts WHERE model = $1 AND uid = $2', [model, uid]);
    return rowCount > 0;
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    await this.db.query('DELETE FROM oidc_artifacts WHERE model = $1 AND grant_id = $2', [model, grantId]);
  }

  revokeByClientId(model: string, clientId: string): Promise<number> {
    return this.revokeByOwner(model, 'clientId', clientId);
  }

  revokeByAccountId(model: string, accountId: string): Promise<number> {
    return this.revokeByOwner(model, 'accountId', accountId);
  }

  /**
   * Removes every artifact of this model that one client holds for one account (a person withdrawing
   * consent from an app, RFC 7009 §2.1) and returns how many. The account index narrows it first.
   */
  async revokeByAccountAndClient(model: string, accountId: string, clientId: string): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM oidc_artifacts WHERE model = $1 AND payload->>'accountId' = $2 AND payload->>'clientId' = $3`,
      [model, accountId, clientId],
    );
    return rowCount;
  }

  // Backed by the expression indexes of migration 002 for the models that live here durably.
  private async revokeByOwner(model: string, field: OwnerField, value: string): Promise<number> {
    const column = field === 'clientId' ? "payload->>'clientId'" : "payload->>'accountId'";
    const { rowCount } = await this.db.query(`DELETE FROM oidc_artifacts WHERE model = $1 AND ${column} = $2`, [model, value]);
    return rowCount;
  }

  /** Deletes rows past their expiry; run now and then, since Postgres has no TTL of its own. */
  async sweepExpired(): Promise<number> {
    const { rowCount } = await this.db.query('DELETE FROM oidc_artifacts WHERE expires_at < now()');
    return rowCount;
  }
}
