import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Badge, Button, ErrorNotice, Loading, NeedsPermission, Notice, PageHeader, StatusBadge } from '../components/ui.js';
import { Toast } from '../components/toast.js';
import { disabledBecause, notHeld, useApis, useLacking } from '../delegation.js';
import { formatDate, formatDateTime, relative } from '../format.js';
import { useLoad } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import type { Api, ApiKey, ApiKeyCreated, ApiKeyUsage, User } from '../types.js';
import { EditKeyDialog, KeyShownOnce, RevokeKeyDialog, RollKeyDialog, ToggleKeyDialog } from './api-key-dialogs.js';
import { KeyUsage } from './api-key-usage.js';
import { apisInPickerOrder } from '../components/scope-picker.js';
import './api-keys.css';

/** The notice that says why a control is off; disabled controls point at it. */
const LOCK_REASON = 'key-lock-reason';

/** A key's scopes under the API each belongs to, in the order the scope pickers use. */
function scopesByApi(scopes: string[], apis: Api[] | undefined): { name: string; scopes: string[] }[] {
  const groups: { name: string; scopes: string[] }[] = [];
  const left = new Set(scopes);
  for (const a of apisInPickerOrder(apis ?? [])) {
    const mine = a.scopes.map((s) => s.name).filter((s) => left.has(s));
    mine.forEach((s) => left.delete(s));
    if (mine.length) groups.push({ name: a.name, scopes: mine });
  }
  // Without apis:read the console cannot tell which API a scope is of.
  if (left.size) groups.push({ name: apis?.length ? 'Other' : 'Scopes', scopes: [...left] });
  return groups;
}

/**
 * One API key: what it may do, whose it is, when it ends, where it may be used from, and how much it
 * is used; with roll, edit, disable and revoke. The same rules as the list: your own key needs
 * api-keys:write, someone else's also users:write (the API checks the same).
 */
