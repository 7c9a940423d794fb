import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { TestServer } from './server.js';
import type { managementApi } from './management.js';
import { authorize, exchangeCode, type CookieJar, type FlowClient } from './code-flow.js';

/**
 * People and keys for the tests of users, roles and API keys: made through the Management API (as
 * an operator would), so the tests also go through the code they are about.
 */

type Api = ReturnType<typeof managementApi>;

export interface Person {
  id: string;
  email: string;
  password: string;
}

/** A new user with these roles and a password they can sign in with. */
export async function newPerson(admin: Api, roles: string[], name = 'Test person'): Promise<Person> {
  const email = `p-${randomBytes(5).toString('hex')}@example.test`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const res = await admin.post('/users', { email, name, password, roles });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return { id: res.body.id, email, password };
}

/** A new API key of `userId` (made by an admin, so any user can be given one). */
export async function newKey(admin: Api, userId: string, scopes: string[], extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const res = await admin.post('/api-keys', { name: 'test key', scopes, user_id: userId, ...extra });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return { id: res.body.id, key: res.body.key };
}

/** A custom role with these permissions. */
export async function newRole(admin: Api, permissions: string[]): Promise<string> {
  const name = `r-${randomBytes(4).toString('hex')}`;
  const res = await admin.post('/roles', { name, permissions });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return name;
}

export interface AuditRow {
  type: string;
  actor_type: string;
  actor_id: string | null;
  ip: string | null;
  target_type: string | null;
  target_id: string | null;
  data: Record<string, unknown>;
}

/** Audit events of a type (optionally about one target), oldest first, read straight from the table. */
export async function auditOf(server: TestServer, type: string, targetId?: string): Promise<AuditRow[]> {
  const { rows } = await server.runtime.db.query<AuditRow>(
    `SELECT type, actor_type, actor_id, ip, target_type, target_id, data FROM audit_events
     WHERE type = $1 AND ($2::text IS NULL OR target_id = $2) ORDER BY id`,
    [type, targetId ?? null],
  );
  return rows;
}

/**
 * A person signs in to `client` (login and consent pages) and the code is redeemed: the tokens an
 * app would hold. `resource` picks the API (the Management API for user tokens there).
 */
export async function signInTokens(
  server: TestServer,
  client: FlowClient,
  person: Person,
  scope: string,
  options: { resource?: string; jar?: CookieJar } = {},
) {
  const flow = await authorize(server, { client, scope, user: person, resource: options.resource, jar: options.jar });
  const tokens = await exchangeCode(server, client, flow);
  expect(tokens.status, tokens.text).to.equal(200);
  return { ...tokens.json, jar: flow.jar } as { access_token: string; refresh_token?: string; scope?: string; jar: CookieJar };
}

/** Every text column of every row of a table, as one string: to check a secret appears nowhere. */
export async function tableText(server: TestServer, table: 'users' | 'api_keys' | 'audit_events' | 'oidc_artifacts'): Promise<string> {
  const { rows } = await server.runtime.db.query<{ t: string }>(`SELECT row_to_json(x)::text AS t FROM ${table} x`);
  return rows.map((r) => r.t).join('\n');
}
