import { type JWTVerifyGetKey, jwtVerify } from 'jose';

export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

/** One event of a SET, as the revocations use it. */
export interface SecurityEvent {
  jti: string;
  type: string;
  subId: unknown;
  /** event_timestamp (CAEP 1.0 §2), or the SET's iat, in seconds. */
  at: number;
  /** A verification event's state (SSF 1.0 §8.1.4.1). */
  state?: string;
}

/**
 * Verifies a Security Event Token (RFC 8417) the way RFC 8417 §2.3 and SSF 1.0 §4.1 ask: signed by the
 * issuer's keys (its JWKS), `iss` the issuer, `aud` this receiver's client id, `typ` secevent+jwt.
 * Throws jose's errors, which say which check failed.
 */
export async function verifySet(set: string, o: { jwks: JWTVerifyGetKey; issuer: string; audience: string }): Promise<SecurityEvent[]> {
  const { payload } = await jwtVerify(set, o.jwks, { issuer: o.issuer, audience: o.audience, typ: 'secevent+jwt' });
  const events = (payload.events ?? {}) as Record<string, { event_timestamp?: unknown; state?: unknown } | undefined>;
  const fallback = payload.iat ?? Math.floor(Date.now() / 1000);
  return Object.entries(events).map(([type, event]) => ({
    jti: String(payload.jti ?? ''),
    type,
    subId: payload.sub_id,
    at: typeof event?.event_timestamp === 'number' ? event.event_timestamp : fallback,
    ...(typeof event?.state === 'string' ? { state: event.state } : {}),
  }));
}
