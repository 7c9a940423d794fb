import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { CopyField } from '../components/secret.js';
import { Dialog } from '../components/dialog.js';
import { Badge, Button, ErrorNotice, Field, Loading, NeedsPermission, Notice, PageHeader, StatusBadge } from '../components/ui.js';
import { Toast } from '../components/toast.js';
import { apiScopesOf, EXPIRY_CHOICES, formatDate, formatDateTime, lines, relative, TYPE_LABELS } from '../format.js';
import { disabledBecause, lacking, notHeld, ownerLabel, useApis, whyNotChangeable } from '../delegation.js';
import { compact, otherError, redirectProblem, serverProblems } from '../form-checks.js';
import { useAction, useLoad } from '../hooks.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import type { Client, ClientUpdate } from '../types.js';
import { CredentialSecrets } from './credential-secrets.js';
import { CredentialUsage } from './credential-usage.js';
import { ProtectionSettings } from './credential-protection.js';
import { IntegrationSettings } from './credential-integrations.js';

/** The notice that says why this credential is read-only; disabled controls point at it. */
const LOCK_REASON = 'credential-lock-reason';
const why = (reason: string | undefined) => disabledBecause(reason, LOCK_REASON);

/** One credential: what it is, its scopes, its secrets, its settings, and suspending or revoking it. */
export function CredentialPage({ clientId }: { clientId: string }) {
  const { can, me } = useSession();
  const apis = useApis();
  const id = encodeURIComponent(clientId);
  const loaded = useLoad(() => api.get<Client>(`/clients/${id}`), [clientId]);
  const [client, setClient] = useState<Client | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const [revoking, setRevoking] = useState(false);
  useEffect(() => setClient(loaded.data), [loaded.data]);

  const toggle = useAction(async (enabled: boolean) => {
    const updated = await api.patch<Client>(`/clients/${id}`, { enabled });
    setClient(updated);
    setMessage(enabled ? 'Resumed: the credential can get tokens again.' : 'Suspended: token requests with this credential fail until you resume it.');
  });
  const revoke = useAction(async () => {
    await api.delete(`/clients/${id}`);
    return true;
  });

  if (!can('clients:read')) return <NeedsPermission permission="clients:read" what="see API credentials" />;
  if (loaded.loading && !client) return <Loading label="Loading credential…" />;
  if (!client) return <ErrorNotice error={loaded.error} />;

  const name = client.client_name ?? client.client_id;
  // Two reasons a control may be off (services/clients.ts): the credential is not yours and you lack
  // clients:admin, which locks everything; or it holds permissions you do not (the delegation rule),
  // which locks what would hand them on (edit, scopes, a new secret, resuming) but not taking access away.
  const locked = whyNotChangeable(me, client);
  const beyond = lacking(me, apis, client.scope.split(' '));
  const changeLocked = locked ?? (beyond.length ? `${notHeld(beyond)}, which it holds: you can suspend or revoke it, not change it` : undefined);
  const canWrite = !changeLocked;
  const scopes = apiScopesOf(client.scope);
  const confidential = client.token_endpoint_auth_method !== 'none';

  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <Link href="/console/">API Access</Link> › {name}
      </nav>
      <PageHeader
        title={name}
        description={
          <>
            {TYPE_LABELS[client.type]} · <Badge tone={client.environment === 'live' ? 'info' : 'neutral'}>{client.environment === 'live' ? 'Live' : 'Test'}</Badge> · <StatusBadge status={client.status} />
            {client.builtin && (
              <>
                {' '}· <Badge>Built in</Badge>
              </>
            )}
          </>
        }
        actions={
          <>
            <Button onClick={() => navigate(`/console/credentials/${id}/scopes`)} disabled={Boolean(changeLocked)} {...why(changeLocked)}>
              Edit scopes
            </Button>
            {client.enabled ? (
              <Button onClick={() => void toggle.run(false)} busy={toggle.busy} busyLabel="Suspending…" disabled={Boolean(locked)} {...why(locked)}>
                Suspend
              </Button>
            ) : (
              <Button onClick={() => void toggle.run(true)} busy={toggle.busy} busyLabel="Resuming…" disabled={Boolean(changeLocked)} {...why(changeLocked)}>
                Resume
              </Button>
            )}
            <Button variant="danger" onClick={() => { revoke.clearError(); setRevoking(true); }} disabled={Boolean(locked)} {...why(locked)}>
              Revoke
            </Button>
          </>
        }
      />
      {client.builtin && <Notice>The console signs in with this credential. Gatehouse registers it at every start, and it cannot be changed here.</Notice>}
      {!client.builtin && changeLocked && (
        <div class="notice notice-warning" id={LOCK_REASON}>
          <strong>Read-only for you.</strong> {changeLocked}.
        </div>
      )}
      <Toast message={message} onDone={() => setMessage(undefined)} />
      <ErrorNotice error={toggle.error} />

      <section class="section" aria-labelledby="details-title">
        <div class="section-head">
          <h2 id="details-title">Details</h2>
        </div>
        <CopyField id="detail-client-id" label="Client ID" value={client.client_id} />
        <dl class="details">
          <div>
            <dt>Owner</dt>
            <dd class="credential-owner">{ownerLabel(client)}</dd>
          </div>
          <div>
            <dt>Authentication</dt>
            <dd>{!confidential ? 'None (public client, PKCE)' : client.token_endpoint_auth_method === 'private_key_jwt' ? 'Private key JWT (RFC 7523)' : 'Client secret'}</dd>
          </div>
          <div>
            <dt>Grant types</dt>
            <dd>{client.grant_types.join(', ')}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDateTime(client.created_at)}</dd>
          </div>
          <div>
            <dt>Last used</dt>
            <dd>{client.last_used_at ? `${relative(client.last_used_at)} (${formatDateTime(client.last_used_at)})` : 'Never'}</dd>
          </div>
          <div>
            <dt>Expires</dt>
            <dd>{client.expires_at ? `${formatDate(client.expires_at)} (${relative(client.expires_at)})` : 'Never'}</dd>
          </div>
          <div>
            <dt>Token endpoint</dt>
            <dd>
              <code>{`${window.location.origin}/oauth/token`}</code>
            </dd>
          </div>
        </dl>
      </section>

      <section class="section" aria-labelledby="scopes-title">
        <div class="section-head">
          <div>
            <h2 id="scopes-title">Scopes</h2>
            <p>What this credential's tokens may do.</p>
          </div>
          <Link href={`/console/credentials/${id}/scopes`} class="btn btn-secondary">
            {canWrite ? 'Edit scopes' : 'View scopes'}
          </Link>
        </div>
        {scopes.length ? (
          <div class="chips">
            {scopes.map((s) => (
              <Badge key={s}>{s}</Badge>
            ))}
          </div>
        ) : (
          <p class="muted">No scopes yet: its token requests are refused until you choose some.</p>
        )}
      </section>

      <CredentialUsage client={client} apis={apis} />
      {confidential && <CredentialSecrets client={client} rotateLocked={changeLocked} revokeLocked={locked} />}
      <ProtectionSettings
        client={client}
        locked={changeLocked}
        lockReasonId={LOCK_REASON}
        onSaved={(c) => { setClient(c); setMessage('Protection saved. It applies to the next authorization or token request.'); }}
      />
      <SettingsForm client={client} locked={changeLocked} onSaved={(c) => { setClient(c); setMessage('Settings saved. They apply to the next token request.'); }} />
      {!client.builtin && <IntegrationSettings key={client.updated_at} client={client} locked={changeLocked} lockReasonId={LOCK_REASON} onSaved={(c) => { setClient(c); setMessage('Sign-in settings saved. They apply to the next request.'); }} />}

      {revoking && (
        <Dialog
          title={`Revoke ${name}?`}
          onClose={() => setRevoking(false)}
          footer={
            <>
              <Button onClick={() => setRevoking(false)}>Cancel</Button>
              <Button
                variant="danger"
                busy={revoke.busy}
                busyLabel="Revoking…"
                onClick={async () => {
                  if (await revoke.run()) navigate('/console/?revoked=' + encodeURIComponent(name));
                }}
              >
                Revoke credential
              </Button>
            </>
          }
        >
          <p>
            <strong>This cannot be undone.</strong> Every integration using this credential stops working immediately: its next token request is refused, and its refresh tokens are revoked.
          </p>
          <p class="muted">Access tokens already issued stay valid until they expire (at most an hour) at APIs that check them offline. To pause it instead, suspend it.</p>
          <ErrorNotice error={revoke.error} />
        </Dialog>
      )}
    </>
  );
}

