import { afterMigrations } from '../services/two-factor-policy.js';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { createSealer } from '../crypto/seal.js';
import type { Database } from '../db/database.js';
import { DataDirInUseError } from '../db/data-dir-lock.js';
import { createEmbeddedDatabase } from '../db/embedded.js';
import { migrate, pendingMigrations, readMigrations } from '../db/migrate.js';
import { createPostgresDatabase } from '../db/postgres.js';
import { applyProtectionSettings } from '../services/protection/settings.js';
import { projectPath } from '../paths.js';
import { createApiKey, createApiKeySchema } from '../services/api-keys.js';
import { createClient, createClientSchema, deleteClient, listEveryClient } from '../services/clients.js';
import { ApiError } from '../services/errors.js';
import { ensureManagementApi } from '../services/management-api.js';
import { ensureSsfApi } from '../services/ssf/api.js';
import { systemPrincipal } from '../services/principal.js';
import { MAX_ACTIVATE_IN, listKeys, rotateSigningKeys } from '../services/signing-keys.js';
import { createUser, createUserSchema } from '../services/users.js';
import { SeedError, applySeed, readSeedFile } from '../seed.js';
import { type OptionSpecs, UsageError, describeOptions, parseArgs, parseDuration } from './args.js';
import { z } from 'zod';

/**
 * `gatehouse <command>`: operator commands on the configured database (DATABASE_URL, or the
 * embedded database in DATA_DIR), read from the same environment as the server. Output is text for
 * people or, with --json, one JSON document on stdout for scripts. Exit codes: 0 done, 1 failed,
 * 2 the command line was wrong.
 *
 * Every command that changes something calls the same service as the Management API (services/),
 * with the same schema and checks, acting as the system: the operator holds everything, and the audit
 * log records the actor as system:cli.
 */

/** What the operator's tools act as. */
const CLI = systemPrincipal('cli');

/** A request body the service's schema checks, as the Management API would; its first problem is the error. */
function checked<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ApiError(400, 'invalid_request', `${issue.path.join('.') || 'input'}: ${issue.message}`);
}


interface Context {
  config: Config;
  db: Database;
  positional: string[];
  options: Record<string, string | boolean | string[] | undefined>;
  /** What input() made of the options. */
  input: any;
  stdin(): string;
}

interface Command {
  path: string[];
  summary: string;
  /** The arguments after the command words, for --help. */
  args?: string;
  details?: string;
  options: OptionSpecs;
  positional: number;
  /** Whether the command needs the schema to be current (all but migrate). */
  needsSchema: boolean;
  /** Checks and converts the options before the database is opened (usage errors exit 2). */
  input?(options: Context['options'], config: Config): unknown;
  run(ctx: Context): Promise<unknown>;
  text(result: any): string;
}

const environmentOf = (value: unknown): 'live' | 'test' => {
  if (value === undefined) return 'live';
  if (value !== 'live' && value !== 'test') throw new UsageError('--environment is live or test');
  return value;
};

const durationOption = (options: Context['options'], name: string) => {
  const value = str(options[name]);
  return value === undefined ? undefined : parseDuration(value, name);
};