export function ApiKeyPage({ keyId }: { keyId: string }) {
  const { can, me } = useSession();
  const apis = useApis();
  const lacks = useLacking();
  const id = encodeURIComponent(keyId);
  const loaded = useLoad(() => api.get<ApiKey>(`/api-keys/${id}`), [keyId]);
  const [key, setKey] = useState<ApiKey | undefined>();
  useEffect(() => setKey(loaded.data), [loaded.data]);
  const usage = useLoad(() => api.get<ApiKeyUsage>(`/api-keys/${id}/usage`), [keyId]);
  const own = key?.user_id === me.user?.id;
  const owner = useLoad(async () => (key && !own && can('users:read') ? (await api.get<User>(`/users/${encodeURIComponent(key.user_id)}`)).email : undefined), [key?.user_id]);
  const [dialog, setDialog] = useState<'roll' | 'edit' | 'toggle' | 'revoke' | undefined>();
  const [rolled, setRolled] = useState<ApiKeyCreated | undefined>();
  const [message, setMessage] = useState<string | undefined>();

  if (!can('api-keys:read')) return <NeedsPermission permission="api-keys:read" what="see API keys" />;
  if (loaded.loading && !key) return <Loading label="Loading API key…" />;
  if (!key) return <ErrorNotice error={loaded.error} />;

  const ownerName = own ? `${me.user?.email} (you)` : (owner.data ?? key.user_id);
  const mayChange = can('api-keys:write') && (own || can('users:write'));
  const changeLocked = !can('api-keys:write') ? 'Changing a key needs api-keys:write' : !mayChange ? 'Someone else’s key: changing it needs users:write' : undefined;
  // A new value hands on what the key carries: the caller must hold it (the delegation rule).
  const missing = lacks(key.scopes);
  const rollLocked = changeLocked ?? (missing.length ? `${notHeld(missing)}, which the key carries` : undefined);
  const why = (reason: string | undefined) => disabledBecause(reason, LOCK_REASON);
  const done = (next: ApiKey, text: string) => {
    setDialog(undefined);
    setKey(next);
    setMessage(text);
  };

  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <Link href="/console/api-keys">API keys</Link> › {key.name}
      </nav>
      <PageHeader
        title={key.name}
        description={
          <>
            <code class="mono-id">{key.prefix}…</code> · <Badge tone={key.environment === 'live' ? 'info' : 'neutral'}>{key.environment === 'live' ? 'Live' : 'Test'}</Badge> ·{' '}
            <StatusBadge status={key.status} />
          </>
        }
        actions={
          <>
            <Button variant="primary" onClick={() => setDialog('roll')} {...why(rollLocked)}>
              Roll key
            </Button>
            <Button onClick={() => setDialog('edit')} {...why(changeLocked)}>
              Edit
            </Button>
            {key.status !== 'expired' && (
              <Button onClick={() => setDialog('toggle')} {...why(key.enabled ? changeLocked : rollLocked)}>
                {key.enabled ? 'Disable' : 'Enable'}
              </Button>
            )}
            <Button variant="danger" onClick={() => setDialog('revoke')} {...why(changeLocked)}>
              Revoke
            </Button>
          </>
        }
      />
      {rollLocked && (
        <div class="notice notice-warning" id={LOCK_REASON}>
          <strong>Read-only for you.</strong> {rollLocked}.
        </div>
      )}
      {key.previous_key_expires_at && (
        <Notice kind="warning">
          The previous value of this key still works until {formatDateTime(key.previous_key_expires_at)} ({relative(key.previous_key_expires_at)}). Roll again with “Now” to end it at once.
        </Notice>
      )}
      <Toast message={message} onDone={() => setMessage(undefined)} />

      <section class="section" aria-labelledby="details-title">
        <div class="section-head">
          <h2 id="details-title">Details</h2>
        </div>
        <dl class="details">
          <div>
            <dt>Owner</dt>
            <dd>{ownerName}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd title={formatDateTime(key.created_at)}>{formatDate(key.created_at)}</dd>
          </div>
          <div>
            <dt>Expires</dt>
            <dd>{key.expires_at ? `${formatDateTime(key.expires_at)} (${relative(key.expires_at)})` : 'Never'}</dd>
          </div>
          <div>
            <dt>Last used</dt>
            <dd>{key.last_used_at ? `${relative(key.last_used_at)}${key.last_used_ip ? ` from ${key.last_used_ip}` : ''}` : 'Never'}</dd>
          </div>
          <div>
            <dt>IP allowlist</dt>
            <dd>{key.ip_allowlist.length ? key.ip_allowlist.map((a) => <code class="mono-id key-allowed" key={a}>{a}</code>) : 'Any address'}</dd>
          </div>
        </dl>
      </section>

      <section class="section" aria-labelledby="scopes-title">
        <div class="section-head">
          <h2 id="scopes-title">Scopes</h2>
        </div>
        <div class="key-scope-groups">
          {scopesByApi(key.scopes, apis).map((g) => (
            <div key={g.name} role="group" aria-label={g.name}>
              <h3>{g.name}</h3>
              <ul>
                {g.scopes.map((s) => (
                  <li key={s}>
                    <code>{s}</code>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </div>
      </section>

      {usage.data ? <KeyUsage usage={usage.data} /> : usage.loading ? <Loading label="Loading usage…" /> : <ErrorNotice error={usage.error} title="Could not load the key’s usage." />}

      {dialog === 'roll' && (
        <RollKeyDialog
          apiKey={key}
          onClose={() => setDialog(undefined)}
          onRolled={(made) => {
            setDialog(undefined);
            setKey(made);
            setRolled(made);
          }}
        />
      )}
      {rolled && (
        <KeyShownOnce
          created={rolled}
          title="API key rolled"
          onDone={() => {
            setMessage(
              rolled.previous_key_expires_at
                ? `${rolled.name} was rolled. The previous value works until ${formatDateTime(rolled.previous_key_expires_at)}.`
                : `${rolled.name} was rolled. The previous value stopped working.`,
            );
            setRolled(undefined);
          }}
        />
      )}
      {dialog === 'edit' && <EditKeyDialog apiKey={key} onClose={() => setDialog(undefined)} onSaved={(k) => done(k, `${k.name} was saved. The change applies to its next request.`)} />}
      {dialog === 'toggle' && (
        <ToggleKeyDialog
          apiKey={key}
          onClose={() => setDialog(undefined)}
          onDone={(k) => done(k, k.enabled ? `${k.name} works again.` : `${k.name} was disabled. It stopped working at once.`)}
        />
      )}
      {dialog === 'revoke' && (
        <RevokeKeyDialog apiKey={key} owner={own ? undefined : ownerName} onClose={() => setDialog(undefined)} onRevoked={() => navigate('/console/api-keys')} />
      )}
    </>
  );
}
