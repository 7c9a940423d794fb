import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { IdCell } from '../components/id-cell.js';
import { RowMenu } from '../components/row-menu.js';
import { Badge, Button, EmptyState, ErrorNotice, Loading, MoreButton, PageHeader, RequirePermission, StatusBadge } from '../components/ui.js';
import { Toast } from '../components/toast.js';
import { formatDate, formatDateTime } from '../format.js';
import { disabledBecause, notHeld, useLacking } from '../delegation.js';
import { useDebounced, useLoad } from '../hooks.js';
import { usePaged } from '../paged.js';
import { useSession } from '../session.js';
import type { Page, Role, User } from '../types.js';
import { LAST_ADMIN, useLastAdmin } from '../last-admin.js';
import { AddUserDialog, EditUserDialog, RolesDialog } from './user-dialogs.js';
import { ResetLinkDialog } from './reset-link-dialog.js';

/** How the console names each second factor. */
const FACTOR_NAMES: Record<User['factors'][number], string> = { totp: 'Authenticator app', passkey: 'Passkey' };

/** Users: who can sign in, with which roles; adding, editing, changing roles, deactivating, deleting. */
export function UsersPage() {
  return (
    <RequirePermission permission="users:read" title="Users" what="see users">
      <UserList />
    </RequirePermission>
  );
}

