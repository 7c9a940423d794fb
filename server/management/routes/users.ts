import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import { pageQuery, pageSchema, queryValue } from '../../services/pagination.js';
import { createUser, createUserSchema, deleteUser, getUser, listUsers, updateUser, updateUserSchema, userSchema } from '../../services/users.js';
import { lockoutOf, lockoutSchema, unlockUser, withLockout } from '../../services/lockouts.js';

const ID = { id: 'The user’s id.' };
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
      return { ...page, data: await Promise.all(page.data.map((u) => withLockout(protection.login, u))) };
    },
  }),
  operation({
    id: 'createUser', method: 'post', path: '/users', access: 'users:write', tag,
    summary: 'Create a user',
    body: createUserSchema,
    status: 201, response: userSchema, responseDescription: 'The user',
    errors: [409],
    handle: async (ctx, { body }, { db, protection }) => withLockout(protection.login, await createUser(db, body, principalOf(ctx))),
  }),
  operation({
    id: 'getUser', method: 'get', path: '/users/:id', access: 'users:read', tag, params: ID,
    summary: 'Get a user',
    status: 200, response: userSchema, responseDescription: 'The user',
    errors: [404],
    handle: async (ctx, _input, { db, protection }) => withLockout(protection.login, await getUser(db, ctx.params.id)),
  }),
  operation({
    id: 'updateUser', method: 'patch', path: '/users/:id', access: 'users:write', tag, params: ID,
    summary: 'Change a user: name, email, roles, active',
    description: 'Deactivating a user ends their sessions, revokes their refresh tokens and stops their API keys at once. 409 for taking the admin role from, or deactivating, the only active administrator.',
    body: updateUserSchema,
    status: 200, response: userSchema, responseDescription: 'The changed user',
    errors: [404, 409],
    handle: async (ctx, { body }, { db, protection }) => withLockout(protection.login, await updateUser(db, ctx.params.id, body, principalOf(ctx))),
  }),
  operation({
    id: 'deleteUser', method: 'delete', path: '/users/:id', access: 'users:delete', tag, params: ID,
    summary: 'Delete a user',
    description: 'Ends their sessions, revokes their refresh tokens and deletes their API keys at once. 403 for deleting yourself; 409 for deleting the only active administrator.',
    status: 204, responseDescription: 'Deleted',
    errors: [404, 409],
    handle: (ctx, _input, { db }) => deleteUser(db, ctx.params.id, principalOf(ctx)),
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
];
