import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * Where an open menu's items go: fixed to the window, under its button (or above it when the window
 * has more room there), so that a table's scrolling box (.table-wrap) never clips them, as it would
 * an absolutely placed list in the last rows.
 */
function place(menu: HTMLDetailsElement) {
  const items = menu.querySelector<HTMLElement>('.row-menu-items');
  const button = menu.querySelector('summary');
  if (!items || !button || !menu.open) return;
  const r = button.getBoundingClientRect();
  const below = window.innerHeight - r.bottom;
  const up = items.offsetHeight + 8 > below && r.top > below;
  Object.assign(items.style, {
    position: 'fixed',
    right: `${Math.max(4, window.innerWidth - r.right)}px`,
    top: up ? '' : `${r.bottom + 4}px`,
    bottom: up ? `${window.innerHeight - r.top + 4}px` : '',
  });
}

/**
 * A row's actions folded into one button, so they never stack in a narrow column: a disclosure
 * (details/summary: keyboard and screen readers know it) whose items are ordinary links and
 * buttons. Escape and a click elsewhere close it.
 */
export function RowMenu({ label, children }: { label: string; children: ComponentChildren }) {
  const ref = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    const close = (e: Event) => {
      const el = ref.current;
      if (!el?.open) return;
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !el.contains(e.target as Node)) el.open = false;
    };
    // Kept beside its button while the page or the table scrolls, or the window changes size.
    const follow = () => ref.current && place(ref.current);
    document.addEventListener('click', close);
    document.addEventListener('keydown', close);
    window.addEventListener('scroll', follow, true);
    window.addEventListener('resize', follow);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', close);
      window.removeEventListener('scroll', follow, true);
      window.removeEventListener('resize', follow);
    };
  }, []);
  return (
    <details class="row-menu" ref={ref} onToggle={() => ref.current && place(ref.current)}>
      <summary class="btn btn-ghost" aria-label={label}>
        ⋯
      </summary>
      <div class="row-menu-items" onClick={() => ref.current && (ref.current.open = false)}>
        {children}
      </div>
    </details>
  );
}
