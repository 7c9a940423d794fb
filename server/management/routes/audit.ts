import { operation } from '../operation.js';
import { auditEventSchema, listAudit } from '../../services/audit.js';
import { pageQuery, pageSchema, queryValue } from '../../services/pagination.js';

/** An empty filter (?type=) filters nothing. */
const given = (value: string | undefined) => (value === '' ? undefined : value);

const auditQuery = pageQuery.extend({
  type: queryValue.optional().meta({ description: 'An event type (client.created), or a prefix ending in .* (client.*).' }),
  actor: queryValue.optional().meta({ description: 'An actor id: user id, API key id or client_id.' }),
  since: queryValue.optional().meta({ description: 'ISO 8601 date or date-time; events at or after it.', examples: ['2025-01-31', '2025-01-31T12:00:00Z'] }),
});

/** GET /audit-events: the append-only log, newest first (services/audit.ts, listAudit). */
export const auditOperations = [
  operation({
    id: 'listAuditEvents', method: 'get', path: '/audit-events', access: 'audit:read', tag: 'audit',
    summary: 'Read the audit log, newest first',
    description: 'Logins, credential changes, API-key use from a new IP, refused token requests, role and user changes. Append-only.',
    query: auditQuery,
    status: 200, response: pageSchema(auditEventSchema), responseDescription: 'A page of events',
    handle: (_ctx, { query }, { db }) =>
      listAudit(db, { type: given(query.type), actor: given(query.actor), since: given(query.since), cursor: query.cursor, limit: query.limit }),
  }),
];
