import { z } from 'zod';
import { cidrProblem } from '../net/ip-allowlist.js';
import { invalidRequest } from './errors.js';
import { SCOPE_NAME } from './limits.js';

/** Shared field rules of the Management API's request bodies and responses. */

export const scopeName = z
  .string()
  .regex(SCOPE_NAME, 'scopes are named resource:action, e.g. orders:read')
  .meta({ description: 'A permission, named resource:action.', examples: ['orders:read'] });

/** A time in a response: RFC 3339 in UTC, as Date.toISOString() writes it. */
export const timestamp = z.iso.datetime();
/** A time that may be absent (never used, never expires). */
export const optionalTimestamp = timestamp.nullable();

/**
 * Beyond this a date overflows (JavaScript dates end in 275760) and the request fails as a 500
 * instead of a 400; a hundred years is "never" for any credential.
 */
const MAX_EXPIRES_IN = 100 * 365 * 86400;

/** Seconds, or a number with a unit: "90d", "12h", "30m", "45s". */
export const expiresIn = z
  .union([z.number().int().positive(), z.string().regex(/^\d+[smhd]?$/, 'use seconds or a number with s, m, h or d, e.g. "365d"')])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const n = Number.parseInt(v, 10);
    const unit = v.at(-1) ?? 's';
    return n * ({ s: 1, m: 60, h: 3600, d: 86400 }[unit] ?? 1);
  })
  // "0d" passes the pattern but would make something that has expired before it is used.
  .pipe(z.number().min(1, 'must be at least 1 second').max(MAX_EXPIRES_IN, 'must be at most 100 years'))
  .meta({ description: 'Seconds, or a number with a unit: s, m, h or d ("365d").' });

export const ipAllowlist = z.array(z.string().max(64).superRefine((v, ctx) => {
  const problem = cidrProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}).meta({ description: 'An IP address or CIDR range (10.0.0.0/8, 2001:db8::/32).', examples: ['203.0.113.0/24'] })).max(100);

export const environment = z.enum(['live', 'test']).meta({ description: 'Which prefix its secrets carry: sk_live_/ak_live_ or sk_test_/ak_test_.' });

// A string test, not new URL(): zod runs a refinement even after z.url() failed, and a throw there
// is a 500. It also catches an empty fragment ("…/cb#"), which URL.hash reports as "".
export const redirectUri = z.url().refine((u) => !u.includes('#'), 'redirect URIs must not have a fragment (RFC 6749 §3.1.2)');

export const expiryDate = (seconds: number | null | undefined) =>
  seconds === undefined ? undefined : seconds === null ? null : new Date(Date.now() + seconds * 1000);

export const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
