import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { ScopePicker, scopeGroups } from '../components/scope-picker.js';
import { CopyField } from '../components/secret.js';
import { Badge, Button, EmptyState, ErrorNotice, Field, Loading, MoreButton, NeedsPermission, Notice, PageHeader, StatusBadge } from '../components/ui.js';
import { EXPIRY_CHOICES, formatDate, formatDateTime, relative, scopeSummary } from '../format.js';
import { useAction, useLoad } from '../hooks.js';
import { usePaged } from '../paged.js';
import { useSession } from '../session.js';
import type { Api, ApiKey, ApiKeyCreated, Page, User } from '../types.js';
import './api-keys.css';

type Whose = 'mine' | 'all';

/**
 * API keys: long-lived credentials that act for one person, for scripts and services. Everyone
 * manages their own; administrators (users:write) may also list and revoke everyone's.
 */
export function ApiKeysPage() {
  const { can } = useSession();
  if (!can('api-keys:read')) {
    return (
      <>
        <PageHeader title="API keys" />
        <NeedsPermission permission="api-keys:read" what="see API keys" />
      </>
    );
  }
  return <KeysList />;
}

function KeysList() {
  const { can, me } = useSession();
  const canWrite = can('api-keys:write');
  // ?user=all is refused without users:write, so only administrators are offered it.
  const isAdmin = can('users:write');
  const [whose, setWhose] = useState<Whose>('mine');
  const list = usePaged<ApiKey>(`/api-keys${query({ user: whose === 'all' ? 'all' : undefined, limit: 50 })}`);
  const ownerEmail = useOwnerEmails(whose === 'all' && can('users:read'));
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<ApiKeyCreated | undefined>();
  const [revoking, setRevoking] = useState<ApiKey | undefined>();
  const [done, setDone] = useState<string | undefined>();

  const ownerOf = (key: ApiKey) => (key.user_id === me.user?.id ? me.user.email : (ownerEmail.get(key.user_id) ?? key.user_id));
  // Your own keys need api-keys:write; someone else's also users:write (the API checks the same).
  const mayRevoke = (key: ApiKey) => canWrite && (key.user_id === me.user?.id || isAdmin);
  const startCreate = () => {
    setDone(undefined);
    setCreating(true);
  };
  const createButton = (
    <Button variant="primary" onClick={startCreate} disabled={!canWrite} title={canWrite ? undefined : 'Needs the api-keys:write permission'}>
      Create API key
    </Button>
  );

  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys for your scripts and services. A key acts for you, with the scopes you give it and never more than your roles allow."
        actions={createButton}
      />
      {!canWrite && (
        <Notice>
          You can see your keys, but creating or revoking one needs the <code>api-keys:write</code> permission. Ask an administrator for a role that includes it.
        </Notice>
      )}
      {isAdmin && <WhoseSwitch value={whose} onChange={setWhose} />}
      {done && <Notice kind="success">{done}</Notice>}
      <ErrorNotice error={list.error} />
      {list.loading && !list.items.length ? (
        <Loading label="Loading API keys…" />
      ) : !list.items.length && !list.error ? (
        <NoKeys whose={whose} action={createButton} />
      ) : (
        list.items.length > 0 && (
          <KeysTable keys={list.items} showOwner={whose === 'all'} ownerOf={ownerOf} mayRevoke={mayRevoke} onRevoke={(k) => setRevoking(k)} />
        )
      )}
      <MoreButton next={list.next} busy={list.loading} onMore={() => void list.more()} />

      {creating && (
        <CreateKeyDialog
          onClose={() => setCreating(false)}
          onCreated={(key) => {
            setCreating(false);
            setShown(key);
            // The new key belongs to the caller: show it on "My keys" (and in everyone's).
            list.reload();
          }}
        />
      )}
      {shown && (
        <KeyShownOnce
          created={shown}
          onDone={() => {
            setDone(`${shown.name} was created.`);
            setShown(undefined);
          }}
        />
      )}
      {revoking && (
        <RevokeKeyDialog
          apiKey={revoking}
          owner={revoking.user_id === me.user?.id ? undefined : ownerOf(revoking)}
          onClose={() => setRevoking(undefined)}
          onRevoked={() => {
            setDone(`${revoking.name} was revoked. Anything using it has stopped working.`);
            list.replace((k) => k.id === revoking.id, undefined);
            setRevoking(undefined);
          }}
        />
      )}
    </>
  );
}

/**
 * Emails of key owners for the "Owner" column. Keys carry only user_id; GET /users pages through
 * everyone (200 at a time, a few pages at most) so that one request serves a whole list of keys.
 * Where someone is not found the column falls back to the id.
 */
function useOwnerEmails(enabled: boolean): Map<string, string> {
  const users = useLoad(async () => {
    const emails = new Map<string, string>();
    if (!enabled) return emails;
    let cursor: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const page: Page<User> = await api.get<Page<User>>(`/users${query({ limit: 200, cursor })}`);
      for (const u of page.data) emails.set(u.id, u.email);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    return emails;
  }, [enabled]);
  return users.data ?? new Map();
}

