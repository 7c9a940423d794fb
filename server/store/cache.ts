import { randomUUID } from 'node:crypto';
import type { ChannelListener, Database, Queryable } from '../db/database.js';
import { listenerName } from '../db/listen.js';
import { type ApiKey, findApiKeyByPrefix } from './api-keys.js';
import { type Api, findApiByIdentifier, findApisByScopes } from './apis.js';
import { type ClientRecord, findClient } from './clients.js';
import { permissionsOfUser } from './roles.js';
import { type User, findUserById } from './users.js';

/**
 * The reads on the token path: what a token, introspection or exchange request needs to know about
 * clients, APIs, users, roles and API keys. uncachedReads() asks the database each time; StoreCache
 * answers from memory in the steady state.
 */
export interface HotReads {
  findClient(clientId: string): Promise<ClientRecord | undefined>;
  findApiByIdentifier(identifier: string): Promise<Api | undefined>;
  findApisByScopes(scopes: readonly string[]): Promise<Api[]>;
  findUserById(id: string): Promise<User | undefined>;
  permissionsOfUser(userId: string): Promise<Set<string>>;
  findApiKeyByPrefix(prefix: string): Promise<ApiKey | undefined>;
}

export function uncachedReads(db: Queryable): HotReads {
  return {
    findClient: (id) => findClient(db, id),
    findApiByIdentifier: (identifier) => findApiByIdentifier(db, identifier),
    findApisByScopes: (scopes) => findApisByScopes(db, scopes),
    findUserById: (id) => findUserById(db, id),
    permissionsOfUser: (id) => permissionsOfUser(db, id),
    findApiKeyByPrefix: (prefix) => findApiKeyByPrefix(db, prefix),
  };
}

/** The channel the triggers of migration 008 notify on, with payloads `<table>:<key>`. */
export const CHANGES_CHANNEL = 'gatehouse_changes';

/** Entries per map. Unknown ids are cached too (as misses), so the bound keeps a spray of them small. */
const MAX_ENTRIES = 10_000;
/**
 * A second line of defence: an entry is read again after this long even if no notification came.
 * Notifications are reliable while the channel is up, so this only bounds a bug, at one read per
 * entry a minute.
 */
const MAX_AGE_MS = 60_000;
/** Longer keys (a scope list, say) are read every time rather than held. */
const MAX_KEY_LENGTH = 512;
/** How long sync() waits for its own notification and the other nodes' acknowledgements. */
const SYNC_TIMEOUT_MS = 2000;

interface Entry<V> {
  value: V;
  at: number;
}

/** Reads of one cached kind since start: plain counts, read by the metrics at scrape time. */
export interface CacheStats {
  name: string;
  hits: number;
  misses: number;
}

class BoundedMap<V> implements CacheStats {
  private readonly entries = new Map<string, Entry<V>>();
  hits = 0;
  misses = 0;
  constructor(readonly name: string) {}
  get(key: string, now: number): V | undefined {
    const e = this.entries.get(key);
    return e && now - e.at < MAX_AGE_MS ? e.value : undefined;
  }
  has(key: string, now: number): boolean {
    const e = this.entries.get(key);
    return e !== undefined && now - e.at < MAX_AGE_MS;
  }
  set(key: string, value: V, now: number) {
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, at: now });
  }
  delete(key: string) {
    this.entries.delete(key);
  }
  clear() {
    this.entries.clear();
  }
  get size() {
    return this.entries.size;
  }
}

/**
 * This node's copy of what the token path reads, kept true by the database's change notifications
 * (migration 008: a trigger on every cached table NOTIFYs at commit, whoever writes).
 *
 * - A notification drops the entries it names (a client, a user, an API key; any API or role change
 *   drops all APIs or all permissions, which are few).
 * - While the notification channel is down nothing is cached and every read goes to the database; when
 *   it is back the cache starts empty, since messages sent meanwhile are lost.
 * - A read that started before a change and ends after it must not store what it read: every change
 *   moves `epoch` on, and a load stores its result only if the epoch is the one it started in.
 * - Expiry (of a client, a secret, an API key) is checked by the callers on the cached copy, at use.
 */
export class StoreCache implements HotReads, ChannelListener {
  private live = false;
  private epoch = 0;
  private readonly clients = new BoundedMap<ClientRecord | undefined>('clients');
  private readonly apis = new BoundedMap<Api | undefined>('apis');
  private readonly apisByScopes = new BoundedMap<Api[]>('apis_by_scopes');
  private readonly users = new BoundedMap<User | undefined>('users');
  private readonly permissions = new BoundedMap<Set<string>>('permissions');
  private readonly apiKeys = new BoundedMap<ApiKey | undefined>('api_keys');
  /** sync() calls of this node waiting for their notification and the other nodes' acks. */
  private readonly waiting = new Map<string, { own: boolean; acks: number; check: () => void }>();
  /** Tells this node's sync notifications from other nodes'. */
  private readonly nodeId = randomUUID();
  private readonly uncached: HotReads;
  /** Reads that went to the database because the notification channel was down (nothing is cached then). */
  private bypassed = 0;
  /**
   * sync() calls that gave up waiting (SYNC_TIMEOUT_MS) rather than hearing from every node: each one
   * delayed a Management API answer by that long. Zero while every listener it counts answers.
   */
  syncTimeouts = 0;
  private stopListening: (() => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    /** Called for changes the cache does not hold itself (signing keys). */
    private readonly onOtherChange: (table: string, key: string) => void = () => undefined,
  ) {
    this.uncached = uncachedReads(db);
  }

  /** Starts listening; until the channel is up every read goes to the database. */
  async start(): Promise<void> {
    this.stopListening = await this.db.listen(CHANGES_CHANNEL, this);
  }

