import { MANAGEMENT_SCOPES } from '../../server/services/permissions.js';
import { api } from './api.js';
import { useLoad } from './hooks.js';
import { useSession } from './session.js';
import type { Api, Client, Me, Page } from './types.js';

/**
 * What the delegation rule lets the signed-in person give or change, for the console to offer only
 * that and say why for the rest. The rule itself lives on the server (services/delegation.ts); the
 * console's one source is GET /me's `may_confer`, every guarded permission the person may give now.
 * Guarded are the Management API's permissions and the scopes of APIs that enforce roles; scopes of
 * other APIs anyone who may edit the holder may give, so they are never held back here.
 */

/** The guarded permissions among `scopes` that `me` may not give, sorted; `apis` says which APIs enforce roles. */
export function lacking(me: Me, apis: readonly Api[] | undefined, scopes: Iterable<string>): string[] {
  const may = new Set(me.may_confer);
  const enforced = new Set((apis ?? []).filter((a) => a.enforce_roles).flatMap((a) => a.scopes.map((s) => s.name)));
  const guarded = (s: string) => Object.hasOwn(MANAGEMENT_SCOPES, s) || enforced.has(s);
  return [...new Set(scopes)].filter((s) => guarded(s) && !may.has(s)).sort();
}

/** The reason shown beside what cannot be chosen or changed. */
export const notHeld = (missing: readonly string[]) => `You do not hold ${missing.join(', ')}`;

/**
 * The registered APIs, to tell which scopes enforce roles. Without apis:read the console cannot
 * know, and only Management API permissions are held back; the server still refuses the rest, and
 * its refusal names what is missing.
 */
export function useApis(): Api[] | undefined {
  const { can } = useSession();
  const allowed = can('apis:read');
  return useLoad(async () => (allowed ? (await api.get<Page<Api>>('/apis?limit=200')).data : []), [allowed]).data;
}

/** `lacking` for the signed-in person, with the APIs loaded here (or given by a page that has them). */
export function useLacking(given?: readonly Api[]): (scopes: Iterable<string>) => string[] {
  const { me } = useSession();
  const loaded = useApis();
  return (scopes) => lacking(me, given ?? loaded, scopes);
}

/** Who made a credential, as people read it. */
export const ownerLabel = (client: Client) =>
  client.owner ? (client.owner.email ?? 'a user who no longer exists') : 'No owner — made by an operator tool';

/**
 * Why the signed-in person may not change this credential, or undefined when they may. clients:write
 * covers your own credentials; anyone else's, and those an operator tool made, need clients:admin
 * (services/clients.ts checkOwnership says the same to the API).
 */
export function whyNotChangeable(me: Me, client: Client): string | undefined {
  if (client.builtin) return 'Built in: Gatehouse registers it at every start';
  if (!me.permissions.includes('clients:write')) return 'Changing it needs clients:write';
  if (client.owner && client.owner.id === me.user?.id) return undefined;
  if (me.permissions.includes('clients:admin')) return undefined;
  return client.owner ? `Created by ${ownerLabel(client)}: changing it needs clients:admin` : `${ownerLabel(client)}: changing it needs clients:admin`;
}

/**
 * Attributes for a control a reason disables: the reason as its tooltip, and tied to the visible
 * text that says it (`describedBy`, an element id) for screen readers.
 */
export const disabledBecause = (reason: string | undefined, describedBy?: string) =>
  reason ? { disabled: true, title: reason, ...(describedBy ? { 'aria-describedby': describedBy } : {}) } : {};
