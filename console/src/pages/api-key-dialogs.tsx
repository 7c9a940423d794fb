import { NAME_MAX, PAGE_SIZE } from '../../../server/services/limits.js';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { Dialog } from '../components/dialog.js';
import { offerOnlyConferrable, ScopePicker, scopeGroups } from '../components/scope-picker.js';
import { CopyField } from '../components/secret.js';
import { Button, ErrorNotice, Field, Loading, Notice } from '../components/ui.js';
import { EXPIRY_CHOICES, formatDate, lines } from '../format.js';
import { useAction, useLoad } from '../hooks.js';
import { useSession } from '../session.js';
import type { Api, ApiKey, ApiKeyCreated, KeyRevealStatement, Page } from '../types.js';

// The dialogs of the API keys pages: create (and show once), roll, edit, disable or enable, revoke.

/** How long the current value keeps working after a roll (the server allows up to 30 days). */
const ROLL_OVERLAPS = [
  { label: 'Now (stops at once)', seconds: 0 },
  { label: '1 hour', seconds: 3600 },
  { label: '24 hours', seconds: 86400 },
  { label: '7 days', seconds: 7 * 86400 },
];

/** Why the dialog cannot be submitted yet, said beside its disabled button. */
const whatIsMissing = (name: string, scopes: Set<string>) => (!name.trim() ? 'Give the key a name.' : scopes.size === 0 ? 'Choose at least one scope.' : undefined);

export function CreateKeyDialog({ onClose, onCreated }: { onClose(): void; onCreated(key: ApiKeyCreated): void }) {
  const apis = useLoad(() => api.get<Page<Api>>(`/apis?limit=${PAGE_SIZE.max}`), []);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Set<string>>(new Set());
  const [expiry, setExpiry] = useState('90d');
  const [environment, setEnvironment] = useState<'live' | 'test'>('live');
  const [allowlist, setAllowlist] = useState('');
  const create = useAction(() =>
    api.post<ApiKeyCreated>('/api-keys', {
      name: name.trim(),
      scopes: [...scopes],
      environment,
      ip_allowlist: lines(allowlist),
      // No expires_in is the API's "never expires".
      ...(expiry === 'never' ? {} : { expires_in: expiry }),
    }),
  );
  // The API names a list entry by its index (ip_allowlist.1); the message goes under the list.
  const fieldError = (field: string) => (create.error?.field?.split('.')[0] === field ? create.error.message : undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    const key = await create.run();
    if (key) onCreated(key);
  };
  const missing = whatIsMissing(name, scopes);
  return (
    <Dialog
      title="Create API key"
      description="The key is shown once, right after you create it. It can never do more than your roles allow."
      onClose={onClose}
      size="large"
      footer={
        <>
          {missing && <span class="key-missing muted">{missing}</span>}
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="create-key-form" busy={create.busy} busyLabel="Creating…" disabled={Boolean(missing)}>
            Create API key
          </Button>
        </>
      }
    >
      <form id="create-key-form" onSubmit={submit} noValidate>
        <Field id="key-name" label="Name" hint="What will use it, e.g. “CI deploys”." error={fieldError('name')}>
          <input id="key-name" type="text" maxLength={NAME_MAX} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </Field>
        {apis.loading ? (
          <Loading label="Loading scopes…" />
        ) : (
          apis.data && <KeyScopes apis={apis.data.data} selected={scopes} onChange={setScopes} />
        )}
        <Field id="key-expiry" label="Expires" error={fieldError('expires_in')}>
          <select id="key-expiry" value={expiry} onChange={(e) => setExpiry((e.currentTarget as HTMLSelectElement).value)}>
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.label} value={c.value ?? 'never'}>
                {c.value ? `In ${c.label}` : 'Never'}
              </option>
            ))}
          </select>
        </Field>
        <EnvironmentChoice value={environment} onChange={setEnvironment} />
        <Field id="key-allowlist" label="IP allowlist" hint="Addresses or CIDR ranges, one per line (203.0.113.0/24). Empty: the key works from any address." error={fieldError('ip_allowlist')}>
          <textarea id="key-allowlist" value={allowlist} onInput={(e) => setAllowlist((e.currentTarget as HTMLTextAreaElement).value)} />
        </Field>
        <ErrorNotice error={apis.error} title="Could not load the scopes to choose from." />
        {create.error && !['name', 'expires_in', 'ip_allowlist'].some((f) => fieldError(f)) && <ErrorNotice error={create.error} title="The key was not created." />}
      </form>
    </Dialog>
  );
}

