import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { z } from 'zod';
import { errorBoundary } from '../../server/http/errors.js';
import { type ManagementDeps, mount, operation } from '../../server/management/operation.js';
import { managementRouter } from '../../server/management/router.js';
import { MANAGEMENT_SCOPES } from '../../server/services/management-api.js';
import { ACCESS_TOKEN_TTL, DESCRIPTION_MAX, NAME_MAX, PASSWORD_MIN, SCOPE_NAME } from '../../server/services/limits.js';
import { OPERATIONS } from '../../server/management/operations.js';
import { ALL_MANAGEMENT_SCOPES, managementApi, managementToken } from '../support/management.js';
import { type TestServer } from '../support/server.js';
import { useServer } from '../support/setup.js';

/**
 * The OpenAPI document against the server: every documented operation is routed and guarded by the
 * permission it names, every route is documented, and real responses validate against the
 * documented schemas (with the small JSON Schema checker below, for the subset the document uses).
 */

type Json = any;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** JSON Schema 2020-12, the subset the document uses; returns the problems found (empty: valid). */
function validate(doc: Json, schema: Json, value: unknown, at = '$'): string[] {
  if (schema === true || schema === undefined) return [];
  if (schema.$ref) {
    const target = (schema.$ref as string).replace(/^#\//, '').split('/').reduce((o: Json, k: string) => o?.[k], doc);
    if (!target) return [`${at}: unresolvable $ref ${schema.$ref}`];
    return validate(doc, target, value, at);
  }
  const problems: string[] = [];
  if (schema.allOf) for (const s of schema.allOf) problems.push(...validate(doc, s, value, at));
  if (schema.oneOf) {
    const passing = schema.oneOf.filter((s: Json) => validate(doc, s, value, at).length === 0).length;
    if (passing !== 1) problems.push(`${at}: matches ${passing} of oneOf, not exactly one`);
  }
  if (schema.anyOf && !schema.anyOf.some((s: Json) => validate(doc, s, value, at).length === 0)) problems.push(`${at}: matches none of anyOf`);
  if (schema.type) {
    const types: string[] = [schema.type].flat();
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    const ok = types.some((t) => t === actual || (t === 'integer' && Number.isInteger(value)) || (t === 'number' && actual === 'number'));
    if (!ok) return [...problems, `${at}: is ${actual}, expected ${types.join('|')}`];
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) problems.push(`${at}: does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value)))) {
      problems.push(`${at}: ${value} is not an RFC 3339 date-time`);
    }
    if (schema.format === 'uri' && !URL.canParse(value)) problems.push(`${at}: not a URI`);
    if (schema.format === 'email' && !/^[^@\s]+@[^@\s]+$/.test(value)) problems.push(`${at}: not an email address`);
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${at}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${at}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.items) value.forEach((v, i) => problems.push(...validate(doc, schema.items, v, `${at}[${i}]`)));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in obj)) problems.push(`${at}: missing ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      if (schema.properties?.[key]) problems.push(...validate(doc, schema.properties[key], v, `${at}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${at}: unexpected property ${key}`);
    }
  }
  return problems;
}

const operationsOf = (doc: Json) =>
  Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] as Json })),
  );

/** A documented path with its parameters filled with values that exist nowhere. */
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, 'doc-test-missing');

function responseSchema(op: Json, status: number): Json {
  return op.responses[status]?.content?.['application/json']?.schema;
}

