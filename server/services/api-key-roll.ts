import { z } from 'zod';
import type { Database } from '../db/database.js';
import { issueCredential } from '../crypto/credentials.js';
import { rollApiKeySecret } from '../store/api-keys.js';
import type { Principal } from './principal.js';
import { recordAudit } from './audit.js';
import { assertMayConfer } from './delegation.js';
import { checkMayManage, mustFind, serializeApiKey } from './api-keys.js';

/**
 * The longest a replaced key keeps working: long enough to redeploy everything that uses it, short
 * enough that a key rolled because it leaked does not stay usable for long (as for client secrets).
 */
export const MAX_ROLL_OVERLAP = 30 * 86400;

export const rollApiKeySchema = z.strictObject({
  overlap_seconds: z.number().int().min(0).max(MAX_ROLL_OVERLAP, 'the previous value works at most 30 days (2592000 seconds)').meta({
    description: 'How long the current value keeps working beside the new one: 0 ends it now; at most 30 days.',
    examples: [0, 3600, 86400, 604800],
  }),
});

/**
 * Rolls a key: a new value, shown once, under the same id, name, scopes and settings; the value it
 * replaces keeps working until the overlap ends (only its digest is kept, as for the current one).
 * A previous value still in its overlap from an earlier roll ends now (and is then unknown). Rolling needs what editing
 * needs, and hands the caller a working value with the key's scopes, so the caller must hold them,
 * as when creating the key (the delegation rule).
 */
export async function rollApiKey(db: Database, id: string, input: z.infer<typeof rollApiKeySchema>, principal: Principal) {
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, id, principal);
    await checkMayManage(tx, current, principal);
    await assertMayConfer(tx, principal, current.scopes, 'a key with these scopes');
    const credential = issueCredential('ak', current.environment);
    const previousUntil = new Date(Date.now() + input.overlap_seconds * 1000);
    const row = await rollApiKeySecret(tx, id, { prefix: credential.prefix, hash: credential.hash, previousUntil });
    await recordAudit(tx, {
      type: 'api_key.rolled',
      actor: principal.actor,
      target: { type: 'api_key', id },
      data: { user_id: current.user_id, overlap_seconds: input.overlap_seconds, previous_works_until: previousUntil.toISOString() },
    });
    return { ...serializeApiKey(row), key: credential.value };
  });
}
