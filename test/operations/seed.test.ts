import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySeed, readSeedFile, seedSchema, type Seed } from '../../server/seed.js';
import { permissionsOfUser, rolesOfUser } from '../../server/store/roles.js';
import { findUserByEmail } from '../../server/store/users.js';
import { USER, baseSeed } from '../support/fixtures.js';
import { ALL_MANAGEMENT_SCOPES, adminClientSeed, managementApi, managementToken } from '../support/management.js';
import { startServer, type TestServer } from '../support/server.js';

// Fixed, so that a restart on another port is the same deployment.
const ISSUER = 'http://gatehouse-seed.test';
const OPERATOR = { email: 'grace@example.test', name: 'Grace Hopper', password: 'a long operator password' };

const extendedSeed = () => {
  const s = baseSeed();
  return {
    ...s,
    roles: [
      { name: 'support', description: 'Helps customers', permissions: ['clients:read', 'users:read', 'orders:read'] },
      { name: 'auditor', permissions: ['audit:read'] },
    ],
    users: [
      { ...USER, roles: ['developer', 'support'] },
      { ...OPERATOR, roles: ['admin'] },
    ],
    clients: [...s.clients, adminClientSeed(['audit:read', 'roles:read'])],
  };
};

async function snapshot(server: TestServer) {
  const q = async (sql: string) => (await server.runtime.db.query(sql)).rows;
  return {
    roles: await q(`SELECT name, description, permissions, builtin, updated_at FROM roles ORDER BY name`),
    // users.updated_at is left out: the user store stamps it on every upsert.
    users: await q(`SELECT id, email, name, password_hash FROM users ORDER BY email`),
    userRoles: await q(`SELECT u.email, ur.role_name FROM user_roles ur JOIN users u ON u.id = ur.user_id ORDER BY 1, 2`),
    clients: await q(`SELECT client_id, metadata FROM clients ORDER BY client_id`),
    secrets: await q(`SELECT client_id, secret_hash FROM client_secrets ORDER BY client_id, secret_hash`),
    apis: await q(`SELECT identifier, scopes FROM apis ORDER BY identifier`),
  };
}

