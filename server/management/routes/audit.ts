import { requires } from '../authenticate.js';
import { invalidRequest } from '../../services/errors.js';
import { listAudit } from '../../services/audit.js';
import type { RouteGroup } from '../router.js';

function singleQuery(value: unknown, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalidRequest(`${field} may be given once`, field);
  return value;
}

/** GET /audit-events: the append-only log, newest first (services/audit.ts, listAudit). */
export const auditRoutes: RouteGroup = (router, deps) => {
  router.get('/audit-events', requires('audit:read'), async (ctx) => {
    ctx.body = await listAudit(deps.db, {
      type: singleQuery(ctx.query.type, 'type'),
      actor: singleQuery(ctx.query.actor, 'actor'),
      since: singleQuery(ctx.query.since, 'since'),
      cursor: singleQuery(ctx.query.cursor, 'cursor'),
      limit: singleQuery(ctx.query.limit, 'limit'),
    });
  });
};
