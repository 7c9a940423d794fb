import { z } from 'zod';
import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import { getUser, userSchema } from '../../services/users.js';

/** The caller as GET /me shows it. */
export const meSchema = z.strictObject({
  kind: z.enum(['user', 'api_key', 'client']),
  id: z.string().meta({ description: 'The user id, API key id or client_id.' }),
  user: userSchema.nullable().meta({ description: 'The user behind a user token or an API key.' }),
  permissions: z.array(z.string()).meta({ description: 'Management API permissions this credential holds now, sorted.' }),
});

/**
 * Who the caller is and what this credential may do right now: the permissions its scopes and the
 * user's current roles leave (authenticate.ts). Any valid credential may ask. The console uses it to
 * show the signed-in user and to say which permission a page needs before a request fails.
 */
export const meOperations = [
  operation({
    id: 'getMe', method: 'get', path: '/me', access: 'any credential', tag: 'meta',
    summary: 'The caller and its permissions',
    description: 'Who the credential belongs to (a user, an API key or a client) and the permissions it holds now: its scopes, bounded by the user’s current roles.',
    status: 200, response: meSchema, responseDescription: 'The caller',
    handle: async (ctx, _input, { db }) => {
      const principal = principalOf(ctx);
      return {
        kind: principal.kind,
        id: principal.id,
        user: principal.userId ? await getUser(db, principal.userId) : null,
        permissions: [...principal.permissions].sort(),
      };
    },
  }),
];