function WhoseSwitch({ value, onChange }: { value: Whose; onChange(v: Whose): void }) {
  return (
    <div class="toolbar">
      <div class="field">
        <label for="keys-whose">Show</label>
        <select id="keys-whose" value={value} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value as Whose)}>
          <option value="mine">My keys</option>
          <option value="all">Everyone’s keys</option>
        </select>
      </div>
    </div>
  );
}

function NoKeys({ whose, action }: { whose: Whose; action: ComponentChildren }) {
  return (
    <EmptyState title={whose === 'all' ? 'Nobody has an API key' : 'You have no API keys'} action={action}>
      <p>An API key lets a script or service act for you without signing in. Use it in one of two ways:</p>
      <ul class="key-uses">
        <li>
          call the Management API directly, with <code>Authorization: Bearer ak_live_…</code>;
        </li>
        <li>
          or exchange it at <code>/oauth/token</code> (token exchange) for a short-lived JWT for one of your APIs.
        </li>
      </ul>
    </EmptyState>
  );
}

function KeysTable({
  keys,
  showOwner,
  ownerOf,
  mayRevoke,
  onRevoke,
}: {
  keys: ApiKey[];
  showOwner: boolean;
  ownerOf(k: ApiKey): string;
  mayRevoke(k: ApiKey): boolean;
  onRevoke(k: ApiKey): void;
}) {
  return (
    <div class="table-wrap">
      <table class="responsive">
        <thead>
          <tr>
            <th scope="col">Name</th>
            {showOwner && <th scope="col">Owner</th>}
            <th scope="col">Key</th>
            <th scope="col">Scopes</th>
            <th scope="col">Environment</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Expires</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id}>
              <td class="cell-name" data-label="Name">
                <strong>{k.name}</strong>
              </td>
              {showOwner && (
                <td data-label="Owner" class="key-owner">
                  {ownerOf(k)}
                </td>
              )}
              <td data-label="Key">
                <code>{k.prefix}…</code>
              </td>
              <td data-label="Scopes" title={k.scopes.join(' ')}>
                {scopeSummary(k.scopes)}
              </td>
              <td data-label="Environment">
                <Badge tone={k.environment === 'live' ? 'info' : 'neutral'}>{k.environment === 'live' ? 'Live' : 'Test'}</Badge>
              </td>
              <td class="nowrap" data-label="Created" title={formatDateTime(k.created_at)}>
                {formatDate(k.created_at)}
              </td>
              <td data-label="Last used" title={k.last_used_at ? formatDateTime(k.last_used_at) : undefined}>
                {k.last_used_at ? relative(k.last_used_at) : 'Never'}
                {k.last_used_ip && <span class="sub">from {k.last_used_ip}</span>}
              </td>
              <td class="nowrap" data-label="Expires">
                {k.expires_at ? formatDate(k.expires_at) : 'Never'}
              </td>
              <td data-label="Status">
                <StatusBadge status={k.status} />
              </td>
              <td data-label="Actions">
                <div class="row-actions">
                  {mayRevoke(k) && (
                    <Button variant="ghost" aria-label={`Revoke ${k.name}`} onClick={() => onRevoke(k)}>
                      Revoke
                    </Button>
                  )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CreateKeyDialog({ onClose, onCreated }: { onClose(): void; onCreated(key: ApiKeyCreated): void }) {
  const apis = useLoad(() => api.get<Page<Api>>('/apis?limit=200'), []);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Set<string>>(new Set());
  const [expiry, setExpiry] = useState('90d');
  const [environment, setEnvironment] = useState<'live' | 'test'>('live');
  const create = useAction(() =>
    api.post<ApiKeyCreated>('/api-keys', {
      name: name.trim(),
      scopes: [...scopes],
      environment,
      // No expires_in is the API's "never expires".
      ...(expiry === 'never' ? {} : { expires_in: expiry }),
    }),
  );
  const fieldError = (field: string) => (create.error?.field === field ? create.error.message : undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    const key = await create.run();
    if (key) onCreated(key);
  };
  const missing = !name.trim() ? 'Give the key a name.' : scopes.size === 0 ? 'Choose at least one scope.' : undefined;
  return (
    <Dialog
      title="Create API key"
      description="The key is shown once, right after you create it. It can never do more than your roles allow."
      onClose={onClose}
      size="large"
      footer={
        <>
          {missing && <span class="key-missing muted">{missing}</span>}
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="create-key-form" busy={create.busy} busyLabel="Creating…" disabled={Boolean(missing)}>
            Create API key
          </Button>
        </>
      }
    >
      <form id="create-key-form" onSubmit={submit} noValidate>
        <Field id="key-name" label="Name" hint="What will use it, e.g. “CI deploys”." error={fieldError('name')}>
          <input id="key-name" type="text" maxLength={200} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </Field>
        {apis.loading ? (
          <Loading label="Loading scopes…" />
        ) : (
          apis.data && <KeyScopes apis={apis.data.data} selected={scopes} onChange={setScopes} />
        )}
        <Field id="key-expiry" label="Expires" error={fieldError('expires_in')}>
          <select id="key-expiry" value={expiry} onChange={(e) => setExpiry((e.currentTarget as HTMLSelectElement).value)}>
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.label} value={c.value ?? 'never'}>
                {c.value ? `In ${c.label}` : 'Never'}
              </option>
            ))}
          </select>
        </Field>
        <EnvironmentChoice value={environment} onChange={setEnvironment} />
        <ErrorNotice error={apis.error} title="Could not load the scopes to choose from." />
        {create.error && !fieldError('name') && !fieldError('expires_in') && <ErrorNotice error={create.error} title="The key was not created." />}
      </form>
    </Dialog>
  );
}

