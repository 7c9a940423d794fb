import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { CredentialsSaved } from '../components/credentials-saved.js';
import { Dialog } from '../components/dialog.js';
import { Button, ErrorNotice, Field, Loading, Notice } from '../components/ui.js';
import { disabledBecause } from '../delegation.js';
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
  const revoke = useAction(async (secretId: string) => {
    await api.delete(`/clients/${id}/secrets/${encodeURIComponent(secretId)}`);
    return true;
  });

  const list = secrets.data?.data ?? [];
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
      {message && <Notice kind="success">{message}</Notice>}
      <ErrorNotice error={secrets.error ?? revoke.error} />
      {secrets.loading && !secrets.data ? (
        <Loading label="Loading secrets…" />
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Secret</th>
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
                    <code>{s.prefix ? `${s.prefix}…` : `…${s.hint}`}</code>
                  </td>
                  <td class="nowrap" data-label="Created">{formatDateTime(s.created_at)}</td>
                  <td data-label="Validity">{validity(s)}</td>
                  <td class="nowrap" data-label="Last used">{s.last_used_at ? relative(s.last_used_at) : 'Never'}</td>
                  <td data-label="Actions">
                    {list.length > 1 && (
                      <div class="row-actions">
                        <Button
                          variant="ghost"
                          busy={revoke.busy}
                          {...disabledBecause(revokeLocked)}
                          aria-label={`Revoke secret ${s.prefix ?? s.hint} now`}
                          onClick={async () => {
                            if (await revoke.run(s.id)) {
                              setMessage('The secret was revoked: it stopped working at once.');
                              secrets.reload();
                            }
                          }}
                        >
                          Revoke now
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
          credentials={{ clientId: client.client_id, clientName: client.client_name ?? client.client_id, secret: issued.secret.client_secret, environment: client.environment }}
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
