import { z } from 'zod';
import { MAX_ACTIVATE_IN, listKeysPage } from '../../services/signing-keys.js';
import { principalOf, requires } from '../authenticate.js';
import { readJson, validate } from '../body.js';
import { queryString } from '../../services/validation.js';
import type { RouteGroup } from '../router.js';

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
    ctx.body = await listKeysPage(deps.db, { cursor: queryString(ctx.query.cursor, 'cursor'), limit: queryString(ctx.query.limit, 'limit') });
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
