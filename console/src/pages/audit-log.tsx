import { useState } from 'preact/hooks';
import { query } from '../api.js';
import { Badge, Button, EmptyState, ErrorNotice, Loading, MoreButton, PageHeader, RequirePermission } from '../components/ui.js';
import { formatDateTime, relative } from '../format.js';
import { usePaged } from '../paged.js';
import type { AuditEvent } from '../types.js';
import { EventDetails } from './audit-details.js';
import { Who } from './audit-who.js';

const COMMON_TYPES = ['client.*', 'user.*', 'api_key.*', 'role.*', 'api.*', 'login.*', 'keys.*'];

interface Filters {
  type: string;
  actor: string;
  since: string;
}

const fromUrl = (): Filters => {
  const p = new URLSearchParams(window.location.search);
  return { type: p.get('type') ?? '', actor: p.get('actor') ?? '', since: p.get('since') ?? '' };
};

/** The audit log, newest first: filtered by type, actor and date; the filters live in the URL to share a view. */
export function AuditPage() {
  return (
    <RequirePermission permission="audit:read" title="Audit log" what="read the audit log">
      <AuditLog />
    </RequirePermission>
  );
}

function AuditLog() {
  const [draft, setDraft] = useState<Filters>(fromUrl);
  const [applied, setApplied] = useState<Filters>(fromUrl);
  const list = usePaged<AuditEvent>(`/audit-events${query({ type: applied.type.trim(), actor: applied.actor.trim(), since: startOfLocalDay(applied.since), limit: 50 })}`);
  const apply = (f: Filters) => {
    setApplied(f);
    history.replaceState(null, '', `/console/audit${query({ type: f.type.trim(), actor: f.actor.trim(), since: f.since })}`);
  };
  const filtered = Boolean(applied.type || applied.actor || applied.since);
  return (
    <>
      <PageHeader title="Audit log" description="Every change to credentials, APIs, users, roles and keys, sign-ins and refused token requests, newest first. The log cannot be edited." />
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <div class="field">
          <label for="audit-type">Event type</label>
          <input id="audit-type" type="text" list="audit-types" placeholder="client.created or client.*" value={draft.type} onInput={(e) => setDraft({ ...draft, type: (e.currentTarget as HTMLInputElement).value })} />
          <datalist id="audit-types">
            {COMMON_TYPES.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </div>
        <div class="field">
          <label for="audit-actor">Actor</label>
          <input id="audit-actor" type="text" placeholder="Email, user id, key id or client ID" value={draft.actor} onInput={(e) => setDraft({ ...draft, actor: (e.currentTarget as HTMLInputElement).value })} />
        </div>
        <div class="field">
          <label for="audit-since">Since</label>
          <input id="audit-since" type="date" value={draft.since} onInput={(e) => setDraft({ ...draft, since: (e.currentTarget as HTMLInputElement).value })} />
        </div>
        <Button type="submit" variant="primary">
          Apply filters
        </Button>
        {filtered && (
          <Button
            onClick={() => {
              const empty = { type: '', actor: '', since: '' };
              setDraft(empty);
              apply(empty);
            }}
          >
            Clear
          </Button>
        )}
      </form>
      <ErrorNotice error={list.error} />
      {list.loading && !list.items.length ? (
        <Loading label="Loading events…" />
      ) : list.items.length === 0 && !list.error ? (
        <EmptyState title={filtered ? 'No events match' : 'No events yet'}>{filtered ? 'Nothing in the log matches these filters.' : 'Events appear here as soon as anything changes.'}</EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="responsive">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((e) => (
                <tr key={e.id}>
                  <td class="nowrap" data-label="Time">
                    {formatDateTime(e.occurred_at)}
                    <span class="sub">{relative(e.occurred_at)}</span>
                  </td>
                  <td data-label="Event">
                    <Badge tone={/refused|failed/.test(e.type) ? 'danger' : 'neutral'}>{e.type}</Badge>
                  </td>
                  <td data-label="Actor">
                    <Who who={e.actor} display={e.actor_display} />
                    {e.actor.ip && <span class="sub">from {e.actor.ip}</span>}
                  </td>
                  <td data-label="Target">{e.target ? <Who who={e.target} display={e.target_display} /> : <span class="muted">—</span>}</td>
                  <td data-label="Details">
                    <EventDetails data={e.data} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MoreButton next={list.next} busy={list.loading} onMore={list.more} />
    </>
  );
}

/**
 * A date input gives YYYY-MM-DD; the API reads a bare date as midnight UTC. "Since Monday" means
 * the start of Monday where the person is, so send that instant.
 */
function startOfLocalDay(date: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const start = new Date(`${date}T00:00`);
  return Number.isNaN(start.getTime()) ? undefined : start.toISOString();
}
