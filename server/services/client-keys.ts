import { createPublicKey } from 'node:crypto';
import { z } from 'zod';

/**
 * The public keys a private_key_jwt client signs its assertions with (RFC 7523 §2.2, OIDC Core §9,
 * RFC 7591 §2 `jwks`/`jwks_uri`). Only public keys are accepted: a member that belongs to a private
 * or symmetric key (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2) would put a signing secret in our
 * database, so the whole set is refused, naming the key and the member.
 */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;
/** What oidc-provider verifies client assertions with (clientAuthSigningAlgValues in oidc/provider.ts). */
export const CLIENT_AUTH_ALGS = ['RS256', 'PS256', 'ES256'] as const;
const MAX_KEYS = 10;

const jwk = z
  .looseObject({
    kty: z.enum(['RSA', 'EC', 'OKP']).meta({ description: 'RSA or EC (P-256) for RS256, PS256, ES256.' }),
    kid: z.string().min(1).max(200).optional(),
    alg: z.enum(CLIENT_AUTH_ALGS).optional(),
    use: z.literal('sig').optional().meta({ description: 'sig, if given: these keys verify signatures.' }),
  })
  .superRefine((key, ctx) => {
    const secret = PRIVATE_MEMBERS.filter((m) => m in key);
    if (secret.length) {
      ctx.addIssue({
        code: 'custom',
        message: `this is a private or symmetric key (it has ${secret.join(', ')}): register only the public key; the private key never leaves the client`,
      });
      return;
    }
    try {
      // The key must be one the library can load, or every request of the client would fail later.
      createPublicKey({ key: key as never, format: 'jwk' });
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a usable public key (RFC 7517 §4): check n and e (RSA) or crv, x and y (EC)' });
    }
  });

export const publicJwks = z
  .strictObject({ keys: z.array(jwk).min(1).max(MAX_KEYS) })
  .meta({ description: `A JSON Web Key Set (RFC 7517 §5) of at most ${MAX_KEYS} public keys; a private key (d, p, q, dp, dq, qi or k) is refused.` });

// A string test, not new URL() in a refinement (see validation.ts redirectUri).
export const jwksUri = z
  .url()
  .refine((u) => /^https:\/\//i.test(u) || /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])[:/]/i.test(u), 'jwks_uri must be https (http only for localhost, in development)')
  .meta({ description: 'Where the client publishes its public keys; fetched when needed, with a timeout and a size limit, and cached (README “private_key_jwt”).' });

export type PublicJwks = z.infer<typeof publicJwks>;

/** What a console or CLI shows of a key set: ids and algorithms, never more than is public. */
export function describeKeys(jwks: PublicJwks | undefined): { kid: string | null; kty: string; alg: string | null }[] {
  return (jwks?.keys ?? []).map((k) => ({ kid: k.kid ?? null, kty: k.kty, alg: k.alg ?? null }));
}
