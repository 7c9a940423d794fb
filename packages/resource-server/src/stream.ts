import { type JWTVerifyGetKey, jwtVerify } from 'jose';

const POLL = 'urn:ietf:rfc:8936';
const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

export interface StreamOptions {
  issuer: string;
  /** Where Gatehouse is reached (the issuer's address unless told otherwise). */
  url: string;
  /** A client of the issuer granted `ssf:stream` (client credentials). */
  clientId: string;
  clientSecret: string;
  /**
   * Names this process's stream, stable across restarts: a restarted process finds its stream again
   * and is sent everything it had not acknowledged. Give each process its own.
   */
  streamName: string;
  jwks: JWTVerifyGetKey;
  fetch: typeof fetch;
  /** Called for each security event, in order. */
  onEvent(type: string, subId: unknown, at: number): void;
  onError(err: Error): void;
}

interface Discovered {
  configurationEndpoint: string;
  pollUrl: string;
}

/**
 * An RFC 8936 poll stream to a Shared Signals transmitter: long polls that are answered as soon as
 * an event commits, or empty after the transmitter's heartbeat interval. Each answer, even an empty
 * one, is proof of how fresh this process's view is (lastContact). SETs are acknowledged on the next
 * poll, after they have been applied, so nothing is lost across a restart (at least once).
 */
export class PollStream {
  /** When the transmitter last answered (ms since the epoch); undefined before the first answer. */
  lastContact: number | undefined;
  private token: { value: string; until: number } | undefined;
  private discovered: Discovered | undefined;
  private running = false;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private firstAnswer: Promise<void>;
  private answered!: () => void;

  constructor(private readonly o: StreamOptions) {
    this.firstAnswer = new Promise((resolve) => (this.answered = resolve));
  }

  /** Starts polling; resolves once the first answer (the catch-up) has been applied. */
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

  private async accessToken(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'ssf:stream', resource: `${this.o.issuer}/ssf` });
    const res = await this.o.fetch(`${this.o.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.o.clientId)}:${encodeURIComponent(this.o.clientSecret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body,
      signal: this.abort.signal,
    });
    const json = (await res.json()) as { access_token?: string; expires_in?: number; error?: string };
    if (!res.ok || !json.access_token) throw new Error(`stream token refused: ${res.status} ${json.error ?? ''}`);
    this.token = { value: json.access_token, until: Date.now() + Math.max(10, (json.expires_in ?? 60) - 30) * 1000 };
    return json.access_token;
  }

  /** An endpoint the issuer named, reached where this process reaches Gatehouse. */
  private rebase(url: string): string {
    return url.startsWith(`${this.o.issuer}/`) ? `${this.o.url}${url.slice(this.o.issuer.length)}` : url;
  }

  private async call(url: string, method: string, body?: unknown): Promise<Response> {
    return this.o.fetch(this.rebase(url), {
      method,
      headers: { authorization: `Bearer ${await this.accessToken()}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: this.abort.signal,
    });
  }

  /** SSF 1.0 §7: the transmitter's metadata, then this process's stream (found by name, or created). */
  private async discover(): Promise<Discovered> {
    const meta = (await (await this.o.fetch(`${this.o.url}/.well-known/ssf-configuration`, { signal: this.abort.signal })).json()) as {
      configuration_endpoint: string;
    };
    const list = await this.call(meta.configuration_endpoint, 'GET');
    if (!list.ok) throw new Error(`listing streams failed: ${list.status}`);
    type Stream = { description?: string; delivery: { method: string; endpoint_url: string } };
    let stream = ((await list.json()) as Stream[]).find((s) => s.description === this.o.streamName && s.delivery.method === POLL);
    if (!stream) {
      const created = await this.call(meta.configuration_endpoint, 'POST', { description: this.o.streamName, delivery: { method: POLL } });
      if (!created.ok) throw new Error(`creating a stream failed: ${created.status}`);
      stream = (await created.json()) as Stream;
    }
    return { configurationEndpoint: meta.configuration_endpoint, pollUrl: stream.delivery.endpoint_url };
  }

  private async run(): Promise<void> {
    let acks: string[] = [];
    let failures = 0;
    while (this.running) {
      try {
        this.discovered ??= await this.discover();
        const res = await this.call(this.discovered.pollUrl, 'POST', { ack: acks, maxEvents: 100, returnImmediately: false });
        if (res.status === 401) this.token = undefined;
        if (res.status === 404) this.discovered = undefined; // the stream was deleted: make a new one
        if (!res.ok) throw new Error(`poll answered ${res.status}`);
        const { sets } = (await res.json()) as { sets: Record<string, string> };
        acks = [];
        for (const [jti, set] of Object.entries(sets ?? {})) {
          await this.apply(set);
          acks.push(jti);
        }
        this.lastContact = Date.now();
        this.answered();
        failures = 0;
      } catch (err) {
        if (!this.running) return;
        this.o.onError(err as Error);
        // Back off a little, up to 2 s: staleness, not this loop, decides what verify() does meanwhile.
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** failures++, 2000)));
      }
    }
  }

  /** RFC 8417 SET, signed by the issuer's keys, addressed to this client. */
  private async apply(set: string): Promise<void> {
    const { payload } = await jwtVerify(set, this.o.jwks, { issuer: this.o.issuer, audience: this.o.clientId, typ: 'secevent+jwt' });
    const events = (payload.events ?? {}) as Record<string, { event_timestamp?: number }>;
    for (const [type, event] of Object.entries(events)) {
      if (type === VERIFICATION) continue;
      this.o.onEvent(type, payload.sub_id, typeof event?.event_timestamp === 'number' ? event.event_timestamp : (payload.iat ?? Math.floor(Date.now() / 1000)));
    }
  }
}
