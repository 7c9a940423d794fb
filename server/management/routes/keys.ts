import { z } from 'zod';
import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import { pageQuery, pageSchema } from '../../services/pagination.js';
import { keyRotationSchema, signingKeySchema } from '../../services/signing-key-schema.js';
import { MAX_ACTIVATE_IN, listKeysPage } from '../../services/signing-keys.js';

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
    handle: (_ctx, { query }, { db }) => listKeysPage(db, query),
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