  async stop(): Promise<void> {
    await this.stopListening?.();
    this.down();
  }

  /** Whether answers may come from memory now (the notification channel is up). */
  get caching(): boolean {
    return this.live;
  }

  /** Hits and misses per cached kind, and reads made while the channel was down (as `bypassed` misses). */
  stats(): { kinds: readonly CacheStats[]; bypassed: number } {
    return { kinds: [this.clients, this.apis, this.apisByScopes, this.users, this.permissions, this.apiKeys], bypassed: this.bypassed };
  }

  // ChannelListener ---------------------------------------------------------------------------

  message(payload: string): void {
    const colon = payload.indexOf(':');
    const table = payload.slice(0, colon);
    const key = payload.slice(colon + 1);
    this.epoch++;
    switch (table) {
      case 'clients':
      case 'client_secrets':
        this.clients.delete(key);
        break;
      case 'apis':
        this.apis.clear();
        this.apisByScopes.clear();
        break;
      case 'users':
        this.users.delete(key);
        this.permissions.delete(key);
        break;
      case 'user_roles':
        this.permissions.delete(key);
        break;
      case 'roles':
        this.permissions.clear();
        break;
      case 'api_keys':
        this.apiKeys.delete(key);
        break;
      case 'sync': {
        // `<node>:<nonce>`: another node's sync is acknowledged once everything before it is applied
        // (which, notifications arriving in commit order, is now).
        const [origin, nonce] = key.split(':');
        if (origin === this.nodeId) {
          const w = this.waiting.get(nonce);
          if (w) {
            w.own = true;
            w.check();
          }
        } else {
          this.db.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, `ack:${origin}:${nonce}`]).catch(() => undefined);
        }
        break;
      }
      case 'ack': {
        const [origin, nonce] = key.split(':');
        const w = origin === this.nodeId ? this.waiting.get(nonce) : undefined;
        if (w) {
          w.acks++;
          w.check();
        }
        break;
      }
      default:
        this.onOtherChange(table, key);
    }
  }

  up(): void {
    this.clearAll();
    this.live = true;
  }

  down(): void {
    this.live = false;
    this.clearAll();
    for (const w of this.waiting.values()) {
      w.own = true;
      w.acks = Infinity;
      w.check();
    }
  }

  private clearAll() {
    this.epoch++;
    for (const map of [this.clients, this.apis, this.apisByScopes, this.users, this.permissions, this.apiKeys]) map.clear();
  }

  /**
   * Waits until every node has applied every change committed before the call: this node, and each
   * other node listening on this database (counted by their listening connections). Postgres delivers
   * a listener's notifications in commit order, so a node that has received our `sync` notification
   * has applied the changes before it; each other node says so with an `ack`. Used after every
   * change made through the Management API, so that the caller's next request, to any node, is
   * answered from the new state. A node that does not answer within SYNC_TIMEOUT_MS (its
   * notification connection is down, so it caches nothing and reads the database) is not waited for
   * longer; changes made behind the server's back (psql, the CLI) reach nodes as fast as the
   * notification travels.
   */
  async sync(): Promise<void> {
    if (!this.live) return;
    const nonce = randomUUID().replaceAll('-', '');
    const others = await this.otherListeners();
    const arrived = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.syncTimeouts++;
        // Our own channel is slow or stuck: forget everything rather than risk an answer from before.
        if (!this.waiting.get(nonce)?.own) this.clearAll();
        resolve();
      }, SYNC_TIMEOUT_MS);
      const w = {
        own: false,
        acks: 0,
        check: () => {
          if (!w.own || w.acks < others) return;
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiting.set(nonce, w);
    });
    try {
      await this.db.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, `sync:${this.nodeId}:${nonce}`]);
      await arrived;
    } catch (err) {
      this.clearAll();
      throw err;
    } finally {
      this.waiting.delete(nonce);
    }
  }

  /** How many other nodes listen on this database: their connections listening for changes, less ours. */
  private async otherListeners(): Promise<number> {
    if (this.db.kind === 'embedded') return 0;
    const { rows } = await this.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
      [listenerName(CHANGES_CHANNEL)],
    );
    return Math.max(0, (rows[0]?.n ?? 1) - 1);
  }

  // HotReads ------------------------------------------------------------------------------------

  private async read<V>(map: BoundedMap<V>, key: string, load: () => Promise<V>): Promise<V> {
    // Keys come from requests: an oversized one is answered but never kept.
    if (!this.live || key.length > MAX_KEY_LENGTH) {
      this.bypassed++;
      return load();
    }
    const now = Date.now();
    if (map.has(key, now)) {
      map.hits++;
      return map.get(key, now) as V;
    }
    map.misses++;
    const epoch = this.epoch;
    const value = await load();
    if (this.live && this.epoch === epoch) map.set(key, value, Date.now());
    return value;
  }

  findClient(clientId: string) {
    return this.read(this.clients, clientId, () => this.uncached.findClient(clientId));
  }

  findApiByIdentifier(identifier: string) {
    return this.read(this.apis, identifier, () => this.uncached.findApiByIdentifier(identifier));
  }

  findApisByScopes(scopes: readonly string[]) {
    return this.read(this.apisByScopes, [...scopes].sort().join(' '), () => this.uncached.findApisByScopes(scopes));
  }

  findUserById(id: string) {
    return this.read(this.users, id, () => this.uncached.findUserById(id));
  }

  permissionsOfUser(userId: string) {
    return this.read(this.permissions, userId, () => this.uncached.permissionsOfUser(userId));
  }

  findApiKeyByPrefix(prefix: string) {
    return this.read(this.apiKeys, prefix, () => this.uncached.findApiKeyByPrefix(prefix));
  }
}
