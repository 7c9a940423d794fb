import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { ScopePicker, scopeGroups } from '../components/scope-picker.js';
import { CopyField } from '../components/secret.js';
import { Badge, Button, EmptyState, ErrorNotice, Field, Loading, MoreButton, NeedsPermission, Notice, PageHeader, StatusBadge } from '../components/ui.js';
import { EXPIRY_CHOICES, formatDate, relative, scopeSummary } from '../format.js';
import { useAction, useLoad } from '../hooks.js';
import { usePaged } from '../paged.js';
import { useSession } from '../session.js';
import type { Api, ApiKey, ApiKeyCreated, Page, User } from '../types.js';

/**
 * API keys: long-lived credentials of a person, for scripts and the Management API. Everyone sees
 * their own; whoever holds users:write may also see and revoke everyone's.
 */
export function ApiKeysPage() {
  const { can, me } = useSession();
  const seesAll = can('users:write');
  const [whose, setWhose] = useState<'mine' | 'all'>('mine');
  const list = usePaged<ApiKey>(can('api-keys:read') ? `/api-keys${query({ user: whose === 'all' ? 'all' : undefined, limit: 50 })}` : undefined);
  const owners = useLoad(async () => (whose === 'all' && can('users:read') ? (await api.get<Page<User>>('/users?limit=200')).data : []), [whose]);
  const ownerOf = (userId: string) => owners.data?.find((u) => u.id === userId)?.email ?? (userId === me.user?.id ? me.user.email : userId);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiKeyCreated | undefined>();
  const [revoking, setRevoking] = useState<ApiKey | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const revoke = useAction(async (key: ApiKey) => {
    await api.delete(`/api-keys/${encodeURIComponent(key.id)}`);
    return true;
  });

  const createButton = (
    <Button variant="primary" onClick={() => setCreating(true)} disabled={!can('api-keys:write')} title={can('api-keys:write') ? undefined : 'Needs the api-keys:write permission'}>
      Create API key
    </Button>
  );
  if (!can('api-keys:read')) {
    return (
      <>
        <PageHeader title="API keys" />
        <NeedsPermission permission="api-keys:read" what="see API keys" />
      </>
    );
  }
  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys for your scripts and tools. A key acts for you with the scopes you give it, never more than your roles allow, and stops working when you are deactivated."
        actions={createButton}
      />
      {seesAll && (
        <div class="toolbar">
          <div class="field">
            <label for="keys-whose">Show</label>
            <select id="keys-whose" value={whose} onChange={(e) => setWhose((e.currentTarget as HTMLSelectElement).value as 'mine' | 'all')}>
              <option value="mine">My keys</option>
              <option value="all">Everyone’s keys</option>
            </select>
          </div>
        </div>
      )}
      {message && <Notice kind="success">{message}</Notice>}
      <ErrorNotice error={list.error} />
      {list.loading && !list.items.length ? (
        <Loading label="Loading API keys…" />
      ) : list.items.length === 0 && !list.error ? (
        <EmptyState title={whose === 'all' ? 'Nobody has an API key' : 'You have no API keys'} action={createButton}>
          <p>
            An API key lets a script call the Management API (<code>Authorization: Bearer ak_…</code>), or a service trade it at <code>/oauth/token</code> (token exchange) for a short-lived
            JWT for one of your APIs.
          </p>
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Name</th>
                {whose === 'all' && <th scope="col">Owner</th>}
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
              {list.items.map((k) => (
                <tr key={k.id}>
                  <td class="cell-name" data-label="Name">
                    <strong>{k.name}</strong>
                  </td>
                  {whose === 'all' && <td data-label="Owner">{ownerOf(k.user_id)}</td>}
                  <td data-label="Key">
                    <code>{k.prefix}…</code>
                  </td>
                  <td data-label="Scopes" title={k.scopes.join(' ')}>
                    {scopeSummary(k.scopes)}
                  </td>
                  <td data-label="Environment">
                    <Badge tone={k.environment === 'live' ? 'info' : 'neutral'}>{k.environment === 'live' ? 'Live' : 'Test'}</Badge>
                  </td>
                  <td class="nowrap" data-label="Created">{formatDate(k.created_at)}</td>
                  <td data-label="Last used">
                    {k.last_used_at ? relative(k.last_used_at) : 'Never'}
                    {k.last_used_ip && <span class="sub">from {k.last_used_ip}</span>}
                  </td>
                  <td class="nowrap" data-label="Expires">{k.expires_at ? formatDate(k.expires_at) : 'Never'}</td>
                  <td data-label="Status">
                    <StatusBadge status={k.status} />
                  </td>
                  <td data-label="Actions">
                    <div class="row-actions">
                      <Button variant="ghost" aria-label={`Revoke ${k.name}`} disabled={!can('api-keys:write')} onClick={() => { revoke.clearError(); setRevoking(k); }}>
                        Revoke
                      </Button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton next={list.next} busy={list.loading} onMore={list.more} />
      {creating && (
        <CreateKeyDialog
          onClose={() => setCreating(false)}
          onCreated={(key) => {
            setCreating(false);
            setCreated(key);
            list.reload();
          }}
        />
      )}
      {created && <KeyCreatedDialog created={created} onDone={() => setCreated(undefined)} />}
      {revoking && (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          confirmLabel="Revoke key"
          busyLabel="Revoking…"
          busy={revoke.busy}
          error={revoke.error}
          onClose={() => setRevoking(undefined)}
          onConfirm={async () => {
            if (!(await revoke.run(revoking))) return;
            setMessage(`${revoking.name} was revoked. It stopped working at once.`);
            setRevoking(undefined);
            list.replace((k) => k.id === revoking.id, undefined);
          }}
        >
          <p>
            <strong>This cannot be undone.</strong> Anything using this key stops working immediately.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function CreateKeyDialog({ onClose, onCreated }: { onClose(): void; onCreated(key: ApiKeyCreated): void }) {
  const apis = useLoad(() => api.get<Page<Api>>('/apis?limit=200'), []);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Set<string>>(new Set());
  const [expiry, setExpiry] = useState<string>('90d');
  const [environment, setEnvironment] = useState<'live' | 'test'>('live');
  const create = useAction(() =>
    api.post<ApiKeyCreated>('/api-keys', {
      name: name.trim(),
      scopes: [...scopes],
      environment,
      ...(expiry === 'never' ? {} : { expires_in: expiry }),
    }),
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    const key = await create.run();
    if (key) onCreated(key);
  };
  return (
    <Dialog title="Create API key" description="The key is shown once, right after you create it." onClose={onClose} size="large">
      <form id="create-key" onSubmit={submit} noValidate>
        <Field id="key-name" label="Name" hint="What uses it, e.g. “CI deploys”.">
          <input id="key-name" type="text" maxLength={200} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </Field>
        <Field id="key-expiry" label="Expires">
          <select id="key-expiry" value={expiry} onChange={(e) => setExpiry((e.currentTarget as HTMLSelectElement).value)}>
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.label} value={c.value ?? 'never'}>
                {c.value ? `In ${c.label}` : 'Never'}
              </option>
            ))}
          </select>
        </Field>
        <Field id="key-environment" label="Environment">
          <select id="key-environment" value={environment} onChange={(e) => setEnvironment((e.currentTarget as HTMLSelectElement).value as 'live' | 'test')}>
            <option value="live">Live</option>
            <option value="test">Test</option>
          </select>
        </Field>
        {apis.loading ? <Loading label="Loading scopes…" /> : apis.data && <ScopePicker idPrefix="key-scope" legend="Scopes" groups={scopeGroups(apis.data.data)} selected={scopes} onChange={setScopes} />}
        <ErrorNotice error={apis.error ?? create.error} />
      </form>
      <div class="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="primary" type="submit" form="create-key" busy={create.busy} busyLabel="Creating…" disabled={!name.trim() || scopes.size === 0}>
          Create API key
        </Button>
      </div>
    </Dialog>
  );
}

/** The key, once: it cannot be shown again (only its digest is kept). */
function KeyCreatedDialog({ created, onDone }: { created: ApiKeyCreated; onDone(): void }) {
  const [saved, setSaved] = useState(false);
  return (
    <Dialog
      title="API key created"
      onClose={onDone}
      dismissible={false}
      footer={
        <Button variant="primary" disabled={!saved} onClick={onDone}>
          Done
        </Button>
      }
    >
      <CopyField id="issued-api-key" label="API key" value={created.key} secret />
      <Notice kind="warning">This is the only time the key is shown. If it is lost, revoke it and create another.</Notice>
      <label class="check">
        <input type="checkbox" checked={saved} onChange={(e) => setSaved((e.currentTarget as HTMLInputElement).checked)} />
        I have saved my key securely
      </label>
    </Dialog>
  );
}
