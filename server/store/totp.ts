import type { Queryable } from '../db/database.js';

export interface TotpRow {
  userId: string;
  secretSealed: string;
  confirmedAt: Date | null;
  lastStep: number | null;
  createdAt: Date;
}

interface Row {
  user_id: string;
  secret_sealed: string;
  confirmed_at: Date | null;
  last_step: string | number | null;
  created_at: Date;
}

const toTotp = (r: Row): TotpRow => ({
  userId: r.user_id,
  secretSealed: r.secret_sealed,
  confirmedAt: r.confirmed_at ? new Date(r.confirmed_at) : null,
  lastStep: r.last_step === null ? null : Number(r.last_step),
  createdAt: new Date(r.created_at),
});

export async function findTotp(db: Queryable, userId: string): Promise<TotpRow | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM user_totp WHERE user_id = $1', [userId]);
  return rows[0] && toTotp(rows[0]);
}

/**
 * Starts an enrolment with this unconfirmed secret, unless the user already has a row (an enrolment
 * under way, or a confirmed authenticator): the row that is in place after the call.
 */
export async function insertPendingTotp(db: Queryable, userId: string, secretSealed: string): Promise<TotpRow> {
  await db.query('INSERT INTO user_totp (user_id, secret_sealed) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING', [userId, secretSealed]);
  return (await findTotp(db, userId))!;
}

/**
 * Accepts the code of time step `step` if no code of this or a later step was accepted before, in
 * one statement, so two requests racing with the same code cannot both pass. `confirm` also ends an
 * enrolment (the first code proves the authenticator holds the secret).
 */
export async function acceptTotpStep(db: Queryable, userId: string, step: number, confirm: boolean): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE user_totp SET last_step = $2, confirmed_at = CASE WHEN $3::boolean THEN COALESCE(confirmed_at, now()) ELSE confirmed_at END
     WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)
       AND (CASE WHEN $3::boolean THEN confirmed_at IS NULL ELSE confirmed_at IS NOT NULL END)`,
    [userId, step, confirm],
  );
  return rowCount > 0;
}

export async function deleteTotp(db: Queryable, userId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM user_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL', [userId]);
  return rowCount > 0;
}
