import type { Queryable } from '../db/database.js';

/** A built-in API registered under an identifier other than `identifier` (an earlier ISSUER's), locked for this transaction. */
/** The other built-in APIs of one kind: those whose identifier ends with the kind's path (`/api/v1`, `/ssf`). */
export async function lockOtherBuiltinApis(db: Queryable, identifier: string, path: string): Promise<{ id: string; identifier: string; resource_servers: string[] }[]> {
  const { rows } = await db.query<{ id: string; identifier: string; resource_servers: string[] }>(
    "SELECT id, identifier, resource_servers FROM apis WHERE builtin AND identifier <> $1 AND right(identifier, length($2)) = $2 ORDER BY created_at FOR UPDATE",
    [identifier, path],
  );
  return rows;
}

export async function apiIdByIdentifier(db: Queryable, identifier: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM apis WHERE identifier = $1', [identifier]);
  return rows[0]?.id;
}

/** Gives an API a new identifier, keeping its id, scopes, settings and resource servers. */
export async function renameApi(db: Queryable, id: string, identifier: string): Promise<void> {
  await db.query('UPDATE apis SET identifier = $2, updated_at = now() WHERE id = $1', [id, identifier]);
}

/** Adds resource servers (client_ids) to an API's, each once. */
export async function addResourceServers(db: Queryable, identifier: string, clientIds: readonly string[]): Promise<void> {
  if (!clientIds.length) return;
  await db.query(
    `UPDATE apis SET resource_servers = (
       SELECT coalesce(jsonb_agg(DISTINCT x ORDER BY x), '[]'::jsonb) FROM jsonb_array_elements_text(resource_servers || $2::jsonb) AS x
     ), updated_at = now() WHERE identifier = $1`,
    [identifier, JSON.stringify(clientIds)],
  );
}
