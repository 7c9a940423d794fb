import { type CryptoKey, type JWK, importJWK, SignJWT } from 'jose';
import type { KeyRing } from '../keyring.js';
import type { SsfEventRow } from '../../store/ssf.js';

const ALG_BY_KTY: Record<string, string> = { RSA: 'RS256', EC: 'ES256' };

/** A SET's jti names its event and its stream: acknowledgements (RFC 8936 §2.4) find both again. */
export const setJti = (streamId: string, eventId: string) => `${eventId}.${streamId}`;

/** The event id of a jti of this stream, or undefined for anything else. */
export function eventIdOf(jti: unknown, streamId: string): string | undefined {
  if (typeof jti !== 'string') return undefined;
  const m = /^(\d{1,18})\.(.+)$/.exec(jti);
  return m && m[2] === streamId ? m[1] : undefined;
}

/**
 * Security Event Tokens (RFC 8417) signed with the server's current signing key, the one the JWKS
 * publishes (typ secevent+jwt, RFC 8417 §2.3), so receivers verify them as they verify access tokens.
 */
export class SetSigner {
  private imported = new Map<string, CryptoKey | Uint8Array>();

  constructor(
    private readonly keys: KeyRing,
    private readonly issuer: string,
  ) {}

  private async signingKey(): Promise<{ key: CryptoKey | Uint8Array; kid: string; alg: string }> {
    const jwk = this.keys.providerJwks().keys.find((k) => k.kty === 'RSA') ?? this.keys.providerJwks().keys[0];
    if (!jwk?.kid) throw new Error('no signing key');
    const alg = (jwk as JWK).alg ?? ALG_BY_KTY[jwk.kty ?? ''] ?? 'RS256';
    let key = this.imported.get(jwk.kid);
    if (!key) {
      key = await importJWK(jwk, alg);
      this.imported.set(jwk.kid, key);
    }
    return { key, kid: jwk.kid, alg };
  }

  /** One event for one stream: aud is the receiver's client_id (SSF 1.0 §4.1.2, the stream's aud). */
  async sign(streamId: string, audience: string, event: Pick<SsfEventRow, 'id' | 'event_type' | 'sub_id' | 'event'>): Promise<{ jti: string; set: string }> {
    const { key, kid, alg } = await this.signingKey();
    const jti = setJti(streamId, event.id);
    const set = await new SignJWT({ sub_id: event.sub_id, events: { [event.event_type]: event.event } })
      .setProtectedHeader({ alg, kid, typ: 'secevent+jwt' })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setJti(jti)
      .sign(key);
    return { jti, set };
  }
}