const list = (value: unknown): string[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (!rows.length) return '(none)';
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '-' : Array.isArray(r[c]) ? (r[c] as unknown[]).join(',') : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

function fields(obj: Record<string, unknown>, keys: string[]): string {
  const width = Math.max(...keys.map((k) => k.length));
  return keys
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${k.padEnd(width)}  ${Array.isArray(obj[k]) ? (obj[k] as unknown[]).join(' ') || '-' : obj[k] ?? '-'}`)
    .join('\n');
}

/** A JSON file named by an option (a JWK Set): a usage error, naming the option, if it cannot be read. */
function readJsonFile(path: string, option: string): unknown {
  try {
    return JSON.parse(readFileSync(resolve(path), 'utf8'));
  } catch (err) {
    throw new UsageError(`${option}: cannot read JSON from ${path} (${(err as Error).message})`);
  }
}

const SHOWN_ONCE = (what: string) => `\nThe ${what} above is shown only this once and cannot be recovered: store it now.`;

const COMMANDS: Command[] = [
  {
    path: ['migrate'],
    summary: 'apply pending database migrations',
    options: {},
    positional: 0,
    needsSchema: false,
    async run({ db }) {
      const applied = await migrate(db);
      await afterMigrations(db, applied, readMigrations()[0]?.version);
      return { applied, known: readMigrations().length };
    },
    text: (r: { applied: string[] }) => (r.applied.length ? `applied ${r.applied.length} migration(s):\n${r.applied.map((v) => `  ${v}`).join('\n')}` : 'the database is up to date'),
  },
  {
    path: ['seed'],
    summary: 'apply a seed file (APIs, roles, users, clients); safe to repeat',
    args: 'FILE',
    options: {},
    positional: 1,
    needsSchema: true,
    async run({ db, positional }) {
      const file = resolve(positional[0]);
      const seed = readSeedFile(file, 'seed file');
      return { file, ...(await applySeed(db, seed, { audit: { source: file } })) };
    },
    text: (r: { file: string; apis: number; roles: number; users: number; clients: number }) =>
      `applied ${r.file}: ${r.apis} API(s), ${r.roles} role(s), ${r.users} user(s), ${r.clients} client(s)`,
  },
  {
    path: ['clients', 'create'],
    summary: 'create a client; prints its secret once',
    details: 'Defaults to a confidential client_credentials client. A secret starts with sk_live_ or sk_test_.',
    options: {
      name: { type: 'string', value: 'NAME', help: 'client_name shown on consent pages and in lists' },
      'client-id': { type: 'string', value: 'ID', help: 'choose the client_id (default: generated)' },
      'grant-type': { type: 'list', value: 'GRANT', help: 'client_credentials (default), authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:device_code' },
      scope: { type: 'list', value: 'SCOPE', help: 'scopes it may be granted (space- or comma-separated, repeatable)' },
      'redirect-uri': { type: 'list', value: 'URI', help: 'redirect URI for authorization_code (repeatable)' },
      public: { type: 'boolean', help: 'a public client (no secret, token_endpoint_auth_method none), e.g. a SPA' },
      'auth-method': { type: 'string', value: 'METHOD', help: 'client_secret_basic (default), client_secret_post, or private_key_jwt (with --jwks-file or --jwks-uri)' },
      'jwks-file': { type: 'string', value: 'FILE', help: 'private_key_jwt: a JSON file holding the client\'s public JWK Set' },
      'jwks-uri': { type: 'string', value: 'URL', help: 'private_key_jwt: where the client publishes its public JWK Set' },
      'backchannel-logout-uri': { type: 'string', value: 'URL', help: 'where logout tokens are sent when a person\'s session ends' },
      environment: { type: 'string', value: 'live|test', help: 'live (default) or test' },
      'expires-in': { type: 'string', value: 'DURATION', help: 'expire the client after 3600, 12h, 365d, ...' },
      'ip-allowlist': { type: 'list', value: 'CIDR', help: 'addresses it may request tokens from (default: any)' },
      'require-pkce': { type: 'boolean', help: 'authorization requests must use PKCE (always so for --public)' },
      'require-par': { type: 'boolean', help: 'authorization requests must be pushed to /oauth/par first (RFC 9126)' },
      dpop: { type: 'boolean', help: 'every token request must carry a DPoP proof; tokens are bound to its key (RFC 9449)' },
    },
    positional: 0,
    needsSchema: true,
    input(options) {
      const method = str(options['auth-method']);
      if (method && !['client_secret_basic', 'client_secret_post', 'private_key_jwt'].includes(method)) {
        throw new UsageError('--auth-method is client_secret_basic, client_secret_post or private_key_jwt (use --public for none)');
      }
      const jwksFile = str(options['jwks-file']);
      const jwksUri = str(options['jwks-uri']);
      const backchannel = str(options['backchannel-logout-uri']);
      if (method && options.public) throw new UsageError('--public and --auth-method exclude each other');
      const clientId = str(options['client-id']);
      return {
        ...(clientId ? { client_id: clientId } : {}),
        client_name: str(options.name) ?? clientId ?? 'Created with the CLI',
        grant_types: list(options['grant-type']).length ? list(options['grant-type']) : ['client_credentials'],
        redirect_uris: list(options['redirect-uri']),
        scope: [...new Set(list(options.scope))].join(' '),
        token_endpoint_auth_method: options.public ? 'none' : (method ?? 'client_secret_basic'),
        environment: environmentOf(options.environment),
        expires_in: durationOption(options, 'expires-in'),
        ip_allowlist: list(options['ip-allowlist']),
        ...(options['require-pkce'] ? { require_pkce: true } : {}),
        ...(options['require-par'] ? { require_pushed_authorization_requests: true } : {}),
        ...(options.dpop ? { dpop_bound_access_tokens: true } : {}),
        ...(jwksFile ? { jwks: readJsonFile(jwksFile, '--jwks-file') } : {}),
        ...(jwksUri ? { jwks_uri: jwksUri } : {}),
        ...(backchannel ? { backchannel_logout_uri: backchannel } : {}),
      };
    },
    run: ({ db, input }) => createClient(db, checked(createClientSchema, input), CLI),
    text: (r) =>
      fields(r, ['client_id', 'client_name', 'grant_types', 'token_endpoint_auth_method', 'scope', 'environment', 'expires_at', 'ip_allowlist', 'require_pkce', 'require_pushed_authorization_requests', 'dpop_bound_access_tokens', 'client_secret']) +
      (r.client_secret ? SHOWN_ONCE('client_secret') : ''),
  },
  {
    path: ['clients', 'list'],
    summary: 'list clients (never their secrets)',
    options: {},
    positional: 0,
    needsSchema: true,
    run: ({ db }) => listEveryClient(db),
    text: (rows) => table(rows, ['client_id', 'client_name', 'environment', 'enabled', 'grant_types', 'scope', 'secrets', 'created_at', 'expires_at', 'last_used_at']),
  },
  {
    path: ['clients', 'revoke'],
    summary: 'delete a client: its next token request fails; its grants and refresh tokens are revoked',
    args: 'CLIENT_ID',
    options: {},
    positional: 1,
    needsSchema: true,
    run: ({ db, positional }) => deleteClient(db, positional[0], CLI),
    text: (r: { client_id: string; revoked_artifacts: number }) => `revoked ${r.client_id} (${r.revoked_artifacts} grant(s) and refresh token(s) revoked)`,
  },
  {
    path: ['users', 'create'],
    summary: 'create a user; without --password-stdin a password is generated and printed once',
    options: {
      email: { type: 'string', value: 'EMAIL', help: 'login email', required: true },
      name: { type: 'string', value: 'NAME', help: 'display name', required: true },
      role: { type: 'list', value: 'ROLE', help: 'admin, developer, viewer or a custom role (repeatable)' },
      'password-stdin': { type: 'boolean', help: 'read the password from standard input (never pass it as an argument)' },
    },
    positional: 0,
    needsSchema: true,
    async run({ db, options, stdin }) {
      // No password: one is generated and printed once, so the operator can hand it over.
      const generated = options['password-stdin'] ? undefined : randomBytes(18).toString('base64url');
      const password = options['password-stdin'] ? stdin().replace(/\r?\n$/, '') : generated;
      const input = checked(createUserSchema, { email: str(options.email), name: str(options.name), password, roles: list(options.role) });
      const user = await createUser(db, input, CLI);
      return generated ? { ...user, password: generated } : user;
    },
    text: (r) => fields(r, ['id', 'email', 'name', 'roles', 'password']) + (r.password ? SHOWN_ONCE('password') : ''),
  },
  {
    path: ['api-keys', 'create'],
    summary: 'create an API key for a user; prints the key once',
    details: "What the key can do is its scopes and, at each use, what its owner's roles allow.",
    options: {
      user: { type: 'string', value: 'EMAIL|ID', help: 'the owner', required: true },
      name: { type: 'string', value: 'NAME', help: 'what the key is for', required: true },
      scope: { type: 'list', value: 'SCOPE', help: 'scopes (space- or comma-separated, repeatable)', required: true },
      environment: { type: 'string', value: 'live|test', help: 'live (default) or test' },
      'expires-in': { type: 'string', value: 'DURATION', help: 'expire after 3600, 12h, 90d, ...' },
      'ip-allowlist': { type: 'list', value: 'CIDR', help: 'addresses it may be used from (default: any)' },
    },
    positional: 0,
    needsSchema: true,
    input: (options) => ({
      user_id: str(options.user)!,
      name: str(options.name)!,
      scopes: list(options.scope),
      environment: environmentOf(options.environment),
      expires_in: durationOption(options, 'expires-in'),
      ip_allowlist: list(options['ip-allowlist']),
    }),
    run: ({ db, input }) => createApiKey(db, checked(createApiKeySchema, input), CLI),
    text: (r) => fields(r, ['id', 'name', 'user_id', 'scopes', 'environment', 'expires_at', 'key']) + SHOWN_ONCE('key'),
  },
  {
    path: ['keys', 'rotate'],
    summary: 'rotate the signing keys: published now, signing after the activation delay',
    details: 'Running nodes pick the new keys up within a minute; the default delay (KEY_ACTIVATION_DELAY) must exceed that.',
    options: {
      'activate-in': { type: 'string', value: 'SECONDS', help: 'seconds until the new keys sign (default: KEY_ACTIVATION_DELAY)' },
    },
    positional: 0,
    needsSchema: true,
    input(options, config) {
      const raw = str(options['activate-in']);
      if (raw === undefined) return config.keyActivationDelay;
      if (!/^\d{1,7}$/.test(raw) || Number(raw) > MAX_ACTIVATE_IN) throw new UsageError(`--activate-in is a whole number of seconds from 0 to ${MAX_ACTIVATE_IN}`);
      return Number(raw);
    },
    async run({ db, config, input }) {
      const result = await rotateSigningKeys(db, createSealer(config.keyEncryptionSecret), { activateIn: input, actor: CLI.actor, reason: 'manual' });
      return result!;
    },
    text: (r: { keys: { kid: string; kty: string; activates_at: string }[]; retiring: string[] }) =>
      `${table(r.keys, ['kid', 'kty', 'activates_at'])}\nretiring at activation: ${r.retiring.join(', ') || '-'}`,
  },
  {
    path: ['keys', 'list'],
    summary: 'list signing keys and their status (no private material)',
    options: {},
    positional: 0,
    needsSchema: true,
    run: ({ db }) => listKeys(db),
    text: (rows) => table(rows, ['kid', 'kty', 'status', 'created_at', 'activates_at', 'retired_at', 'published_until']),
  },
];

const GLOBAL_OPTIONS: OptionSpecs = {
  json: { type: 'boolean', help: 'print one JSON document (errors as JSON on stderr)' },
  help: { type: 'boolean', help: 'show help' },
};

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => [...c.path, c.args ?? ''].join(' ').length));
  return [
    'Usage: gatehouse <command> [options]',
    '',
    'Operator commands on the configured database: DATABASE_URL, or the embedded database in',
    'DATA_DIR (stop the server first: the embedded database belongs to one process). The other',
    'settings (KEY_ENCRYPTION_SECRET, ...) are read from the environment as the server reads them.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${[...c.path, c.args ?? ''].join(' ').trim().padEnd(width)}  ${c.summary}`),
    '',
    'Options for every command:',
    describeOptions(GLOBAL_OPTIONS),
    '',
    "Run 'gatehouse <command> --help' for a command's options, 'gatehouse --version' for the version.",
    'Exit status: 0 done, 1 failed, 2 usage error.',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [
    `Usage: gatehouse ${[...c.path, c.args ?? ''].join(' ').trim()} [options]`,
    '',
    c.summary.charAt(0).toUpperCase() + c.summary.slice(1) + '.',
    ...(c.details ? [c.details] : []),
    '',
    'Options:',
    describeOptions({ ...c.options, ...GLOBAL_OPTIONS }),
  ].join('\n');
}

