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
  /** Outbound calls (a client's jwks_uri, back-channel logout) may reach loopback and private addresses. */
  readonly outboundPrivateAddresses: boolean;
  /** Seconds a new signing key is published in the JWKS before it starts signing. */
  readonly keyActivationDelay: number;
  /** Days after which a signing key is replaced automatically; 0 turns automatic rotation off. */
  readonly keyRotationDays: number;
  /**
   * Shared Signals: the longest a receiver goes without hearing from this server (a push heartbeat,
   * or a poll held open at most this long before it is answered empty), so it can bound staleness.
   */
  readonly ssfHeartbeatSeconds: number;
  /**
   * Seconds after signing in during which a person may change their second factors on
   * /account/security; later they sign in again first (OWASP ASVS 3.7.1).
   */
  readonly accountReauthSeconds: number;
  /** Worker processes (node:cluster), each a full node; 1 runs the server in this process. */
  readonly workers: number;
  /** Port of the Prometheus /metrics listener (never the public one); undefined: no metrics at all. */
  readonly metricsPort: number | undefined;
  /** Address the /metrics listener binds to. */
  readonly metricsHost: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT is set: traces go there (server/telemetry/tracing.ts reads the OTEL_* variables). */
  readonly tracing: boolean;
  /** Secrets that were generated for development rather than configured. */
  readonly generatedSecrets: readonly string[];
  /** Outgoing email (password reset, email verification); undefined when SMTP_URL is not set. */
  readonly mail: MailConfig | undefined;
  /** Attack protection (README "Attack protection"): limits on guessing, bounded hashing, audit folding. */
  readonly protection: ProtectionConfig;
  /** Webhook deliveries (README "Webhooks"). */
  readonly webhooks: WebhookConfig;
}

export interface WebhookConfig {
  /** Seconds to wait before each retry: one entry per retry, so attempts = length + 1. */
  readonly retryDelays: readonly number[];
  /** Seconds a receiver has to answer an attempt. */
  readonly timeout: number;
}

export interface ProtectionConfig {
  /** Failed sign-ins per account and address before waits start (Keycloak's "max login failures"). */
  readonly loginMaxFailures: number;
  /** Seconds added to the wait by each failure past the limit (Keycloak's "wait increment"). */
  readonly loginWaitIncrement: number;
  /** The longest wait, in seconds: reaching it is the temporary lockout (Keycloak's "max wait"). */
  readonly loginMaxWait: number;
  /** Seconds after the last failure when the account-and-address count starts again. */
  readonly loginFailureReset: number;
  /** Failed sign-ins from one address, whatever the account, within loginAddressWindow. */
  readonly loginAddressMaxFailures: number;
  readonly loginAddressWindow: number;
  /** Failed client authentications per client_id and address, and per address, within clientAuthWindow. */
  readonly clientAuthMaxFailures: number;
  readonly clientAuthAddressMaxFailures: number;
  readonly clientAuthWindow: number;
  /** Failed credentials (introspection, token exchange, Management API) per address within credentialWindow. */
  readonly credentialMaxFailures: number;
  readonly credentialWindow: number;
  /** Seconds an address or client stays refused once over a limit. */
  readonly blockSeconds: number;
  /** argon2 hashes running at once in this process, and how many more may wait. */
  readonly hashConcurrency: number;
  readonly hashQueue: number;
  /** Repeated failures from one source within this many seconds become one audit event with a count. */
  readonly auditFoldWindow: number;
  /** NIST SP 800-63B §5.1.1.2: at least 8; 12 by default here. */
  readonly passwordMinLength: number;
}

export interface MailConfig {
  /** smtp:// or smtps:// URL, credentials included, as nodemailer reads it. */
  readonly url: string;
  /** The From address of every message. */
  readonly from: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A whole number from the environment, with the variable's unit in its messages. */
const count = (unit: string, min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: `must be a number of ${unit}` })
    .int(`must be a whole number of ${unit}`)
    .min(min, `must be at least ${min}`)
    .max(max, `at most ${max}`)
    .default(fallback);

const DAY = 24 * 3600;

