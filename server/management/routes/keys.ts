import { z } from 'zod';
import { listKeys } from '../../oidc/key-rotation.js';
import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import { decodeCursor, encodeCursor, pageQuery, pageSchema, parseLimit } from '../../services/pagination.js';
import { keyRotationSchema, signingKeySchema } from '../../services/signing-key-schema.js';

/** Longest activation delay a caller may ask for: a week, as for KEY_ACTIVATION_DELAY. */
export const MAX_ACTIVATE_IN = 7 * 24 * 3600;

export const rotateBody = z
  .object({
    activate_in: z
      .number()
      .int('must be a whole number of seconds')
      .min(0, 'must not be negative')
      .max(MAX_ACTIVATE_IN, `at most ${MAX_ACTIVATE_IN} seconds (7 days)`)
      .optional()
      .meta({ description: 'Seconds until the new keys sign (default KEY_ACTIVATION_DELAY).' }),
  })
  .strict();

const tag = 'keys';

/**
 * Signing keys. Listing needs apis:read: what it shows (kids, algorithms, times) is what resource
 * servers configure against and is public in the JWKS anyway. Rotating needs keys:write.
 */
export const keyOperations = [
  operation({
    id: 'listSigningKeys', method: 'get', path: '/keys', access: 'apis:read', tag,
    summary: 'List signing keys (no private material)',
    query: pageQuery,
    status: 200, response: pageSchema(signingKeySchema), responseDescription: 'The keys, newest first',
    handle: async (_ctx, { query }, { db }) => {
      const limit = parseLimit(query.limit);
      const after = decodeCursor<{ c: string; k: string }>(query.cursor, ['c', 'k']);
      // A handful of rows (two per rotation): filtering in memory keeps the cursor simple.
      const all = await listKeys(db);
      const rest = after ? all.filter((k) => k.created_at < after.c || (k.created_at === after.c && k.kid > after.k)) : all;
      const data = rest.slice(0, limit);
      const last = data[data.length - 1];
      return { data, next_cursor: rest.length > limit && last ? encodeCursor({ c: last.created_at, k: last.kid }) : null };
    },
  }),
  operation({
    id: 'rotateSigningKeys', method: 'post', path: '/keys/rotate', access: 'keys:write', tag,
    summary: 'Rotate the signing keys',
    description:
      'Creates one key per key type, published in the JWKS at once and signing from activates_at (activate_in seconds, default KEY_ACTIVATION_DELAY). The keys they replace sign until then and stay published until every token they signed has expired. The body is optional.',
    body: rotateBody, bodyOptional: true,
    status: 201, response: keyRotationSchema, responseDescription: 'The new keys',
    handle: (ctx, { body }, deps) => deps.rotateKeys({ activateIn: body.activate_in, actor: principalOf(ctx).actor }),
  }),
];