function EnvironmentChoice({ value, onChange }: { value: 'live' | 'test'; onChange(v: 'live' | 'test'): void }) {
  const options = [
    { value: 'live' as const, label: 'Live', hint: 'For production. The key starts with ak_live_.' },
    { value: 'test' as const, label: 'Test', hint: 'For development and CI. The key starts with ak_test_, so it is easy to tell apart.' },
  ];
  return (
    <fieldset>
      <legend>Environment</legend>
      <div class="choices">
        {options.map((o) => (
          <label class="choice" key={o.value} for={`key-env-${o.value}`}>
            <input id={`key-env-${o.value}`} type="radio" name="key-environment" value={o.value} checked={value === o.value} onChange={() => onChange(o.value)} />
            <div>
              <strong>{o.label}</strong>
              <span>{o.hint}</span>
            </div>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/**
 * Scopes grouped by API. A key never holds a Management API permission its owner's roles lack, so
 * those are shown but cannot be chosen; other APIs that enforce roles are checked by the server,
 * whose refusal the dialog shows.
 */
function KeyScopes({ apis, selected, onChange }: { apis: Api[]; selected: Set<string>; onChange(next: Set<string>): void }) {
  const { can } = useSession();
  const groups = scopeGroups(apis).map((g, i) =>
    // scopeGroups puts the Management API first.
    i === 0 ? { ...g, scopes: g.scopes.map((s) => (can(s.name) ? s : { ...s, unavailable: 'Your roles do not include this.' })) } : g,
  );
  return <ScopePicker idPrefix="key-scope" legend="Scopes" hint="What the key may do. Choose the fewest that work." groups={groups} selected={selected} onChange={onChange} />;
}

/** The key, once: the server keeps only its digest, so it cannot be shown again. */
function KeyShownOnce({ created, onDone }: { created: ApiKeyCreated; onDone(): void }) {
  const [saved, setSaved] = useState(false);
  return (
    <Dialog
      title="API key created"
      onClose={onDone}
      // Escape must not throw the key away before the person has confirmed they kept it.
      dismissible={false}
      footer={
        <Button variant="primary" disabled={!saved} onClick={onDone} title={saved ? undefined : 'Tick “I have saved my key securely” first'}>
          Done
        </Button>
      }
    >
      <Notice kind="warning">
        <strong>Copy this key now. It will not be shown again.</strong> If it is lost, revoke it and create another.
      </Notice>
      <CopyField id="created-api-key" label="API key" value={created.key} secret />
      <p class="hint">
        Send it as <code>Authorization: Bearer {created.prefix}…</code>. It has {created.scopes.length === 1 ? 'one scope' : `${created.scopes.length} scopes`} and{' '}
        {created.expires_at ? `expires on ${formatDate(created.expires_at)}` : 'does not expire'}.
      </p>
      <label class="check key-saved" for="key-saved">
        <input id="key-saved" type="checkbox" checked={saved} onChange={(e) => setSaved((e.currentTarget as HTMLInputElement).checked)} />
        I have saved my key securely
      </label>
    </Dialog>
  );
}

function RevokeKeyDialog({ apiKey, owner, onClose, onRevoked }: { apiKey: ApiKey; owner?: string; onClose(): void; onRevoked(): void }) {
  return (
    <ConfirmDialog
      title={`Revoke ${apiKey.name}?`}
      confirmLabel="Revoke key"
      busyLabel="Revoking…"
      action={() => api.delete(`/api-keys/${encodeURIComponent(apiKey.id)}`)}
      onDone={onRevoked}
      onClose={onClose}
    >
      <p>
        <strong>This cannot be undone.</strong> Anything using this key stops working immediately.
      </p>
      <p class="muted">
        <code>{apiKey.prefix}…</code>
        {owner && <> belongs to {owner}.</>}
      </p>
    </ConfirmDialog>
  );
}
