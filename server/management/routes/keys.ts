import { z } from 'zod';
import { listKeys } from '../../oidc/key-rotation.js';
import { principalOf, requires } from '../authenticate.js';
import { readJson, validate } from '../body.js';
import { decodeCursor, encodeCursor, parseLimit } from '../../services/pagination.js';
import type { RouteGroup } from '../router.js';

/** Longest activation delay a caller may ask for: a week, as for KEY_ACTIVATION_DELAY. */
export const MAX_ACTIVATE_IN = 7 * 24 * 3600;

export const rotateBody = z
  .object({
    activate_in: z
      .number()
      .int('must be a whole number of seconds')
      .min(0, 'must not be negative')
      .max(MAX_ACTIVATE_IN, `at most ${MAX_ACTIVATE_IN} seconds (7 days)`)
      .optional(),
  })
  .strict();

/**
 * Signing keys. Listing needs apis:read: what it shows (kids, algorithms, times) is what resource
 * servers configure against and is public in the JWKS anyway. Rotating needs keys:write.
 */
export const keyRoutes: RouteGroup = (router, deps) => {
  router.get('/keys', requires('apis:read'), async (ctx) => {
    const limit = parseLimit(ctx.query.limit);
    const after = decodeCursor(ctx.query.cursor, { c: 'timestamp', k: 'text' });
    // A handful of rows (two per rotation): filtering in memory keeps the cursor simple.
    const all = await listKeys(deps.db);
    const rest = after ? all.filter((k) => k.created_at < after.c || (k.created_at === after.c && k.kid > after.k)) : all;
    const data = rest.slice(0, limit);
    const last = data[data.length - 1];
    ctx.body = { data, next_cursor: rest.length > limit && last ? encodeCursor({ c: last.created_at, k: last.kid }) : null };
  });

  router.post('/keys/rotate', requires('keys:write'), async (ctx) => {
    // The body is optional: a bare POST rotates with the configured activation delay.
    const hasBody = (ctx.request.length ?? 0) > 0 || Boolean(ctx.get('transfer-encoding'));
    const body = hasBody ? await readJson(ctx, rotateBody) : validate(rotateBody, {});
    const result = await deps.rotateKeys({ activateIn: body.activate_in, actor: principalOf(ctx).actor });
    ctx.status = 201;
    ctx.body = result;
  });
};
