import type { ComponentChildren } from 'preact';
import { ACCESS_TOKEN_TTL, DESCRIPTION_MAX, MAX_SCOPES, NAME_MAX, SCOPE_NAME } from '../../../server/services/limits.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { Badge, Button, EmptyState, ErrorNotice, Field, Loading, MoreButton, Notice, PageHeader, RequirePermission } from '../components/ui.js';
import { Toast } from '../components/toast.js';
import { useAction, useLoad } from '../hooks.js';
import { usePaged } from '../paged.js';
import { useSession } from '../session.js';
import type { Api, ApiScope, ApiUpdate, Client, Page } from '../types.js';
import './apis.css';
import { IdCell } from '../components/id-cell.js';
import { RowMenu } from '../components/row-menu.js';

/** The API's own bounds (services/limits.ts), checked here to say so before sending. */
const { min: TTL_MIN, max: TTL_MAX, default: TTL_DEFAULT } = ACCESS_TOKEN_TTL;

/** "15 min", "1 h", "90 s": lifetimes people compare at a glance. */
function lifetime(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/**
 * APIs (resource servers, RFC 8707): what access tokens are for, and the scopes credentials, keys
 * and roles can be given. Viewing needs apis:read; registering and changing needs apis:write.
 */
export function ApisPage() {
  return (
    <RequirePermission permission="apis:read" title="APIs" what="see registered APIs">
      <ApiList />
    </RequirePermission>
  );
}

function ApiList() {
  const { can } = useSession();
  const canWrite = can('apis:write');
  const list = usePaged<Api>('/apis?limit=50');
  const [editing, setEditing] = useState<Api | 'new' | undefined>();
  const [deleting, setDeleting] = useState<Api | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const open = (what: Api | 'new') => {
    setDone(undefined);
    setEditing(what);
  };
  const registerButton = (
    <Button variant="primary" onClick={() => open('new')} disabled={!canWrite} title={canWrite ? undefined : 'Needs the apis:write permission'}>
      Register API
    </Button>
  );
  const own = list.items.filter((a) => !a.builtin);

  return (
    <>
      <PageHeader
        title="APIs"
        description="The APIs that accept Gatehouse access tokens. Each has an identifier (its tokens’ audience) and the scopes that credentials, keys and roles can be given."
        actions={registerButton}
      />
      {!canWrite && (
        <Notice>
          You can look, but registering and changing APIs needs the <code>apis:write</code> permission. Ask an administrator for a role that includes it.
        </Notice>
      )}
      <Toast message={done} onDone={() => setDone(undefined)} />
      <ErrorNotice error={list.error} />
      {list.loading && !list.items.length ? (
        <Loading label="Loading APIs…" />
      ) : (
        <>
          {/* The built-in Management API is always listed, so "empty" means none of your own. */}
          {!own.length && !list.error && <NoApis action={registerButton} />}
          {list.items.length > 0 && <ApisTable apis={list.items} canWrite={canWrite} onEdit={open} onDelete={(a) => setDeleting(a)} />}
        </>
      )}
      <MoreButton next={list.next} busy={list.loading} onMore={() => void list.more()} />

      {editing && (
        <ApiDialog
          existing={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={(saved, isNew) => {
            setEditing(undefined);
            setDone(isNew ? `${saved.name} is registered.` : `${saved.name} was saved.`);
            if (isNew) list.reload();
            else list.replace((a) => a.id === saved.id, saved);
          }}
        />
      )}
      {deleting && (
        <DeleteApiDialog
          target={deleting}
          onClose={() => setDeleting(undefined)}
          onDeleted={() => {
            setDone(`${deleting.name} was deleted.`);
            list.replace((a) => a.id === deleting.id, undefined);
            setDeleting(undefined);
          }}
        />
      )}
    </>
  );
}

function NoApis({ action }: { action: ComponentChildren }) {
  return (
    <EmptyState title="No APIs of your own yet" action={action}>
      <p>
        Register each API that accepts Gatehouse tokens, with the scopes it checks (e.g. <code>orders:read</code>, <code>orders:write</code>). Credentials and API keys are then given those scopes,
        and their tokens name the API as their audience.
      </p>
    </EmptyState>
  );
}

function ApisTable({ apis, canWrite, onEdit, onDelete }: { apis: Api[]; canWrite: boolean; onEdit(a: Api): void; onDelete(a: Api): void }) {
  const noWrite = canWrite ? undefined : 'Needs the apis:write permission';
  return (
    <div class="table-wrap">
      <table class="responsive">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Identifier</th>
            <th scope="col">Scopes</th>
            <th scope="col">Token lifetime</th>
            <th scope="col">Roles enforced</th>
            <th scope="col">Resource servers</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {apis.map((a) => (
            <tr key={a.id}>
              <td class="cell-name" data-label="Name">
                <strong>{a.name}</strong> {a.builtin && <Badge tone="info">Built in</Badge>}
              </td>
              <td data-label="Identifier">
                <IdCell id={a.identifier} copyLabel={`Copy identifier of ${a.name}`} />
              </td>
              <td data-label="Scopes">
                <ScopeDetails scopes={a.scopes} />
              </td>
              <td class="nowrap" data-label="Token lifetime" title={`${a.access_token_ttl} seconds`}>
                {lifetime(a.access_token_ttl)}
              </td>
              <td data-label="Roles enforced">{a.enforce_roles ? <Badge tone="success">Yes</Badge> : <Badge>No</Badge>}</td>
              <td data-label="Resource servers" class="api-resource-servers">
                {a.resource_servers.length ? a.resource_servers.map((id) => <code class="id" key={id}>{id}</code>) : <span class="muted">None</span>}
              </td>
              <td data-label="Actions">
                {/* The Management API is built in: only which clients may introspect its tokens can change. */}
                <RowMenu label={`Actions for ${a.name}`}>
                  <Button variant="ghost" aria-label={`Edit ${a.name}`} disabled={!canWrite} title={noWrite} onClick={() => onEdit(a)}>
                    {a.builtin ? 'Resource servers' : 'Edit'}
                  </Button>
                  {!a.builtin && (
                    <Button variant="ghost" aria-label={`Delete ${a.name}`} disabled={!canWrite} title={noWrite} onClick={() => onDelete(a)}>
                      Delete
                    </Button>
                  )}
                </RowMenu>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The count, and the scopes themselves on request (a native disclosure: keyboard and screen-reader ready). */
function ScopeDetails({ scopes }: { scopes: ApiScope[] }) {
  const count = `${scopes.length} ${scopes.length === 1 ? 'scope' : 'scopes'}`;
  if (!scopes.length) return <span class="muted">No scopes</span>;
  return (
    <details class="api-scopes">
      <summary>{count}</summary>
      <ul>
        {scopes.map((s) => (
          <li key={s.name}>
            <code>{s.name}</code>
            {s.description && <span class="desc"> {s.description}</span>}
          </li>
        ))}
      </ul>
    </details>
  );
}

interface ScopeRow {
  /** A stable key for the row, so removing one does not shift the others' inputs. */
  key: number;
  name: string;
  description: string;
}

let nextRowKey = 0;
const scopeRow = (name = '', description = ''): ScopeRow => ({ key: ++nextRowKey, name, description });

/** What is wrong with the form before it is sent, in the words the API would use. */
function checkForm(name: string, identifier: string, isNew: boolean, rows: ScopeRow[], ttl: string): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!name.trim()) problems.name = 'Give the API a name.';
  if (isNew) {
    if (!identifier.trim()) problems.identifier = 'Give the API an identifier, e.g. https://orders.example.com.';
    else if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(identifier.trim())) problems.identifier = 'The identifier must be an absolute URI, e.g. https://orders.example.com.';
    else if (identifier.includes('#')) problems.identifier = 'The identifier must not have a fragment (#…).';
  }
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    const n = r.name.trim();
    if (!n) {
      if (r.description.trim()) problems[`scopes.${i}`] = 'Name this scope, or remove the row.';
      return;
    }
    if (!SCOPE_NAME.test(n)) problems[`scopes.${i}`] = 'Scopes are named resource:action, e.g. orders:read.';
    else if (seen.has(n)) problems[`scopes.${i}`] = `${n} is listed twice.`;
    seen.add(n);
  });
  if (seen.size > MAX_SCOPES) problems.scopes = `At most ${MAX_SCOPES} scopes.`;
  const seconds = Number(ttl);
  if (!Number.isInteger(seconds) || seconds < TTL_MIN || seconds > TTL_MAX) problems.access_token_ttl = `Between ${TTL_MIN} and ${TTL_MAX} seconds.`;
  return problems;
}

/**
 * The API names the field it refuses (`scopes.1.name`, `access_token_ttl`); the message goes next
 * to that field: a scope's row, or the field itself.
 */
function serverFieldError(error: ApiError | undefined): Record<string, string> {
  if (!error?.field) return {};
  const row = /^scopes\.(\d+)/.exec(error.field);
  return { [row ? `scopes.${row[1]}` : error.field.split('.')[0]]: error.message };
}

/** Register an API, or change one (its identifier is fixed: every token it issued carries it). */
function ApiDialog({ existing, onClose, onSaved }: { existing?: Api; onClose(): void; onSaved(saved: Api, isNew: boolean): void }) {
  const isNew = !existing;
  const [name, setName] = useState(existing?.name ?? '');
  const [identifier, setIdentifier] = useState(existing?.identifier ?? '');
  const [rows, setRows] = useState<ScopeRow[]>(existing?.scopes.length ? existing.scopes.map((s) => scopeRow(s.name, s.description ?? '')) : [scopeRow()]);
  const [ttl, setTtl] = useState(String(existing?.access_token_ttl ?? TTL_DEFAULT));
  const [enforceRoles, setEnforceRoles] = useState(existing?.enforce_roles ?? false);
  const [servers, setServers] = useState<Set<string>>(new Set(existing?.resource_servers ?? []));
  // The built-in Management API is defined by the server: only its resource servers may change.
  const fixed = Boolean(existing?.builtin);
  // Local problems are shown only after a first attempt, not while someone is still typing.
  const [tried, setTried] = useState(false);
  const save = useAction(() => {
    const body = {
      name: name.trim(),
      scopes: rows
        .filter((r) => r.name.trim())
        .map((r): ApiScope => ({ name: r.name.trim(), ...(r.description.trim() ? { description: r.description.trim() } : {}) })),
      access_token_ttl: Number(ttl),
      enforce_roles: enforceRoles,
      resource_servers: [...servers],
    };
    if (fixed) return api.patch<Api>(`/apis/${encodeURIComponent(existing!.id)}`, { resource_servers: body.resource_servers });
    return existing ? api.patch<Api>(`/apis/${encodeURIComponent(existing.id)}`, body) : api.post<Api>('/apis', { ...body, identifier: identifier.trim() });
  });

  const local = fixed ? {} : checkForm(name, identifier, isNew, rows, ttl);
  const problems = { ...(tried ? local : {}), ...serverFieldError(save.error) };
  const generalError = save.error && !save.error.field ? save.error : undefined;
  const setRow = (key: number, patch: Partial<ScopeRow>) => setRows((all) => all.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const submit = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    save.clearError();
    if (Object.keys(local).length) return;
    const saved = await save.run();
    if (saved) onSaved(saved, isNew);
  };

  return (
    <Dialog
      title={existing ? `Edit ${existing.name}` : 'Register API'}
      onClose={onClose}
      size="large"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="api-form" busy={save.busy} busyLabel={isNew ? 'Registering…' : 'Saving…'}>
            {isNew ? 'Register API' : 'Save API'}
          </Button>
        </>
      }
    >
      <form id="api-form" onSubmit={submit} noValidate>
        {fixed ? (
          <Notice>Gatehouse defines this API and its permissions. You choose which credentials may introspect its tokens and API keys.</Notice>
        ) : (
          <>
            <Field id="api-name" label="Name" hint="As people will read it, e.g. “Orders API”." error={problems.name}>
              <input id="api-name" type="text" maxLength={NAME_MAX} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus />
            </Field>
            <Field
              id="api-identifier"
              label="Identifier"
              hint={isNew ? 'A URI that names the API, e.g. https://orders.example.com. Its tokens carry it as their audience; it cannot change later.' : 'The audience of its tokens; it cannot change.'}
              error={problems.identifier}
            >
              <input
                id="api-identifier"
                type="url"
                class="mono"
                placeholder="https://orders.example.com"
                value={identifier}
                readOnly={!isNew}
                onInput={(e) => setIdentifier((e.currentTarget as HTMLInputElement).value)}
              />
            </Field>
            <ScopesEditor rows={rows} problems={problems} onChange={setRow} onAdd={() => setRows((all) => [...all, scopeRow()])} onRemove={(key) => setRows((all) => all.filter((r) => r.key !== key))} />
            <Field id="api-ttl" label="Access token lifetime (seconds)" hint={`${TTL_MIN} to ${TTL_MAX}. Shorter means a revocation reaches APIs that check tokens offline sooner.`} error={problems.access_token_ttl}>
              <input id="api-ttl" type="number" min={TTL_MIN} max={TTL_MAX} step={1} value={ttl} onInput={(e) => setTtl((e.currentTarget as HTMLInputElement).value)} />
            </Field>
            <div class="field">
              <label class="check" for="api-enforce-roles">
                <input id="api-enforce-roles" type="checkbox" checked={enforceRoles} onChange={(e) => setEnforceRoles((e.currentTarget as HTMLInputElement).checked)} />
                Enforce user roles
              </label>
              <p class="hint">A person’s tokens and API keys then carry only the scopes of this API that their roles allow.</p>
            </div>
          </>
        )}
        <ResourceServers selected={servers} onChange={setServers} error={problems.resource_servers} />
        {/* Submitting with Enter from any field works: the footer's button belongs to this form. */}
        <ErrorNotice error={generalError} title={isNew ? 'The API was not registered.' : 'The changes were not saved.'} />
      </form>
    </Dialog>
  );
}

function ScopesEditor({
  rows,
  problems,
  onChange,
  onAdd,
  onRemove,
}: {
  rows: ScopeRow[];
  problems: Record<string, string>;
  onChange(key: number, patch: Partial<ScopeRow>): void;
  onAdd(): void;
  onRemove(key: number): void;
}) {
  // The new row's name field takes focus once it is rendered, so adding scopes needs no mouse.
  const focusRow = useRef<number | undefined>(undefined);
  useEffect(() => {
    if (focusRow.current === undefined) return;
    document.getElementById(`api-scope-${focusRow.current}`)?.focus();
    focusRow.current = undefined;
  }, [rows.length]);
  const addScope = () => {
    focusRow.current = rows.length;
    onAdd();
  };
  return (
    <fieldset class="api-scopes-editor">
      <legend>Scopes</legend>
      <p class="hint">Each named resource:action, e.g. orders:read. People see the description when they are asked to allow it.</p>
      {rows.map((r, i) => (
        <div key={r.key}>
          <div class="scope-row">
            <div class="field">
              <label for={`api-scope-${i}`}>Scope {i + 1}</label>
              <input
                id={`api-scope-${i}`}
                type="text"
                class="mono"
                placeholder="orders:read"
                autocomplete="off"
                spellcheck={false}
                aria-invalid={problems[`scopes.${i}`] ? 'true' : undefined}
                aria-describedby={problems[`scopes.${i}`] ? `api-scope-${i}-error` : undefined}
                value={r.name}
                onInput={(e) => onChange(r.key, { name: (e.currentTarget as HTMLInputElement).value })}
              />
            </div>
            <div class="field">
              <label for={`api-scope-desc-${i}`}>Description of scope {i + 1}</label>
              <input
                id={`api-scope-desc-${i}`}
                type="text"
                maxLength={DESCRIPTION_MAX}
                placeholder="Read your orders"
                value={r.description}
                onInput={(e) => onChange(r.key, { description: (e.currentTarget as HTMLInputElement).value })}
              />
            </div>
            <button type="button" class="icon-btn" aria-label={`Remove scope ${i + 1}`} title="Remove this scope" onClick={() => onRemove(r.key)}>
              ×
            </button>
          </div>
          {problems[`scopes.${i}`] && (
            <p class="field-error api-scope-error" id={`api-scope-${i}-error`}>
              {problems[`scopes.${i}`]}
            </p>
          )}
        </div>
      ))}
      {problems.scopes && <p class="field-error">{problems.scopes}</p>}
      <Button onClick={addScope}>Add scope</Button>
    </fieldset>
  );
}

/**
 * The confidential credentials that act as this API's resource servers: only they may introspect its
 * tokens and API keys (RFC 7662 §4); anyone else asking is told `active: false`. Public clients are
 * not offered: they cannot authenticate, so anyone could claim to be one (RFC 7662 §2.1).
 */
function ResourceServers({ selected, onChange, error }: { selected: Set<string>; onChange(next: Set<string>): void; error?: string }) {
  const { can } = useSession();
  const readable = can('clients:read');
  const clients = useLoad(async () => (readable ? (await api.get<Page<Client>>('/clients?limit=200')).data : []), [readable]);
  const confidential = (clients.data ?? []).filter((c) => c.token_endpoint_auth_method !== 'none' && !c.builtin);
  // Ones already chosen but not listed (not readable here, or beyond the first page) stay, by id.
  const known = new Set(confidential.map((c) => c.client_id));
  const choices = [
    ...confidential.map((c) => ({ id: c.client_id, label: c.client_name ?? c.client_id })),
    ...[...selected].filter((id) => !known.has(id)).map((id) => ({ id, label: id })),
  ];
  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    onChange(next);
  };
  return (
    <fieldset class="api-resource-servers-field">
      <legend>Resource servers</legend>
      <p class="hint">
        Confidential credentials that may introspect this API’s tokens and API keys (RFC 7662). Anyone else asking is told the token is not active.
      </p>
      {!readable && <p class="hint">Seeing the credentials to choose from needs the clients:read permission.</p>}
      {clients.loading && !clients.data ? (
        <Loading label="Loading credentials…" />
      ) : choices.length ? (
        <ul class="scope-list">
          {choices.map((c) => (
            <li key={c.id}>
              <label class="check" for={`api-rs-${c.id}`}>
                <input id={`api-rs-${c.id}`} type="checkbox" checked={selected.has(c.id)} onChange={(e) => toggle(c.id, (e.currentTarget as HTMLInputElement).checked)} />
                <span>
                  {c.label} {c.label !== c.id && <code>{c.id}</code>}
                </span>
              </label>
            </li>
          ))}
        </ul>
      ) : (
        readable && <p class="muted">No confidential credentials yet: create a service or web credential first.</p>
      )}
      {error && <p class="field-error">{error}</p>}
      <ErrorNotice error={clients.error} />
    </fieldset>
  );
}

function DeleteApiDialog({ target, onClose, onDeleted }: { target: Api; onClose(): void; onDeleted(): void }) {
  return (
    <ConfirmDialog
      title={`Delete ${target.name}?`}
      confirmLabel="Delete API"
      busyLabel="Deleting…"
      action={() => api.delete(`/apis/${encodeURIComponent(target.id)}`)}
      onDone={onDeleted}
      onClose={onClose}
    >
      <p>
        <strong>This cannot be undone.</strong> No more tokens can be issued for <code>{target.identifier}</code>.
      </p>
      <p class="muted">Gatehouse refuses while a credential, API key or role still holds one of its scopes; remove the scopes from them first.</p>
    </ConfirmDialog>
  );
}
