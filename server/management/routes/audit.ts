import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import { auditLogEntrySchema, listAudit } from '../../services/audit-log.js';
import { pageQuery, pageSchema, queryValue } from '../../services/pagination.js';

/** An empty filter (?type=) filters nothing. */
const given = (value: string | undefined) => (value === '' ? undefined : value);

const auditQuery = pageQuery.extend({
  type: queryValue.optional().meta({ description: 'An event type (client.created), or a prefix ending in .* (client.*).' }),
  actor: queryValue.optional().meta({
    description:
      'An actor id (user id, API key id or client_id), or an email or part of one (any case): the events of every user whose ' +
      'email contains it and of their API keys. Matching by email needs users:read; without it only ids match.',
    examples: ['ada@example.com', 'ada@'],
  }),
  since: queryValue.optional().meta({ description: 'ISO 8601 date or date-time; events at or after it.', examples: ['2025-01-31', '2025-01-31T12:00:00Z'] }),
});

/** GET /audit-events: the append-only log, newest first, actors and targets named (services/audit-log.ts). */
export const auditOperations = [
  operation({
    id: 'listAuditEvents', method: 'get', path: '/audit-events', access: 'audit:read', tag: 'audit',
    summary: 'Read the audit log, newest first',
    description:
      'Logins, credential changes, API-key use from a new IP, refused token requests, role and user changes. Append-only. ' +
      '`actor_display` and `target_display` say who or what the actor and target are: the user’s email and name, the credential’s or API key’s name, or `deleted`.',
    query: auditQuery,
    status: 200, response: pageSchema(auditLogEntrySchema), responseDescription: 'A page of events',
    handle: (ctx, { query }, { db }) =>
      listAudit(db, principalOf(ctx), { type: given(query.type), actor: given(query.actor), since: given(query.since), cursor: query.cursor, limit: query.limit }),
  }),
];
