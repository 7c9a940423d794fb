import { useEffect } from 'preact/hooks';
import { navigationGuards } from './router.js';

/**
 * While `dirty`, leaving asks first: a link or button inside the console (navigate) with a
 * confirmation that says what would be lost, and a reload, a typed address or closing the tab with
 * the browser's own prompt (beforeunload), so unsaved work is never dropped without a word.
 */
export function useLeaveGuard(dirty: boolean, message: string): void {
  useEffect(() => {
    if (!dirty) return;
    const guard = () => window.confirm(message);
    const onUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    navigationGuards.add(guard);
    window.addEventListener('beforeunload', onUnload);
    return () => {
      navigationGuards.delete(guard);
      window.removeEventListener('beforeunload', onUnload);
    };
  }, [dirty, message]);
}
