import type { Queryable } from '../db/database.js';
import { factorKindsOfUsers, requireTwoFactorsForAdmin, rolesRequireTwoFactors } from '../store/two-factor-policy.js';

/**
 * Authentication context class references (OIDC Core §2 "acr", §3.1.2.1 "acr_values") Gatehouse
 * answers with. A sign-in with a password alone is ACR_ONE_FACTOR; with two factors ACR_TWO_FACTORS.
 * An application may also ask with the OpenID PAPE multi-factor policy URI, which means the same.
 */
export const ACR_ONE_FACTOR = 'urn:gatehouse:acr:pwd';
export const ACR_TWO_FACTORS = 'urn:gatehouse:acr:mfa';
export const PAPE_MULTI_FACTOR = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
/** acr_values_supported in discovery. */
export const ACR_VALUES = [ACR_ONE_FACTOR, ACR_TWO_FACTORS, PAPE_MULTI_FACTOR];

const TWO_FACTOR_ACRS = new Set([ACR_TWO_FACTORS, PAPE_MULTI_FACTOR]);

/** Whether an authorization request's acr_values ask for two factors. */
export function acrAsksForTwoFactors(acrValues: unknown): boolean {
  return typeof acrValues === 'string' && acrValues.split(' ').some((v) => TWO_FACTOR_ACRS.has(v));
}

/**
 * The acr a completed sign-in reports: with two factors, the two-factor value the application asked
 * for if it asked for one (so the ID token answers its request in its own words), ours otherwise.
 */
export function acrFor(twoFactors: boolean, acrValues: unknown): string {
  if (!twoFactors) return ACR_ONE_FACTOR;
  const asked = typeof acrValues === 'string' ? acrValues.split(' ').find((v) => TWO_FACTOR_ACRS.has(v)) : undefined;
  return asked ?? ACR_TWO_FACTORS;
}

export const isTwoFactorAcr = (acr: unknown) => typeof acr === 'string' && TWO_FACTOR_ACRS.has(acr);

/**
 * RFC 8176 methods of a sign-in: what was used, plus "mfa" when two different factors were
 * (§2: "mfa" names the use of more than one factor, alongside the methods themselves).
 */
export function amrOf(methods: readonly string[], twoFactors: boolean): string[] {
  return twoFactors ? [...new Set([...methods, 'mfa'])] : [...new Set(methods)];
}

/** Whether this person must sign in with two factors: a role of theirs requires it. */
export const roleRequiresTwoFactors = rolesRequireTwoFactors;

export type FactorKind = 'totp' | 'passkey';

export async function factorKinds(db: Queryable, userId: string): Promise<FactorKind[]> {
  return (await factorKindsOfUsers(db, [userId])).get(userId) ?? [];
}

export { factorKindsOfUsers };

/**
 * New installations start with two factors required for the built-in admin role (issue 13): called
 * after migrating (server start, CLI) with the migrations that just ran; when the first one is among
 * them the database is new. An upgraded installation keeps its setting (false, the column's default)
 * until an administrator changes it.
 */
export async function afterMigrations(db: Queryable, applied: readonly string[], first: string | undefined): Promise<void> {
  if (first && applied.includes(first)) await requireTwoFactorsForAdmin(db);
}
