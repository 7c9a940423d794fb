import type { JWTVerifyGetKey } from 'jose';
import { POLL, SsfClient } from './ssf-client.js';
import { type SecurityEvent, VERIFICATION, verifySet } from './set.js';

export interface StreamOptions {
  issuer: string;
  /** Where Gatehouse is reached (the issuer's address unless told otherwise). */
  url: string;
  /** A client of the issuer granted `ssf:stream` (client credentials). */
  clientId: string;
  clientSecret: string;
  /**
   * Names this process's stream: each start replaces the streams of this name with a new one, which
   * brings the last hour's revocations (old streams do not pile up). Give each process its own.
   */
  streamName: string;
  jwks: JWTVerifyGetKey;
  fetch: typeof fetch;
  /** Called for each security event (verification events excepted), in order. */
  onEvent(event: SecurityEvent): void;
  onError(err: Error): void;
}

/** What ResourceServer needs of a stream, poll or push. */
export interface RevocationStream {
  /** When the transmitter was last heard from (ms since the epoch); undefined before the first time. */
  readonly lastContact: number | undefined;
  /** Resolves once the stream's first events (the last hour's revocations) have been applied. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An RFC 8936 poll stream to a Shared Signals transmitter: long polls that are answered as soon as
 * an event commits, or empty after the transmitter's heartbeat interval. Each answer, even an empty
 * one, is proof of how fresh this process's view is (lastContact). SETs are acknowledged on the next
 * poll, after they have been applied, so an outage loses nothing (at least once).
 */
export class PollStream implements RevocationStream {
  lastContact: number | undefined;
  private pollUrl: string | undefined;
  private running = false;
  private abort = new AbortController();
  private readonly client: SsfClient;
  private loop: Promise<void> | undefined;
  private firstAnswer: Promise<void>;
  private caughtUp = false;
  private answered!: () => void;

  constructor(private readonly o: StreamOptions) {
    this.firstAnswer = new Promise((resolve) => (this.answered = resolve));
    this.client = new SsfClient({ ...o, signal: this.abort.signal });
  }

  /** Starts polling; resolves once the stream's backlog (the last hour's events) has been applied. */
  async start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      this.loop = this.run();
    }
    await this.firstAnswer;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loop?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    let acks: string[] = [];
    let failures = 0;
    while (this.running) {
      try {
        this.pollUrl ??= (await this.client.replaceStream(this.o.streamName, { method: POLL })).delivery.endpoint_url;
        // Until caught up, answers come at once (an empty stream is not held); then polls are held.
        const res = await this.client.call(this.pollUrl!, 'POST', { ack: acks, maxEvents: 100, returnImmediately: !this.caughtUp });
        if (res.status === 404) this.pollUrl = undefined; // the stream was deleted: make a new one (duplicates are harmless)
        if (!res.ok) throw new Error(`poll answered ${res.status}`);
        const { sets, moreAvailable } = (await res.json()) as { sets: Record<string, string>; moreAvailable?: boolean };
        acks = [];
        for (const [jti, set] of Object.entries(sets ?? {})) {
          const events = await verifySet(set, { jwks: this.o.jwks, issuer: this.o.issuer, audience: this.o.clientId });
          for (const event of events) if (event.type !== VERIFICATION) this.o.onEvent(event);
          acks.push(jti);
        }
        this.lastContact = Date.now();
        // Caught up once an answer leaves nothing behind (RFC 8936 §2.4 moreAvailable): start() waits for that.
        if (!moreAvailable && !this.caughtUp) {
          this.caughtUp = true;
          this.answered();
        }
        failures = 0;
      } catch (err) {
        if (!this.running) return;
        this.o.onError(err as Error);
        // Back off a little, up to 2 s: staleness, not this loop, decides what verify() does meanwhile.
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** failures++, 2000)));
      }
    }
  }
}