function UserList() {
  const { can, me, refresh } = useSession();
  // ?q= opens the list searched (the audit log links a person's email here).
  const [search, setSearch] = useState(() => new URLSearchParams(window.location.search).get('q') ?? '');
  const q = useDebounced(search.trim());
  const list = usePaged<User>(`/users${query({ q, limit: 50 })}`);
  const roles = useLoad(async () => (can('roles:read') ? (await api.get<Page<Role>>('/roles')).data : []), []);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<User | undefined>();
  const [editingDetails, setEditingDetails] = useState<User | undefined>();
  const [deleting, setDeleting] = useState<User | undefined>();
  const [toggling, setToggling] = useState<User | undefined>();
  const [unlocking, setUnlocking] = useState<User | undefined>();
  const [resetting, setResetting] = useState<User | undefined>();
  const [linking, setLinking] = useState<User | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const canWrite = can('users:write');
  // Asked again when someone's roles or status change here (a string: the list is a new array on every render).
  const lastAdmin = useLastAdmin(list.items.map((u) => `${u.id}:${u.active}:${u.roles.join(',')}`).join(' '));
  const lacks = useLacking();
  const permissionsOf = (roleNames: string[]) => (roles.data ?? []).filter((r) => roleNames.includes(r.name)).flatMap((r) => r.permissions);
  const roleLock = (r: Role) => {
    const missing = lacks(r.permissions);
    return missing.length ? `${notHeld(missing)}, which this role gives` : undefined;
  };
  /**
   * Why the signed-in person may not act on this user: acting on someone is acting with what they
   * hold, so their roles' permissions must all be yours (the delegation rule; services/users.ts).
   * Without roles:read their roles' permissions are unknown here, and the server's refusal says it.
   */
  const userLock = (u: User) => {
    if (!canWrite) return 'Needs the users:write permission';
    const missing = lacks(permissionsOf(u.roles));
    return missing.length ? `${notHeld(missing)}, which their roles give` : undefined;
  };
  const addButton = (
    <Button variant="primary" onClick={() => setAdding(true)} disabled={!canWrite} title={canWrite ? undefined : 'Needs the users:write permission'}>
      Add user
    </Button>
  );
  return (
    <>
      <PageHeader title="Users" description="People who sign in with Gatehouse. Their roles decide what they may do here and what their tokens and API keys may carry." actions={addButton} />
      <div class="toolbar">
        <div class="field search">
          <label for="user-search">Search</label>
          <input id="user-search" type="search" placeholder="Name or email" value={search} onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)} />
        </div>
      </div>
      <Toast message={message} onDone={() => setMessage(undefined)} />
      <ErrorNotice error={list.error} />
      {list.loading && !list.items.length ? (
        <Loading label="Loading users…" />
      ) : list.items.length === 0 && !list.error ? (
        <EmptyState title={q ? 'No users match' : 'No users yet'} action={q ? undefined : addButton}>
          {q ? `Nobody is named or has an email like “${q}”.` : 'Add the people who sign in to your applications or administer Gatehouse.'}
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Roles</th>
                <th scope="col">Status</th>
                <th scope="col">Second factors</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((u) => {
                const locked = userLock(u);
                const reasonId = `user-${u.id}-locked`;
                const lock = disabledBecause(locked, reasonId);
                // Deactivating or deleting the only active administrator would leave nobody to grant roles.
                const removeLocked = locked ?? (u.active && lastAdmin(u) ? LAST_ADMIN : undefined);
                const removeLock = disabledBecause(removeLocked, reasonId);
                return (
                <tr key={u.id}>
                  <td class="cell-name" data-label="Name">
                    <strong>{u.name}</strong>
                    {u.id === me.user?.id && <span class="sub">You</span>}
                  </td>
                  <td data-label="Email">
                    <IdCell id={u.email} copyLabel={`Copy email of ${u.name}`} />{' '}
                    {u.email_verified ? <Badge tone="success">Verified</Badge> : <Badge>Not verified</Badge>}
                  </td>
                  <td data-label="Roles">
                    <div class="chips">{u.roles.length ? u.roles.map((r) => <Badge key={r}>{r}</Badge>) : <span class="muted">None</span>}</div>
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={u.active ? 'active' : 'deactivated'} />
                    {u.locked_until && (
                      <>
                        {' '}
                        <Badge tone="warning">Locked</Badge>
                        <span class="muted small"> until {formatDateTime(u.locked_until)}</span>
                      </>
                    )}
                  </td>
                  <td data-label="Second factors">
                    <div class="chips">{u.factors.length ? u.factors.map((f) => <Badge key={f}>{FACTOR_NAMES[f]}</Badge>) : <span class="muted">None</span>}</div>
                  </td>
                  <td class="nowrap" data-label="Created">{formatDate(u.created_at)}</td>
                  <td data-label="Actions">
                    <RowMenu label={`Actions for ${u.name}`}>
                      <Button variant="ghost" aria-label={`Edit ${u.name}`} onClick={() => setEditingDetails(u)} {...lock}>
                        Edit
                      </Button>
                      <Button variant="ghost" aria-label={`Change roles of ${u.name}`} onClick={() => setEditing(u)} {...lock}>
                        Roles
                      </Button>
                      {u.factors.length > 0 && (
                        <Button variant="ghost" aria-label={`Reset second factors of ${u.name}`} onClick={() => setResetting(u)} {...lock}>
                          Reset factors
                        </Button>
                      )}
                      <Button variant="ghost" aria-label={`Create a password reset link for ${u.name}`} onClick={() => setLinking(u)} {...lock}>
                        Reset link
                      </Button>
                      {u.locked_until && canWrite && (
                        <Button variant="ghost" aria-label={`Unlock ${u.name}`} onClick={() => setUnlocking(u)}>
                          Unlock
                        </Button>
                      )}
                      {/* Nobody is offered locking themselves out; the API refuses deleting yourself too. */}
                      {u.id !== me.user?.id && (
                        <>
                          <Button variant="ghost" aria-label={`${u.active ? 'Deactivate' : 'Reactivate'} ${u.name}`} onClick={() => setToggling(u)} {...removeLock}>
                            {u.active ? 'Deactivate' : 'Reactivate'}
                          </Button>
                          {can('users:delete') && (
                            <Button variant="ghost" aria-label={`Delete ${u.name}`} onClick={() => setDeleting(u)} {...removeLock}>
                              Delete
                            </Button>
                          )}
                        </>
                      )}
                    </RowMenu>
                    {canWrite && removeLocked && (
                      <p class="muted row-reason" id={reasonId}>
                        {removeLocked}
                      </p>
                    )}
                  </td>
                </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton next={list.next} busy={list.loading} onMore={list.more} />
      {adding && (
        <AddUserDialog
          roles={roles.data ?? []}
          lockOf={roleLock}
          onClose={() => setAdding(false)}
          onAdded={(u) => {
            setAdding(false);
            setMessage(`${u.name} was added.`);
            list.reload();
          }}
        />
      )}
      {editing && (
        <RolesDialog
          user={editing}
          self={editing.id === me.user?.id}
          lastAdmin={lastAdmin(editing)}
          roles={roles.data ?? []}
          lockOf={roleLock}
          onClose={() => setEditing(undefined)}
          onSaved={(u) => {
            setEditing(undefined);
            setMessage(`Roles of ${u.name} saved. They apply to their next token and their API keys at once.`);
            list.replace((x) => x.id === u.id, u);
            // Your own roles: the session is renewed and what you hold asked again, so the page shows what you can do now.
            if (u.id === me.user?.id) refresh();
          }}
        />
      )}
      {editingDetails && (
        <EditUserDialog
          user={editingDetails}
          onClose={() => setEditingDetails(undefined)}
          onSaved={(u, passwordSet) => {
            setEditingDetails(undefined);
            setMessage(passwordSet ? `${u.name} was saved, with a new password.` : `${u.name} was saved.`);
            list.replace((x) => x.id === u.id, u);
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          confirmLabel="Delete user"
          busyLabel="Deleting…"
          action={() => api.delete(`/users/${encodeURIComponent(deleting.id)}`)}
          onClose={() => setDeleting(undefined)}
          onDone={() => {
            setMessage(`${deleting.name} was deleted.`);
            list.replace((x) => x.id === deleting.id, undefined);
            setDeleting(undefined);
          }}
        >
          <p>
            <strong>This cannot be undone.</strong> {deleting.email} is signed out everywhere, their refresh tokens and API keys stop working at once, and the account is removed. The audit log
            keeps what they did.
          </p>
          {deleting.active && <p class="muted">To keep the account but stop its access, deactivate it instead.</p>}
        </ConfirmDialog>
      )}
      {linking && <ResetLinkDialog user={linking} onClose={() => setLinking(undefined)} />}
      {unlocking && (
        <ConfirmDialog
          title={`Unlock ${unlocking.name}?`}
          confirmLabel="Unlock"
          busyLabel="Unlocking…"
          action={() => api.delete(`/users/${encodeURIComponent(unlocking.id)}/lockout`)}
          onClose={() => setUnlocking(undefined)}
          onDone={() => {
            setMessage(`${unlocking.name} can sign in again.`);
            list.replace((x) => x.id === unlocking.id, { ...unlocking, locked_until: null });
            setUnlocking(undefined);
          }}
        >
          <p>
            Sign-in for {unlocking.email} was paused after too many wrong passwords. Unlocking lets them sign in again at once, from every address. If they did not make those attempts, someone
            may be guessing their password: the audit log shows where from.
          </p>
        </ConfirmDialog>
      )}
      {resetting && (
        <ConfirmDialog
          title={`Reset the second factors of ${resetting.name}?`}
          confirmLabel="Reset factors"
          busyLabel="Resetting…"
          danger
          action={() => api.delete(`/users/${encodeURIComponent(resetting.id)}/factors`)}
          onClose={() => setResetting(undefined)}
          onDone={() => {
            setMessage(`The second factors of ${resetting.name} were reset.`);
            list.replace((x) => x.id === resetting.id, { ...resetting, factors: [] });
            setResetting(undefined);
          }}
        >
          <p>
            Their authenticator app, recovery codes and passkeys are deleted. They sign in next with their password alone, and set up a new second factor if a role of theirs or the
            application requires one. Do this only once you are sure who asked: a reset in the wrong hands weakens the account.
          </p>
        </ConfirmDialog>
      )}
      {toggling && (
        <ConfirmDialog
          title={`${toggling.active ? 'Deactivate' : 'Reactivate'} ${toggling.name}?`}
          confirmLabel={toggling.active ? 'Deactivate user' : 'Reactivate user'}
          busyLabel={toggling.active ? 'Deactivating…' : 'Reactivating…'}
          danger={toggling.active}
          action={() => api.patch<User>(`/users/${encodeURIComponent(toggling.id)}`, { active: !toggling.active })}
          onClose={() => setToggling(undefined)}
          onDone={(u) => {
            setToggling(undefined);
            setMessage(u.active ? `${u.name} can sign in again.` : `${u.name} was deactivated.`);
            list.replace((x) => x.id === u.id, u);
          }}
        >
          {toggling.active ? (
            <p>
              They are signed out everywhere at once: their sessions end, their refresh tokens are revoked and their API keys stop working. You can reactivate them later; old sessions and tokens
              do not come back.
            </p>
          ) : (
            <p>They can sign in again. Their API keys work again unless revoked.</p>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}
