import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { CredentialsSaved } from '../components/credentials-saved.js';
import { ConfirmDialog } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { Badge, Button, ErrorNotice, Field, Loading, Notice } from '../components/ui.js';
import { Toast } from '../components/toast.js';
import { disabledBecause, useApis } from '../delegation.js';
import { apisUsed } from '../usage.js';
import { formatDateTime, relative } from '../format.js';
import { useAction, useLoad } from '../hooks.js';
import type { Client, ClientSecret, ClientSecretCreated, Page } from '../types.js';

/** How long the secrets in use keep working after a rotation: enough time to deploy the new one. */
const OVERLAPS = [
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86400 },
  { label: '7 days (recommended)', seconds: 7 * 86400 },
  { label: '30 days', seconds: 30 * 86400 },
];

function validity(s: ClientSecret): string {
  if (!s.expires_at) return 'No expiry';
  return `Valid until ${formatDateTime(s.expires_at)} (${relative(s.expires_at)})`;
}

const secretLabel = (s: ClientSecret) => (s.prefix ? `${s.prefix}…` : `…${s.hint}`);

/**
 * Which secret is which: the newest is the one just issued ("Current", never offered for expiry);
 * the others are the ones a rotation left working for a while ("Previous · works until …").
 */
function role(s: ClientSecret, current: ClientSecret | undefined): string {
  if (s.id === current?.id) return 'Current';
  return s.expires_at ? `Previous · works until ${formatDateTime(s.expires_at)}` : 'Previous · no expiry';
}

/**
 * A confidential credential's secrets: their validity, rotation without downtime, and revoking an old
 * one. Each lock, when set, says why that action is off (see CredentialPage): a new secret hands on
 * what the credential holds, revoking one only takes access away.
 */
export function CredentialSecrets({ client, rotateLocked, revokeLocked }: { client: Client; rotateLocked?: string; revokeLocked?: string }) {
  const id = encodeURIComponent(client.client_id);
  const secrets = useLoad(() => api.get<Page<ClientSecret>>(`/clients/${id}/secrets`), [client.client_id]);
  const [rotating, setRotating] = useState(false);
  const [overlap, setOverlap] = useState(7 * 86400);
  const [issued, setIssued] = useState<{ secret: ClientSecretCreated; previousUntil: string } | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const rotate = useAction(async () => {
    const secret = await api.post<ClientSecretCreated>(`/clients/${id}/secrets`, { previous_expires_in: overlap });
    return { secret, previousUntil: new Date(Date.now() + overlap * 1000).toISOString() };
  });
  const [expiring, setExpiring] = useState<ClientSecret | undefined>();
  const apis = useApis();

  const list = secrets.data?.data ?? [];
  // Listed newest first (store/clients.ts): the first is the current secret.
  const current = list[0];
  const name = client.client_name ?? client.client_id;
  return (
    <section class="section" aria-labelledby="secrets-title">
      <div class="section-head">
        <div>
          <h2 id="secrets-title">Client secrets</h2>
          <p>Rotate to get a new secret while the current one keeps working for a while, so you can deploy it without downtime.</p>
        </div>
        <Button variant="primary" onClick={() => { rotate.clearError(); setRotating(true); }} disabled={client.builtin} {...disabledBecause(rotateLocked)}>
          Rotate secret
        </Button>
      </div>
      <Toast message={message} onDone={() => setMessage(undefined)} />
      <ErrorNotice error={secrets.error} />
      {secrets.loading && !secrets.data ? (
        <Loading label="Loading secrets…" />
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Secret</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Validity</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <tr key={s.id}>
                  <td data-label="Secret">
                    <code>{secretLabel(s)}</code>
                  </td>
                  <td data-label="Status">
                    <Badge tone={s.id === current?.id ? 'success' : 'warning'}>{role(s, current)}</Badge>
                  </td>
                  <td class="nowrap" data-label="Created">{formatDateTime(s.created_at)}</td>
                  <td data-label="Validity">{validity(s)}</td>
                  <td class="nowrap" data-label="Last used">{s.last_used_at ? relative(s.last_used_at) : 'Never'}</td>
                  <td data-label="Actions">
                    {s.id !== current?.id && (
                      <div class="row-actions">
                        <Button variant="ghost" {...disabledBecause(revokeLocked)} aria-label={`Expire secret ${secretLabel(s)} now`} onClick={() => setExpiring(s)}>
                          Expire now
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
      {expiring && (
        <ConfirmDialog
          title={`Expire secret ${secretLabel(expiring)} now?`}
          confirmLabel="Expire secret now"
          busyLabel="Expiring…"
          action={() => api.delete(`/clients/${id}/secrets/${encodeURIComponent(expiring.id)}`)}
          onClose={() => setExpiring(undefined)}
          onDone={() => {
            setMessage(`Secret ${secretLabel(expiring)} was expired: it stopped working at once. ${current ? `${name} keeps working with the current secret ${secretLabel(current)}.` : ''}`);
            setExpiring(undefined);
            secrets.reload();
          }}
        >
          <p>
            Every integration that still signs in as <strong>{name}</strong> (<code>{client.client_id}</code>) with secret <code>{secretLabel(expiring)}</code> stops getting tokens at once
            {expiring.last_used_at ? `; it was last used ${relative(expiring.last_used_at)}.` : '; it has never been used.'}
          </p>
          {current && (
            <p>
              The current secret <code>{secretLabel(current)}</code> keeps working. Expire this one only once everything uses the current one.
            </p>
          )}
        </ConfirmDialog>
      )}
      {rotating && (
        <Dialog
          title="Rotate secret"
          description="Gatehouse creates a new secret and shows it once. The secrets in use now keep working for the time you choose, then stop."
          onClose={() => setRotating(false)}
          footer={
            <>
              <Button onClick={() => setRotating(false)}>Cancel</Button>
              <Button
                variant="primary"
                busy={rotate.busy}
                busyLabel="Rotating…"
                onClick={async () => {
                  const result = await rotate.run();
                  if (!result) return;
                  setRotating(false);
                  setIssued(result);
                  secrets.reload();
                }}
              >
                Rotate secret
              </Button>
            </>
          }
        >
          <Field id="rotate-overlap" label="Current secret keeps working for" hint="Long enough to deploy the new secret everywhere that uses this credential.">
            <select id="rotate-overlap" value={overlap} onChange={(e) => setOverlap(Number((e.currentTarget as HTMLSelectElement).value))}>
              {OVERLAPS.map((o) => (
                <option key={o.seconds} value={o.seconds}>
                  {o.label}
                </option>
              ))}
            </select>
          </Field>
          <ErrorNotice error={rotate.error} />
        </Dialog>
      )}
      {issued && (
        <CredentialsSaved
          title="New secret"
          credentials={{ clientId: client.client_id, clientName: name, secret: issued.secret.client_secret, environment: client.environment, apis: apisUsed(client.scope, apis ?? []) }}
          lead={
            <Notice>
              The previous secret keeps working until <strong>{formatDateTime(issued.previousUntil)}</strong> ({relative(issued.previousUntil)}). Deploy the new one before then.
            </Notice>
          }
          onDone={() => setIssued(undefined)}
        />
      )}
    </section>
  );
}