describe('seed file: roles, user roles, Management API clients', () => {
  let dir: string;
  let file: string;
  let server: TestServer | undefined;
  /** The server that made the database and data folder: destroying it removes them, after a restart too. */
  let first: TestServer | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-seed-'));
    file = join(dir, 'seed.json');
    writeFileSync(file, JSON.stringify(extendedSeed()));
  });
  after(async () => {
    if (server !== first) await server?.stop();
    await first?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates custom roles before users and grants users their roles', async () => {
    server = first = await startServer({ env: { SEED_FILE: file, ISSUER } });
    const db = server.runtime.db;
    const support = (await db.query<{ permissions: string[]; description: string; builtin: boolean }>(`SELECT * FROM roles WHERE name = 'support'`)).rows[0];
    expect(support).to.deep.include({ description: 'Helps customers', builtin: false, permissions: ['clients:read', 'users:read', 'orders:read'] });
    const ada = (await findUserByEmail(db, USER.email))!;
    expect(await rolesOfUser(db, ada.id)).to.deep.equal(['developer', 'support']);
    expect([...(await permissionsOfUser(db, ada.id))]).to.include.members(['orders:read', 'clients:write', 'api-keys:write']);
    const grace = (await findUserByEmail(db, OPERATOR.email))!;
    expect([...(await permissionsOfUser(db, grace.id))].sort()).to.deep.equal([...ALL_MANAGEMENT_SCOPES].sort());
  });

  it('lets a seeded client call the Management API with the scopes it was granted, and no others', async () => {
    const api = managementApi(server!, await managementToken(server!, ['audit:read']));
    expect((await api.get('/audit-events?limit=1')).status).to.equal(200);
    expect((await api.get('/keys')).status).to.equal(403);
    let refused: Error | undefined;
    await managementToken(server!, ['keys:write']).catch((err) => (refused = err));
    expect(refused?.message).to.include('invalid_scope');
  });

  it('is idempotent at every start: a restart with the same seed changes nothing', async () => {
    const before = await snapshot(server!);
    const { databaseUrl, dataDir } = server!;
    await server!.stop();
    server = await startServer({ databaseUrl, dataDir, env: { SEED_FILE: file, ISSUER } });
    expect(await snapshot(server)).to.deep.equal(before);
    // And applied a third time in-process.
    await applySeed(server.runtime.db, readSeedFile(file));
    expect(await snapshot(server)).to.deep.equal(before);
  });

  it('updates what changed: a role’s permissions, a user’s roles; leaves roles alone when a user lists none', async () => {
    const db = server!.runtime.db;
    const seed = extendedSeed();
    seed.roles[0].permissions = ['clients:read'];
    seed.users[0].roles = ['viewer'];
    await applySeed(db, seedSchema.parse(seed) as Seed);
    const ada = (await findUserByEmail(db, USER.email))!;
    expect(await rolesOfUser(db, ada.id)).to.deep.equal(['viewer']);
    expect((await db.query<{ permissions: string[] }>(`SELECT permissions FROM roles WHERE name = 'support'`)).rows[0].permissions).to.deep.equal(['clients:read']);

    const { roles: _dropped, ...withoutRoles } = seed.users[0];
    await applySeed(db, seedSchema.parse({ users: [withoutRoles] }) as Seed);
    expect(await rolesOfUser(db, ada.id)).to.deep.equal(['viewer']);
  });

  it('refuses to redefine a built-in role, naming the field', () => {
    const parsed = seedSchema.safeParse({ roles: [{ name: 'admin', permissions: ['audit:read'] }] });
    expect(parsed.success).to.equal(false);
    expect(parsed.error!.issues[0].path).to.deep.equal(['roles', 0, 'name']);
    expect(parsed.error!.issues[0].message).to.include('built-in');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ roles: [{ name: 'viewer', permissions: [] }] }));
    expect(() => readSeedFile(bad)).to.throw(/roles\.0\.name: is a built-in role/);
  });

  for (const [what, seed, message] of [
    ['a role name the database would refuse', { roles: [{ name: 'Bad Name', permissions: [] }] }, /roles\.0\.name/],
    ['a permission that is not resource:action', { roles: [{ name: 'ops', permissions: ['everything'] }] }, /roles\.0\.permissions\.0/],
    ['a role defined twice', { roles: [{ name: 'ops', permissions: [] }, { name: 'ops', permissions: [] }] }, /defined twice/],
    ['a user role with a bad name', { users: [{ ...OPERATOR, roles: ['ADMIN'] }] }, /users\.0\.roles\.0/],
  ] as const) {
    it(`refuses ${what} when it is read`, () => {
      const parsed = seedSchema.safeParse(seed);
      expect(parsed.success).to.equal(false);
      expect(parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')).to.match(message);
    });
  }

  for (const [what, seed, message] of [
    ['a user granted an unknown role', { users: [{ ...OPERATOR, email: 'new@example.test', roles: ['nobody-has-this'] }] }, /unknown role nobody-has-this/],
    ['a role with a permission no API defines', { roles: [{ name: 'ghost', permissions: ['ghost:read'] }] }, /ghost:read is not a scope of any registered API/],
  ] as const) {
    it(`refuses ${what} when it is applied, and applies nothing of that seed`, async () => {
      const db = server!.runtime.db;
      const before = await snapshot(server!);
      const withApi = { ...seed, apis: [{ identifier: 'https://new.example.test', name: 'New', scopes: ['new:read'] }] };
      let error: Error | undefined;
      await applySeed(db, seedSchema.parse(withApi) as Seed).catch((err) => (error = err));
      expect(error?.message).to.match(message);
      expect(await snapshot(server!)).to.deep.equal(before);
    });
  }

  it('accepts permissions of APIs defined in the same seed or already registered', async () => {
    const db = server!.runtime.db;
    await applySeed(db, seedSchema.parse({
      apis: [{ identifier: 'https://stock.example.test', name: 'Stock', scopes: ['stock:read'] }],
      roles: [{ name: 'stock-reader', permissions: ['stock:read', 'orders:write', 'apis:read'] }],
    }) as Seed);
    const { rows } = await db.query<{ permissions: string[] }>(`SELECT permissions FROM roles WHERE name = 'stock-reader'`);
    expect(rows[0].permissions).to.deep.equal(['stock:read', 'orders:write', 'apis:read']);
  });
});
