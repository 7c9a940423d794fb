import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

let nextId = 0;

/**
 * A modal dialog on the browser's own <dialog>: showModal() keeps focus inside it, makes the page
 * behind inert and returns focus to where it was on close. Escape closes it, unless `dismissible`
 * is false (the dialog that shows a secret once must be confirmed).
 */
export function Dialog({
  title,
  description,
  onClose,
  children,
  footer,
  dismissible = true,
  size = 'medium',
}: {
  title: string;
  description?: ComponentChildren;
  onClose(): void;
  children?: ComponentChildren;
  footer?: ComponentChildren;
  dismissible?: boolean;
  size?: 'medium' | 'large';
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useRef(`dialog-${++nextId}`).current;
  // Taken when the dialog first renders, while the control that opened it still has the focus.
  const opener = useRef(document.activeElement as HTMLElement | null).current;
  useEffect(() => {
    const dialog = ref.current!;
    if (!dialog.open) dialog.showModal();
    return () => {
      if (dialog.open) dialog.close();
      // The control that opened it may be re-rendered while the dialog was open (its list reloaded):
      // then focus the control that now stands in its place, once this render has finished.
      // A control in a row's menu (components/row-menu.tsx) is hidden once the menu closes: focus goes
      // to the menu's button, where the person left off.
      const visible = (el: HTMLElement | null | undefined) => el?.closest('details:not([open])')?.querySelector<HTMLElement>('summary') ?? el;
      const label = opener?.getAttribute('aria-label');
      if (opener?.isConnected) visible(opener)?.focus();
      else if (label) setTimeout(() => visible(document.querySelector<HTMLElement>(`[aria-label="${CSS.escape(label)}"]`))?.focus(), 0);
    };
  }, []);
  const onCancel = (e: Event) => {
    e.preventDefault();
    if (dismissible) onClose();
  };
  return (
    <dialog ref={ref} class={`dialog dialog-${size}`} aria-labelledby={`${id}-title`} aria-describedby={description ? `${id}-desc` : undefined} onCancel={onCancel}>
      <div class="dialog-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {dismissible && (
          <button type="button" class="icon-btn" aria-label="Close" onClick={onClose}>
            ×
          </button>
        )}
      </div>
      {description && (
        <p class="dialog-desc" id={`${id}-desc`}>
          {description}
        </p>
      )}
      <div class="dialog-body">{children}</div>
      {footer && <div class="dialog-foot">{footer}</div>}
    </dialog>
  );
}
