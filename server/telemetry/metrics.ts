import type { Context } from 'koa';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HashingBusyError } from '../crypto/passwords.js';
import { grantTypeOf, outcomeOf } from './labels.js';
import type { Exposition } from './metrics-server.js';
import type { Database, PoolStats } from '../db/database.js';
import type { KeyRing } from '../services/keyring.js';
import type { Protection } from '../services/protection/index.js';
import type { StoreCache } from '../store/cache.js';

/**
 * The Prometheus series of one node (README "Metrics"), made only when METRICS_PORT is set.
 *
 * What a request changes is counted as it happens, and only that: one histogram observation per
 * request and one counter increment per token request or sign-in. Everything else (cache reads,
 * limits, the pool, Redis, the signing keys) is kept as plain numbers by its owner and read here at
 * scrape time, so the token path pays nothing for it.
 *
 * Labels are fixed words (a route's name or pattern, a grant type, an error code, a limit's name),
 * never a client id, user id or raw path: whatever a caller sends outside the known words is counted
 * as `other`.
 */

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** How a sign-in ended (server/interactions/routes.ts). */
export type LoginOutcome = 'success' | 'bad_password' | 'unknown_account' | 'inactive' | 'throttled' | 'busy';

/** The parts of a node the scrape-time series read. */
export interface MetricSources {
  db: Database;
  redis: Redis | undefined;
  cache: StoreCache;
  protection: Protection;
  keys: KeyRing;
}

/** Seconds, from a millisecond to ten: the token endpoint lives in the low milliseconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The label a request is counted under: oidc-provider's route name (`token`, `jwks`, `discovery`,
 * ...), else the pattern @koa/router matched (`/api/v1/clients/:id`), else the first path segment of
 * our own fixed branches, else `other` (a 404 from anyone must not make a series of its own).
 */
function routeOf(ctx: Context): string {
  const named = (ctx as { _matchedRouteName?: unknown })._matchedRouteName;
  if (typeof named === 'string') return named;
  const pattern = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof pattern === 'string') return pattern;
  if (ctx.path.startsWith('/console')) return '/console';
  if (ctx.path === '/assets/gatehouse.css') return '/assets';
  return 'other';
}

export class Metrics {
  readonly registry = new Registry();
  private readonly duration: Histogram<'route' | 'method'>;
  private readonly tokens: Counter<'grant_type' | 'outcome'>;
  private readonly logins: Counter<'outcome'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.duration = new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'Time from a request reaching Gatehouse to its response, by route (the matched route name or pattern) and method.',
      labelNames: ['route', 'method'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.tokens = new Counter({
      name: 'gatehouse_token_requests_total',
      help: 'Requests to the token endpoint by grant type and outcome (success or the RFC 6749 error code).',
      labelNames: ['grant_type', 'outcome'],
      registers,
    });
    this.logins = new Counter({
      name: 'gatehouse_logins_total',
      help: 'Sign-ins on the login page by outcome.',
      labelNames: ['outcome'],
      registers,
    });
  }

  /** What a scrape of this node alone returns (a worker's series go through its primary instead). */
  get exposition(): Exposition {
    return { contentType: this.registry.contentType, render: () => this.registry.metrics() };
  }

  /** Called once per request by the request log (server/http/request-log.ts). */
  request(ctx: Context, seconds: number): void {
    const route = routeOf(ctx);
    this.duration.observe({ route, method: METHODS.has(ctx.method) ? ctx.method : 'other' }, seconds);
    if (route === 'token') this.tokens.inc({ grant_type: grantTypeOf(ctx), outcome: outcomeOf(ctx) });
  }

  login(outcome: LoginOutcome): void {
    this.logins.inc({ outcome });
  }

  /** Registers the series read at scrape time from the parts of the node that keep them. */
  watch({ db, redis, cache, protection, keys }: MetricSources): void {
    const registers = [this.registry];
    new Counter({
      name: 'gatehouse_limits_hit_total',
      help: 'Times a limit on guessing was reached and a refusal began, by limit (README "Attack protection"); hash-queue: sign-ins refused because too many passwords were being checked.',
      labelNames: ['limit'],
      registers,
      collect() {
        this.reset();
        for (const limit of protection.limits) this.inc({ limit: limit.name }, limit.hits);
        this.inc({ limit: 'hash-queue' }, HashingBusyError.refusals);
      },
    });
    new Counter({
      name: 'gatehouse_limit_refusals_total',
      help: 'Requests refused because their address, client or account was over a limit, by limit.',
      labelNames: ['limit'],
      registers,
      collect() {
        this.reset();
        for (const limit of protection.limits) this.inc({ limit: limit.name }, limit.refusals);
      },
    });
    new Counter({
      name: 'gatehouse_cache_hits_total',
      help: 'Reads on the token path answered from this node\'s cache (server/store/cache.ts), by kind.',
      labelNames: ['cache'],
      registers,
      collect() {
        this.reset();
        for (const kind of cache.stats().kinds) this.inc({ cache: kind.name }, kind.hits);
      },
    });
    new Counter({
      name: 'gatehouse_cache_misses_total',
      help: 'Reads on the token path that went to the database while the cache was live, by kind.',
      labelNames: ['cache'],
      registers,
      collect() {
        this.reset();
        for (const kind of cache.stats().kinds) this.inc({ cache: kind.name }, kind.misses);
      },
    });
    new Counter({
      name: 'gatehouse_cache_bypassed_total',
      help: 'Reads that went to the database because the change notifications were down (nothing is cached then).',
      registers,
      collect() {
        this.reset();
        this.inc(cache.stats().bypassed);
      },
    });
    new Gauge({
      name: 'gatehouse_cache_live',
      help: '1 while the change notifications are up and the cache answers, 0 while every read goes to the database.',
      registers,
      aggregator: 'min',
      collect() {
        this.set(cache.caching ? 1 : 0);
      },
    });
    const pool = db.poolStats?.bind(db);
    if (pool) {
      const poolGauge = (name: string, help: string, read: (s: PoolStats) => number) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(read(pool()));
          },
        });
      poolGauge('gatehouse_db_pool_size', 'Postgres connections open in the pool (idle or in use).', (s) => s.total);
      poolGauge('gatehouse_db_pool_idle', 'Postgres connections open and idle.', (s) => s.idle);
      poolGauge('gatehouse_db_pool_waiting', 'Queries waiting for a Postgres connection.', (s) => s.waiting);
    }
    if (redis) {
      new Gauge({
        name: 'gatehouse_redis_up',
        help: '1 while the Redis connection is ready, 0 otherwise (with several workers: the lowest).',
        registers,
        aggregator: 'min',
        collect() {
          this.set(redis.status === 'ready' ? 1 : 0);
        },
      });
    }
    new Gauge({
      name: 'gatehouse_signing_key_age_seconds',
      help: 'Seconds since the signing key in use for each key type became active (KEY_ROTATION_DAYS replaces it).',
      labelNames: ['kty'],
      registers,
      aggregator: 'max',
      collect() {
        this.reset();
        const now = new Date();
        const newest = new Map<string, number>();
        for (const key of keys.published(now)) {
          if (key.retiredAt || key.activatesAt > now) continue;
          const age = (now.getTime() - key.activatesAt.getTime()) / 1000;
          newest.set(key.kty, Math.min(age, newest.get(key.kty) ?? Infinity));
        }
        for (const [kty, age] of newest) this.set({ kty }, age);
      },
    });
  }
}
