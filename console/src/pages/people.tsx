import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { Badge, Button, EmptyState, ErrorNotice, Field, Loading, MoreButton, NeedsPermission, Notice, PageHeader, StatusBadge } from '../components/ui.js';
import { formatDate } from '../format.js';
import { useAction, useDebounced, useLoad } from '../hooks.js';
import { usePaged } from '../paged.js';
import { useSession } from '../session.js';
import type { Page, Role, User } from '../types.js';

/** Users: who can sign in, with which roles; adding people, changing roles, deactivating. */
export function UsersPage() {
  const { can, me } = useSession();
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim());
  const list = usePaged<User>(can('users:read') ? `/users${query({ q, limit: 50 })}` : undefined);
  const roles = useLoad(async () => (can('roles:read') ? (await api.get<Page<Role>>('/roles')).data : []), []);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<User | undefined>();
  const [toggling, setToggling] = useState<User | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const canWrite = can('users:write');
  const addButton = (
    <Button variant="primary" onClick={() => setAdding(true)} disabled={!canWrite} title={canWrite ? undefined : 'Needs the users:write permission'}>
      Add user
    </Button>
  );
  if (!can('users:read')) {
    return (
      <>
        <PageHeader title="Users" />
        <NeedsPermission permission="users:read" what="see users" />
      </>
    );
  }
  return (
    <>
      <PageHeader title="Users" description="People who sign in with Gatehouse. Their roles decide what they may do here and what their tokens and API keys may carry." actions={addButton} />
      <div class="toolbar">
        <div class="field search">
          <label for="user-search">Search</label>
          <input id="user-search" type="search" placeholder="Name or email" value={search} onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)} />
        </div>
      </div>
      {message && <Notice kind="success">{message}</Notice>}
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
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((u) => (
                <tr key={u.id}>
                  <td class="cell-name" data-label="Name">
                    <strong>{u.name}</strong>
                    {u.id === me.user?.id && <span class="sub">You</span>}
                  </td>
                  <td data-label="Email">{u.email}</td>
                  <td data-label="Roles">
                    <div class="chips">{u.roles.length ? u.roles.map((r) => <Badge key={r}>{r}</Badge>) : <span class="muted">None</span>}</div>
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={u.active ? 'active' : 'deactivated'} />
                  </td>
                  <td class="nowrap" data-label="Created">{formatDate(u.created_at)}</td>
                  <td data-label="Actions">
                    <div class="row-actions">
                      <Button variant="ghost" aria-label={`Change roles of ${u.name}`} onClick={() => setEditing(u)}>
                        Roles
                      </Button>
                      {u.id !== me.user?.id && (
                        <Button variant="ghost" aria-label={`${u.active ? 'Deactivate' : 'Reactivate'} ${u.name}`} onClick={() => setToggling(u)}>
                          {u.active ? 'Deactivate' : 'Reactivate'}
                        </Button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton next={list.next} busy={list.loading} onMore={list.more} />
      {adding && (
        <AddUserDialog
          roles={roles.data ?? []}
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
          roles={roles.data ?? []}
          onClose={() => setEditing(undefined)}
          onSaved={(u) => {
            setEditing(undefined);
            setMessage(`Roles of ${u.name} saved. They apply to their next token and their API keys at once.`);
            list.replace((x) => x.id === u.id, u);
          }}
        />
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

function RoleChoices({ roles, selected, onChange, idPrefix }: { roles: Role[]; selected: Set<string>; onChange(s: Set<string>): void; idPrefix: string }) {
  return (
    <fieldset>
      <legend>Roles</legend>
      {roles.map((r) => (
        <label class="check" key={r.name} for={`${idPrefix}-${r.name}`}>
          <input
            id={`${idPrefix}-${r.name}`}
            type="checkbox"
            checked={selected.has(r.name)}
            onChange={(e) => {
              const next = new Set(selected);
              if ((e.currentTarget as HTMLInputElement).checked) next.add(r.name);
              else next.delete(r.name);
              onChange(next);
            }}
          />
          <span>
            <strong>{r.name}</strong>
            {r.description && <span class="desc"> — {r.description}</span>}
          </span>
        </label>
      ))}
    </fieldset>
  );
}

function AddUserDialog({ roles, onClose, onAdded }: { roles: Role[]; onClose(): void; onAdded(u: User): void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const add = useAction(() => api.post<User>('/users', { name: name.trim(), email: email.trim(), roles: [...chosen], ...(password ? { password } : {}) }));
  const err = (field: string) => (add.error?.field === field ? add.error.message : undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    const u = await add.run();
    if (u) onAdded(u);
  };
  return (
    <Dialog title="Add user" onClose={onClose}>
      <form id="add-user" onSubmit={submit} noValidate>
        <Field id="user-name" label="Name" error={err('name')}>
          <input id="user-name" type="text" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </Field>
        <Field id="user-email" label="Email" error={err('email')}>
          <input id="user-email" type="email" autocomplete="off" value={email} onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="user-password" label="Initial password" hint="At least 8 characters. Without one, they cannot sign in until a password is set." error={err('password')}>
          <input id="user-password" type="password" autocomplete="new-password" value={password} onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <RoleChoices roles={roles} selected={chosen} onChange={setChosen} idPrefix="add-role" />
        {add.error && !['name', 'email', 'password'].includes(add.error.field ?? '') && <ErrorNotice error={add.error} />}
      </form>
      <div class="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="primary" type="submit" form="add-user" busy={add.busy} busyLabel="Adding…" disabled={!name.trim() || !email.trim()}>
          Add user
        </Button>
      </div>
    </Dialog>
  );
}

function RolesDialog({ user, roles, onClose, onSaved }: { user: User; roles: Role[]; onClose(): void; onSaved(u: User): void }) {
  const [chosen, setChosen] = useState<Set<string>>(new Set(user.roles));
  const save = useAction(() => api.patch<User>(`/users/${encodeURIComponent(user.id)}`, { roles: [...chosen] }));
  return (
    <Dialog
      title={`Roles of ${user.name}`}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant="primary"
            busy={save.busy}
            busyLabel="Saving…"
            onClick={async () => {
              const u = await save.run();
              if (u) onSaved(u);
            }}
          >
            Save roles
          </Button>
        </>
      }
    >
      {roles.length ? <RoleChoices roles={roles} selected={chosen} onChange={setChosen} idPrefix="edit-role" /> : <NeedsPermission permission="roles:read" what="see the roles to choose from" />}
      <ErrorNotice error={save.error} />
    </Dialog>
  );
}
