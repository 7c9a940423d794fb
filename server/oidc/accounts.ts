import { interactionPolicy, type FindAccount } from 'oidc-provider';
import type { HotReads } from '../store/cache.js';
import type { Queryable } from '../db/database.js';
import { acrAsksForTwoFactors, isTwoFactorAcr, roleRequiresTwoFactors } from '../services/two-factor-policy.js';

/** oidc-provider's account loader: an active local user, with the claims its scopes release. */
export function accountFinder(reads: Pick<HotReads, 'findUserById'>): FindAccount {
  return async function findAccount(ctx, sub, token) {
    const user = await reads.findUserById(sub);
    if (!user || !user.active) return undefined;
    // A browser session from before the user was deactivated (or signed out everywhere) is over.
    const loginTs = token ? undefined : ctx?.oidc?.session?.loginTs;
    if (loginTs && user.sessionsValidAfter && loginTs * 1000 < user.sessionsValidAfter.getTime()) return undefined;
    return {
      accountId: user.id,
      async claims() {
        return {
          sub: user.id,
          name: user.name,
          email: user.email,
          // OIDC Core §5.1: true once the person followed a link sent to this very address.
          email_verified: user.emailVerified,
          updated_at: Math.floor(user.updatedAt.getTime() / 1000),
        };
      },
    };
  };
}

/**
 * oidc-provider's default prompts, plus one login check: a browser session whose account
 * findAccount refuses (deactivated, deleted, or signed in before sessions_valid_after) must sign in
 * again. The session still names the account, so the default checks would ask for no login, and the
 * consent step would then run without a grant (a 500). With prompt=none the client gets
 * login_required (OIDC Core §3.1.2.6), as for no session at all.
 */
export function interactionPolicyWithAccountCheck(db: Queryable): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  login.checks.add(
    new interactionPolicy.Check('account_unavailable', 'the account of this session can no longer sign in', 'login_required', (ctx) =>
      Boolean(ctx.oidc.session?.accountId && !ctx.oidc.account),
    ),
  );
  // A session signed in with one factor does not satisfy a request for two (acr_values, OIDC Core
  // §3.1.2.1) nor a person whose role requires two (issue 13): they sign in again, with both. With
  // prompt=none the client gets login_required (OIDC Core §3.1.2.6).
  login.checks.add(
    new interactionPolicy.Check('two_factors_required', 'this request needs a sign-in with two factors', 'login_required', async (ctx) => {
      const session = ctx.oidc.session;
      if (!session?.accountId || !ctx.oidc.account || isTwoFactorAcr(session.acr)) return false;
      return acrAsksForTwoFactors(ctx.oidc.params?.acr_values) || roleRequiresTwoFactors(db, session.accountId);
    }),
  );
  return policy;
}
