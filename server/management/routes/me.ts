import { principalOf } from '../authenticate.js';
import type { RouteGroup } from '../router.js';
import { conferrable } from '../../services/delegation.js';
import { getUser } from '../../services/users.js';

/**
 * Who the caller is and what this credential may do right now: the permissions its scopes and the
 * user's current roles leave (services/credentials.ts), and what it may confer on others
 * (services/delegation.ts). Any valid credential may ask. The console uses it to
 * show the signed-in user and to say which permission a page needs before a request fails.
 */
export const meRoutes: RouteGroup = (router, { db }) => {
  router.get('/me', async (ctx) => {
    const principal = principalOf(ctx);
    ctx.body = {
      kind: principal.kind,
      id: principal.id,
      user: principal.userId ? await getUser(db, principal.userId) : null,
      permissions: [...principal.permissions].sort(),
      // What this credential may give to a key, client, role or user (the delegation rule).
      may_confer: await conferrable(db, principal),
    };
  });
};
