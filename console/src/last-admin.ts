import { api } from './api.js';
import { useLoad } from './hooks.js';
import { useSession } from './session.js';
import type { Page, User } from './types.js';

/** The built-in role that may do everything; an installation always keeps one active holder. */
export const ADMIN_ROLE = 'admin';

/** The server refuses the same (services/last-admin.ts); the console says it before anyone tries. */
export const LAST_ADMIN = 'The only active administrator: give someone else the admin role first';

/**
 * Whether a user is the only active administrator, from GET /users?role=admin; `key` reloads it
 * (a string that changes when the page's list does). Without users:read nobody here acts on users anyway.
 */
export function useLastAdmin(key: string): (u: User) => boolean {
  const { can } = useSession();
  const allowed = can('users:read');
  const admins = useLoad(async () => (allowed ? (await api.get<Page<User>>(`/users?role=${ADMIN_ROLE}&limit=200`)).data : []), [allowed, key]);
  const active = (admins.data ?? []).filter((u) => u.active);
  return (u) => active.length === 1 && active[0]!.id === u.id;
}
