import type { Queryable } from '../db/database.js';

export interface Consent {
  oidcScope: string;
  oidcClaims: string[];
  resources: Record<string, string>;
}

export async function findConsent(db: Queryable, accountId: string, clientId: string): Promise<Consent | undefined> {
  const { rows } = await db.query<{ oidc_scope: string; oidc_claims: string[]; resources: Record<string, string> }>(
    'SELECT oidc_scope, oidc_claims, resources FROM consents WHERE account_id = $1 AND client_id = $2',
    [accountId, clientId],
  );
  const r = rows[0];
  return r && { oidcScope: r.oidc_scope, oidcClaims: r.oidc_claims, resources: r.resources };
}

/** Records what the user has consented to for this client (the union of everything granted). */
export async function saveConsent(db: Queryable, accountId: string, clientId: string, consent: Consent): Promise<void> {
  await db.query(
    `INSERT INTO consents (account_id, client_id, oidc_scope, oidc_claims, resources) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (account_id, client_id) DO UPDATE SET oidc_scope = EXCLUDED.oidc_scope,
       oidc_claims = EXCLUDED.oidc_claims, resources = EXCLUDED.resources, updated_at = now()`,
    [accountId, clientId, consent.oidcScope, JSON.stringify(consent.oidcClaims), JSON.stringify(consent.resources)],
  );
}

/** Forgets what users consented to for this client, so each is asked again (a redirect URI changed). */
export async function deleteConsentsForClient(db: Queryable, clientId: string): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM consents WHERE client_id = $1', [clientId]);
  return rowCount;
}

/** An application a person has allowed, as /account lists it. */
export interface AllowedApp {
  clientId: string;
  clientName: string;
  consent: Consent;
  updatedAt: Date;
}

/** What this person has consented to, per client, most recent first. */
export async function listConsentsOfAccount(db: Queryable, accountId: string): Promise<AllowedApp[]> {
  const { rows } = await db.query<{
    client_id: string; client_name: string | null; oidc_scope: string; oidc_claims: string[]; resources: Record<string, string>; updated_at: Date;
  }>(
    `SELECT c.client_id, cl.metadata->>'client_name' AS client_name, c.oidc_scope, c.oidc_claims, c.resources, c.updated_at
     FROM consents c JOIN clients cl ON cl.client_id = c.client_id
     WHERE c.account_id = $1 ORDER BY c.updated_at DESC LIMIT 200`,
    [accountId],
  );
  return rows.map((r) => ({
    clientId: r.client_id,
    clientName: r.client_name || r.client_id,
    consent: { oidcScope: r.oidc_scope, oidcClaims: r.oidc_claims, resources: r.resources },
    updatedAt: new Date(r.updated_at),
  }));
}

/** Forgets one person's consent for one client; false when there was none. */
export async function deleteConsent(db: Queryable, accountId: string, clientId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM consents WHERE account_id = $1 AND client_id = $2', [accountId, clientId]);
  return rowCount > 0;
}
