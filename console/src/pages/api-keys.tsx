import { PAGE_SIZE } from '../../../server/services/limits.js';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { Badge, Button, EmptyState, ErrorNotice, Loading, MoreButton, Notice, PageHeader, RequirePermission, StatusBadge } from '../components/ui.js';
import { Toast } from '../components/toast.js';
import { disabledBecause, notHeld, useLacking } from '../delegation.js';
import { formatDate, formatDateTime, relative, scopeSummary } from '../format.js';
import { useLoad } from '../hooks.js';
import { usePaged } from '../paged.js';
import { Link } from '../router.js';
import { useSession } from '../session.js';
import type { ApiKey, ApiKeyCreated, Page, Role, User } from '../types.js';
import { KeyRevealSettings } from './api-key-statement.js';
import { CreateKeyDialog, EditKeyDialog, KeyShownOnce, RevokeKeyDialog, ToggleKeyDialog } from './api-key-dialogs.js';
import './api-keys.css';
import { IdCell } from '../components/id-cell.js';
import { RowMenu } from '../components/row-menu.js';

type Whose = 'mine' | 'all';

/**
 * API keys: long-lived credentials that act for one person, for scripts and services. Everyone
 * manages their own; administrators (users:write) may also list and revoke everyone's.
 */
export function ApiKeysPage() {
  return (
    <RequirePermission permission="api-keys:read" title="API keys" what="see API keys">
      <KeysList />
    </RequirePermission>
  );
}

