import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { CopyField } from '../components/secret.js';
import { Button } from '../components/ui.js';
import { formatDateTime } from '../format.js';
import type { PasswordResetLink, User } from '../types.js';

/**
 * "Reset link": for a person who cannot get email (or where Gatehouse sends none). Asks first, then
 * shows the single-use link once, to hand over: the server keeps only its digest.
 */
export function ResetLinkDialog({ user, onClose }: { user: User; onClose(): void }) {
  const [link, setLink] = useState<PasswordResetLink | undefined>();
  if (link) {
    return (
      <Dialog title={`Reset link for ${user.name}`} onClose={onClose} footer={<Button variant="primary" onClick={onClose}>Done</Button>}>
        <p>
          Give this link to {user.email} in person or over a channel you trust. It works once, until {formatDateTime(link.expires_at)}. It is shown only now.
        </p>
        <CopyField id="reset-link" label="Reset link" value={link.url} secret />
      </Dialog>
    );
  }
  return (
    <ConfirmDialog
      title={`Create a reset link for ${user.name}?`}
      confirmLabel="Create link"
      busyLabel="Creating…"
      danger={false}
      action={() => api.post<PasswordResetLink>(`/users/${encodeURIComponent(user.id)}/password-reset-link`, {})}
      onClose={onClose}
      onDone={setLink}
    >
      <p>
        Whoever opens the link can choose a new password for {user.email}. Choosing one signs them out everywhere and revokes their apps’ refresh tokens. The link works once, for 30 minutes.
      </p>
    </ConfirmDialog>
  );
}
