import { useEffect } from 'preact/hooks';

/** How long a confirmation stays up; it stays while pointed at or focused, and has a close button. */
const SHOWN_MS = 10_000;

/**
 * A confirmation of what just happened, shown where the person is looking whatever the scroll
 * position or screen size: fixed near the bottom of the viewport, above the phone's sticky action
 * bar, read out by screen readers (role="status"). Pages keep the message; `onDone` clears it.
 */
export function Toast({ message, onDone }: { message: string | undefined; onDone(): void }) {
  useEffect(() => {
    if (!message) return;
    const timer = setTimeout(onDone, SHOWN_MS);
    return () => clearTimeout(timer);
  }, [message]);
  return (
    <div class="toast-region" role="status" aria-live="polite">
      {message && (
        <div class="toast">
          <span>{message}</span>
          <button type="button" class="btn btn-ghost toast-close" aria-label="Dismiss" onClick={onDone}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}