function KeysList() {
  const { can, me } = useSession();
  const canWrite = can('api-keys:write');
  // ?user=all is refused without users:write, so only administrators are offered it.
  const isAdmin = can('users:write');
  const [whose, setWhose] = useState<Whose>('mine');
  const list = usePaged<ApiKey>(`/api-keys${query({ user: whose === 'all' ? 'all' : undefined, limit: 50 })}`);
  const owners = useOwners(whose === 'all' && can('users:read'), can('roles:read'));
  const lacks = useLacking();
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<ApiKeyCreated | undefined>();
  const [revoking, setRevoking] = useState<ApiKey | undefined>();
  const [editing, setEditing] = useState<ApiKey | undefined>();
  const [toggling, setToggling] = useState<ApiKey | undefined>();
  const [done, setDone] = useState<string | undefined>();

  const ownerOf = (key: ApiKey) => (key.user_id === me.user?.id ? me.user.email : (owners.emails.get(key.user_id) ?? key.user_id));
  // Your own keys need api-keys:write; someone else's also users:write (the API checks the same).
  const mayChange = (key: ApiKey) => canWrite && (key.user_id === me.user?.id || isAdmin);
  // Someone else's key is acting on them: only with every permission their roles give (the delegation rule).
  const lockOf = (key: ApiKey) => {
    if (key.user_id === me.user?.id) return undefined;
    const missing = lacks(owners.permissions.get(key.user_id) ?? []);
    return missing.length ? `${notHeld(missing)}, which ${ownerOf(key)}’s roles give` : undefined;
  };
  const saved = (key: ApiKey, message: string) => {
    setDone(message);
    list.replace((k) => k.id === key.id, key);
  };
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
      {isAdmin && <KeyRevealSettings onSaved={setDone} />}
      {isAdmin && <WhoseSwitch value={whose} onChange={setWhose} />}
      <Toast message={done} onDone={() => setDone(undefined)} />
      <ErrorNotice error={list.error} />
      {list.loading && !list.items.length ? (
        <Loading label="Loading API keys…" />
      ) : !list.items.length && !list.error ? (
        <NoKeys whose={whose} action={createButton} />
      ) : (
        list.items.length > 0 && (
          <KeysTable
            keys={list.items}
            showOwner={whose === 'all'}
            ownerOf={ownerOf}
            mayChange={mayChange}
            lockOf={lockOf}
            onEdit={setEditing}
            onToggle={setToggling}
            onRevoke={setRevoking}
          />
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
      {editing && (
        <EditKeyDialog
          apiKey={editing}
          onClose={() => setEditing(undefined)}
          onSaved={(key) => {
            setEditing(undefined);
            saved(key, `${key.name} was saved. The change applies to its next request.`);
          }}
        />
      )}
      {toggling && (
        <ToggleKeyDialog
          apiKey={toggling}
          onClose={() => setToggling(undefined)}
          onDone={(key) => {
            setToggling(undefined);
            saved(key, key.enabled ? `${key.name} works again.` : `${key.name} was disabled. It stopped working at once.`);
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

interface Owners {
  emails: Map<string, string>;
  /** What each owner's roles give, where roles:read lets the console see it. */
  permissions: Map<string, string[]>;
}

/**
 * Key owners' emails for the "Owner" column, and what their roles give. Keys carry only user_id;
 * GET /users pages through everyone (200 at a time, a few pages at most) so that one request serves
 * a whole list of keys. Where someone is not found the column falls back to the id.
 */
function useOwners(enabled: boolean, readRoles: boolean): Owners {
  const users = useLoad(async () => {
    const owners: Owners = { emails: new Map(), permissions: new Map() };
    if (!enabled) return owners;
    const roles = readRoles ? (await api.get<Page<Role>>('/roles')).data : [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const page: Page<User> = await api.get<Page<User>>(`/users${query({ limit: PAGE_SIZE.max, cursor })}`);
      for (const u of page.data) {
        owners.emails.set(u.id, u.email);
        owners.permissions.set(u.id, roles.filter((r) => u.roles.includes(r.name)).flatMap((r) => r.permissions));
      }
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    return owners;
  }, [enabled, readRoles]);
  return users.data ?? { emails: new Map(), permissions: new Map() };
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
  mayChange,
  lockOf,
  onEdit,
  onToggle,
  onRevoke,
}: {
  keys: ApiKey[];
  showOwner: boolean;
  ownerOf(k: ApiKey): string;
  mayChange(k: ApiKey): boolean;
  lockOf(k: ApiKey): string | undefined;
  onEdit(k: ApiKey): void;
  onToggle(k: ApiKey): void;
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
          {keys.map((k) => {
            const locked = lockOf(k);
            const lock = disabledBecause(locked, `key-${k.id}-locked`);
            return (
            <tr key={k.id}>
              <td class="cell-name" data-label="Name">
                <Link href={`/console/api-keys/${encodeURIComponent(k.id)}`}>
                  <strong>{k.name}</strong>
                </Link>
              </td>
              {showOwner && (
                <td data-label="Owner" class="key-owner">
                  {ownerOf(k)}
                </td>
              )}
              <td data-label="Key">
                <IdCell id={`${k.prefix}…`} />
                {/* The environment is also in the prefix (ak_live_, ak_test_); the badge makes it scannable. */}
                <Badge tone={k.environment === 'live' ? 'info' : 'neutral'}>{k.environment === 'live' ? 'Live' : 'Test'}</Badge>
                {k.ip_allowlist.length > 0 && <span class="sub">Only from {k.ip_allowlist.join(', ')}</span>}
              </td>
              <td data-label="Scopes" title={k.scopes.join(' ')}>
                {scopeSummary(k.scopes)}
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
                {mayChange(k) && (
                  <RowMenu label={`Actions for ${k.name}`}>
                    <Button variant="ghost" aria-label={`Edit ${k.name}`} onClick={() => onEdit(k)} {...lock}>
                      Edit
                    </Button>
                    {k.status !== 'expired' && (
                      <Button variant="ghost" aria-label={`${k.enabled ? 'Disable' : 'Enable'} ${k.name}`} onClick={() => onToggle(k)} {...lock}>
                        {k.enabled ? 'Disable' : 'Enable'}
                      </Button>
                    )}
                    <Button variant="ghost" aria-label={`Revoke ${k.name}`} onClick={() => onRevoke(k)} {...lock}>
                      Revoke
                    </Button>
                  </RowMenu>
                )}
                {mayChange(k) && locked && (
                  <p class="muted row-reason" id={`key-${k.id}-locked`}>
                    {locked}
                  </p>
                )}
              </td>
            </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
