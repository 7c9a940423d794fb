import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api.js';
import { Dialog } from './dialog.js';
import { Button, ErrorNotice } from './ui.js';

/** "Are you sure?" for an action that takes something away: says what happens, shows progress and errors. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  busyLabel,
  busy,
  error,
  danger = true,
  onConfirm,
  onClose,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  busyLabel: string;
  busy: boolean;
  error: ApiError | undefined;
  danger?: boolean;
  onConfirm(): void;
  onClose(): void;
}) {
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant={danger ? 'danger' : 'primary'} busy={busy} busyLabel={busyLabel} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      {children}
      <ErrorNotice error={error} />
    </Dialog>
  );
}
