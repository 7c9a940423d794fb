import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { Badge, Button, EmptyState, ErrorNotice, Field, Loading, MoreButton, NeedsPermission, Notice, PageHeader } from '../components/ui.js';
import { useAction } from '../hooks.js';
import { usePaged } from '../paged.js';
import { useSession } from '../session.js';
import type { Api, ApiScope } from '../types.js';

/** APIs (resource servers): what tokens are for, and the scopes credentials can be given. */
export function ApisPage() {
  const { can } = useSession();
  const list = usePaged<Api>(can('apis:read') ? '/apis?limit=50' : undefined);
  const [editing, setEditing] = useState<Api | 'new' | undefined>();
  const [deleting, setDeleting] = useState<Api | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const remove = useAction(async (a: Api) => {
    await api.delete(`/apis/${encodeURIComponent(a.id)}`);
    return true;
  });
  const canWrite = can('apis:write');
  const registerButton = (
    <Button variant="primary" onClick={() => setEditing('new')} disabled={!canWrite} title={canWrite ? undefined : 'Needs the apis:write permission'}>
      Register API
    </Button>
  );
  if (!can('apis:read')) {
    return (
      <>
        <PageHeader title="APIs" />
        <NeedsPermission permission="apis:read" what="see registered APIs" />
      </>
    );
  }
  const rows = list.items;
  return (
    <>
      <PageHeader
        title="APIs"
        description="The APIs your tokens are for. Each has an identifier (the tokens' audience, RFC 8707) and the scopes credentials can be given."
        actions={registerButton}
      />
      {message && <Notice kind="success">{message}</Notice>}
      <ErrorNotice error={list.error} />
      {list.loading && !rows.length ? (
        <Loading label="Loading APIs…" />
      ) : rows.filter((a) => !a.builtin).length === 0 && !list.error ? (
        <EmptyState title="No APIs registered yet" action={registerButton}>
          <p>
            Register each API that accepts Gatehouse tokens, with the scopes it checks (e.g. <code>orders:read</code>, <code>orders:write</code>). Credentials are then given those scopes.
          </p>
        </EmptyState>
      ) : null}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Identifier</th>
                <th scope="col">Scopes</th>
                <th scope="col">Token lifetime</th>
                <th scope="col">Roles enforced</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.id}>
                  <td class="cell-name" data-label="Name">
                    <strong>{a.name}</strong> {a.builtin && <Badge>Built in</Badge>}
                  </td>
                  <td data-label="Identifier">
                    <code>{a.identifier}</code>
                  </td>
                  <td data-label="Scopes" title={a.scopes.map((s) => s.name).join(' ')}>
                    {a.scopes.length} {a.scopes.length === 1 ? 'scope' : 'scopes'}
                  </td>
                  <td class="nowrap" data-label="Token lifetime">{Math.round(a.access_token_ttl / 60)} min</td>
                  <td data-label="Roles enforced">{a.enforce_roles ? 'Yes' : 'No'}</td>
                  <td data-label="Actions">
                    {!a.builtin && (
                      <div class="row-actions">
                        <Button variant="ghost" aria-label={`Edit ${a.name}`} disabled={!canWrite} onClick={() => setEditing(a)}>
                          Edit
                        </Button>
                        <Button variant="ghost" aria-label={`Delete ${a.name}`} disabled={!canWrite} onClick={() => { remove.clearError(); setDeleting(a); }}>
                          Delete
                        </Button>
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton next={list.next} busy={list.loading} onMore={list.more} />
      {editing && (
        <ApiDialog
          existing={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={(saved, isNew) => {
            setEditing(undefined);
            setMessage(isNew ? `${saved.name} is registered.` : `${saved.name} was saved.`);
            list.reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          confirmLabel="Delete API"
          busyLabel="Deleting…"
          busy={remove.busy}
          error={remove.error}
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            if (!(await remove.run(deleting))) return;
            setMessage(`${deleting.name} was deleted.`);
            setDeleting(undefined);
            list.replace((a) => a.id === deleting.id, undefined);
          }}
        >
          <p>
            <strong>This cannot be undone.</strong> Tokens for <code>{deleting.identifier}</code> can no longer be issued. Gatehouse refuses while a credential, key or role still holds one of its
            scopes.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

interface ScopeRow {
  name: string;
  description: string;
}

/** Register an API, or change one: name, scopes with descriptions, token lifetime, roles. */
function ApiDialog({ existing, onClose, onSaved }: { existing?: Api; onClose(): void; onSaved(api: Api, isNew: boolean): void }) {
  const [name, setName] = useState(existing?.name ?? '');
  const [identifier, setIdentifier] = useState(existing?.identifier ?? '');
  const [ttl, setTtl] = useState(String(existing?.access_token_ttl ?? 900));
  const [enforceRoles, setEnforceRoles] = useState(existing?.enforce_roles ?? false);
  const [scopes, setScopes] = useState<ScopeRow[]>(existing?.scopes.map((s) => ({ name: s.name, description: s.description ?? '' })) ?? [{ name: '', description: '' }]);
  const save = useAction(async () => {
    const body = {
      name: name.trim(),
      scopes: scopes.filter((s) => s.name.trim()).map((s): ApiScope => ({ name: s.name.trim(), ...(s.description.trim() ? { description: s.description.trim() } : {}) })),
      access_token_ttl: Number(ttl),
      enforce_roles: enforceRoles,
    };
    return existing ? api.patch<Api>(`/apis/${encodeURIComponent(existing.id)}`, body) : api.post<Api>('/apis', { ...body, identifier: identifier.trim() });
  });
  const setScope = (i: number, patch: Partial<ScopeRow>) => setScopes((rows) => rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const err = (field: string) => (save.error?.field?.startsWith(field) ? save.error.message : undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    const saved = await save.run();
    if (saved) onSaved(saved, !existing);
  };
  return (
    <Dialog title={existing ? `Edit ${existing.name}` : 'Register API'} onClose={onClose} size="large">
      <form id="api-form" onSubmit={submit} noValidate>
        <Field id="api-name" label="Name" hint="As people will read it, e.g. “Orders API”." error={err('name')}>
          <input id="api-name" type="text" maxLength={200} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </Field>
        <Field id="api-identifier" label="Identifier" hint={existing ? 'The audience of its tokens; it cannot change.' : 'A URI that names the API, e.g. https://orders.example.com. Its tokens carry it as their audience.'} error={err('identifier')}>
          <input id="api-identifier" type="url" value={identifier} readOnly={Boolean(existing)} onInput={(e) => setIdentifier((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <fieldset>
          <legend>Scopes</legend>
          <p class="hint">Named resource:action, e.g. orders:read. The description is what people see on the consent page.</p>
          {scopes.map((s, i) => (
            <div class="scope-row" key={i}>
              <div class="field">
                <label for={`api-scope-${i}`}>Scope {i + 1}</label>
                <input id={`api-scope-${i}`} type="text" class="mono" placeholder="orders:read" value={s.name} onInput={(e) => setScope(i, { name: (e.currentTarget as HTMLInputElement).value })} />
              </div>
              <div class="field">
                <label for={`api-scope-desc-${i}`}>Description of scope {i + 1}</label>
                <input id={`api-scope-desc-${i}`} type="text" placeholder="Read your orders" value={s.description} onInput={(e) => setScope(i, { description: (e.currentTarget as HTMLInputElement).value })} />
              </div>
              <button type="button" class="icon-btn" aria-label={`Remove scope ${i + 1}`} onClick={() => setScopes((rows) => rows.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
          ))}
          {err('scopes') && <p class="field-error">{err('scopes')}</p>}
          <Button onClick={() => setScopes((rows) => [...rows, { name: '', description: '' }])}>Add scope</Button>
        </fieldset>
        <Field id="api-ttl" label="Access token lifetime (seconds)" hint="60 to 3600. Shorter means a revocation reaches APIs that check tokens offline sooner." error={err('access_token_ttl')}>
          <input id="api-ttl" type="number" min={60} max={3600} value={ttl} onInput={(e) => setTtl((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <label class="check">
          <input type="checkbox" checked={enforceRoles} onChange={(e) => setEnforceRoles((e.currentTarget as HTMLInputElement).checked)} />
          Enforce user roles: a person's tokens carry only the scopes their roles allow
        </label>
        {save.error && !['name', 'identifier', 'scopes', 'access_token_ttl'].some((f) => save.error!.field?.startsWith(f)) && <ErrorNotice error={save.error} />}
      </form>
      <div class="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="primary" type="submit" form="api-form" busy={save.busy} busyLabel="Saving…" disabled={!name.trim() || (!existing && !identifier.trim())}>
          {existing ? 'Save API' : 'Register API'}
        </Button>
      </div>
    </Dialog>
  );
}
