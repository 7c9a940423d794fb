import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me } from './types.js';

/** The signed-in user and what they may do (GET /api/v1/me), for every page. */
export const SessionContext = createContext<{ me: Me; refresh(): void } | undefined>(undefined);

export function useSession() {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside the signed-in console');
  const can = (permission: string) => session.me.permissions.includes(permission);
  return { ...session, can };
}
