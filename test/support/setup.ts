import { WEB, baseSeed } from './fixtures.js';
import { ALL_MANAGEMENT_SCOPES, adminClientSeed, managementApi, managementToken } from './management.js';
import { startServer, type StartOptions, type TestServer } from './server.js';

/**
 * The one setup of a test file's server. Inside a describe():
 *
 *   let server: TestServer;
 *   let api: ManagementApi;
 *   useServer({ admin: true }, (s) => ({ server, admin: api } = s));
 *
 * registers a before() that starts a server on the base seed (support/fixtures.ts), changed by
 * `seed`, and an after() that destroys it (its database, data dir and Redis keys). `bind` hands the
 * started server to the file's own variables, so test bodies read as before.
 */

export type SeedDocument = ReturnType<typeof baseSeed> & Record<string, unknown>;
export type ManagementApi = ReturnType<typeof managementApi>;

export interface SetupOptions {
  /** Changes the base seed in place (add a client, give the user roles). */
  seed?: (seed: SeedDocument) => void;
  /**
   * Adds the automation client `ops-automation` with these Management API scopes (true: all of them)
   * and hands back `admin`, a Management API client holding its token.
   */
  admin?: boolean | string[];
  /** Everything else startServer takes: env, a database or data dir to reuse, a Redis URL. */
  start?: Omit<StartOptions, 'seed'>;
}

export interface Setup {
  server: TestServer;
  /** Present when `admin` was asked for. */
  admin: ManagementApi;
  /** The Management API's identifier ($ISSUER/api/v1): the `resource` of a user token for it. */
  managementResource: string;
}

/** Starts a server as described above (for a test that needs one of its own, not one per file). */
export async function setUp(options: SetupOptions = {}): Promise<Setup> {
  const seed = baseSeed() as SeedDocument;
  const scopes = options.admin === true ? ALL_MANAGEMENT_SCOPES : options.admin || undefined;
  if (scopes) seed.clients.push(adminClientSeed(scopes) as never);
  options.seed?.(seed);
  const server = await startServer({ ...options.start, seed });
  try {
    const admin = scopes ? managementApi(server, await managementToken(server, scopes)) : (undefined as unknown as ManagementApi);
    return { server, admin, managementResource: `${server.issuer}/api/v1` };
  } catch (err) {
    await server.destroy();
    throw err;
  }
}

/** Registers before() and after() for a server that lives as long as the enclosing describe(). */
export function useServer(options: SetupOptions, bind: (setup: Setup) => void): void {
  let setup: Setup | undefined;
  before(async function () {
    setup = await setUp(options);
    bind(setup);
  });
  after(async () => setup?.server.destroy());
}

/** The web app may also ask for every Management API scope, so people can hold user tokens there. */
export function webAppManages(seed: SeedDocument): void {
  seed.clients.find((c) => c.client_id === WEB.id)!.scope += ` ${ALL_MANAGEMENT_SCOPES.join(' ')}`;
}