function EnvironmentChoice({ value, onChange }: { value: 'live' | 'test'; onChange(v: 'live' | 'test'): void }) {
  const options = [
    { value: 'live' as const, label: 'Live', hint: 'For production. The key starts with ak_live_.' },
    { value: 'test' as const, label: 'Test', hint: 'For development and CI. The key starts with ak_test_, so it is easy to tell apart.' },
  ];
  return (
    <fieldset>
      <legend>Environment</legend>
      <div class="choices">
        {options.map((o) => (
          <label class="choice" key={o.value} for={`key-env-${o.value}`}>
            <input id={`key-env-${o.value}`} type="radio" name="key-environment" value={o.value} checked={value === o.value} onChange={() => onChange(o.value)} />
            <div>
              <strong>{o.label}</strong>
              <span>{o.hint}</span>
            </div>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/**
 * Scopes grouped by API. A key never gets a permission its creator does not hold (the delegation
 * rule): those of the Management API and of APIs that enforce roles are shown but cannot be chosen.
 */
function KeyScopes({ apis, selected, onChange }: { apis: Api[]; selected: Set<string>; onChange(next: Set<string>): void }) {
  const { me } = useSession();
  const groups = offerOnlyConferrable(scopeGroups(apis), me, apis);
  return <ScopePicker idPrefix="key-scope" legend="Scopes" hint="What the key may do. Choose the fewest that work; “Read-only” picks an API’s read scopes." groups={groups} selected={selected} onChange={onChange} presets />;
}

/**
 * The key, once: the server keeps only its digest, so it cannot be shown again. When an
 * administrator has set a statement (GET /settings/key-reveal-statement), the key is not put in the
 * page until the person has ticked that they agree to it.
 */
export function KeyShownOnce({ created, onDone, title = 'API key created' }: { created: ApiKeyCreated; onDone(): void; title?: string }) {
  const [saved, setSaved] = useState(false);
  const [agreed, setAgreed] = useState(false);
  const statement = useLoad(() => api.get<KeyRevealStatement>('/settings/key-reveal-statement'), []);
  const mustAgree = Boolean(statement.data?.statement);
  const revealed = !statement.loading && (!mustAgree || agreed);
  return (
    <Dialog
      title={title}
      onClose={onDone}
      // Escape must not throw the key away before the person has confirmed they kept it.
      dismissible={false}
      footer={
        <Button variant="primary" disabled={!saved} onClick={onDone} title={saved ? undefined : 'Tick “I have saved my key securely” first'}>
          Done
        </Button>
      }
    >
      <Notice kind="warning">
        <strong>Copy this key now. It will not be shown again.</strong> If it is lost, revoke it and create another.
      </Notice>
      {statement.loading && <Loading label="Loading…" />}
      {mustAgree && (
        <div class="key-statement" role="group" aria-labelledby="key-statement-title">
          <p id="key-statement-title">
            <strong>Before you see the key</strong>
          </p>
          <blockquote class="key-statement-text">{statement.data!.statement}</blockquote>
          <label class="check" for="key-agree">
            <input id="key-agree" type="checkbox" checked={agreed} disabled={agreed} onChange={(e) => setAgreed((e.currentTarget as HTMLInputElement).checked)} />
            I agree to this statement
          </label>
        </div>
      )}
      {revealed && (
        <>
          <CopyField id="created-api-key" label="API key" value={created.key} secret />
          <p class="hint">
            Send it as <code>Authorization: Bearer {created.prefix}…</code>. It has {created.scopes.length === 1 ? 'one scope' : `${created.scopes.length} scopes`} and{' '}
            {created.expires_at ? `expires on ${formatDate(created.expires_at)}` : 'does not expire'}.
          </p>
          <label class="check key-saved" for="key-saved">
            <input id="key-saved" type="checkbox" checked={saved} onChange={(e) => setSaved((e.currentTarget as HTMLInputElement).checked)} />
            I have saved my key securely
          </label>
        </>
      )}
    </Dialog>
  );
}

export function RevokeKeyDialog({ apiKey, owner, onClose, onRevoked }: { apiKey: ApiKey; owner?: string; onClose(): void; onRevoked(): void }) {
  return (
    <ConfirmDialog
      title={`Revoke ${apiKey.name}?`}
      confirmLabel="Revoke key"
      busyLabel="Revoking…"
      action={() => api.delete(`/api-keys/${encodeURIComponent(apiKey.id)}`)}
      onDone={onRevoked}
      onClose={onClose}
    >
      <p>
        <strong>This cannot be undone.</strong> Anything using this key stops working immediately.
      </p>
      <p class="muted">
        <code>{apiKey.prefix}…</code>
        {owner && <> belongs to {owner}.</>}
      </p>
    </ConfirmDialog>
  );
}

/** Name and scopes. The environment and expiry are fixed at creation, as for a credential's type. */
export function EditKeyDialog({ apiKey, onClose, onSaved }: { apiKey: ApiKey; onClose(): void; onSaved(key: ApiKey): void }) {
  const apis = useLoad(() => api.get<Page<Api>>(`/apis?limit=${PAGE_SIZE.max}`), []);
  const [name, setName] = useState(apiKey.name);
  const [scopes, setScopes] = useState<Set<string>>(new Set(apiKey.scopes));
  const save = useAction(() => api.patch<ApiKey>(`/api-keys/${encodeURIComponent(apiKey.id)}`, { name: name.trim(), scopes: [...scopes] }));
  const submit = async (e: Event) => {
    e.preventDefault();
    const key = await save.run();
    if (key) onSaved(key);
  };
  const missing = whatIsMissing(name, scopes);
  return (
    <Dialog
      title={`Edit ${apiKey.name}`}
      description="Changes apply to the key's next request. The key itself stays the same."
      onClose={onClose}
      size="large"
      footer={
        <>
          {missing && <span class="key-missing muted">{missing}</span>}
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="edit-key-form" busy={save.busy} busyLabel="Saving…" disabled={Boolean(missing)}>
            Save key
          </Button>
        </>
      }
    >
      <form id="edit-key-form" onSubmit={submit} noValidate>
        <Field id="edit-key-name" label="Name" error={save.error?.field === 'name' ? save.error.message : undefined}>
          <input id="edit-key-name" type="text" maxLength={NAME_MAX} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </Field>
        {apis.loading ? <Loading label="Loading scopes…" /> : apis.data && <KeyScopes apis={apis.data.data} selected={scopes} onChange={setScopes} />}
        <ErrorNotice error={apis.error} title="Could not load the scopes to choose from." />
        {save.error && save.error.field !== 'name' && <ErrorNotice error={save.error} title="The changes were not saved." />}
      </form>
    </Dialog>
  );
}

/** Disabling stops a key at once but keeps it, so it can be enabled again (unlike revoking). */
export function ToggleKeyDialog({ apiKey, onClose, onDone }: { apiKey: ApiKey; onClose(): void; onDone(key: ApiKey): void }) {
  const disabling = apiKey.enabled;
  return (
    <ConfirmDialog
      title={`${disabling ? 'Disable' : 'Enable'} ${apiKey.name}?`}
      confirmLabel={disabling ? 'Disable key' : 'Enable key'}
      busyLabel={disabling ? 'Disabling…' : 'Enabling…'}
      danger={disabling}
      action={() => api.patch<ApiKey>(`/api-keys/${encodeURIComponent(apiKey.id)}`, { enabled: !disabling })}
      onDone={onDone}
      onClose={onClose}
    >
      {disabling ? (
        <p>Anything using this key stops working immediately. The key is kept, so you can enable it again later; revoke it instead if it may have leaked.</p>
      ) : (
        <p>The key works again, with its scopes, as soon as you enable it.</p>
      )}
    </ConfirmDialog>
  );
}

/**
 * Rolling: a new value for the same key (name, scopes, settings), shown once; the current value keeps
 * working for the chosen overlap so that everything using it can switch first. "Now" is for a key
 * that leaked.
 */
export function RollKeyDialog({ apiKey, onClose, onRolled }: { apiKey: ApiKey; onClose(): void; onRolled(key: ApiKeyCreated): void }) {
  const [overlap, setOverlap] = useState(86400);
  const roll = useAction(() => api.post<ApiKeyCreated>(`/api-keys/${encodeURIComponent(apiKey.id)}/roll`, { overlap_seconds: overlap }));
  const submit = async (e: Event) => {
    e.preventDefault();
    const key = await roll.run();
    if (key) onRolled(key);
  };
  return (
    <Dialog
      title={`Roll ${apiKey.name}?`}
      description="A new value is issued and shown once. Everything else about the key stays the same."
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="roll-key-form" busy={roll.busy} busyLabel="Rolling…">
            Roll key
          </Button>
        </>
      }
    >
      <form id="roll-key-form" onSubmit={submit} noValidate>
        <Field id="roll-overlap" label="Current value keeps working for" hint="Long enough to put the new value everywhere that uses this key. Choose “Now” if it may have leaked.">
          <select id="roll-overlap" value={overlap} onChange={(e) => setOverlap(Number((e.currentTarget as HTMLSelectElement).value))}>
            {ROLL_OVERLAPS.map((o) => (
              <option key={o.seconds} value={o.seconds}>
                {o.label}
              </option>
            ))}
          </select>
        </Field>
        <ErrorNotice error={roll.error} title="The key was not rolled." />
      </form>
    </Dialog>
  );
}
