import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import { pageQuery, pageSchema } from '../../services/pagination.js';
import {
  createWebhook, createWebhookSchema, deleteWebhook, deliverySchema, getWebhook, listDeliveries, listWebhooks, rotateWebhookSecret,
  rotateWebhookSecretSchema, updateWebhook, updateWebhookSchema, webhookCreatedSchema, webhookSchema,
} from '../../services/webhooks.js';

const ID = { id: 'The endpoint’s id.' };
const tag = 'webhooks';

/**
 * Webhook endpoints: URLs that receive audit events as signed Standard Webhooks messages, at least
 * once, from the outbox (services/webhook-dispatcher.ts).
 */
export const webhookOperations = [
  operation({
    id: 'listWebhooks', method: 'get', path: '/webhooks', access: 'webhooks:read', tag,
    summary: 'List webhook endpoints',
    query: pageQuery,
    status: 200, response: pageSchema(webhookSchema), responseDescription: 'A page of endpoints, oldest first',
    handle: (_ctx, { query }, { db }) => listWebhooks(db, query),
  }),
  operation({
    id: 'createWebhook', method: 'post', path: '/webhooks', access: 'webhooks:write', tag,
    summary: 'Register a webhook endpoint',
    description:
      'event_types: exact audit event types (api_key.revoked), prefixes ending in .* (client.*), or * for all. The response holds secret (whsec_…): the only time it is shown; deliveries are signed with it (Standard Webhooks). An endpoint receives the audit log, so the caller must also hold audit:read.',
    body: createWebhookSchema,
    status: 201, response: webhookCreatedSchema, responseDescription: 'The endpoint, with its signing secret',
    handle: (ctx, { body }, { db, sealer }) => createWebhook(db, sealer, body, principalOf(ctx)),
  }),
  operation({
    id: 'getWebhook', method: 'get', path: '/webhooks/:id', access: 'webhooks:read', tag, params: ID,
    summary: 'Get a webhook endpoint',
    status: 200, response: webhookSchema, responseDescription: 'The endpoint',
    errors: [404],
    handle: (ctx, _input, { db }) => getWebhook(db, ctx.params.id),
  }),
  operation({
    id: 'updateWebhook', method: 'patch', path: '/webhooks/:id', access: 'webhooks:write', tag, params: ID,
    summary: 'Change a webhook endpoint: url, event types, description, enabled',
    description: 'enabled: true resumes an endpoint that was disabled (by hand, or after failing), and sends the deliveries that waited.',
    body: updateWebhookSchema,
    status: 200, response: webhookSchema, responseDescription: 'The changed endpoint',
    errors: [404],
    handle: (ctx, { body }, { db }) => updateWebhook(db, ctx.params.id, body, principalOf(ctx)),
  }),
  operation({
    id: 'deleteWebhook', method: 'delete', path: '/webhooks/:id', access: 'webhooks:write', tag, params: ID,
    summary: 'Remove a webhook endpoint, its waiting deliveries and their history',
    status: 204, responseDescription: 'Removed',
    errors: [404],
    handle: (ctx, _input, { db }) => deleteWebhook(db, ctx.params.id, principalOf(ctx)),
  }),
  operation({
    id: 'rotateWebhookSecret', method: 'post', path: '/webhooks/:id/secret', access: 'webhooks:write', tag, params: ID,
    summary: 'Rotate an endpoint’s signing secret',
    description: 'The new secret is in this response only. Until previous_expires_in has passed, each delivery carries a signature with the old secret too.',
    body: rotateWebhookSecretSchema, bodyOptional: true,
    status: 200, response: webhookCreatedSchema, responseDescription: 'The endpoint, with its new secret',
    errors: [404],
    handle: (ctx, { body }, { db, sealer }) => rotateWebhookSecret(db, sealer, ctx.params.id, body, principalOf(ctx)),
  }),
  operation({
    id: 'listWebhookDeliveries', method: 'get', path: '/webhooks/:id/deliveries', access: 'webhooks:read', tag, params: ID,
    summary: 'List an endpoint’s deliveries, newest first, with every attempt',
    query: pageQuery,
    status: 200, response: pageSchema(deliverySchema), responseDescription: 'A page of deliveries',
    errors: [404],
    handle: (ctx, { query }, { db }) => listDeliveries(db, ctx.params.id, query),
  }),
];
