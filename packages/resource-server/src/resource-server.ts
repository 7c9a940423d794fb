import { type JWTPayload, type JWTVerifyGetKey, createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { checkDpop, type DpopRequest } from './dpop.js';
import { TokenError, invalidToken } from './errors.js';
import { Revocations, membersOf } from './revocations.js';
import { PushStream, type PushAnswer, type PushOptions } from './push.js';
import { PollStream, type RevocationStream } from './stream.js';

export interface ResourceServerOptions {
  /** Gatehouse's ISSUER. */
  issuer: string;
  /**
   * Where this process reaches Gatehouse, when not at the issuer's own address (an internal address,
   * or one node of several); the issuer's URLs in metadata are read relative to it.
   */
  url?: string;
  /** This API's identifier (the `aud` of its tokens). */
  audience: string | string[];
  algorithms?: string[];
  /**
   * The stream of revocations (Shared Signals): RFC 8936 poll by default, or RFC 8935 push to this
   * process's endpoint with `push` (mount pushReceiver() there before start()). Without it, tokens
   * are verified offline only and stay valid until they expire.
   */
  stream?: { clientId: string; clientSecret: string; streamName: string; push?: PushOptions };
  /**
   * How long the stream may be silent before this process stops trusting its view of revocations
   * (seconds, default 10; Gatehouse answers every held poll, and sends a quiet push stream a
   * heartbeat, within SSF_HEARTBEAT_SECONDS, 5 by default).
   */
  staleAfterSeconds?: number;
  /**
   * What verify() does while the stream is stale: `refuse` (503, the default), or `introspect`: ask
   * Gatehouse (RFC 7662) about each token, with the credentials in `introspection`.
   */
  whenStale?: 'refuse' | 'introspect';
  /** A client listed in the API's resource_servers, for the introspection fallback. */
  introspection?: { clientId: string; clientSecret: string };
  /** The longest an access token lives (seconds, default 3600): how long a revocation is remembered. */
  maxTokenLifetimeSeconds?: number;
  /** A key set of your own (tests, pinned keys); by default the issuer's /oauth/jwks, cached. */
  jwks?: JWTVerifyGetKey;
  fetch?: typeof fetch;
  onError?: (err: Error) => void;
}

/** What verify() returns: the token's claims (RFC 9068 §2.2 plus Gatehouse's grant_id, api_key_id). */
export interface AccessToken extends JWTPayload {
  sub: string;
  client_id: string;
  scope?: string;
  grant_id?: string;
  api_key_id?: string;
  cnf?: { jkt?: string };
}

export interface VerifyOptions {
  /** Needed for DPoP-bound tokens (cnf.jkt). */
  dpop?: DpopRequest;
}

/**
 * Verifies Gatehouse access tokens offline, like plain jose, and refuses those a revocation event has
 * named since: the token's client revoked or suspended, its API key revoked, its user deactivated or
 * their password changed, its grant revoked (logout, refresh-token reuse).
 */
export class ResourceServer {
  readonly revocations: Revocations;
  private readonly jwks: JWTVerifyGetKey;
  private readonly stream: RevocationStream | undefined;
  private readonly pushStream: PushStream | undefined;
  private readonly staleMs: number;
  private readonly fetch: typeof fetch;
  private readonly base: string;

  constructor(private readonly o: ResourceServerOptions) {
    this.fetch = o.fetch ?? globalThis.fetch;
    this.base = o.url ?? o.issuer;
    this.jwks = o.jwks ?? createRemoteJWKSet(new URL(`${this.base}/oauth/jwks`));
    this.revocations = new Revocations(o.maxTokenLifetimeSeconds ?? 3600);
    this.staleMs = (o.staleAfterSeconds ?? 10) * 1000;
    if (o.whenStale === 'introspect' && !o.introspection) throw new TypeError('whenStale: introspect needs introspection credentials');
    if (o.stream) {
      const options = {
        ...o.stream,
        issuer: o.issuer,
        url: this.base,
        jwks: this.jwks,
        fetch: this.fetch,
        onEvent: (e: { subId: unknown; at: number }) => this.revocations.add(membersOf(e.subId), e.at),
        onError: (err: Error) => o.onError?.(err),
      };
      const push = o.stream.push;
      this.pushStream = push && new PushStream({ ...options, push });
      this.stream = this.pushStream ?? new PollStream(options);
    }
  }

  /**
   * A SET pushed to this process (RFC 8935): verified, applied, and answered (202, or a refusal with
   * the RFC 8935 §2.3 error JSON). pushReceiver() and its Koa and Express forms call it.
   */
  receivePush(body: string, headers: { contentType?: string; authorization?: string }): Promise<PushAnswer> {
    if (!this.pushStream) throw new TypeError('this ResourceServer has no push stream: configure stream.push');
    return this.pushStream.receive(body, headers.contentType, headers.authorization);
  }

  /** Whether SETs come by push (receivePush) rather than by poll. */
  get receivesPush(): boolean {
    return this.pushStream !== undefined;
  }

  /**
   * Opens the stream; resolves once the revocations it had missed (or the last hour's) are applied.
   * With push, the endpoint must already be listening: the catch-up arrives there.
   */
  async start(): Promise<void> {
    await this.stream?.start();
    this.prune = setInterval(() => this.revocations.prune(), 60_000);
    this.prune.unref();
  }

  private prune: NodeJS.Timeout | undefined;

  async stop(): Promise<void> {
    clearInterval(this.prune);
    await this.stream?.stop();
  }

  /** Whether revocations are known fresh enough to accept tokens offline now. */
  get fresh(): boolean {
    if (!this.stream) return true;
    const last = this.stream.lastContact;
    return last !== undefined && Date.now() - last <= this.staleMs;
  }

  /** Verifies a bearer (or DPoP) access token; throws TokenError with the HTTP answer to give. */
  async verify(token: string, options: VerifyOptions = {}): Promise<AccessToken> {
    let payload: AccessToken;
    try {
      ({ payload } = (await jwtVerify(token, this.jwks, {
        issuer: this.o.issuer,
        audience: this.o.audience,
        typ: 'at+jwt', // RFC 9068 §4
        algorithms: this.o.algorithms ?? ['RS256', 'PS256', 'ES256'],
      })) as { payload: AccessToken });
    } catch (err) {
      throw invalidToken(err instanceof joseErrors.JWTExpired ? 'the access token has expired' : 'the access token is not valid');
    }
    if (typeof payload.sub !== 'string' || typeof payload.client_id !== 'string') throw invalidToken('the access token is not valid');
    if (payload.cnf?.jkt) await checkDpop(token, payload.cnf.jkt, options.dpop);
    if (this.revocations.matches(payload)) throw invalidToken('the access token has been revoked');
    if (!this.fresh) await this.whenStale(token);
    return payload;
  }

  /** Fails closed: a stale view of revocations never accepts a token on its own say-so. */
  private async whenStale(token: string): Promise<void> {
    if (this.o.whenStale !== 'introspect') {
      throw new TokenError(503, 'temporarily_unavailable', 'revocations cannot be checked right now; try again shortly');
    }
    const { clientId, clientSecret } = this.o.introspection!;
    let active = false;
    try {
      const res = await this.fetch(`${this.base}/oauth/introspect`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token }),
      });
      active = res.ok && ((await res.json()) as { active?: boolean }).active === true;
    } catch {
      throw new TokenError(503, 'temporarily_unavailable', 'revocations cannot be checked right now; try again shortly');
    }
    if (!active) throw invalidToken('the access token has been revoked');
  }
}
