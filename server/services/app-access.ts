import type { Database, Queryable } from '../db/database.js';
import { deleteConsent, listConsentsOfAccount } from '../store/consents.js';
import { revokeAccountClientArtifacts } from './artifacts.js';
import { recordAudit } from './audit.js';

export interface AllowedAppView {
  clientId: string;
  name: string;
  /** Every scope allowed, identity and API scopes alike. */
  scopes: string[];
  since: Date;
}

/** The applications a person has allowed (their remembered consents), most recent first. */
export async function allowedApps(db: Queryable, userId: string): Promise<AllowedAppView[]> {
  const apps = await listConsentsOfAccount(db, userId);
  return apps.map((a) => ({
    clientId: a.clientId,
    name: a.clientName,
    scopes: [...new Set([...a.consent.oidcScope.split(' '), ...Object.values(a.consent.resources).flatMap((s) => s.split(' '))].filter(Boolean))],
    since: a.updatedAt,
  }));
}

/**
 * A person withdraws their consent from an app: the consent is forgotten (the app must ask again),
 * and the grants and refresh tokens it holds for this person are revoked at once (RFC 7009 §2.1),
 * so its next refresh is invalid_grant. Access tokens already issued are JWTs and run out by
 * themselves (README "When a revocation reaches a resource server").
 */
export async function withdrawConsent(db: Database, userId: string, clientId: string, ip: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await deleteConsent(tx, userId, clientId))) return false;
    const revoked = await revokeAccountClientArtifacts(tx, userId, clientId);
    await recordAudit(tx, { type: 'consent.withdrawn', actor: { type: 'user', id: userId, ip }, target: { type: 'client', id: clientId }, data: { user: userId, revoked_artifacts: revoked } });
    return true;
  });
}