/** Name, expiry, redirect URIs and the IP allowlist; the type and environment are fixed. */
function SettingsForm({ client, locked, onSaved }: { client: Client; locked: string | undefined; onSaved(c: Client): void }) {
  const canWrite = !locked;
  const [name, setName] = useState(client.client_name ?? '');
  const [redirects, setRedirects] = useState(client.redirect_uris.join('\n'));
  const [allowlist, setAllowlist] = useState(client.ip_allowlist.join('\n'));
  const [expiry, setExpiry] = useState<string>('keep');
  const save = useAction(async () => {
    const body: ClientUpdate = { client_name: name.trim(), ip_allowlist: lines(allowlist) };
    if (client.grant_types.includes('authorization_code')) body.redirect_uris = lines(redirects);
    if (expiry !== 'keep') body.expires_in = expiry === 'never' ? null : expiry;
    const updated = await api.patch<Client>(`/clients/${encodeURIComponent(client.client_id)}`, body);
    setExpiry('keep');
    onSaved(updated);
  });
  const [tried, setTried] = useState(false);
  const usesRedirects = client.grant_types.includes('authorization_code');
  const local = compact({
    client_name: name.trim() ? undefined : 'Give the credential a name.',
    redirect_uris: usesRedirects ? (lines(redirects).length ? lines(redirects).map(redirectProblem).find(Boolean) : 'Enter at least one redirect URI: this app signs people in.') : undefined,
  });
  const problems = { ...(tried ? local : {}), ...serverProblems(save.error) };
  const err = (field: string) => problems[field];
  return (
    <section class="section" aria-labelledby="settings-title">
      <div class="section-head">
        <h2 id="settings-title">Settings</h2>
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setTried(true);
          save.clearError();
          if (!Object.keys(local).length) void save.run();
        }}
        noValidate
      >
        <Field id="settings-name" label="Name" error={err('client_name')}>
          <input id="settings-name" type="text" value={name} disabled={!canWrite} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        {client.grant_types.includes('authorization_code') && (
          <Field id="settings-redirects" label="Redirect URIs" hint="One per line; each must match exactly." error={err('redirect_uris')}>
            <textarea id="settings-redirects" value={redirects} disabled={!canWrite} onInput={(e) => setRedirects((e.currentTarget as HTMLTextAreaElement).value)} />
          </Field>
        )}
        <Field id="settings-allowlist" label="IP allowlist" hint="Addresses or CIDR ranges, one per line (203.0.113.0/24). Empty: any address may use this credential." error={err('ip_allowlist')}>
          <textarea id="settings-allowlist" value={allowlist} disabled={!canWrite} onInput={(e) => setAllowlist((e.currentTarget as HTMLTextAreaElement).value)} />
        </Field>
        <Field id="settings-expiry" label="Expiry" hint={client.expires_at ? `Now: expires ${formatDate(client.expires_at)}.` : 'Now: never expires.'} error={err('expires_in')}>
          <select id="settings-expiry" value={expiry} disabled={!canWrite} onChange={(e) => setExpiry((e.currentTarget as HTMLSelectElement).value)}>
            <option value="keep">Keep as it is</option>
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.label} value={c.value ?? 'never'}>
                {c.value ? `Expires in ${c.label}` : 'Never expires'}
              </option>
            ))}
          </select>
        </Field>
        <ErrorNotice error={otherError(save.error, ['client_name', 'redirect_uris', 'ip_allowlist', 'expires_in'])} />
        <div class="form-actions">
          <Button variant="primary" type="submit" busy={save.busy} busyLabel="Saving…" disabled={!canWrite} {...why(locked)}>
            Save settings
          </Button>
        </div>
      </form>
    </section>
  );
}