function findCommand(words: string[]): { command: Command } | undefined {
  const command = COMMANDS.find((c) => c.path.every((p, i) => words[i] === p));
  return command && { command };
}

async function openDatabase(config: Config, command: Command): Promise<Database> {
  return config.databaseUrl
    ? createPostgresDatabase(config.databaseUrl, { max: 2 })
    : createEmbeddedDatabase(config.dataDir, `the gatehouse CLI (${command.path.join(' ')})`);
}

async function checkSchema(db: Database): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length) throw new Error(`the database schema is not up to date (${pending.length} pending migration(s)): run 'gatehouse migrate' first`);
}

interface Io {
  out(text: string): void;
  err(text: string): void;
  stdin(): string;
}

export async function runCli(argv: string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  const json = argv.includes('--json');
  const failWith = (code: number, error: string, description: string, hint?: string) => {
    if (json) io.err(`${JSON.stringify({ error, error_description: description })}\n`);
    else io.err(`gatehouse: ${description}\n${hint ? `${hint}\n` : ''}`);
    return code;
  };

  // Global flags may come before the command; the command is the leading words after them.
  const args = [...argv];
  while (args[0] === '--json') args.shift();
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  if (args[0] === '--version') {
    const pkg = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string };
    io.out(json ? `${JSON.stringify({ version: pkg.version, node: process.version })}\n` : `gatehouse ${pkg.version} (Node.js ${process.version})\n`);
    return 0;
  }
  const found = findCommand(words);
  if (!found) {
    if (args.includes('--help') || args.includes('-h') || args.length === 0) {
      io.out(`${usage()}\n`);
      return args.length === 0 ? 2 : 0;
    }
    const group = COMMANDS.filter((c) => c.path[0] === words[0]).map((c) => c.path.join(' '));
    const what = group.length ? `'${words.join(' ')}' is not a command; try: ${group.join(', ')}` : `unknown command '${words.join(' ') || args[0]}'`;
    return failWith(2, 'usage', what, "Run 'gatehouse --help' for the commands.");
  }
  const { command } = found;
  const rest = args.slice(command.path.length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${commandHelp(command)}\n`);
    return 0;
  }

  let parsed;
  try {
    parsed = parseArgs(rest, { ...command.options, ...GLOBAL_OPTIONS });
    if (parsed.positional.length !== command.positional) {
      throw new UsageError(command.positional ? `expected ${command.args}` : `unexpected argument '${parsed.positional[0]}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) return failWith(2, 'usage', err.message, `Run 'gatehouse ${command.path.join(' ')} --help'.`);
    throw err;
  }

  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return failWith(1, 'configuration', err.message);
    throw err;
  }
  applyProtectionSettings(config);

  let input: unknown;
  try {
    input = command.input?.(parsed.options, config);
  } catch (err) {
    if (err instanceof UsageError) return failWith(2, 'usage', err.message, `Run 'gatehouse ${command.path.join(' ')} --help'.`);
    throw err;
  }

  let db: Database | undefined;
  try {
    db = await openDatabase(config, command);
    if (command.needsSchema) {
      await checkSchema(db);
      // As a starting server does: seeds, roles and keys may name the Management API's permissions,
      // and clients the Shared Signals scope.
      await ensureManagementApi(db, config.issuer);
      await ensureSsfApi(db, config.issuer);
    }
    const result = await command.run({ config, db, positional: parsed.positional, options: parsed.options, input, stdin: io.stdin });
    io.out(json ? `${JSON.stringify(result, null, 2)}\n` : `${command.text(result)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) return failWith(2, 'usage', err.message, `Run 'gatehouse ${command.path.join(' ')} --help'.`);
    if (err instanceof ApiError) return failWith(1, 'failed', err.error_description);
    if (err instanceof SeedError) return failWith(1, 'failed', err.message);
    if (err instanceof DataDirInUseError) return failWith(1, 'data_dir_in_use', err.message);
    // Anything else (the database unreachable, a bug) is reported by message only: no stack, and
    // nothing from the request such as a password.
    return failWith(1, 'failed', err instanceof Error ? err.message : String(err));
  } finally {
    await db?.close().catch(() => undefined);
  }
}

const io: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  stdin: () => readFileSync(0, 'utf8'),
};

// Flush stdout before exiting: a pipe may still hold the output when the process would end.
runCli(process.argv.slice(2), process.env, io).then(
  (code) => {
    process.exitCode = code;
    process.stdout.write('', () => process.exit(code));
  },
  (err) => {
    process.stderr.write(`gatehouse: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
