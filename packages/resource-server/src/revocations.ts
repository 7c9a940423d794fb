/** The claims of an access token a revocation can match (RFC 9068 plus Gatehouse's grant_id and api_key_id). */
export interface MatchableClaims {
  sub?: string;
  client_id?: string;
  grant_id?: string;
  api_key_id?: string;
  iat?: number;
}

/** One revocation: every member present must match the token, and the token must be issued at or before `at`. */
interface Rule {
  user?: string;
  client?: string;
  grant?: string;
  apiKey?: string;
  /** event_timestamp, seconds. */
  at: number;
  /** When no token it can match is still alive, ms. */
  forgetAt: number;
}

type Field = 'grant' | 'apiKey' | 'client' | 'user';
const CLAIM: Record<Field, keyof MatchableClaims> = { grant: 'grant_id', apiKey: 'api_key_id', client: 'client_id', user: 'sub' };
/** Each rule is filed under its most specific member, so a check is four map lookups. */
const ORDER: Field[] = ['grant', 'apiKey', 'client', 'user'];

/** SSF 1.0 §3.2 complex subject (or a simple one) → the members this library matches on. */
export function membersOf(subId: unknown): Partial<Record<Field, string>> {
  const s = (subId ?? {}) as Record<string, { id?: unknown } | undefined> & { format?: string; id?: unknown };
  const id = (m: { id?: unknown } | undefined) => (typeof m?.id === 'string' ? m.id : undefined);
  if (s.format === 'opaque') return { user: id(s as { id?: unknown }) };
  return { user: id(s.user), client: id(s.application), grant: id(s.session), apiKey: id(s.api_key) };
}

/**
 * The revocations this process knows of. Each is kept only as long as a token it can refuse may
 * live: a token issued at or before the event expires within maxTokenLifetime of it.
 */
export class Revocations {
  private readonly byField: Record<Field, Map<string, Rule[]>> = { grant: new Map(), apiKey: new Map(), client: new Map(), user: new Map() };
  private count = 0;

  constructor(private readonly maxTokenLifetimeSeconds: number) {}

  get size(): number {
    return this.count;
  }

  add(members: Partial<Record<Field, string>>, at: number, now = Date.now()): void {
    const field = ORDER.find((f) => members[f]);
    if (!field) return;
    const forgetAt = (at + this.maxTokenLifetimeSeconds) * 1000;
    if (forgetAt <= now) return;
    const key = members[field]!;
    const list = this.byField[field].get(key) ?? [];
    // Delivery is at least once: the same event again adds nothing.
    if (list.some((r) => r.at === at && ORDER.every((f) => r[f] === members[f]))) return;
    list.push({ ...members, at, forgetAt });
    this.byField[field].set(key, list);
    this.count++;
  }

  /** The revocation that refuses this token, if any. */
  matches(claims: MatchableClaims): boolean {
    if (!this.count) return false;
    const iat = typeof claims.iat === 'number' ? claims.iat : 0;
    for (const field of ORDER) {
      const value = claims[CLAIM[field]];
      if (typeof value !== 'string') continue;
      const rules = this.byField[field].get(value);
      if (!rules) continue;
      for (const r of rules) {
        // At or before: a token issued in the event's own second is refused too (seconds are all we have).
        if (iat > r.at) continue;
        if (ORDER.every((f) => r[f] === undefined || r[f] === claims[CLAIM[f]])) return true;
      }
    }
    return false;
  }

  /** Forgets revocations no live token can match any more. */
  prune(now = Date.now()): void {
    for (const field of ORDER) {
      for (const [key, rules] of this.byField[field]) {
        const kept = rules.filter((r) => r.forgetAt > now);
        this.count -= rules.length - kept.length;
        if (kept.length) this.byField[field].set(key, kept);
        else this.byField[field].delete(key);
      }
    }
  }
}
