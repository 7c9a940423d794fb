import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * A small history router for the console's handful of pages under /console. The server answers
 * every /console path with the same page (server/console/static.ts), so links can be shared.
 */
const listeners = new Set<() => void>();
/** Asked before leaving the page inside the console; any answering false keeps the person here (leave-guard.ts). */
export const navigationGuards = new Set<() => boolean>();

const here = () => window.location.pathname + window.location.search + window.location.hash;
const mayLeave = () => [...navigationGuards].every((guard) => guard());
/** The address of the page on show: where the Back button's guard returns to when leaving is refused. */
let shown = here();

export function navigate(to: string, replace = false): void {
  if (!mayLeave()) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  shown = here();
  window.scrollTo(0, 0);
  for (const l of listeners) l();
}

// The browser's Back and Forward buttons move the address before anyone is asked; when a guard
// refuses, the page on show puts its address back, so what the person sees and the URL agree.
window.addEventListener('popstate', () => {
  if (here() === shown) return;
  if (!mayLeave()) {
    history.pushState(null, '', shown);
    return;
  }
  shown = here();
  for (const l of listeners) l();
});

export function useLocation(): { path: string; search: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = () => setTick((t) => t + 1);
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return { path: window.location.pathname, search: new URLSearchParams(window.location.search) };
}

/** Matches `/console/credentials/:id` against a path; answers the parameters, or undefined. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/').filter(Boolean);
  const a = path.replace(/\/+$/, '').split('/').filter(Boolean);
  if (p.length !== a.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(a[i]);
    else if (p[i] !== a[i]) return undefined;
  }
  return params;
}

/** An ordinary link (middle-click and copy work) that navigates inside the page. */
interface LinkProps {
  href: string;
  children: ComponentChildren;
  class?: string;
  'aria-current'?: 'page';
  'aria-label'?: string;
}

export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}