function errorSchemaOf(doc: Json, op: Json, status: number): Json {
  const response = op.responses[status];
  if (!response) return undefined;
  const resolved = response.$ref ? (response.$ref as string).replace(/^#\//, '').split('/').reduce((o: Json, k: string) => o?.[k], doc) : response;
  return resolved?.content?.['application/json']?.schema;
}

describe('OpenAPI document: GET /api/v1/openapi.json', () => {
  let server: TestServer;
  let doc: Json;
  const tokens = new Map<string, string>();
  const tokenFor = async (scopes: string[]) => {
    const key = scopes.join(' ');
    if (!tokens.has(key)) tokens.set(key, await managementToken(server, scopes));
    return tokens.get(key)!;
  };

  useServer({ admin: true }, (s) => ({ server } = s));
  before(async () => {
    const res = await fetch(`${server.url}/api/v1/openapi.json`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
    doc = await res.json();
  });

  it('is a public OpenAPI 3.1 document with a bearer security scheme', () => {
    expect(doc.openapi).to.match(/^3\.1\.\d+$/);
    expect(doc.info.title).to.be.a('string');
    expect(doc.servers[0].url).to.equal(`${server.issuer}/api/v1`);
    expect(doc.components.securitySchemes.bearer).to.deep.include({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.Error.required).to.deep.equal(['error', 'error_description']);
  });

  it('documents the whole Management API', () => {
    expect(Object.keys(doc.paths)).to.include.members([
      '/clients', '/clients/{client_id}', '/clients/{client_id}/secrets', '/clients/{client_id}/secrets/{secret_id}',
      '/apis', '/apis/{id}', '/users', '/users/{id}', '/roles', '/user-roles', '/roles/{name}',
      '/api-keys', '/api-keys/{id}', '/audit-events', '/keys', '/keys/rotate', '/me',
    ]);
  });

  it('is well formed: unique operationIds, resolvable $refs, declared path parameters, a permission and error responses per operation', () => {
    const ids = new Set<string>();
    const refs: string[] = [];
    JSON.stringify(doc, (k, v) => {
      if (k === '$ref') refs.push(v);
      return v;
    });
    for (const r of refs) {
      expect(r.replace(/^#\//, '').split('/').reduce((o: Json, k: string) => o?.[k], doc), r).to.not.equal(undefined);
    }
    for (const { path, method, op } of operationsOf(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(ids.has(op.operationId), `${where}: duplicate operationId`).to.equal(false);
      ids.add(op.operationId);
      const declared = (op.parameters ?? []).filter((p: Json) => p.in === 'path').map((p: Json) => p.name).sort();
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      expect(declared, `${where}: path parameters`).to.deep.equal(inPath);
      if (path === '/openapi.json') {
        expect(op.security, `${where} is public`).to.deep.equal([]);
        continue;
      }
      expect(op.security, where).to.deep.equal([{ bearer: [] }]);
      expect(errorSchemaOf(doc, op, 401), `${where}: 401`).to.deep.equal({ $ref: '#/components/schemas/Error' });
      if (OPERATIONS.some((o) => o.access === 'any credential' && o.path === path && o.method === method)) {
        // Any valid credential (GET /me, the key-reveal statement): nothing to be refused for, so no 403.
        expect(op['x-required-scope'], where).to.equal(undefined);
        continue;
      }
      expect(Object.keys(MANAGEMENT_SCOPES), `${where}: x-required-scope`).to.include(op['x-required-scope']);
      expect(op.description, where).to.include(op['x-required-scope']);
      for (const status of [401, 403]) expect(errorSchemaOf(doc, op, status), `${where}: ${status}`).to.deep.equal({ $ref: '#/components/schemas/Error' });
      const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
      expect(success, `${where}: one success response`).to.have.length(1);
    }
  });

  it('documents every route registered on the /api/v1 router, and nothing that is not routed', () => {
    const router = managementRouter({
      db: server.runtime.db,
      issuer: server.issuer,
      keys: server.runtime.keys,
      logger: server.runtime.logger,
      protection: server.runtime.protection,
      apiKeyUsage: server.runtime.apiKeyUsage,
      sealer: server.runtime.sealer,
      reloadKeys: async () => undefined,
      rotateKeys: async () => {
        throw new Error('not called');
      },
      mail: { db: server.runtime.db, issuer: server.issuer, mailer: undefined, logger: server.runtime.logger, protection: server.runtime.protection },
    });
    const routed = new Set<string>();
    for (const layer of router.stack) {
      for (const method of layer.methods) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        routed.add(`${method} ${String(layer.path).replace(/^\/api\/v1/, '').replace(/:(\w+)/g, '{$1}')}`);
      }
    }
    const documented = new Set(operationsOf(doc).map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    expect([...routed].filter((r) => !documented.has(r)), 'routed but not documented').to.deep.equal([]);
    expect([...documented].filter((d) => !routed.has(d)), 'documented but not routed').to.deep.equal([]);
  });

  it('every documented operation answers 401 without a token (it is routed: not 404 or 405), with the documented error body', async () => {
    const anonymous = managementApi(server, undefined);
    for (const { path, method, op } of operationsOf(doc)) {
      if (path === '/openapi.json') continue;
      const call = method === 'get' ? anonymous.get : method === 'delete' ? anonymous.delete : (p: string) => (anonymous as Json)[method](p, {});
      const res = await call(concrete(path));
      expect(res.status, `${method.toUpperCase()} ${path}`).to.equal(401);
      expect(res.headers.get('www-authenticate'), `${method.toUpperCase()} ${path}`).to.match(/^Bearer .*error="invalid_token"/);
      expect(validate(doc, errorSchemaOf(doc, op, 401), res.body), `${method.toUpperCase()} ${path}`).to.deep.equal([]);
    }
  });

  it('every operation is guarded by the permission it documents: a token with every other permission gets 403 naming it', async () => {
    for (const { path, method, op } of operationsOf(doc)) {
      const scope = op['x-required-scope'];
      if (!scope) continue;
      const api = managementApi(server, await tokenFor(ALL_MANAGEMENT_SCOPES.filter((s) => s !== scope)));
      const call = method === 'get' ? api.get : method === 'delete' ? api.delete : (p: string) => (api as Json)[method](p, {});
      const res = await call(concrete(path));
      const where = `${method.toUpperCase()} ${path}`;
      expect(res.status, `${where}: ${JSON.stringify(res.body)}`).to.equal(403);
      expect(res.body, where).to.include({ error: 'insufficient_scope', scope });
      expect(validate(doc, errorSchemaOf(doc, op, 403), res.body), where).to.deep.equal([]);
    }
  });

  it('real responses validate against the documented schemas', async () => {
    const api = managementApi(server, await tokenFor(ALL_MANAGEMENT_SCOPES));
    // Something in every list: a rotation, so that /keys has pending keys and the log has an event.
    const rotated = await api.post('/keys/rotate', { activate_in: 3600 });
    const rotateOp = doc.paths['/keys/rotate'].post;
    expect(rotated.status).to.equal(Number(Object.keys(rotateOp.responses).find((s) => s.startsWith('2'))));
    expect(validate(doc, responseSchema(rotateOp, rotated.status), rotated.body), 'POST /keys/rotate').to.deep.equal([]);

    const firstItems = new Map<string, Json>();
    let validated = 0;
    const gets = operationsOf(doc).filter(({ method, path }) => method === 'get' && path !== '/openapi.json');
    // Lists first, so that single-object paths can be filled with ids that exist.
    gets.sort((a, b) => a.path.split('{').length - b.path.split('{').length);
    for (const { path, op } of gets) {
      let concretePath = path;
      for (const [placeholder, name] of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => [m[0], m[1]])) {
        const listPath = concretePath.slice(0, concretePath.indexOf(placeholder) - 1);
        const item = firstItems.get(listPath);
        const value = item?.[name] ?? (name === 'id' ? undefined : item?.id);
        if (value === undefined) break;
        concretePath = concretePath.replace(placeholder, encodeURIComponent(String(value)));
      }
      if (concretePath.includes('{')) continue; // no object to ask for
      const res = await api.get(concretePath);
      const where = `GET ${concretePath}`;
      expect(res.status, `${where}: ${JSON.stringify(res.body)}`).to.equal(200);
      expect(validate(doc, responseSchema(op, 200), res.body), where).to.deep.equal([]);
      if (Array.isArray(res.body?.data) && res.body.data.length) firstItems.set(path, res.body.data[0]);
      validated++;
    }
    expect(validated, 'GET operations validated').to.be.at.least(3);

    // Error bodies: a 400 naming its field, and a 404.
    const bad = await api.get('/audit-events?since=last-tuesday');
    expect(bad.status).to.equal(400);
    expect(validate(doc, errorSchemaOf(doc, doc.paths['/audit-events'].get, 400), bad.body)).to.deep.equal([]);
    expect(bad.body.field).to.equal('since');
    const badRotate = await api.post('/keys/rotate', { activate_in: -5 });
    expect(badRotate.status).to.equal(400);
    expect(validate(doc, errorSchemaOf(doc, rotateOp, 400), badRotate.body)).to.deep.equal([]);
  });

  it('documents the refusals the server makes, with their error bodies: 409 for a last secret and for held scopes, 403 for built-in objects', async () => {
    const api = managementApi(server, await tokenFor(ALL_MANAGEMENT_SCOPES));
    /** The call's status is among the operation's documented responses, and its body is the documented error. */
    const refused = async (method: 'patch' | 'delete', path: string, call: () => Promise<{ status: number; body: Json }>, status: number) => {
      const res = await call();
      expect(res.status, `${method.toUpperCase()} ${path}: ${JSON.stringify(res.body)}`).to.equal(status);
      const template = operationsOf(doc).find((o) => o.method === method && new RegExp(`^${o.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
      expect(template, `${method.toUpperCase()} ${path} is documented`).to.not.equal(undefined);
      expect(Object.keys(template!.op.responses), `${template!.path} documents ${status}`).to.include(String(status));
      expect(validate(doc, errorSchemaOf(doc, template!.op, status), res.body)).to.deep.equal([]);
    };

    // A client with one secret: deleting it would leave the client unusable.
    const client = await api.post('/clients', { client_name: 'Refusals', type: 'service', scope: 'orders:read' });
    expect(client.status).to.equal(201);
    const [secret] = (await api.get(`/clients/${client.body.client_id}/secrets`)).body.data;
    const secretPath = `/clients/${client.body.client_id}/secrets/${secret.id}`;
    await refused('delete', secretPath, () => api.delete(secretPath), 409);

    // The client holds orders:read: the Orders API can neither lose that scope nor be deleted.
    const orders = ((await api.get('/apis')).body.data as Json[]).find((a) => a.scopes.some((sc: Json) => sc.name === 'orders:read'));
    await refused('delete', `/apis/${orders.id}`, () => api.delete(`/apis/${orders.id}`), 409);
    const keep = orders.scopes.filter((sc: Json) => sc.name !== 'orders:read');
    await refused('patch', `/apis/${orders.id}`, () => api.patch(`/apis/${orders.id}`, { scopes: keep }), 409);

    // Built-in objects are read-only.
    const management = ((await api.get('/apis')).body.data as Json[]).find((a) => a.builtin);
    await refused('delete', `/apis/${management.id}`, () => api.delete(`/apis/${management.id}`), 403);
    await refused('patch', '/roles/admin', () => api.patch('/roles/admin', { description: 'mine now' }), 403);
  });

  it('every operation the router mounts is in the document with its permission, and the document has no other', () => {
    const documented = operationsOf(doc).map(({ path, method, op }) => `${method.toUpperCase()} ${path} ${op['x-required-scope'] ?? ''}`.trim());
    const defined = OPERATIONS.map((op) => {
      const scope = op.access === 'public' || op.access === 'any credential' ? '' : op.access;
      return `${op.method.toUpperCase()} ${op.path.replace(/:(\w+)/g, '{$1}')} ${scope}`.trim();
    });
    expect(new Set(defined).size, 'no operation defined twice').to.equal(defined.length);
    expect([...documented].sort()).to.deep.equal([...defined].sort());
  });

  it('its schemas are the zod schemas the server validates with: the limits come from services/limits.ts', () => {
    const schemas = doc.components.schemas;
    expect(schemas.ClientCreate.properties.client_name.maxLength).to.equal(NAME_MAX);
    expect(schemas.ApiCreate.properties.access_token_ttl).to.include({ minimum: ACCESS_TOKEN_TTL.min, maximum: ACCESS_TOKEN_TTL.max, default: ACCESS_TOKEN_TTL.default });
    expect(schemas.RoleCreate.properties.description.maxLength).to.equal(DESCRIPTION_MAX);
    expect(schemas.RoleCreate.properties.permissions.items.pattern).to.equal(SCOPE_NAME.source);
    // The password rule is the server's (PASSWORD_MIN_LENGTH and the breached-password list), not a
    // fixed minLength: the document states the default.
    expect(schemas.UserCreate.properties.password).to.include({ writeOnly: true });
    expect(schemas.UserCreate.properties.password.description).to.include(`${PASSWORD_MIN} by default`);
    // Request bodies are read as zod parses them: a field with a default may be left out.
    expect(schemas.ApiCreate.required).to.have.members(['identifier', 'name', 'scopes']);
    // Responses as the server writes them: every field is there, and nothing else is.
    expect(schemas.Client.required).to.include.members(['client_id', 'expires_at', 'last_used_at']);
    expect(schemas.Client.additionalProperties).to.equal(false);
  });

  it('the server refuses what the document says is invalid: too long a string, a value outside an enum, an unknown field (400 naming the field)', async () => {
    const api = managementApi(server, await tokenFor(ALL_MANAGEMENT_SCOPES));
    const resolve = (schema: Json): Json => (schema?.$ref ? resolve((schema.$ref as string).replace(/^#\//, '').split('/').reduce((o: Json, k: string) => o?.[k], doc)) : schema);
    let probes = 0;
    for (const { path, method, op } of operationsOf(doc)) {
      const body = resolve(op.requestBody?.content['application/json'].schema);
      if (!body?.properties) continue;
      const send = (value: Json) => (method === 'post' ? api.post(concrete(path), value) : api.patch(concrete(path), value));
      const where = `${method.toUpperCase()} ${path}`;
      // The smallest body the document accepts: its required fields, each a value the schema allows.
      const sample = (schema: Json): unknown => {
        const p = resolve(schema);
        if (p.enum) return p.enum[0];
        if (p.examples) return p.examples[0];
        if (p.anyOf) return sample(p.anyOf[0]);
        if (p.type === 'array') return p.minItems ? [sample(p.items)] : [];
        if (p.type === 'integer' || p.type === 'number') return p.minimum ?? 1;
        if (p.type === 'boolean') return false;
        return p.format === 'uri' ? 'https://doc-test.example/api' : p.format === 'email' ? 'doc@test.example' : 'doc-test';
      };
      const base: Json = Object.fromEntries((body.required ?? []).map((name: string) => [name, sample(body.properties[name])]));
      for (const [name, raw] of Object.entries(body.properties as Record<string, Json>)) {
        const p = resolve(raw);
        const bad = p.maxLength !== undefined ? 'x'.repeat(p.maxLength + 1) : p.enum ? `not-${p.enum[0]}` : undefined;
        if (bad === undefined) continue;
        const res = await send({ ...base, [name]: bad });
        expect(res.status, `${where} ${name}: ${JSON.stringify(res.body)}`).to.equal(400);
        expect(res.body.field, `${where} ${name}`).to.equal(name);
        probes++;
      }
      if (body.additionalProperties === false) {
        const res = await send({ ...base, not_in_the_document: true });
        expect(res.status, `${where}: unknown field`).to.equal(400);
        probes++;
      }
    }
    expect(probes, 'fields probed').to.be.at.least(20);
  });

  it('outside production, a response that drifts from its schema (an extra field, a wrong type) is refused with a 500 instead of sent', async () => {
    const drifting = (value: unknown) =>
      operation({
        id: 'drift', method: 'get', path: '/drift', access: 'public', tag: 'meta', summary: 'A test of mount()',
        status: 200, response: z.strictObject({ id: z.string() }), responseDescription: 'An id',
        handle: async () => value as { id: string },
      });
    const serve = async (value: unknown, checkResponses: boolean) => {
      const app = new Koa();
      app.use(errorBoundary(server.runtime.logger));
      const router = new Router();
      mount(router, [drifting(value)], { checkResponses } as ManagementDeps);
      app.use(router.routes());
      const http = createServer(app.callback()).listen(0, '127.0.0.1');
      await new Promise((resolve) => http.once('listening', resolve));
      try {
        const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/drift`);
        return { status: res.status, body: await res.json() };
      } finally {
        await new Promise((resolve) => http.close(resolve));
      }
    };
    expect(await serve({ id: 'a' }, true)).to.deep.equal({ status: 200, body: { id: 'a' } });
    const extra = await serve({ id: 'a', secret_hash: 'x' }, true);
    expect(extra.status).to.equal(500);
    expect(JSON.stringify(extra.body)).to.not.include('secret_hash');
    expect((await serve({ id: 1 }, true)).status).to.equal(500);
    // In production the check is not made: the same response goes out.
    expect(await serve({ id: 'a', secret_hash: 'x' }, false)).to.deep.equal({ status: 200, body: { id: 'a', secret_hash: 'x' } });
  });

  it('the checker itself catches what it should', () => {
    const keySchema = { $ref: '#/components/schemas/SigningKey' };
    const good = { id: 'k', kid: 'k', kty: 'RSA', algs: ['RS256'], status: 'active', created_at: '2025-01-01T00:00:00.000Z', activates_at: '2025-01-01T00:00:00Z', retired_at: null, published_until: null };
    expect(validate(doc, keySchema, good)).to.deep.equal([]);
    expect(validate(doc, keySchema, { ...good, status: 'gone' })).to.have.length(1);
    expect(validate(doc, keySchema, { ...good, retired_at: 'yesterday' })).to.have.length(1);
    expect(validate(doc, keySchema, { ...good, d: 'private' })).to.have.length(1);
    const { kid: _kid, ...missing } = good;
    expect(validate(doc, keySchema, missing)).to.have.length(1);
    expect(validate(doc, { $ref: '#/components/schemas/Nope' }, {})).to.have.length(1);
  });
});
