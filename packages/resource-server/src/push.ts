import { randomBytes, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors } from 'jose';
import { PUSH, SsfClient } from './ssf-client.js';
import { VERIFICATION, verifySet } from './set.js';
import type { RevocationStream, StreamOptions } from './stream.js';

export interface PushOptions {
  /** This process's push endpoint as Gatehouse reaches it, e.g. https://api.example.com/ssf/events. */
  endpointUrl: string;
  /**
   * The Authorization header Gatehouse must send with each SET (RFC 8935 §4.1). By default a random
   * one, new at each start and registered with the stream then.
   */
  authorization?: string;
}

/** An answer to a push request: status and, for refusals, RFC 8935 §2.3 error JSON. */
export interface PushAnswer {
  status: 202 | 400 | 401 | 503;
  body?: { err: string; description: string };
}

/** RFC 8935 §2.4 error codes. */
type PushError = 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience' | 'authentication_failed' | 'access_denied';

const refuse = (err: PushError, description: string, status: 400 | 401 = 400): PushAnswer => ({ status, body: { err, description } });

/**
 * An RFC 8935 push stream from a Shared Signals transmitter: Gatehouse POSTs each SET to this
 * process's endpoint, whose handler passes it to receive(). A SET that verifies is applied and
 * answered 202, which is what moves the transmitter on; a quiet stream gets a verification event
 * every SSF_HEARTBEAT_SECONDS, so every request is proof of how fresh this process's view is.
 */
export class PushStream implements RevocationStream {
  lastContact: number | undefined;
  private readonly authorization: string;
  private readonly client: SsfClient;
  private readonly abort = new AbortController();
  private readonly waiting = new Map<string, () => void>();
  private running = false;

  constructor(private readonly o: StreamOptions & { push: PushOptions }) {
    this.authorization = o.push.authorization ?? `Bearer ${randomBytes(32).toString('base64url')}`;
    this.client = new SsfClient({ ...o, signal: this.abort.signal });
  }

  /**
   * Makes this process's stream, pushing to its endpoint with the Authorization header to send, then
   * asks for a verification event and resolves when it arrives: it comes after the events the new
   * stream starts with (the last hour's), so by then those are applied. The endpoint must be listening.
   */
  async start(): Promise<void> {
    this.running = true;
    let failures = 0;
    for (;;) {
      try {
        const stream = await this.client.replaceStream(this.o.streamName, {
          method: PUSH,
          endpoint_url: this.o.push.endpointUrl,
          authorization_header: this.authorization,
        });
        const state = randomBytes(16).toString('base64url');
        const arrived = new Promise<void>((resolve) => this.waiting.set(state, resolve));
        await this.client.requestVerification(stream.stream_id, state);
        await arrived;
        return;
      } catch (err) {
        if (!this.running) return;
        this.o.onError(err as Error);
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** failures++, 2000)));
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
  }

  private authorized(header: string | undefined): boolean {
    const expected = Buffer.from(this.authorization);
    const given = Buffer.from(header ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * One push request (RFC 8935 §2): the SET in `body`, sent with `contentType` and `authorization`.
   * 202 once applied; 400 with the §2.3 error JSON for a SET that will never verify (the transmitter
   * moves on); 401 for a request without this stream's credential and 503 when the issuer's keys
   * cannot be had now: both are retried, so a transient failure loses no event.
   */
  async receive(body: string, contentType: string | undefined, authorization: string | undefined): Promise<PushAnswer> {
    // Any HTTP authentication failure is a plain HTTP error (RFC 8935 §2.3), and one the transmitter retries:
    // a SET sent with an outdated header (a stream being replaced) loses nothing.
    if (!this.authorized(authorization)) return refuse('authentication_failed', 'the request does not carry this stream’s credential', 401);
    if (!/^application\/secevent\+jwt\s*(;|$)/i.test(contentType ?? '')) {
      return refuse('invalid_request', 'a SET is sent as application/secevent+jwt (RFC 8935 §2.1)');
    }
    let events;
    try {
      events = await verifySet(body.trim(), { jwks: this.o.jwks, issuer: this.o.issuer, audience: this.o.clientId });
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) {
        // A key not yet known (a rotation: the key set is fetched again after a cool-down) or the key set unreachable.
        this.o.onError(err as Error);
        return { status: 503 };
      }
      return refusal(err);
    }
    for (const event of events) {
      if (event.type !== VERIFICATION) this.o.onEvent(event);
      else if (event.state !== undefined) {
        this.waiting.get(event.state)?.();
        this.waiting.delete(event.state);
      }
    }
    this.lastContact = Date.now();
    return { status: 202 };
  }
}

/** Why a SET is refused for good, as RFC 8935 §2.4 names it. */
function refusal(err: joseErrors.JOSEError): PushAnswer {
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return refuse('invalid_issuer', 'the SET is not from this stream’s issuer');
    if (err.claim === 'aud') return refuse('invalid_audience', 'the SET is not addressed to this receiver');
    return refuse('invalid_request', `the SET's ${err.claim} is not valid`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JOSEAlgNotAllowed) {
    return refuse('invalid_key', 'the SET is not signed by the issuer’s keys');
  }
  return refuse('invalid_request', 'the request body is not a SET (RFC 8417)');
}
