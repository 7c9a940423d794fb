import type { Actor } from './audit.js';
import { MANAGEMENT_SCOPES } from './permissions.js';

/**
 * Who is calling a service, and what they hold right now. Built once per request by the
 * Management API's authentication (services/credentials.ts), or the system principal for operator
 * tools (CLI, seed), which act with the operator's full authority and are audited as the system.
 */
export interface Principal {
  kind: 'user' | 'api_key' | 'client' | 'system';
  /** user id, API key id, client_id, or the operator tool ("cli", "seed") */
  id: string;
  /** The user behind a user token or an API key. */
  userId?: string;
  /**
   * The person accountable for what this credential does: the user of a user token or API key, the
   * user who created a client (for a client's own token). Clients it creates belong to them.
   */
  ownerId?: string;
  /** Management API permissions this credential may use on this request (route guards). */
  permissions: ReadonlySet<string>;
  /**
   * Everything this credential holds now and so may confer on another credential, role or user:
   * Management API permissions and scopes of APIs that enforce roles (services/delegation.ts).
   */
  holds: ReadonlySet<string> | 'everything';
  actor: Actor;
}

/** Operator tools act as the system: they hold everything, and the audit log names the tool. */
export function systemPrincipal(tool: 'cli' | 'seed' | 'server'): Principal {
  return {
    kind: 'system',
    id: tool,
    permissions: new Set(Object.keys(MANAGEMENT_SCOPES)),
    holds: 'everything',
    actor: { type: 'system', id: tool },
  };
}
