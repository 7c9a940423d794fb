import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import { pageQuery, pageSchema, queryValue } from '../../services/pagination.js';
import { createUser, createUserSchema, deleteUser, getUser, listUsers, updateUser, updateUserSchema, userSchema } from '../../services/users.js';
import { lockoutOf, lockoutSchema, unlockUser, withLockout } from '../../services/lockouts.js';
import { factorsOf, factorsSchema, resetFactors, withFactors } from '../../services/factors.js';
import { createResetLink, resetLinkSchema } from '../../services/password-reset.js';
import { sendVerification } from '../../services/email-verification.js';

const ID = { id: 'The user’s id.' };

/** One user with their second factors filled in. */
const one = async <U extends { id: string; factors: ('totp' | 'passkey')[] }>(db: Parameters<typeof withFactors>[0], user: U) => (await withFactors(db, [user]))[0];
const tag = 'users';

/** Local user accounts and their roles. */
export const userOperations = [
  operation({
    id: 'listUsers', method: 'get', path: '/users', access: 'users:read', tag,
    summary: 'List users',
    query: pageQuery.extend({
      q: queryValue.optional().meta({ description: 'Part of the email address or name.' }),
      role: queryValue.optional().meta({ description: 'Only users who hold this role (e.g. admin).' }),
    }),
    status: 200, response: pageSchema(userSchema), responseDescription: 'A page of users',
    handle: async (_ctx, { query }, { db, protection }) => {
      const page = await listUsers(db, query);
      return { ...page, data: await withFactors(db, await Promise.all(page.data.map((u) => withLockout(protection.login, u)))) };
    },
  }),
  operation({
    id: 'createUser', method: 'post', path: '/users', access: 'users:write', tag,
    summary: 'Create a user',
    description: 'With SMTP configured, the new address is sent a verification link.',
    body: createUserSchema,
    status: 201, response: userSchema, responseDescription: 'The user',
    errors: [409],
    handle: async (ctx, { body }, { db, protection, mail }) => {
      const caller = principalOf(ctx);
      const user = await createUser(db, body, caller);
      sendVerification(mail, user.id, caller.actor);
      return one(db, await withLockout(protection.login, user));
    },
  }),
  operation({
    id: 'getUser', method: 'get', path: '/users/:id', access: 'users:read', tag, params: ID,
    summary: 'Get a user',
    status: 200, response: userSchema, responseDescription: 'The user',
    errors: [404],
    handle: async (ctx, _input, { db, protection }) => one(db, await withLockout(protection.login, await getUser(db, ctx.params.id))),
  }),
  operation({
    id: 'updateUser', method: 'patch', path: '/users/:id', access: 'users:write', tag, params: ID,
    summary: 'Change a user: name, email, roles, active',
    description: 'Deactivating a user ends their sessions, revokes their refresh tokens and stops their API keys at once. A new email is unverified until the person follows the link sent to it (with SMTP configured). 409 for taking the admin role from, or deactivating, the only active administrator.',
    body: updateUserSchema,
    status: 200, response: userSchema, responseDescription: 'The changed user',
    errors: [404, 409],
    handle: async (ctx, { body }, { db, protection, mail }) => {
      const caller = principalOf(ctx);
      const before = body.email === undefined ? undefined : await getUser(db, ctx.params.id);
      const user = await updateUser(db, ctx.params.id, body, caller);
      if (before && before.email.toLowerCase() !== user.email.toLowerCase()) sendVerification(mail, user.id, caller.actor);
      return one(db, await withLockout(protection.login, user));
    },
  }),
  operation({
    id: 'deleteUser', method: 'delete', path: '/users/:id', access: 'users:delete', tag, params: ID,
    summary: 'Delete a user',
    description: 'Ends their sessions, revokes their refresh tokens and deletes their API keys at once. 403 for deleting yourself; 409 for deleting the only active administrator.',
    status: 204, responseDescription: 'Deleted',
    errors: [404, 409],
    handle: (ctx, _input, { db }) => deleteUser(db, ctx.params.id, principalOf(ctx)),
  }),
  operation({
    id: 'createPasswordResetLink', method: 'post', path: '/users/:id/password-reset-link', access: 'users:write', tag, params: ID,
    summary: 'Make a password reset link to hand over',
    description: 'For a person who cannot receive email (or where no SMTP is configured): a single-use link, valid 30 minutes, shown once. Following it and choosing a password ends their sessions and refresh tokens. Audited as user.reset_link_created.',
    status: 201, response: resetLinkSchema, responseDescription: 'The link and when it expires',
    errors: [404],
    handle: (ctx, _input, { db, issuer }) => createResetLink(db, issuer, ctx.params.id, principalOf(ctx)),
  }),
  // Sign-in lockouts (README "Attack protection"): see one, and lift it.
  operation({
    id: 'getUserLockout', method: 'get', path: '/users/:id/lockout', access: 'users:read', tag, params: ID,
    summary: 'Whether sign-in with this account is locked',
    status: 200, response: lockoutSchema, responseDescription: 'The lockout, or locked_until null',
    errors: [404],
    handle: (ctx, _input, { db, protection }) => lockoutOf(db, protection.login, ctx.params.id),
  }),
  operation({
    id: 'unlockUser', method: 'delete', path: '/users/:id/lockout', access: 'users:write', tag, params: ID,
    summary: 'Lift a sign-in lockout',
    description: 'The user may sign in again from every address at once; audited as user.unlocked.',
    status: 204, responseDescription: 'Unlocked',
    errors: [404],
    handle: (ctx, _input, { db, protection }) => unlockUser(db, protection.login, ctx.params.id, principalOf(ctx)),
  }),
  // Second factors (README "Two-factor sign-in"): see them, and reset them for a person who lost theirs.
  operation({
    id: 'getUserFactors', method: 'get', path: '/users/:id/factors', access: 'users:read', tag, params: ID,
    summary: 'A user’s second factors',
    description: 'Their authenticator app, how many recovery codes are left, and their passkeys: never a secret.',
    status: 200, response: factorsSchema, responseDescription: 'The second factors',
    errors: [404],
    handle: (ctx, _input, { db }) => factorsOf(db, ctx.params.id),
  }),
  operation({
    id: 'resetUserFactors', method: 'delete', path: '/users/:id/factors', access: 'users:write', tag, params: ID,
    summary: 'Reset a user’s second factors',
    description: 'Deletes their authenticator app, recovery codes and passkeys (a lost phone); where two factors are required they set up a new one at their next sign-in. Needs holding every permission the user holds (the delegation rule); audited as user.factors_reset.',
    status: 204, responseDescription: 'Reset',
    errors: [404],
    handle: (ctx, _input, { db }) => resetFactors(db, ctx.params.id, principalOf(ctx)),
  }),
];
