import type { Queryable } from '../db/database.js';
import { isUuid } from './ids.js';

export interface Passkey {
  id: string;
  userId: string;
  /** base64url, as WebAuthn names it. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

interface Row {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  counter: string | number;
  transports: string[];
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

const toPasskey = (r: Row): Passkey => ({
  id: r.id,
  userId: r.user_id,
  credentialId: r.credential_id,
  publicKey: r.public_key,
  counter: Number(r.counter),
  transports: r.transports ?? [],
  deviceType: r.device_type,
  backedUp: r.backed_up,
  name: r.name,
  createdAt: new Date(r.created_at),
  lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null,
});

export async function passkeysOfUser(db: Queryable, userId: string): Promise<Passkey[]> {
  const { rows } = await db.query<Row>('SELECT * FROM passkeys WHERE user_id = $1 ORDER BY created_at, id', [userId]);
  return rows.map(toPasskey);
}

export async function findPasskeyByCredentialId(db: Queryable, credentialId: string): Promise<Passkey | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM passkeys WHERE credential_id = $1', [credentialId]);
  return rows[0] && toPasskey(rows[0]);
}

export async function insertPasskey(
  db: Queryable,
  p: Pick<Passkey, 'userId' | 'credentialId' | 'publicKey' | 'counter' | 'transports' | 'deviceType' | 'backedUp' | 'name'>,
): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO passkeys (user_id, credential_id, public_key, counter, transports, device_type, backed_up, name)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (credential_id) DO NOTHING RETURNING id`,
    [p.userId, p.credentialId, p.publicKey, p.counter, JSON.stringify(p.transports), p.deviceType, p.backedUp, p.name],
  );
  return rows[0]?.id;
}

/**
 * Records a use: the authenticator's new signature counter, only if it moved forward (or both are
 * zero, as synced passkeys report), so a cloned authenticator replaying an old counter is refused.
 */
export async function recordPasskeyUse(db: Queryable, id: string, counter: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE passkeys SET counter = $2, last_used_at = now() WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0))`,
    [id, counter],
  );
  return rowCount > 0;
}

export async function renamePasskey(db: Queryable, userId: string, id: string, name: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rowCount } = await db.query('UPDATE passkeys SET name = $3 WHERE user_id = $1 AND id = $2', [userId, id, name]);
  return rowCount > 0;
}

export async function deletePasskey(db: Queryable, userId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rowCount } = await db.query('DELETE FROM passkeys WHERE user_id = $1 AND id = $2', [userId, id]);
  return rowCount > 0;
}

export async function deletePasskeysOfUser(db: Queryable, userId: string): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM passkeys WHERE user_id = $1', [userId]);
  return rowCount;
}
