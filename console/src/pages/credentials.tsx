import { useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { CredentialsSaved } from '../components/credentials-saved.js';
import { RowMenu } from '../components/row-menu.js';
import { Toast } from '../components/toast.js';
import { Badge, Button, EmptyState, ErrorNotice, Loading, MoreButton, Notice, PageHeader, RequirePermission, StatusBadge } from '../components/ui.js';
import { disabledBecause, ownerLabel, whyNotChangeable } from '../delegation.js';
import { apiScopesOf, formatDate, relative, scopeSummary, TYPE_LABELS } from '../format.js';
import { useDebounced } from '../hooks.js';
import { usePaged } from '../paged.js';
import { Link, navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';
import type { Client, ClientCreated } from '../types.js';
import { CreateCredentialDialog } from './create-credential.js';
import { IdCell } from '../components/id-cell.js';

const credentialPath = (clientId: string) => `/console/credentials/${encodeURIComponent(clientId)}`;

/** API Access: every credential an integration uses, and the way to create one. */
export function CredentialsPage() {
  return (
    <RequirePermission permission="clients:read" title="API Access" what="see API credentials">
      <CredentialList />
    </RequirePermission>
  );
}

function CredentialList() {
  const { can, me } = useSession();
  const [revoking, setRevoking] = useState<Client | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const revoked = useLocation().search.get('revoked');
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim());
  const list = usePaged<Client>(`/clients${query({ q, limit: 50 })}`);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ClientCreated | undefined>();
  // The console's own sign-in client is built in and not an integration: it is left out here.
  const rows = list.items.filter((c) => !c.builtin);
  const createButton = (
    <Button variant="primary" onClick={() => setCreating(true)} disabled={!can('clients:write')} title={can('clients:write') ? undefined : 'Needs the clients:write permission'}>
      Create credential
    </Button>
  );

  return (
    <>
      <PageHeader
        title="API Access"
        description="Credentials let your applications and services get tokens for your APIs. Each one has its own scopes, expiry and secret."
        actions={createButton}
      />
      <div class="toolbar">
        <div class="field search">
          <label for="credential-search">Search</label>
          <input id="credential-search" type="search" placeholder="Name or client ID" value={search} onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)} />
        </div>
      </div>
      {revoked && <Notice kind="success">{revoked} was revoked. Its token requests are refused from now on.</Notice>}
      <ErrorNotice error={list.error} />
      {list.loading && !list.items.length ? (
        <Loading label="Loading credentials…" />
      ) : rows.length === 0 && !list.error ? (
        q ? (
          <EmptyState title="No credentials match">Nothing is named or has a client ID like “{q}”.</EmptyState>
        ) : (
          <EmptyState title="No API credentials yet" action={createButton}>
            <p>Create a credential for each application or service that calls your APIs:</p>
            <ol>
              <li>
                Register the API it calls under <Link href="/console/apis">APIs</Link>, with its scopes (e.g. <code>orders:read</code>).
              </li>
              <li>Create a credential: a name and the kind of application.</li>
              <li>Save its client ID and secret (shown once), then choose its scopes.</li>
            </ol>
          </EmptyState>
        )
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Environment</th>
                <th scope="col">Client ID</th>
                <th scope="col">Owner</th>
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
              {rows.map((c) => {
                const scopes = apiScopesOf(c.scope);
                return (
                  <tr key={c.client_id}>
                    <td class="cell-name" data-label="Name">
                      <Link href={credentialPath(c.client_id)}>{c.client_name || c.client_id}</Link>
                    </td>
                    <td data-label="Type">{TYPE_LABELS[c.type]}</td>
                    <td data-label="Environment">
                      <Badge tone={c.environment === 'live' ? 'info' : 'neutral'}>{c.environment === 'live' ? 'Live' : 'Test'}</Badge>
                    </td>
                    <td data-label="Client ID">
                      <IdCell id={c.client_id} copyLabel={`Copy client ID of ${c.client_name || c.client_id}`} />
                    </td>
                    <td data-label="Owner" class={c.owner ? 'credential-owner' : 'credential-owner muted'}>
                      {ownerLabel(c)}
                    </td>
                    <td data-label="Scopes" title={scopes.join(' ')}>
                      {scopeSummary(scopes, 1)}
                    </td>
                    <td class="nowrap" data-label="Created">
                      {formatDate(c.created_at)}
                    </td>
                    <td class="nowrap" data-label="Last used">
                      {c.last_used_at ? relative(c.last_used_at) : 'Never'}
                    </td>
                    <td class="nowrap" data-label="Expires">
                      {c.expires_at ? formatDate(c.expires_at) : 'Never'}
                    </td>
                    <td data-label="Status">
                      <StatusBadge status={c.status} />
                    </td>
                    <td data-label="Actions">
                      <RowMenu label={`Actions for ${c.client_name || c.client_id}`}>
                        <Link href={credentialPath(c.client_id)}>Open</Link>
                        <Link href={`${credentialPath(c.client_id)}/scopes`}>Scopes</Link>
                        <button type="button" class="btn btn-ghost" onClick={() => setRevoking(c)} {...disabledBecause(whyNotChangeable(me, c))}>
                          Revoke
                        </button>
                      </RowMenu>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton next={list.next} busy={list.loading} onMore={list.more} />
      <Toast message={message} onDone={() => setMessage(undefined)} />
      {revoking && (
        <ConfirmDialog
          title={`Revoke ${revoking.client_name || revoking.client_id}?`}
          confirmLabel="Revoke credential"
          busyLabel="Revoking…"
          action={() => api.delete(`/clients/${encodeURIComponent(revoking.client_id)}`)}
          onClose={() => setRevoking(undefined)}
          onDone={() => {
            setMessage(`${revoking.client_name || revoking.client_id} was revoked. Its token requests are refused from now on.`);
            list.replace((x) => x.client_id === revoking.client_id, undefined);
            setRevoking(undefined);
          }}
        >
          <p>
            <strong>This cannot be undone.</strong> Every integration using <code>{revoking.client_id}</code> stops working immediately: its next token request is refused, and its refresh tokens are revoked.
          </p>
        </ConfirmDialog>
      )}
      {creating && (
        <CreateCredentialDialog
          onClose={() => setCreating(false)}
          onCreated={(client) => {
            setCreating(false);
            setCreated(client);
            list.reload();
          }}
        />
      )}
      {created && (
        <CredentialsSaved
          title="Credential created"
          credentials={{ clientId: created.client_id, clientName: created.client_name ?? created.client_id, secret: created.client_secret, environment: created.environment }}
          lead={<p>{created.client_name} is ready. It has no scopes yet: choose what it may access next.</p>}
          onDone={() => setCreated(undefined)}
          secondary={{ label: 'Close and edit scopes', onClick: () => navigate(`${credentialPath(created.client_id)}/scopes`) }}
        />
      )}
    </>
  );
}
