import { api } from '../api.js';
import { Badge, Button, EmptyState, ErrorNotice, Loading, PageHeader, RequirePermission } from '../components/ui.js';
import { formatDateTime, relative } from '../format.js';
import { useLoad } from '../hooks.js';
import type { SsfStream } from '../types.js';
import { IdCell } from '../components/id-cell.js';

/**
 * Resource servers that receive revocations through Shared Signals streams (SSF 1.0): each stream,
 * its receiver, how events reach it, the last one delivered and how far behind it is. Listing needs
 * clients:read: every stream belongs to a client.
 */
export function ResourceServersPage() {
  return (
    <RequirePermission permission="clients:read" title="Resource servers" what="see the resource servers’ event streams">
      <StreamList />
    </RequirePermission>
  );
}

const STATUS_TONES = { enabled: 'success', paused: 'warning', disabled: 'neutral' } as const;

function StreamList() {
  const list = useLoad(() => api.get<{ data: SsfStream[] }>('/ssf-streams'), []);
  const streams = list.data?.data ?? [];
  return (
    <>
      <PageHeader
        title="Resource servers"
        description={
          <>
            Resource servers that follow revocations through a Shared Signals stream refuse revoked tokens within a second instead of when they expire.
            Metadata for receivers is at <code>/.well-known/ssf-configuration</code>.
          </>
        }
        actions={<Button onClick={list.reload} busy={list.loading} busyLabel="Refreshing…">Refresh</Button>}
      />
      <ErrorNotice error={list.error} />
      {list.loading && !list.data ? (
        <Loading label="Loading streams…" />
      ) : !streams.length ? (
        <EmptyState title="No streams yet">
          A resource server opens one with a client granted <code>ssf:stream</code>; see the README’s “When a revocation reaches a resource server”.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Receiver</th>
                <th scope="col">Delivery</th>
                <th scope="col">Status</th>
                <th scope="col">Last event delivered</th>
                <th scope="col">Last contact</th>
                <th scope="col">Lag</th>
              </tr>
            </thead>
            <tbody>
              {streams.map((s) => (
                <tr key={s.stream_id}>
                  <td data-label="Receiver">
                    <IdCell id={s.client_id} copyLabel={`Copy client ID ${s.client_id}`} />
                    {s.description && <span class="sub"> {s.description}</span>}
                  </td>
                  <td data-label="Delivery">
                    {s.delivery_method === 'push' ? <>Push to <code>{s.endpoint_url}</code></> : 'Poll'}
                  </td>
                  <td data-label="Status">
                    <Badge tone={STATUS_TONES[s.status]}>{s.status}</Badge>
                  </td>
                  <td class="nowrap" data-label="Last event delivered" title={formatDateTime(s.last_delivered_at)}>
                    {s.last_delivered_event ? `#${s.last_delivered_event}, ${relative(s.last_delivered_at)}` : 'None yet'}
                  </td>
                  <td class="nowrap" data-label="Last contact" title={formatDateTime(s.last_contact_at)}>
                    {s.last_contact_at ? relative(s.last_contact_at) : 'Never'}
                  </td>
                  <td class="nowrap" data-label="Lag">
                    {s.pending_events ? (
                      <Badge tone={s.lag_seconds > 5 ? 'danger' : 'warning'}>
                        {s.pending_events} pending, {s.lag_seconds} s
                      </Badge>
                    ) : (
                      <Badge tone="success">Up to date</Badge>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
