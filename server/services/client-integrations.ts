import { z } from 'zod';
import { describeKeys, jwksUri, publicJwks, type PublicJwks } from './client-keys.js';
import { invalidRequest } from './errors.js';

/**
 * Client settings for three integrations, kept in one block so the client schema stays readable:
 * private_key_jwt (RFC 7523 §2.2), the device authorization grant (RFC 8628) and back-channel
 * logout (OpenID Connect Back-Channel Logout 1.0). They live in the client's metadata (jsonb) and
 * reach oidc-provider unchanged (oidc/clients.ts toProviderMetadata), which does the protocol.
 */

/** RFC 8628 §3.4: the grant type a device polls the token endpoint with. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// Back-Channel Logout 1.0 §2.2: an absolute URL without a fragment; https, or http for localhost in development.
const backchannelLogoutUri = z
  .url()
  .refine((u) => !u.includes('#'), 'backchannel_logout_uri must not have a fragment (Back-Channel Logout 1.0 §2.2)')
  .refine((u) => /^https?:\/\//i.test(u), 'backchannel_logout_uri must be an http or https URL')
  .meta({ description: 'Where logout tokens are POSTed when a session of a person who used this client ends (Back-Channel Logout 1.0 §2.2).' });

/** The request fields (create and PATCH); null removes one in a PATCH. */
export const integrationFields = {
  jwks: publicJwks.nullable().optional(),
  jwks_uri: jwksUri.nullable().optional(),
  backchannel_logout_uri: backchannelLogoutUri.nullable().optional(),
  backchannel_logout_session_required: z
    .boolean()
    .optional()
    .meta({ description: 'true: each logout token names the session (sid) that ended, as well as the person (sub).' }),
};

type IntegrationInput = { [K in keyof typeof integrationFields]?: z.output<(typeof integrationFields)[K]> };

/** The fields as stored in the client's metadata. */
export interface IntegrationMetadata {
  jwks?: PublicJwks;
  jwks_uri?: string;
  backchannel_logout_uri?: string;
  backchannel_logout_session_required?: boolean;
}

const KEYS = Object.keys(integrationFields) as (keyof IntegrationMetadata)[];

/** The stored fields after a request: absent keeps, null removes, a value replaces. */
export function integrationMetadata(before: IntegrationMetadata, input: IntegrationInput): IntegrationMetadata {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = input[key] === undefined ? before[key] : input[key];
    if (value !== null && value !== undefined) out[key] = value;
  }
  return out as IntegrationMetadata;
}

/** Metadata without these fields, to which integrationMetadata() then adds what stays. */
export function withoutIntegrations<M extends IntegrationMetadata>(m: M): Omit<M, keyof IntegrationMetadata> {
  const rest = { ...m } as Record<string, unknown>;
  for (const key of KEYS) delete rest[key];
  return rest as Omit<M, keyof IntegrationMetadata>;
}

interface Shape extends IntegrationMetadata {
  token_endpoint_auth_method: string;
  grant_types: string[];
}

/** The rules these fields add to checkShape (services/clients.ts). */
export function checkIntegrationShape(m: Shape): void {
  const keyed = m.token_endpoint_auth_method === 'private_key_jwt';
  if (keyed && !m.jwks === !m.jwks_uri) {
    throw invalidRequest('jwks: private_key_jwt needs the client\'s public keys: either jwks or jwks_uri, not both (RFC 7591 §2)', m.jwks ? 'jwks_uri' : 'jwks');
  }
  if (!keyed && (m.jwks || m.jwks_uri)) {
    throw invalidRequest(`${m.jwks ? 'jwks' : 'jwks_uri'}: public keys are for token_endpoint_auth_method "private_key_jwt"`, m.jwks ? 'jwks' : 'jwks_uri');
  }
  const signsPeopleIn = m.grant_types.includes('authorization_code') || m.grant_types.includes(DEVICE_CODE_GRANT);
  if (m.backchannel_logout_uri && !signsPeopleIn) {
    throw invalidRequest('backchannel_logout_uri: logout tokens are about people signing out; this client signs nobody in (authorization_code or device_code)', 'backchannel_logout_uri');
  }
}

export const integrationViewSchema = {
  jwks: publicJwks.nullable(),
  jwks_uri: z.string().nullable(),
  backchannel_logout_uri: z.string().nullable(),
  backchannel_logout_session_required: z.boolean(),
  keys: z
    .array(z.strictObject({ kid: z.string().nullable(), kty: z.string(), alg: z.string().nullable() }))
    .meta({ description: 'The registered public keys (jwks) by key id and algorithm.' }),
};

export function integrationView(m: IntegrationMetadata) {
  return {
    jwks: m.jwks ?? null,
    jwks_uri: m.jwks_uri ?? null,
    backchannel_logout_uri: m.backchannel_logout_uri ?? null,
    backchannel_logout_session_required: m.backchannel_logout_session_required ?? false,
    keys: describeKeys(m.jwks),
  };
}
