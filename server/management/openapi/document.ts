import { MANAGEMENT_SCOPES, managementApiIdentifier } from '../../services/management-api.js';
import type { AnyOperation } from '../operation.js';
import { errorResponses } from './errors.js';
import { SchemaCatalogue } from './schemas.js';

/**
 * The OpenAPI 3.1 document of the Management API (/api/v1), built from the operations the router
 * mounts (operations.ts): paths, permissions and statuses from their fields, and every schema
 * generated from their zod schemas (schemas.ts). What is written here is prose.
 * test/management/openapi.test.ts holds it to what the server does.
 */

type Json = Record<string, unknown>;

/** Koa's /clients/:client_id is OpenAPI's /clients/{client_id}. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');
const pathParams = (path: string) => [...path.matchAll(/:(\w+)/g)].map((m) => m[1]);

function operationObject(op: AnyOperation, schemas: SchemaCatalogue): Json {
  const authenticated = op.access !== 'public';
  const scope = authenticated && op.access !== 'any credential' ? op.access : undefined;
  const refusals = new Set<number>(op.errors ?? []);
  if (authenticated) refusals.add(401);
  if (scope) refusals.add(403);
  if (op.query || op.body) refusals.add(400);
  if (op.body) [413, 415].forEach((s) => refusals.add(s));

  const parameters = [
    ...pathParams(op.path).map((name) => ({
      name,
      in: 'path',
      required: true,
      description: op.params?.[name] ?? name,
      schema: { type: 'string' },
    })),
    ...(op.query ? schemas.queryParameters(op.query) : []),
  ];
  const success = op.response
    ? { description: op.responseDescription, content: { 'application/json': { schema: schemas.response(op.response) } } }
    : { description: op.responseDescription };
  const responses: Json = { [op.status]: success };
  for (const status of [...refusals].sort()) responses[status] = { $ref: `#/components/responses/${errorResponses[status].name}` };

  return {
    operationId: op.id,
    summary: op.summary,
    ...(op.description || scope ? { description: [op.description, scope ? `Needs the \`${scope}\` permission.` : undefined].filter(Boolean).join('\n\n') } : {}),
    tags: [op.tag],
    ...(scope ? { 'x-required-scope': scope } : {}),
    security: authenticated ? [{ bearer: [] }] : [],
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: !op.bodyOptional, content: { 'application/json': { schema: schemas.request(op.body) } } } } : {}),
    responses,
  };
}

/**
 * What does not depend on the issuer, generated once per list of operations: z.toJSONSchema over
 * every schema takes a few hundred milliseconds of CPU, which one request should not wait for twice.
 */
const generated = new WeakMap<readonly AnyOperation[], { paths: Record<string, Json>; schemas: Record<string, Json>; errorSchema: Json }>();

function generate(operations: readonly AnyOperation[]) {
  const schemas = new SchemaCatalogue();
  const paths: Record<string, Json> = {};
  for (const op of operations) {
    paths[openApiPath(op.path)] ??= {};
    paths[openApiPath(op.path)][op.method] = operationObject(op, schemas);
  }
  const errorSchema = schemas.response(schemas.errorSchema);
  return { paths, schemas: schemas.components(), errorSchema };
}

/** Built per issuer: the server URL and the token audience name it. Each call returns a new object. */
export function openApiDocument(issuer: string, operations: readonly AnyOperation[]): Json {
  if (!generated.has(operations)) generated.set(operations, generate(operations));
  const { paths, schemas, errorSchema } = structuredClone(generated.get(operations)!);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Gatehouse Management API',
      version: '1',
      description: [
        'Clients, APIs, users, roles, API keys, the audit log, signing keys and webhooks of this Gatehouse.',
        `Authenticate with \`Authorization: Bearer <token>\` (RFC 6750): an access token from this server for the audience \`${managementApiIdentifier(issuer)}\`, or an API key (ak_live_…).`,
        'Missing, bad, expired or revoked credentials answer 401 (error="invalid_token"); a missing permission answers 403 (error="insufficient_scope", scope="<needed>"). Errors are { "error", "error_description" }, and validation errors name the field. Lists answer { "data": [...], "next_cursor": "..." | null }. Times are ISO 8601.',
        'Later versions may add properties to responses: ignore the ones you do not know.',
      ].join('\n\n'),
    },
    servers: [{ url: `${issuer}/api/v1` }],
    tags: ['clients', 'apis', 'users', 'roles', 'api-keys', 'audit', 'keys', 'webhooks', 'ssf', 'meta'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: `A JWT access token for ${managementApiIdentifier(issuer)} or an API key. Permissions: ${Object.keys(MANAGEMENT_SCOPES).join(', ')}.`,
        },
      },
      schemas,
      responses: Object.fromEntries(
        Object.values(errorResponses).map(({ name, description, challenge }) => [
          name,
          {
            description,
            ...(challenge ? { headers: CHALLENGE } : {}),
            content: { 'application/json': { schema: errorSchema } },
          },
        ]),
      ),
    },
  };
}

const CHALLENGE = {
  'WWW-Authenticate': { description: 'The RFC 6750 §3 challenge: error="invalid_token", or error="insufficient_scope" with scope="<needed>".', schema: { type: 'string' } },
};