// Defaults close to Keycloak's brute-force detection (30 failures, +60 s per failure, 15 min at most,
// counts forgotten after 12 h) and Auth0's suspicious-address throttling (100 failures a day from
// one address). NIST SP 800-63B §5.2.2 allows at most 100 consecutive failures per account.
const protectionSchema = z.object({
  LOGIN_MAX_FAILURES: count('failures', 1, 100, 30),
  LOGIN_WAIT_INCREMENT: count('seconds', 1, DAY, 60),
  LOGIN_MAX_WAIT: count('seconds', 1, 7 * DAY, 900),
  LOGIN_FAILURE_RESET: count('seconds', 60, 30 * DAY, 12 * 3600),
  LOGIN_ADDRESS_MAX_FAILURES: count('failures', 1, 1_000_000, 100),
  LOGIN_ADDRESS_WINDOW: count('seconds', 1, 30 * DAY, DAY),
  CLIENT_AUTH_MAX_FAILURES: count('failures', 1, 1_000_000, 10),
  CLIENT_AUTH_ADDRESS_MAX_FAILURES: count('failures', 1, 1_000_000, 100),
  CLIENT_AUTH_WINDOW: count('seconds', 1, 30 * DAY, 3600),
  CREDENTIAL_MAX_FAILURES: count('failures', 1, 1_000_000, 100),
  CREDENTIAL_WINDOW: count('seconds', 1, 30 * DAY, 3600),
  BLOCK_SECONDS: count('seconds', 1, 30 * DAY, 900),
  HASH_CONCURRENCY: count('hashes', 1, 64, Math.max(1, Math.floor(availableParallelism() / 2))),
  HASH_QUEUE: count('hashes', 0, 10_000, 64),
  AUDIT_FOLD_WINDOW: count('seconds', 0, DAY, 300),
  PASSWORD_MIN_LENGTH: count('characters', 8, 64, 12),
});

// The Standard Webhooks specification's suggested schedule: at once, then 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h, 10 h: growing about fivefold and then capped, 8 attempts over about 27 hours.
const WEBHOOK_RETRY_DELAYS = '5,300,1800,7200,18000,36000,36000';

