import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import { deleteSetting, findSetting, saveSetting } from '../store/settings.js';
import type { Principal } from './principal.js';
import { recordAudit } from './audit.js';

const SETTING = 'key_reveal_statement';
/** Long enough for a paragraph of policy; a statement nobody reads to the end helps nobody. */
export const STATEMENT_MAX = 1000;

export const updateKeyRevealStatementSchema = z.strictObject({
  statement: z.string().trim().min(1).max(STATEMENT_MAX).nullable().meta({
    description: 'What a person must agree to before a new API key is revealed to them; null for none.',
    examples: ['I will store this key in our secrets manager and never in source code.'],
  }),
});

export const keyRevealStatementSchema = z.strictObject({
  statement: z.string().nullable().meta({ description: 'What a person must agree to before a new API key is revealed; null when none is set.' }),
});

/** Anyone who may be shown a new key reads it, so the console can ask for agreement first. */
export async function getKeyRevealStatement(db: Queryable): Promise<z.infer<typeof keyRevealStatementSchema>> {
  return { statement: (await findSetting<string>(db, SETTING)) ?? null };
}

/**
 * Sets or clears the statement (administrators: users:write, the permission that manages everyone's
 * keys). Audited with its text: it is policy, not a secret.
 */
export async function updateKeyRevealStatement(db: Database, input: z.infer<typeof updateKeyRevealStatementSchema>, principal: Principal) {
  return db.transaction(async (tx) => {
    if (input.statement === null) await deleteSetting(tx, SETTING);
    else await saveSetting(tx, SETTING, input.statement);
    await recordAudit(tx, { type: 'settings.updated', actor: principal.actor, target: { type: 'setting', id: SETTING }, data: { statement: input.statement } });
    return { statement: input.statement };
  });
}
