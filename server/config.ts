import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Configuration is read from the environment once, validated, and frozen. Every other module gets
 * it as an argument, so nothing reads process.env after start.
 */
export interface Config {
  readonly production: boolean;
  readonly port: number;
  readonly issuer: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** Every Redis key this node writes starts with it, so several deployments can share one Redis. */
  readonly redisPrefix: string;
  readonly dataDir: string;
  readonly seedFile: string | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** First signs cookies, all verify: append the new secret first to rotate. */
  readonly cookieSecrets: readonly string[];
  readonly keyEncryptionSecret: string;
  readonly trustProxy: boolean;
  /** Adds includeSubDomains to the Strict-Transport-Security header of an https ISSUER. */
  readonly hstsIncludeSubdomains: boolean;
  /** Seconds a new signing key is published in the JWKS before it starts signing. */
  readonly keyActivationDelay: number;
  /** Days after which a signing key is replaced automatically; 0 turns automatic rotation off. */
  readonly keyRotationDays: number;
  /** Worker processes (node:cluster), each a full node; 1 runs the server in this process. */
  readonly workers: number;
  /** Secrets that were generated for development rather than configured. */
  readonly generatedSecrets: readonly string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  ISSUER: z
    .url({ protocol: /^https?$/ })
    .refine((v) => !new URL(v).search && !new URL(v).hash, 'must not have a query or fragment')
    .optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  // Keys are the prefix plus our own names: keep it to characters that need no quoting anywhere
  // (redis-cli, SCAN patterns), and short.
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits or _ . : -')
    .default('gatehouse:'),
  DATA_DIR: z.string().min(1).default('./data'),
  SEED_FILE: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  COOKIE_SECRETS: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(32, 'each secret needs at least 32 characters')).min(1))
    .optional(),
  KEY_ENCRYPTION_SECRET: z.string().min(32, 'needs at least 32 characters').optional(),
  // Off unless set: trusting X-Forwarded-For without a proxy in front would let any caller claim any
  // address and walk past IP allowlists.
  TRUST_PROXY: boolish.default(false),
  // RFC 6797 §6.1.2: binds every host under ISSUER's to https, which only the operator can vouch for.
  HSTS_INCLUDE_SUBDOMAINS: boolish.default(false),
  // A new key must reach every verifier's cached JWKS before it signs. Nodes reload keys every
  // minute, and resource servers commonly cache a JWKS for minutes, hence 10 minutes by default.
  KEY_ACTIVATION_DELAY: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(0, 'must not be negative')
    .max(7 * 24 * 3600, 'at most 7 days (604800 seconds)')
    .default(600),
  // One process by default: under a container orchestrator, replicas are the unit of scale and the
  // CPU limit is invisible to availableParallelism() (it counts the host's cores). On a VM or bare
  // metal, `auto` starts one worker per core.
  WEB_CONCURRENCY: z
    .union([z.literal('auto'), z.coerce.number({ error: 'must be a number of workers or auto' }).int('must be a whole number').min(1, 'at least 1').max(256, 'at most 256')])
    .default(1),
  KEY_ROTATION_DAYS: z.coerce
    .number({ error: 'must be a number of days' })
    .int('must be a whole number of days')
    .min(0, 'must not be negative (0 turns automatic rotation off)')
    .max(3650, 'at most 3650 days')
    .default(90),
});

type Env = Record<string, string | undefined>;

/** Empty strings count as unset, so `FOO= npm start` behaves like leaving FOO out. */
function withoutEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

/**
 * Development secrets live in DATA_DIR so that restarts keep sessions and encrypted keys readable.
 * They are never used with NODE_ENV=production.
 */
function developmentSecret(dataDir: string, name: string): string {
  const file = join(dataDir, 'dev-secrets.json');
  mkdirSync(dataDir, { recursive: true });
  const saved: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  if (!saved[name]) {
    saved[name] = randomBytes(32).toString('base64url');
    writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
  }
  return saved[name];
}

export function loadConfig(env: Env = process.env): Config {
  const parsed = schema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const dataDir = resolve(e.DATA_DIR);

  const missing = [
    ...(e.COOKIE_SECRETS ? [] : ['COOKIE_SECRETS']),
    ...(e.KEY_ENCRYPTION_SECRET ? [] : ['KEY_ENCRYPTION_SECRET']),
  ];
  if (production && missing.length) {
    throw new ConfigError(`Invalid configuration:\n${missing.map((n) => `  ${n}: required when NODE_ENV=production`).join('\n')}`);
  }
  if (production && !e.ISSUER) {
    throw new ConfigError('Invalid configuration:\n  ISSUER: required when NODE_ENV=production');
  }

  const workers = e.WEB_CONCURRENCY === 'auto' ? availableParallelism() : e.WEB_CONCURRENCY;
  if (workers > 1 && !e.DATABASE_URL) {
    throw new ConfigError(
      `Invalid configuration:\n  WEB_CONCURRENCY: ${workers} workers need DATABASE_URL; the embedded database (PGlite in DATA_DIR) can be opened by one process only. Set DATABASE_URL, or WEB_CONCURRENCY=1.`,
    );
  }

  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');

  return Object.freeze({
    production,
    port: e.PORT,
    issuer,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    dataDir,
    seedFile: e.SEED_FILE ? resolve(e.SEED_FILE) : undefined,
    logLevel: e.LOG_LEVEL,
    cookieSecrets: Object.freeze(e.COOKIE_SECRETS ?? [developmentSecret(dataDir, 'COOKIE_SECRETS')]),
    keyEncryptionSecret: e.KEY_ENCRYPTION_SECRET ?? developmentSecret(dataDir, 'KEY_ENCRYPTION_SECRET'),
    trustProxy: e.TRUST_PROXY,
    hstsIncludeSubdomains: e.HSTS_INCLUDE_SUBDOMAINS,
    keyActivationDelay: e.KEY_ACTIVATION_DELAY,
    keyRotationDays: e.KEY_ROTATION_DAYS,
    workers,
    generatedSecrets: Object.freeze(missing),
  });
}
