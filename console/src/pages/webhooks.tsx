import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { CopyField } from '../components/secret.js';
import { Badge, Button, EmptyState, ErrorNotice, Field, Loading, MoreButton, Notice, PageHeader, RequirePermission } from '../components/ui.js';
import { formatDateTime, relative } from '../format.js';
import { useAction } from '../hooks.js';
import { usePaged } from '../paged.js';
import { useSession } from '../session.js';
import type { Webhook, WebhookCreated, WebhookDelivery } from '../types.js';
import './webhooks.css';
import { RowMenu } from '../components/row-menu.js';

/**
 * Webhooks: URLs that receive audit events as signed Standard Webhooks messages. Listing needs
 * webhooks:read; changing needs webhooks:write (and audit:read, since an endpoint receives the log).
 * An endpoint the server disabled after failing is shown at the top of the page, with how to resume it.
 */
export function WebhooksPage() {
  return (
    <RequirePermission permission="webhooks:read" title="Webhooks" what="see webhook endpoints">
      <EndpointList />
    </RequirePermission>
  );
}

const STATUS = {
  active: { tone: 'success', label: 'Active' },
  failing: { tone: 'warning', label: 'Failing, retrying' },
  disabled: { tone: 'danger', label: 'Disabled' },
} as const;

function EndpointList() {
  const { can } = useSession();
  const canWrite = can('webhooks:write');
  const list = usePaged<Webhook>('/webhooks?limit=50');
  const [adding, setAdding] = useState(false);
  const [shown, setShown] = useState<{ endpoint: WebhookCreated; rotated: boolean } | undefined>();
  const [rotating, setRotating] = useState<Webhook | undefined>();
  const [deleting, setDeleting] = useState<Webhook | undefined>();
  const [viewing, setViewing] = useState<Webhook | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const toggle = useAction((w: Webhook) => api.patch<Webhook>(`/webhooks/${w.id}`, { enabled: !w.enabled }));
  const gaveUp = list.items.filter((w) => w.disabled_reason === 'failing');
  const writeTitle = canWrite ? undefined : 'Needs the webhooks:write permission';

  const addButton = (
    <Button variant="primary" onClick={() => setAdding(true)} disabled={!canWrite} title={writeTitle}>
      Add endpoint
    </Button>
  );
  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Endpoints that receive audit events as they happen: signed (Standard Webhooks), retried with growing delays, delivered at least once."
        actions={addButton}
      />
      {gaveUp.length > 0 && (
        <div class="notice notice-warning" role="alert">
          <strong>{gaveUp.length === 1 ? 'An endpoint was disabled' : `${gaveUp.length} endpoints were disabled`} after failing for a whole retry schedule:</strong>{' '}
          {gaveUp.map((w) => w.url).join(', ')}. Nothing is sent to {gaveUp.length === 1 ? 'it' : 'them'} until {gaveUp.length === 1 ? 'it is' : 'they are'} enabled
          again; deliveries that were waiting then go out. Check its deliveries for the receiver’s answers.
        </div>
      )}
      {!canWrite && (
        <Notice>
          You can see the endpoints, but adding or changing one needs the <code>webhooks:write</code> permission.
        </Notice>
      )}
      {done && <Notice kind="success">{done}</Notice>}
      <ErrorNotice error={list.error ?? toggle.error} />
      {list.loading && !list.items.length ? (
        <Loading label="Loading webhook endpoints…" />
      ) : !list.items.length && !list.error ? (
        <EmptyState title="No webhook endpoints" action={addButton}>
          Add an endpoint to have another system learn when credentials, users or roles change, without polling the audit log.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((w) => (
                <tr key={w.id}>
                  <td data-label="URL">
                    <code>{w.url}</code>
                    {w.description && <div class="sub">{w.description}</div>}
                  </td>
                  <td data-label="Events">{w.event_types.join(', ')}</td>
                  <td data-label="Status">
                    <Badge tone={STATUS[w.status].tone}>{STATUS[w.status].label}</Badge>
                    {w.disabled_reason === 'failing' && <div class="sub">Gave up {relative(w.disabled_at)}</div>}
                    {w.status === 'failing' && <div class="sub">Since {relative(w.failing_since)}</div>}
                  </td>
                  <td class="nowrap" data-label="Created">
                    {formatDateTime(w.created_at)}
                  </td>
                  <td data-label="Actions">
                    <RowMenu label={`Actions for ${w.url}`}>
                      <Button variant="ghost" onClick={() => setViewing(w)} aria-label={`Deliveries to ${w.url}`}>
                        Deliveries
                      </Button>
                      <Button
                        variant="ghost"
                        disabled={!canWrite || toggle.busy}
                        title={writeTitle}
                        aria-label={`${w.enabled ? 'Disable' : 'Enable'} ${w.url}`}
                        onClick={async () => {
                          const changed = await toggle.run(w);
                          if (!changed) return;
                          list.replace((x) => x.id === w.id, changed);
                          setDone(changed.enabled ? `${w.url} is enabled; deliveries that waited are being sent.` : `${w.url} is disabled; nothing is sent to it.`);
                        }}
                      >
                        {w.enabled ? 'Disable' : 'Enable'}
                      </Button>
                      <Button variant="ghost" disabled={!canWrite} title={writeTitle} onClick={() => setRotating(w)} aria-label={`Rotate the secret of ${w.url}`}>
                        Rotate secret
                      </Button>
                      <Button variant="ghost" disabled={!canWrite} title={writeTitle} onClick={() => setDeleting(w)} aria-label={`Delete ${w.url}`}>
                        Delete
                      </Button>
                    </RowMenu>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton next={list.next} busy={list.loading} onMore={() => void list.more()} />

      {adding && (
        <AddDialog
          onClose={() => setAdding(false)}
          onAdded={(endpoint) => {
            setAdding(false);
            setShown({ endpoint, rotated: false });
            list.reload();
          }}
        />
      )}
      {rotating && (
        <ConfirmDialog
          title="Rotate signing secret"
          confirmLabel="Rotate secret"
          busyLabel="Rotating…"
          danger={false}
          action={() => api.post<WebhookCreated>(`/webhooks/${rotating.id}/secret`, {})}
          onClose={() => setRotating(undefined)}
          onDone={(endpoint) => {
            setRotating(undefined);
            setShown({ endpoint, rotated: true });
            list.replace((x) => x.id === endpoint.id, endpoint);
          }}
        >
          <p>
            A new secret is made and shown once. For one day each delivery carries a signature with the old secret too, so the receiver can switch over without refusing any.
          </p>
        </ConfirmDialog>
      )}
      {shown && <SecretShownOnce endpoint={shown.endpoint} rotated={shown.rotated} onDone={() => setShown(undefined)} />}
      {deleting && (
        <ConfirmDialog
          title="Delete endpoint"
          confirmLabel="Delete endpoint"
          busyLabel="Deleting…"
          action={() => api.delete(`/webhooks/${deleting.id}`)}
          onClose={() => setDeleting(undefined)}
          onDone={() => {
            setDone(`${deleting.url} was deleted.`);
            list.replace((x) => x.id === deleting.id, undefined);
            setDeleting(undefined);
          }}
        >
          <p>
            <code>{deleting.url}</code> stops receiving events at once. Deliveries waiting for it and their history are deleted too. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
      {viewing && <DeliveriesDialog endpoint={viewing} onClose={() => setViewing(undefined)} />}
    </>
  );
}

function AddDialog({ onClose, onAdded }: { onClose(): void; onAdded(endpoint: WebhookCreated): void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('');
  const [description, setDescription] = useState('');
  const eventTypes = events.split(/[\s,]+/).filter(Boolean);
  const add = useAction(() => api.post<WebhookCreated>('/webhooks', { url, event_types: eventTypes, description }));
  const value = (set: (v: string) => void) => (e: Event) => set((e.currentTarget as HTMLInputElement).value);
  return (
    <Dialog
      title="Add webhook endpoint"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant="primary"
            busy={add.busy}
            busyLabel="Adding…"
            disabled={!url || !eventTypes.length}
            onClick={async () => {
              const created = await add.run();
              if (created) onAdded(created);
            }}
          >
            Add endpoint
          </Button>
        </>
      }
    >
      <Field id="webhook-url" label="URL" hint="https, or http to localhost. Each event is POSTed here as JSON." error={add.error?.field === 'url' ? add.error.message : undefined}>
        <input id="webhook-url" type="url" value={url} onInput={value(setUrl)} placeholder="https://hooks.example.com/gatehouse" autocomplete="off" />
      </Field>
      <Field
        id="webhook-events"
        label="Events"
        hint={
          <>
            Audit event types, separated by spaces or commas: exact (<code>api_key.revoked</code>), every one of a kind (<code>client.*</code>), or <code>*</code> for all.
          </>
        }
        error={add.error?.field?.startsWith('event_types') ? add.error.message : undefined}
      >
        <input id="webhook-events" type="text" value={events} onInput={value(setEvents)} placeholder="client.*, api_key.revoked" autocomplete="off" />
      </Field>
      <Field id="webhook-description" label="Description (optional)">
        <input id="webhook-description" type="text" value={description} onInput={value(setDescription)} autocomplete="off" />
      </Field>
      {!add.error?.field && <ErrorNotice error={add.error} title="The endpoint was not added." />}
    </Dialog>
  );
}

function SecretShownOnce({ endpoint, rotated, onDone }: { endpoint: WebhookCreated; rotated: boolean; onDone(): void }) {
  return (
    <Dialog
      title={rotated ? 'New signing secret' : 'Endpoint added'}
      dismissible={false}
      onClose={onDone}
      footer={
        <Button variant="primary" onClick={onDone}>
          Done
        </Button>
      }
    >
      <p>
        Deliveries to <code>{endpoint.url}</code> are signed with this secret. Give it to the receiver to verify the <code>webhook-signature</code> header. It is shown only
        now: Gatehouse keeps it sealed and cannot show it again.
      </p>
      <CopyField id="webhook-secret" label="Signing secret" value={endpoint.secret} secret />
      {rotated && endpoint.previous_secret_expires_at && (
        <Notice>The old secret keeps signing beside this one until {formatDateTime(endpoint.previous_secret_expires_at)}.</Notice>
      )}
    </Dialog>
  );
}

const STATE = {
  pending: { tone: 'info', label: 'Waiting to retry' },
  delivering: { tone: 'info', label: 'Sending' },
  delivered: { tone: 'success', label: 'Delivered' },
  failed: { tone: 'danger', label: 'Gave up' },
} as const;

function DeliveriesDialog({ endpoint, onClose }: { endpoint: Webhook; onClose(): void }) {
  const list = usePaged<WebhookDelivery>(`/webhooks/${endpoint.id}/deliveries?limit=20`);
  return (
    <Dialog title="Deliveries" description={<code>{endpoint.url}</code>} onClose={onClose} size="large">
      <ErrorNotice error={list.error} />
      {list.loading && !list.items.length ? (
        <Loading label="Loading deliveries…" />
      ) : !list.items.length ? (
        <p class="muted">Nothing has been sent to this endpoint yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((d) => (
                <tr key={d.id}>
                  <td data-label="Event">
                    {d.event_type}
                    <div class="sub">
                      <code>{d.id}</code> · {formatDateTime(d.created_at)}
                    </div>
                  </td>
                  <td data-label="State">
                    <Badge tone={STATE[d.state].tone}>{STATE[d.state].label}</Badge>
                    {d.next_attempt_at && <div class="sub">Next try {relative(d.next_attempt_at)}</div>}
                  </td>
                  <td data-label="Attempts">
                    <ol class="attempts">
                      {d.attempt_log.map((a) => (
                        <li key={a.attempt}>
                          {formatDateTime(a.started_at)}: {a.status ?? 'no answer'}
                          {a.error && a.status === null ? ` (${a.error})` : ''}, {a.duration_ms} ms
                        </li>
                      ))}
                    </ol>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton next={list.next} busy={list.loading} onMore={() => void list.more()} />
    </Dialog>
  );
}
