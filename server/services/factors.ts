import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import { deletePasskeysOfUser, passkeysOfUser } from '../store/passkeys.js';
import { countUnusedRecoveryCodes, deleteRecoveryCodes } from '../store/recovery-codes.js';
import { deleteTotp, findTotp } from '../store/totp.js';
import { recordAudit } from './audit.js';
import { assertMayActOnUser } from './delegation.js';
import type { Principal } from './principal.js';
import { factorKindsOfUsers } from './two-factor-policy.js';
import { getUser } from './users.js';
import { timestamp } from './validation.js';

/** A person's second factors as administrators see them: what exists, never a secret. */
export const factorsSchema = z.strictObject({
  totp: z.strictObject({ enrolled_at: timestamp }).nullable().meta({ description: 'The authenticator app (TOTP), or null.' }),
  recovery_codes_left: z.number().int().meta({ description: 'Unused recovery codes.' }),
  passkeys: z.array(z.strictObject({ id: z.string(), name: z.string(), created_at: timestamp, last_used_at: timestamp.nullable() })),
});

export async function factorsOf(db: Queryable, userId: string): Promise<z.infer<typeof factorsSchema>> {
  const user = await getUser(db, userId);
  const [totp, left, passkeys] = await Promise.all([findTotp(db, user.id), countUnusedRecoveryCodes(db, user.id), passkeysOfUser(db, user.id)]);
  return {
    totp: totp?.confirmedAt ? { enrolled_at: totp.confirmedAt.toISOString() } : null,
    recovery_codes_left: totp?.confirmedAt ? left : 0,
    passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, created_at: p.createdAt.toISOString(), last_used_at: p.lastUsedAt?.toISOString() ?? null })),
  };
}

/** Fills in `factors` on users the services serialized (one query for a page of them). */
export async function withFactors<U extends { id: string; factors: ('totp' | 'passkey')[] }>(db: Queryable, users: U[]): Promise<U[]> {
  const kinds = await factorKindsOfUsers(db, users.map((u) => u.id));
  return users.map((u) => ({ ...u, factors: kinds.get(u.id) ?? [] }));
}

/**
 * An administrator resets a person's second factors (a lost phone): their authenticator app,
 * recovery codes and passkeys are deleted, so at their next sign-in they use their password and,
 * if a role or an application requires two factors, set up a new one. Acting on the user, so the
 * delegation rule applies; audited in the same transaction.
 */
export async function resetFactors(db: Database, userId: string, caller: Principal): Promise<void> {
  await db.transaction(async (tx) => {
    const user = await getUser(tx, userId);
    await assertMayActOnUser(tx, caller, user.id);
    const totp = await deleteTotp(tx, user.id);
    const recovery = await deleteRecoveryCodes(tx, user.id);
    const passkeys = await deletePasskeysOfUser(tx, user.id);
    await recordAudit(tx, { type: 'user.factors_reset', actor: caller.actor, target: { type: 'user', id: user.id }, data: { totp, recovery_codes: recovery, passkeys } });
  });
}
