import { principalOf } from '../authenticate.js';
import type { RouteGroup } from '../router.js';
import { getUser } from '../../services/users.js';
import { passwordMinLength } from '../../services/password-rules.js';

/**
 * Who the caller is and what this credential may do right now: the permissions its scopes and the
 * user's current roles leave (authenticate.ts). Any valid credential may ask. The console uses it to
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
      // The console states the password rule in its user dialogs (NIST SP 800-63B §5.1.1.2).
      password_min_length: passwordMinLength(),
    };
  });
};
