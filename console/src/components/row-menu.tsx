import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

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
    document.addEventListener('click', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', close);
    };
  }, []);
  return (
    <details class="row-menu" ref={ref}>
      <summary class="btn btn-ghost" aria-label={label}>
        ⋯
      </summary>
      <div class="row-menu-items" onClick={() => ref.current && (ref.current.open = false)}>
        {children}
      </div>
    </details>
  );
}
