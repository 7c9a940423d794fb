import type { Actor } from './audit.js';

/** Who is calling the Management API, and what they may do on this request. */
export interface Principal {
  kind: 'user' | 'api_key' | 'client';
  /** user id, API key id, or client_id */
  id: string;
  /** The user behind a user token or an API key. */
  userId?: string;
  permissions: ReadonlySet<string>;
  actor: Actor;
}
