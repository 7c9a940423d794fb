import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import { hashPassword } from '../crypto/passwords.js';
import { findRoles, rolesOfUser, setUserRoles } from '../store/roles.js';
import {
  EmailTakenError, type UserView, deleteUserRow, emailTakenByOther, findUserView, insertUser, invalidateSessions,
  listUserViews, updateUserFields,
} from '../store/users.js';
import { suspendClientsOfOwner } from '../store/clients.js';
import { deleteUserSessions } from '../store/user-sessions.js';
import { revokeAccountArtifacts } from './artifacts.js';
import { queueLogoutsForAccount } from './backchannel-logouts.js';
import { type Actor, recordAudit } from './audit.js';
import { type UserAccessEnd, initiatorOf, recordClientAccessEnd, recordUserAccessEnd } from './ssf/events.js';
import { roleName } from './roles.js';
import { assertKeepsAnAdministrator } from './last-admin.js';
import { assertMayActOnUser, assertMayGiveRoles } from './delegation.js';
import { passwordRule } from './password-rules.js';
import { conflict, forbidden, invalidRequest, notFound } from './errors.js';
import { decodeCursor, pageOf, parseLimit } from './pagination.js';
import type { Principal } from './principal.js';
import { NAME_MAX, PASSWORD_MIN } from './limits.js';
import { timestamp } from './validation.js';

const roleList = z.array(roleName).max(50).transform((r) => [...new Set(r)]);
const name = z.string().trim().min(1).max(NAME_MAX);
/** NIST SP 800-63B §5.1.1.2: long enough (PASSWORD_MIN_LENGTH) and not a common or breached one (password-rules.ts). */
export const password = z
  .string()
  .superRefine(passwordRule)
  .meta({ writeOnly: true, description: `At least PASSWORD_MIN_LENGTH characters (${PASSWORD_MIN} by default, at most 1024), and not on the list of common or breached passwords.` });

export const createUserSchema = z.strictObject({
  email: z.email().max(320),
  name,
  password: password.optional().meta({ description: `At least PASSWORD_MIN_LENGTH characters (${PASSWORD_MIN} by default), not on the list of common or breached passwords. Without one, the user cannot sign in until a password is set.` }),
  roles: roleList.default([]),
});

export const updateUserSchema = z.strictObject({
  email: z.email().max(320).optional(),
  name: name.optional(),
  password: password.optional(),
  roles: roleList.optional().meta({ description: 'Replaces the user’s roles; applies to their existing keys and next token at once.' }),
  active: z.boolean().optional().meta({ description: 'false ends their sessions, revokes their refresh tokens and stops their API keys.' }),
});

export const userSchema = z.strictObject({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  roles: z.array(z.string()),
  active: z.boolean(),
  email_verified: z.boolean().meta({ description: 'The person followed a verification link sent to this address (OIDC Core §5.1); false again after an email change.' }),
  locked_until: timestamp.nullable().meta({ description: 'While sign-in with this account is locked after repeated failures (README “Attack protection”); null otherwise.' }),
  factors: z.array(z.enum(['totp', 'passkey'])).meta({ description: 'The second factors the person has set up (README “Two-factor sign-in”).' }),
  created_at: timestamp,
  updated_at: timestamp,
});

