/** What a receiver needs to talk to the transmitter's SSF 1.0 API as a client granted `ssf:stream`. */
export interface SsfClientOptions {
  issuer: string;
  /** Where Gatehouse is reached (the issuer's address unless told otherwise). */
  url: string;
  clientId: string;
  clientSecret: string;
  fetch: typeof fetch;
  signal: AbortSignal;
}

/** A stream as the transmitter describes it (SSF 1.0 §8.1.1.1), the members this library reads. */
export interface StreamConfiguration {
  stream_id: string;
  description?: string;
  delivery: { method: string; endpoint_url?: string };
}

export const POLL = 'urn:ietf:rfc:8936';
export const PUSH = 'urn:ietf:rfc:8935';

/**
 * Stream management (SSF 1.0 §7, §8.1) with a client-credentials token for the transmitter's Shared
 * Signals API, fetched and renewed as needed.
 */
export class SsfClient {
  private token: { value: string; until: number } | undefined;
  private configurationEndpoint: string | undefined;

  constructor(private readonly o: SsfClientOptions) {}

  /** The token is refused (401): fetch a new one on the next call. */
  forgetToken(): void {
    this.token = undefined;
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
      signal: this.o.signal,
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

  async call(url: string, method: string, body?: unknown): Promise<Response> {
    const res = await this.o.fetch(this.rebase(url), {
      method,
      headers: { authorization: `Bearer ${await this.accessToken()}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: this.o.signal,
    });
    if (res.status === 401) this.forgetToken();
    return res;
  }

  private async endpoint(name: 'configuration_endpoint' | 'verification_endpoint'): Promise<string> {
    const meta = (await (await this.o.fetch(`${this.o.url}/.well-known/ssf-configuration`, { signal: this.o.signal })).json()) as Record<string, string>;
    this.configurationEndpoint = meta.configuration_endpoint;
    return meta[name];
  }

  /**
   * A new stream for this process, replacing the streams it had under this name (SSF 1.0 §8.1.1.1,
   * §8.1.1.5). A new stream starts with the last hour's events (the longest an access token lives),
   * which is what a process that has just started needs: its revocations were held in memory, so
   * resuming its old stream from the last acknowledged event would leave out everything it had
   * acknowledged before it stopped. Within one process's life the stream is never replaced, so
   * an outage is caught up from the last acknowledged event.
   */
  async replaceStream(name: string, delivery: { method: string; endpoint_url?: string; authorization_header?: string }): Promise<StreamConfiguration> {
    const configuration = this.configurationEndpoint ?? (await this.endpoint('configuration_endpoint'));
    const list = await this.call(configuration, 'GET');
    if (!list.ok) throw new Error(`listing streams failed: ${list.status}`);
    const earlier = ((await list.json()) as StreamConfiguration[]).filter((s) => s.description === name);
    const created = await this.call(configuration, 'POST', { description: name, delivery });
    if (!created.ok) throw new Error(`creating the stream failed: ${created.status}`);
    for (const s of earlier) {
      const res = await this.call(`${configuration}?stream_id=${encodeURIComponent(s.stream_id)}`, 'DELETE');
      // Already gone (another start of this name) is as good as deleted.
      if (!res.ok && res.status !== 404) throw new Error(`deleting the earlier stream failed: ${res.status}`);
    }
    return (await created.json()) as StreamConfiguration;
  }

  /** SSF 1.0 §8.1.4.2: asks for a verification event with this state, delivered after every event before it. */
  async requestVerification(streamId: string, state: string): Promise<void> {
    const res = await this.call(await this.endpoint('verification_endpoint'), 'POST', { stream_id: streamId, state });
    if (!res.ok) throw new Error(`requesting a verification event failed: ${res.status}`);
  }
}
