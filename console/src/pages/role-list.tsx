import { DESCRIPTION_MAX, PAGE_SIZE } from '../../../server/services/limits.js';
import { useState } from 'preact/hooks';
import { MANAGEMENT_SCOPES } from '../../../server/services/permissions.js';
import { api, type ApiError } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { offerOnlyConferrable, ScopePicker, scopeGroups } from '../components/scope-picker.js';
import { Badge, Button, ErrorNotice, Field, Loading, PageHeader, RequirePermission } from '../components/ui.js';
import { Toast } from '../components/toast.js';
import { disabledBecause, notHeld, useLacking } from '../delegation.js';
import { asApiError, useAction, useLoad } from '../hooks.js';
import { useSession } from '../session.js';
import type { Api, Page, Role } from '../types.js';

/** Roles: named sets of permissions given to users. Built-in ones are read-only. */
export function RolesPage() {
  return (
    <RequirePermission permission="roles:read" title="Roles" what="see roles">
      <RoleList />
    </RequirePermission>
  );
}

function RoleList() {
  const { can, refresh } = useSession();
  const lacks = useLacking();
  const roles = useLoad(async () => (await api.get<Page<Role>>('/roles')).data, []);
  const [editing, setEditing] = useState<Role | 'new' | undefined>();
  const [deleting, setDeleting] = useState<Role | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [policyError, setPolicyError] = useState<ApiError | undefined>();
  const canWrite = can('roles:write');
  /** What each role's checkbox shows while (and after) its change is saved: the box follows the click at once. */
  const [twoFactors, setTwoFactorsShown] = useState<Record<string, boolean>>({});
  /** The one setting a built-in role lets you change: whether its holders sign in with two factors. */
  const setTwoFactors = async (r: Role, required: boolean) => {
    setPolicyError(undefined);
    setTwoFactorsShown((shown) => ({ ...shown, [r.name]: required }));
    try {
      const saved = await api.patch<Role>(`/roles/${encodeURIComponent(r.name)}`, { require_two_factors: required });
      roles.reload();
      setMessage(required ? `Holders of ${saved.name} now sign in with two factors; those without one set it up at their next sign-in.` : `Holders of ${saved.name} no longer need two factors.`);
    } catch (err) {
      setTwoFactorsShown((shown) => ({ ...shown, [r.name]: r.require_two_factors }));
      setPolicyError(asApiError(err));
    }
  };
  return (
    <>
      <PageHeader
        title="Roles"
        description="A role is a set of permissions. A user holds the union of their roles' permissions, and a change applies at once to their next token and to their API keys."
        actions={
          <Button variant="primary" onClick={() => setEditing('new')} disabled={!canWrite} title={canWrite ? undefined : 'Needs the roles:write permission'}>
            Create role
          </Button>
        }
      />
      <Toast message={message} onDone={() => setMessage(undefined)} />
      <ErrorNotice error={roles.error} />
      <ErrorNotice error={policyError} />
      {roles.loading && !roles.data ? (
        <Loading label="Loading roles…" />
      ) : (
        roles.data?.map((r) => {
          const management = r.permissions.filter((p) => p in MANAGEMENT_SCOPES);
          const others = r.permissions.filter((p) => !(p in MANAGEMENT_SCOPES));
          // Changing or deleting a role gives or takes its permissions for everyone who holds it: only
          // someone who holds them all may (the delegation rule; services/roles.ts).
          const missing = lacks(r.permissions);
          const locked = !canWrite ? 'Needs the roles:write permission' : missing.length ? `${notHeld(missing)}, which this role gives` : undefined;
          const reasonId = `role-${r.name}-locked`;
          return (
            <section class="section" key={r.name} aria-labelledby={`role-${r.name}`}>
              <div class="section-head">
                <div>
                  <h2 id={`role-${r.name}`}>
                    {r.name} {r.builtin && <Badge>Built in · read-only</Badge>} {(twoFactors[r.name] ?? r.require_two_factors) && <Badge tone="warning">Two factors required</Badge>}
                  </h2>
                  {r.description && <p>{r.description}</p>}
                  <label class="checkbox">
                    <input
                      type="checkbox"
                      checked={twoFactors[r.name] ?? r.require_two_factors}
                      onChange={(e) => setTwoFactors(r, (e.currentTarget as HTMLInputElement).checked)}
                      {...disabledBecause(locked, reasonId)}
                    />{' '}
                    Require two factors at sign-in
                  </label>
                </div>
                {!r.builtin && (
                  <div class="row-actions">
                    <Button aria-label={`Edit role ${r.name}`} onClick={() => setEditing(r)} {...disabledBecause(locked, reasonId)}>
                      Edit
                    </Button>
                    <Button variant="ghost" aria-label={`Delete role ${r.name}`} onClick={() => setDeleting(r)} {...disabledBecause(locked, reasonId)}>
                      Delete
                    </Button>
                    {canWrite && locked && (
                      <p class="muted role-locked" id={reasonId}>
                        {locked}
                      </p>
                    )}
                  </div>
                )}
              </div>
              {management.length > 0 && (
                <ul class="permission-list">
                  {management.map((p) => (
                    <li key={p}>
                      <code>{p}</code> <span class="muted">{MANAGEMENT_SCOPES[p]}</span>
                    </li>
                  ))}
                </ul>
              )}
              {others.length > 0 && (
                <div class="chips" aria-label="API scopes">
                  {others.map((p) => (
                    <Badge key={p}>{p}</Badge>
                  ))}
                </div>
              )}
              {!r.permissions.length && <p class="muted">No permissions.</p>}
            </section>
          );
        })
      )}
      {editing && (
        <RoleDialog
          existing={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={(r, isNew) => {
            setEditing(undefined);
            setMessage(isNew ? `Role ${r.name} created.` : `Role ${r.name} saved. It applies to its users at once.`);
            roles.reload();
            // It may be one of yours: what you hold, and so may give, is asked again.
            refresh();
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete role ${deleting.name}?`}
          confirmLabel="Delete role"
          busyLabel="Deleting…"
          action={() => api.delete(`/roles/${encodeURIComponent(deleting.name)}`)}
          onClose={() => setDeleting(undefined)}
          onDone={() => {
            setMessage(`Role ${deleting.name} was deleted.`);
            setDeleting(undefined);
            roles.reload();
            refresh();
          }}
        >
          <p>
            <strong>This cannot be undone.</strong> Users with this role lose its permissions at once.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function RoleDialog({ existing, onClose, onSaved }: { existing?: Role; onClose(): void; onSaved(r: Role, isNew: boolean): void }) {
  const { me } = useSession();
  const apis = useLoad(() => api.get<Page<Api>>(`/apis?limit=${PAGE_SIZE.max}`), []);
  const [name, setName] = useState(existing?.name ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [permissions, setPermissions] = useState<Set<string>>(new Set(existing?.permissions ?? []));
  const save = useAction(() =>
    existing
      ? api.patch<Role>(`/roles/${encodeURIComponent(existing.name)}`, { description, permissions: [...permissions] })
      : api.post<Role>('/roles', { name: name.trim(), description, permissions: [...permissions] }),
  );
  const err = (field: string) => (save.error?.field === field ? save.error.message : undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    const r = await save.run();
    if (r) onSaved(r, !existing);
  };
  return (
    <Dialog title={existing ? `Edit role ${existing.name}` : 'Create role'} onClose={onClose} size="large">
      <form id="role-form" onSubmit={submit} noValidate>
        <Field id="role-name" label="Name" hint="Lower-case letters, digits, _ and -, starting with a letter (e.g. support-agent). It cannot change later." error={err('name')}>
          <input id="role-name" type="text" value={name} readOnly={Boolean(existing)} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus={!existing} />
        </Field>
        <Field id="role-description" label="Description" error={err('description')}>
          <input id="role-description" type="text" maxLength={DESCRIPTION_MAX} value={description} onInput={(e) => setDescription((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        {apis.loading ? <Loading label="Loading permissions…" /> : apis.data && <ScopePicker idPrefix="role-perm" legend="Permissions" groups={offerOnlyConferrable(scopeGroups(apis.data.data), me, apis.data.data)} selected={permissions} onChange={setPermissions} />}
        {save.error && !['name', 'description'].includes(save.error.field ?? '') && <ErrorNotice error={save.error} />}
        <ErrorNotice error={apis.error} />
      </form>
      <div class="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="primary" type="submit" form="role-form" busy={save.busy} busyLabel="Saving…" disabled={!name.trim()}>
          {existing ? 'Save role' : 'Create role'}
        </Button>
      </div>
    </Dialog>
  );
}
