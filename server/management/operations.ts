import { z } from 'zod';
import { type AnyOperation, operation } from './operation.js';
import { openApiDocument } from './openapi/document.js';
import { apiKeyOperations } from './routes/api-keys.js';
import { apiOperations } from './routes/apis.js';
import { auditOperations } from './routes/audit.js';
import { clientOperations } from './routes/clients.js';
import { keyOperations } from './routes/keys.js';
import { meOperations } from './routes/me.js';
import { roleOperations } from './routes/roles.js';
import { userOperations } from './routes/users.js';
import { webhookOperations } from './routes/webhooks.js';
import { ssfOperations } from './routes/ssf.js';

/** The document is built once per process: it depends only on the issuer. */
let documentJson: { issuer: string; body: Record<string, unknown> } | undefined;

/** GET /api/v1/openapi.json: public, like a discovery document. */
const getOpenApi = operation({
  id: 'getOpenApi', method: 'get', path: '/openapi.json', access: 'public', tag: 'meta',
  summary: 'This document',
  status: 200, response: z.record(z.string(), z.unknown()), responseDescription: 'The OpenAPI 3.1 document',
  handle: async (ctx, _input, { issuer }) => {
    if (documentJson?.issuer !== issuer) documentJson = { issuer, body: openApiDocument(issuer, OPERATIONS) };
    ctx.set('Cache-Control', 'public, max-age=300');
    return documentJson.body;
  },
});

/**
 * Every operation of the Management API, in the order the document lists them. The router mounts
 * exactly these and the OpenAPI document describes exactly these: one definition of each.
 */
export const OPERATIONS: readonly AnyOperation[] = [
  getOpenApi,
  ...meOperations,
  ...clientOperations,
  ...apiOperations,
  ...userOperations,
  ...roleOperations,
  ...apiKeyOperations,
  ...auditOperations,
  ...keyOperations,
  ...webhookOperations,
  ...ssfOperations,
];
