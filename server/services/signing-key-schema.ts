import { z } from 'zod';
import { SIGNING_ALGS } from '../store/signing-keys.js';
import { optionalTimestamp, timestamp } from './validation.js';

/** What the Management API and the CLI show of a signing key: never private material. */
export const signingKeySchema = z.strictObject({
  id: z.string().meta({ description: 'The kid: what a JWT header names.' }),
  kid: z.string(),
  kty: z.enum(['RSA', 'EC']),
  algs: z.array(z.enum(SIGNING_ALGS)),
  status: z.enum(['pending', 'active', 'retired']).meta({ description: 'pending: published, not yet signing; active: signing; retired: no longer signing.' }),
  created_at: timestamp,
  activates_at: timestamp.meta({ description: 'When it starts signing; it is published from created_at.' }),
  retired_at: optionalTimestamp.meta({ description: 'When it stops signing.' }),
  published_until: optionalTimestamp.meta({ description: 'When it leaves the JWKS: retired_at plus the longest lifetime of a token it can have signed.' }),
});
export type KeyInfo = z.infer<typeof signingKeySchema>;
export type KeyStatus = KeyInfo['status'];

/** What a rotation answers. */
export const keyRotationSchema = z.strictObject({
  keys: z.array(signingKeySchema).meta({ description: 'The new keys, one per key type.' }),
  retiring: z.array(z.string()).meta({ description: 'Kids that were signing or pending and retire when the new keys activate.' }),
});
export type RotationResult = z.infer<typeof keyRotationSchema>;
