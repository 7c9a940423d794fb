import type { ComponentChildren } from 'preact';
import { useAction } from '../hooks.js';
import { Dialog } from './dialog.js';
import { Button, ErrorNotice } from './ui.js';

/**
 * "Are you sure?" for an action that takes something away: says what happens, runs the request on
 * confirmation with progress on its button, keeps the dialog open with the error if it fails, and
 * hands the result to onDone if it succeeds.
 */
export function ConfirmDialog<T>({
  title,
  children,
  confirmLabel,
  busyLabel,
  danger = true,
  action,
  onDone,
  onClose,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  busyLabel: string;
  danger?: boolean;
  /** The request, e.g. a DELETE. */
  action(): Promise<T>;
  onDone(result: T): void;
  onClose(): void;
}) {
  // Wrapped, because a DELETE resolves to nothing, which useAction's run also returns on failure.
  const confirm = useAction(async () => ({ result: await action() }));
  const onConfirm = async () => {
    const done = await confirm.run();
    if (done) onDone(done.result);
  };
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant={danger ? 'danger' : 'primary'} busy={confirm.busy} busyLabel={busyLabel} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      {children}
      <ErrorNotice error={confirm.error} />
    </Dialog>
  );
}