export const serializeUser = (r: UserView): z.infer<typeof userSchema> => ({
  id: r.id,
  email: r.email,
  name: r.name,
  roles: r.roles ?? [],
  active: r.active,
  email_verified: r.email_verified,
  // Lockouts live in the limiter's store, not here: the HTTP layer fills this in (services/lockouts.ts).
  locked_until: null,
  // Second factors live in their own tables: the HTTP layer fills this in (services/factors.ts).
  factors: [],
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

async function mustFind(q: Queryable, id: string): Promise<UserView> {
  const user = await findUserView(q, id);
  if (!user) throw notFound(`user ${id}`);
  return user;
}

async function checkRoles(q: Queryable, roles: string[]) {
  if (!roles.length) return;
  const found = new Set((await findRoles(q, roles)).map((r) => r.name));
  const missing = roles.find((r) => !found.has(r));
  if (missing) throw invalidRequest(`roles: unknown role ${missing}`, 'roles');
}

/**
 * A user without a password cannot sign in until one is set: the stored hash is of random bytes
 * nobody knows, so there is no "empty password" state to get wrong.
 */
async function passwordHashFor(password: string | undefined) {
  return hashPassword(password ?? crypto.randomUUID() + crypto.randomUUID());
}

export async function createUser(db: Database, input: z.infer<typeof createUserSchema>, caller: Principal) {
  const passwordHash = await passwordHashFor(input.password);
  return db.transaction(async (tx) => {
    await checkRoles(tx, input.roles);
    await assertMayGiveRoles(tx, caller, input.roles);
    const id = await insertUser(tx, { email: input.email, name: input.name, passwordHash });
    if (!id) throw conflict(`a user with email ${input.email} already exists`);
    await setUserRoles(tx, id, input.roles);
    await recordAudit(tx, { type: 'user.created', actor: caller.actor, target: { type: 'user', id }, data: { email: input.email, roles: input.roles } });
    return serializeUser(await mustFind(tx, id));
  });
}

export async function listUsers(db: Queryable, query: { q?: string; role?: string; cursor?: string; limit?: string }) {
  const limit = parseLimit(query.limit);
  const after = decodeCursor(query.cursor, { e: 'text' });
  const rows = await listUserViews(db, { q: query.q?.trim() || undefined, role: query.role || undefined, afterEmail: after?.e, limit: limit + 1 });
  return pageOf(rows, limit, serializeUser, (r) => ({ e: r.email.toLowerCase() }));
}

export async function getUser(db: Queryable, id: string) {
  return serializeUser(await mustFind(db, id));
}

/**
 * Ends everything a user holds (OWASP ASVS 3.3.1, 3.3.3): their browser sessions on every node
 * (sessions_valid_after, which findAccount checks wherever sessions live), and their grants and
 * refresh tokens. Used on deactivation, deletion, a password change and a password reset. API keys
 * are credentials of their own: they stop with deactivation (checkApiKey refuses an inactive owner),
 * not with a new password. The sessions /account lists go too, but `keep`: the session a person
 * changes their password from, which the caller signs in again after the cut-off. Resource servers
 * hear of it through the security-event outbox, in the same transaction (Shared Signals,
 * services/ssf): their copies of the user's access tokens stop too.
 */
export async function endUserAccess(tx: Queryable, userId: string, why: UserAccessEnd, actor: Actor, keep?: string): Promise<number> {
  await invalidateSessions(tx, userId);
  // Back-Channel Logout 1.0 §2.5: each client that signed them in and asked to be told is sent a
  // logout token once this transaction commits (queued here, before the grants that name them and
  // the sessions that hold their sids go).
  await queueLogoutsForAccount(tx, userId, why);
  await deleteUserSessions(tx, userId, keep);
  await recordUserAccessEnd(tx, userId, why, initiatorOf(actor));
  return revokeAccountArtifacts(tx, userId);
}

export async function updateUser(db: Database, id: string, patch: z.infer<typeof updateUserSchema>, caller: Principal) {
  const passwordHash = patch.password ? await hashPassword(patch.password) : null;
  const actor = caller.actor;
  return db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    await assertMayActOnUser(tx, caller, id);
    await assertKeepsAnAdministrator(tx, current, { roles: patch.roles, active: patch.active });
    if (patch.roles) {
      await checkRoles(tx, patch.roles);
      await assertMayGiveRoles(tx, caller, patch.roles);
    }
    if (patch.email && patch.email.toLowerCase() !== current.email.toLowerCase() && (await emailTakenByOther(tx, patch.email, id))) {
      throw conflict(`a user with email ${patch.email} already exists`);
    }
    await updateUserFields(tx, id, { email: patch.email, name: patch.name, passwordHash, active: patch.active }).catch((err) => {
      if (err instanceof EmailTakenError) throw conflict(`a user with email ${patch.email} already exists`);
      throw err;
    });
    const target = { type: 'user', id };
    if (patch.roles) {
      const before = await rolesOfUser(tx, id);
      await setUserRoles(tx, id, patch.roles);
      await recordAudit(tx, { type: 'user.roles_changed', actor, target, data: { before, after: patch.roles } });
    }
    if (patch.active === false && current.active) {
      const revoked = await endUserAccess(tx, id, 'deactivated', actor);
      await recordAudit(tx, { type: 'user.deactivated', actor, target, data: { revoked_artifacts: revoked } });
    } else if (patch.active === true && !current.active) {
      await recordAudit(tx, { type: 'user.activated', actor, target });
    }
    if (patch.password !== undefined && patch.active !== false) {
      // A new password ends what the old one started (OWASP ASVS 3.3.3).
      const revoked = await endUserAccess(tx, id, 'password_changed', actor);
      await recordAudit(tx, { type: 'user.password_changed', actor, target, data: { revoked_artifacts: revoked } });
    }
    const fields = (['email', 'name', 'password'] as const).filter((f) => patch[f] !== undefined);
    if (fields.length) await recordAudit(tx, { type: 'user.updated', actor, target, data: { fields } });
    return serializeUser(await mustFind(tx, id));
  });
}

/**
 * Nobody deletes the account they are using (a user token or one of their API keys), which would
 * also end the access they are using it with. The clients the user created are suspended: with their
 * owner gone nothing would bound them by anyone's roles any more (clients.created_by becomes null),
 * so an administrator decides whether each comes back, as an ownerless client, and resuming one needs
 * holding everything it holds (the delegation rule).
 */
export async function deleteUser(db: Database, id: string, caller: Principal): Promise<void> {
  if (caller.userId === id) throw forbidden('you cannot delete yourself; ask another administrator');
  await db.transaction(async (tx) => {
    const current = await mustFind(tx, id);
    await assertMayActOnUser(tx, caller, id);
    await assertKeepsAnAdministrator(tx, current, 'delete');
    await endUserAccess(tx, id, 'deleted', caller.actor);
    for (const clientId of await suspendClientsOfOwner(tx, id)) {
      await recordAudit(tx, { type: 'client.suspended', actor: caller.actor, target: { type: 'client', id: clientId }, data: { reason: 'owner_deleted', owner: id } });
      await recordClientAccessEnd(tx, clientId, 'suspended', initiatorOf(caller.actor));
    }
    await deleteUserRow(tx, id);
    await recordAudit(tx, { type: 'user.deleted', actor: caller.actor, target: { type: 'user', id }, data: { email: current.email } });
  });
}