const webhookSchema = z.object({
  WEBHOOK_RETRY_DELAYS: z
    .string()
    .default(WEBHOOK_RETRY_DELAYS)
    .transform((v) => v.split(',').map((s) => s.trim()))
    .pipe(
      z
        .array(z.string().regex(/^\d{1,7}$/, 'must be a comma-separated list of whole seconds').transform(Number).pipe(z.number().max(7 * DAY, 'at most 7 days (604800 seconds) each')))
        .min(1, 'at least one retry')
        .max(20, 'at most 20 retries'),
    ),
  WEBHOOK_TIMEOUT: count('seconds', 1, 120, 15),
});

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
  // Off unless set: a registered jwks_uri or backchannel_logout_uri must not make this server call
  // its own network (SSRF, OWASP ASVS 5.2.6); oidc-provider refuses special-use addresses by default.
  OUTBOUND_PRIVATE_ADDRESSES: boolish.default(false),
  // A new key must reach every verifier's cached JWKS before it signs. Nodes reload keys every
  // minute, and resource servers commonly cache a JWKS for minutes, hence 10 minutes by default.
  KEY_ACTIVATION_DELAY: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(0, 'must not be negative')
    .max(7 * 24 * 3600, 'at most 7 days (604800 seconds)')
    .default(600),
  // Receivers bound how stale their view of revocations may be by this (README, Shared Signals).
  SSF_HEARTBEAT_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(1, 'at least 1')
    .max(300, 'at most 300')
    .default(5),
  // A stolen session cookie alone must not let anyone add or remove a second factor (ASVS 3.7.1).
  ACCOUNT_REAUTH_SECONDS: count('seconds', 1, DAY, 600),
  // One process by default: under a container orchestrator, replicas are the unit of scale and the
  // CPU limit is invisible to availableParallelism() (it counts the host's cores). On a VM or bare
  // metal, `auto` starts one worker per core.
  WEB_CONCURRENCY: z
    .union([z.literal('auto'), z.coerce.number({ error: 'must be a number of workers or auto' }).int('must be a whole number').min(1, 'at least 1').max(256, 'at most 256')])
    .default(1),
  // Off by default: the series describe traffic (counts of sign-ins, refusals) that the public has no
  // business reading, so they are served on a port of their own for the scraper to reach.
  METRICS_PORT: z.coerce.number({ error: 'must be a port number' }).int('must be a whole number').min(0, 'must be 0-65535').max(65535, 'must be 0-65535').optional(),
  METRICS_HOST: z.union([z.ipv4(), z.ipv6(), z.literal('localhost')], { error: 'must be an IP address or localhost' }).default('0.0.0.0'),
  // Read by the OpenTelemetry SDK itself (with the other OTEL_* variables); checked here so that a
  // typo stops the start rather than silently losing every span.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  KEY_ROTATION_DAYS: z.coerce
    .number({ error: 'must be a number of days' })
    .int('must be a whole number of days')
    .min(0, 'must not be negative (0 turns automatic rotation off)')
    .max(3650, 'at most 3650 days')
    .default(90),
  // Password reset and verification mail. smtps:// is TLS from the start (port 465); smtp:// upgrades
  // with STARTTLS when the server offers it.
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL').refine((v) => URL.canParse(v), 'must be a URL').optional(),
  SMTP_FROM: z.string().max(320).refine((v) => /^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(v), 'must be an address, or a name and <address>').optional(),
}).extend(protectionSchema.shape).extend(webhookSchema.shape);

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

  if (e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    throw new ConfigError('Invalid configuration:\n  METRICS_PORT: must differ from PORT; /metrics is never served on the public port');
  }

  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  if (e.SMTP_FROM && !e.SMTP_URL) throw new ConfigError('Invalid configuration:\n  SMTP_FROM: needs SMTP_URL');

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
    outboundPrivateAddresses: e.OUTBOUND_PRIVATE_ADDRESSES,
    keyActivationDelay: e.KEY_ACTIVATION_DELAY,
    keyRotationDays: e.KEY_ROTATION_DAYS,
    ssfHeartbeatSeconds: e.SSF_HEARTBEAT_SECONDS,
    accountReauthSeconds: e.ACCOUNT_REAUTH_SECONDS,
    workers,
    metricsPort: e.METRICS_PORT,
    metricsHost: e.METRICS_HOST,
    tracing: e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined,
    generatedSecrets: Object.freeze(missing),
    mail: e.SMTP_URL ? Object.freeze({ url: e.SMTP_URL, from: e.SMTP_FROM ?? `Gatehouse <no-reply@${new URL(issuer).hostname}>` }) : undefined,
    protection: Object.freeze({
      loginMaxFailures: e.LOGIN_MAX_FAILURES,
      loginWaitIncrement: e.LOGIN_WAIT_INCREMENT,
      loginMaxWait: e.LOGIN_MAX_WAIT,
      loginFailureReset: e.LOGIN_FAILURE_RESET,
      loginAddressMaxFailures: e.LOGIN_ADDRESS_MAX_FAILURES,
      loginAddressWindow: e.LOGIN_ADDRESS_WINDOW,
      clientAuthMaxFailures: e.CLIENT_AUTH_MAX_FAILURES,
      clientAuthAddressMaxFailures: e.CLIENT_AUTH_ADDRESS_MAX_FAILURES,
      clientAuthWindow: e.CLIENT_AUTH_WINDOW,
      credentialMaxFailures: e.CREDENTIAL_MAX_FAILURES,
      credentialWindow: e.CREDENTIAL_WINDOW,
      blockSeconds: e.BLOCK_SECONDS,
      hashConcurrency: e.HASH_CONCURRENCY,
      hashQueue: e.HASH_QUEUE,
      auditFoldWindow: e.AUDIT_FOLD_WINDOW,
      passwordMinLength: e.PASSWORD_MIN_LENGTH,
    }),
    webhooks: Object.freeze({ retryDelays: Object.freeze(e.WEBHOOK_RETRY_DELAYS), timeout: e.WEBHOOK_TIMEOUT }),
  });
}
