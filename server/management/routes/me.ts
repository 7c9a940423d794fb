import { z } from 'zod';
import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import { conferrable } from '../../services/delegation.js';
import { getUser, userSchema } from '../../services/users.js';
import { passwordMinLength } from '../../services/password-rules.js';

/** The caller as GET /me shows it. */
export const meSchema = z.strictObject({
  kind: z.enum(['user', 'api_key', 'client']),
  id: z.string().meta({ description: 'The user id, API key id or client_id.' }),
  user: userSchema.nullable().meta({ description: 'The user behind a user token or an API key.' }),
  permissions: z.array(z.string()).meta({ description: 'Management API permissions this credential holds now, sorted.' }),
  password_min_length: z.number().int().meta({ description: 'The shortest password the server accepts (PASSWORD_MIN_LENGTH), so forms can say so.' }),
  may_confer: z
    .array(z.string())
    .meta({ description: 'Every permission (Management API permissions and scopes of role-enforcing APIs) this credential may give to a key, client, role or user now: the delegation rule.' }),
});

/**
 * Who the caller is and what this credential may do right now: the permissions its scopes and the
 * user's current roles leave (services/credentials.ts), and what it may confer on others
 * (services/delegation.ts). Any valid credential may ask. The console uses it to
 * show the signed-in user and to say which permission a page needs before a request fails.
 */
export const meOperations = [
  operation({
    id: 'getMe', method: 'get', path: '/me', access: 'any credential', tag: 'meta',
    summary: 'The caller and its permissions',
    description: 'Who the credential belongs to (a user, an API key or a client), the permissions it holds now (its scopes, bounded by the user’s current roles), and what it may confer.',
    status: 200, response: meSchema, responseDescription: 'The caller',
    handle: async (ctx, _input, { db }) => {
      const principal = principalOf(ctx);
      // Operator tools (kind "system") never call over HTTP.
      if (principal.kind === 'system') throw new Error('the system principal has no HTTP credential');
      return {
        kind: principal.kind,
        id: principal.id,
        user: principal.userId ? await getUser(db, principal.userId) : null,
        permissions: [...principal.permissions].sort(),
        // The console states the password rule in its user dialogs (NIST SP 800-63B §5.1.1.2).
        password_min_length: passwordMinLength(),
        may_confer: await conferrable(db, principal),
      };
    },
  }),
];
