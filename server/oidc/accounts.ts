import { interactionPolicy, type FindAccount } from 'oidc-provider';
import type { HotReads } from '../store/cache.js';

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
export function interactionPolicyWithAccountCheck(): interactionPolicy.Prompt[] {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('account_unavailable', 'the account of this session can no longer sign in', 'login_required', (ctx) =>
      Boolean(ctx.oidc.session?.accountId && !ctx.oidc.account),
    ),
  );
  return policy;
}
