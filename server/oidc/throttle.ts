import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { type Protection, TooManyAttemptsError } from '../services/protection/index.js';
import { limitAddress } from '../services/protection/address.js';

/** What a failed request at a protocol endpoint leaves in ctx.state for throttleFailedCredentials. */
export interface FailureMarks {
  /** Client authentication failed (invalid_client); the client_id it claimed, or '' if none. */
  failedClientAuth?: string;
  /** The client exists but is suspended or expired: refused by decision, so not counted as a guess. */
  inactiveClient?: boolean;
  /** Why that client was refused, for the audit log (provider.ts): suspended, or past its expiry. */
  inactiveReason?: 'client_suspended' | 'client_expired';
  /** An API key or token was presented that is not ours (introspection, token exchange). */
  unknownCredential?: boolean;
  /** The audit of a refusal, recorded from an event handler: awaited before the response goes out. */
  audit?: Promise<void>;
}

/** Keeps the audit write of an event handler so the request waits for it (events cannot be awaited). */
export function awaitAudit(ctx: Context | undefined, write: Promise<void>): void {
  const state = ctx ? marks(ctx) : undefined;
  if (state) state.audit = Promise.all([state.audit, write]).then(() => undefined);
}

const marks = (ctx: Context) => ctx.state as FailureMarks;

/** RFC 6585 §4 with an RFC 6749 §5.2-style body. */
export function answerTooMany(ctx: Context, err: TooManyAttemptsError): void {
  ctx.status = 429;
  ctx.remove('WWW-Authenticate');
  ctx.set('Retry-After', String(err.retryAfter));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: err.error, error_description: err.error_description };
}

/**
 * Limits on guessing at the token, introspection and revocation endpoints (provider.ts runs this
 * there; NIST SP 800-63B §5.2.2): failed client authentication per client_id and address and per
 * address, and unknown API keys or tokens per address. oidc-provider authenticates; this only reads
 * what it decided (its error events mark ctx.state, see watchFailures) and counts, so a good request
 * costs at most a cached lookup.
 *
 * A refused address is answered before anything is read or hashed. A refused client_id is answered in
 * the client's secret comparison (server/oidc/clients.ts) before the secret is compared, so a right
 * guess is refused too; for a client_id that does not exist, the same 429 comes from here.
 */
export function throttleFailedCredentials(protection: Protection): Middleware {
  return async function throttleCredentials(ctx, next) {
    if (ctx.method !== 'POST') return next();
    const ip = limitAddress(ctx.ip);
    try {
      const refused = protection.refuseIfBlocked([[protection.clientAuthAddress, ip], [protection.credentials, ip]]);
      if (refused) await refused;
    } catch (err) {
      if (err instanceof TooManyAttemptsError) return answerTooMany(ctx, err);
      throw err;
    }
    await next();
    const { failedClientAuth, unknownCredential, inactiveClient, audit } = marks(ctx);
    await audit;
    if (unknownCredential) await protection.credentials.fail(ip);
    if (failedClientAuth === undefined || inactiveClient) return;
    const key = `${failedClientAuth}|${ip}`;
    const before = failedClientAuth ? await protection.clientAuth.retryAfter(key) : 0;
    if (before > 0) return answerTooMany(ctx, new TooManyAttemptsError(before, 'failed client authentications'));
    await Promise.all([protection.clientAuthAddress.fail(ip), failedClientAuth ? protection.clientAuth.fail(key) : undefined]);
  };
}

/** Marks failed client authentication from oidc-provider's error events (lib/shared/error_handler.js). */
export function watchFailures(provider: Provider, attemptedClientId: (ctx: KoaContextWithOIDC) => string | undefined): void {
  const mark = (ctx: KoaContextWithOIDC, err: { error?: string }) => {
    if (err.error === 'invalid_client') marks(ctx).failedClientAuth = attemptedClientId(ctx) ?? '';
  };
  provider.on('grant.error', mark);
  provider.on('introspection.error', mark);
  provider.on('revocation.error', mark);
}

/**
 * The check made in the secret comparison: rejects with 429 while this client_id is refused at this
 * address; undefined when this node knows it is not (Protection.refuseIfBlocked).
 */
export function refuseBlockedClient(protection: Protection, clientId: string, ip: string | undefined, ctx: Context | undefined): Promise<void> | undefined {
  const refused = protection.refuseIfBlocked([[protection.clientAuth, `${clientId}|${limitAddress(ip ?? '')}`]], 'failed client authentications');
  return refused?.catch((err: unknown) => {
    if (err instanceof TooManyAttemptsError) ctx?.set('Retry-After', String(err.retryAfter));
    throw err;
  });
}
