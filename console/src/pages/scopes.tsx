import { PAGE_SIZE } from '../../../server/services/limits.js';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { Button, EmptyState, ErrorNotice, Loading, NeedsPermission, PageHeader } from '../components/ui.js';
import { Toast } from '../components/toast.js';
import { useLeaveGuard } from '../leave-guard.js';
import { lacking, notHeld, whyNotChangeable } from '../delegation.js';
import { useAction, useLoad } from '../hooks.js';
import { Link } from '../router.js';
import { useSession } from '../session.js';
import type { Api, Client, Page } from '../types.js';
import { SpansApisNote } from './credential-usage.js';
import { apisInPickerOrder, GroupCheckbox } from '../components/scope-picker.js';

const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

/**
 * "Set all to read-only": every selected `resource:action` that is not a read becomes
 * `resource:read`, where the API defines one; otherwise it is dropped.
 */
export function readOnly(selected: Set<string>, defined: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const scope of selected) {
    const [resource, action] = scope.split(':');
    if (action === 'read') out.add(scope);
    else if (defined.has(`${resource}:read`)) out.add(`${resource}:read`);
  }
  return out;
}

/** Edit scopes: what a credential's tokens may carry, grouped by API. Saving applies at the next token request. */
export function ScopesPage({ clientId }: { clientId: string }) {
  const { can, me } = useSession();
  const loaded = useLoad(
    async () => {
      const [client, apis] = await Promise.all([api.get<Client>(`/clients/${encodeURIComponent(clientId)}`), api.get<Page<Api>>(`/apis?limit=${PAGE_SIZE.max}`)]);
      return { client, apis: apis.data };
    },
    [clientId],
  );
  const [saved, setSaved] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<string | undefined>();
  const defined = useMemo(() => new Set(loaded.data?.apis.flatMap((a) => a.scopes.map((s) => s.name)) ?? []), [loaded.data]);

  useEffect(() => {
    if (!loaded.data) return;
    const current = new Set(loaded.data.client.scope.split(' ').filter((s) => defined.has(s)));
    setSaved(current);
    setSelected(new Set(current));
  }, [loaded.data, defined]);

  const save = useAction(async () => {
    const client = loaded.data!.client;
    // Identity scopes (openid, email…) and anything no API defines are kept as they are.
    const others = client.scope.split(' ').filter((s) => s && !defined.has(s));
    const scope = [...others, ...[...selected].sort()].join(' ');
    const updated = await api.patch<Client>(`/clients/${encodeURIComponent(clientId)}`, { scope });
    const now = new Set(updated.scope.split(' ').filter((s) => defined.has(s)));
    setSaved(now);
    setSelected(new Set(now));
    setMessage(`Saved. The next token ${updated.client_name ?? clientId} requests carries ${now.size === 1 ? 'this scope' : `these ${now.size} scopes`}.`);
  });

  const dirty = !sameSet(saved, selected);
  useLeaveGuard(dirty, 'You have unsaved scope changes. Leave this page and lose them?');

  if (!can('clients:read')) return <NeedsPermission permission="clients:read" what="see API credentials" />;
  if (loaded.loading && !loaded.data) return <Loading label="Loading scopes…" />;
  if (loaded.error || !loaded.data) return <ErrorNotice error={loaded.error} />;

  const { client, apis } = loaded.data;
  const name = client.client_name ?? client.client_id;
  const toggle = (scope: string, on: boolean) => {
    setMessage(undefined);
    setSelected((before) => {
      const next = new Set(before);
      if (on) next.add(scope);
      else next.delete(scope);
      return next;
    });
  };
  // What the delegation rule holds back (GET /me may_confer): shown, but not offered, with the reason.
  const unavailable = (scope: string) => {
    const missing = lacking(me, apis, [scope]);
    return missing.length ? notHeld(missing) : undefined;
  };
  const toggleGroup = (group: Api, on: boolean) => {
    setMessage(undefined);
    setSelected((before) => {
      const next = new Set(before);
      for (const s of group.scopes) if (!unavailable(s.name)) on ? next.add(s.name) : next.delete(s.name);
      return next;
    });
  };
  const readOnlyVersion = readOnly(selected, defined);
  // The order of every scope editor (components/scope-picker.tsx): the Management API last.
  const groups = apisInPickerOrder(apis);
  // Not yours without clients:admin, or holding what you do not hold: read-only (services/clients.ts).
  const beyond = lacking(me, apis, client.scope.split(' '));
  const locked = whyNotChangeable(me, client) ?? (beyond.length ? `${notHeld(beyond)}, which ${name} holds, so you cannot change its scopes` : undefined);
  const editable = !locked;

  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <Link href="/console/">API Access</Link> › <Link href={`/console/credentials/${encodeURIComponent(clientId)}`}>{name}</Link> › Scopes
      </nav>
      <PageHeader
        title={`Scopes of ${name}`}
        description="Choose what this credential's tokens may do. Changes apply to the next token it requests, on every Gatehouse node; tokens already issued keep their scopes until they expire."
        actions={
          <Button onClick={() => setSelected(readOnlyVersion)} disabled={!editable || sameSet(readOnlyVersion, selected)}>
            Set all to read-only
          </Button>
        }
      />
      {!can('clients:write') ? (
        <NeedsPermission permission="clients:write" what="change scopes" />
      ) : (
        locked && (
          <div class="notice notice-warning" role="note">
            <strong>Read-only for you.</strong> {locked}.
          </div>
        )
      )}
      <SpansApisNote selected={selected} apis={apis} />
      {groups.length === 0 ? (
        <EmptyState title="No APIs registered">
          Scopes belong to APIs. <Link href="/console/apis">Register an API</Link> with its scopes first.
        </EmptyState>
      ) : (
        groups.map((group) => {
          const count = group.scopes.filter((s) => selected.has(s.name)).length;
          // Select-all counts only what may be chosen: the scopes the rule holds back stay as they are.
          const offered = group.scopes.filter((s) => !unavailable(s.name));
          return (
            <section class="scope-group" key={group.id} aria-label={group.name}>
              <div class="scope-group-head">
                <GroupCheckbox
                  name={group.name}
                  selected={offered.filter((s) => selected.has(s.name)).length}
                  total={offered.length}
                  disabled={!editable || !offered.length}
                  onToggle={(all) => toggleGroup(group, all)}
                />
                <span class="scope-count">
                  {count} of {group.scopes.length} selected · <code>{group.identifier}</code>
                </span>
              </div>
              <ul class="scope-list">
                {group.scopes.map((s) => {
                  const why = unavailable(s.name);
                  const whyId = `scope-why-${group.id}-${s.name}`;
                  return (
                    <li key={s.name} class={why ? 'scope-unavailable' : undefined}>
                      <label class="check">
                        <input
                          type="checkbox"
                          checked={selected.has(s.name)}
                          disabled={!editable || Boolean(why)}
                          aria-describedby={why ? whyId : undefined}
                          onChange={(e) => toggle(s.name, (e.currentTarget as HTMLInputElement).checked)}
                        />
                        <span>
                          <code>{s.name}</code>
                          {s.description && <span class="desc">{s.description}</span>}
                          {why && (
                            <span class="desc" id={whyId}>
                              {why}
                            </span>
                          )}
                        </span>
                      </label>
                    </li>
                  );
                })}
              </ul>
            </section>
          );
        })
      )}
      <div class="sticky-actions">
        <span class="status-text" aria-live="polite">
          {dirty ? `${selected.size} scopes selected · unsaved changes` : `${selected.size} scopes selected`}
        </span>
        <Button onClick={() => setSelected(new Set(saved))} disabled={!dirty || save.busy}>
          Discard changes
        </Button>
        <Button variant="primary" onClick={() => void save.run()} busy={save.busy} busyLabel="Saving…" disabled={!editable || !dirty}>
          Save scopes
        </Button>
      </div>
      <Toast message={dirty ? undefined : message} onDone={() => setMessage(undefined)} />
      <ErrorNotice error={save.error} title="Not saved." />
    </>
  );
}
