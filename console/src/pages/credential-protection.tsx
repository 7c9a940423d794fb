import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { disabledBecause } from '../delegation.js';
import { Button, ErrorNotice } from '../components/ui.js';
import { useAction } from '../hooks.js';
import type { Client, ClientUpdate } from '../types.js';

type Setting = 'require_pkce' | 'require_pushed_authorization_requests' | 'dpop_bound_access_tokens';

/** What each setting asks of the application, in words, and when it applies. */
const SETTINGS: { key: Setting; id: string; label: string; hint: string; signsIn: boolean }[] = [
  {
    key: 'require_pkce',
    id: 'protection-pkce',
    label: 'Require PKCE',
    hint: 'Authorization requests must carry a code_challenge (S256). Always on for single-page and native apps, which have no secret.',
    signsIn: true,
  },
  {
    key: 'require_pushed_authorization_requests',
    id: 'protection-par',
    label: 'Require pushed authorization requests (PAR)',
    hint: 'The app first posts its request to /oauth/par and sends the browser only the request_uri it gets back.',
    signsIn: true,
  },
  {
    key: 'dpop_bound_access_tokens',
    id: 'protection-dpop',
    label: 'Require DPoP-bound tokens',
    hint: 'Every token request must carry a DPoP proof; its access tokens are then bound to the app’s key (cnf.jkt) and useless without it.',
    signsIn: false,
  },
];

/**
 * PKCE, PAR and DPoP for one credential (RFC 7636, RFC 9126, RFC 9449): shown to everyone who may read
 * it, changed by whoever may change it. `locked` says why the controls are off, as on the rest of
 * the page (the element it points at explains).
 */
export function ProtectionSettings({ client, locked, lockReasonId, onSaved }: { client: Client; locked: string | undefined; lockReasonId: string; onSaved(c: Client): void }) {
  const isPublic = client.token_endpoint_auth_method === 'none';
  const signsIn = client.grant_types.includes('authorization_code');
  const shown = SETTINGS.filter((s) => signsIn || !s.signsIn);
  const [values, setValues] = useState<Record<Setting, boolean>>({
    require_pkce: client.require_pkce,
    require_pushed_authorization_requests: client.require_pushed_authorization_requests,
    dpop_bound_access_tokens: client.dpop_bound_access_tokens,
  });
  const changed = shown.some((s) => values[s.key] !== client[s.key]);
  const save = useAction(async () => {
    const body: ClientUpdate = Object.fromEntries(shown.filter((s) => values[s.key] !== client[s.key]).map((s) => [s.key, values[s.key]]));
    onSaved(await api.patch<Client>(`/clients/${encodeURIComponent(client.client_id)}`, body));
  });
  return (
    <section class="section" aria-labelledby="protection-title">
      <div class="section-head">
        <div>
          <h2 id="protection-title">Request and token protection</h2>
          <p>What this credential’s applications must do when they ask for tokens.</p>
        </div>
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save.run();
        }}
        noValidate
      >
        {shown.map((s) => {
          // PKCE cannot be turned off for a public client (RFC 9700 §2.1.1): shown on, and fixed.
          const fixed = s.key === 'require_pkce' && isPublic;
          return (
            <div class="field" key={s.key}>
              <label class="check" for={s.id}>
                <input
                  id={s.id}
                  type="checkbox"
                  checked={fixed || values[s.key]}
                  disabled={fixed || Boolean(locked)}
                  {...disabledBecause(locked, lockReasonId)}
                  onChange={(e) => setValues({ ...values, [s.key]: (e.currentTarget as HTMLInputElement).checked })}
                />
                {s.label}
              </label>
              <p class="hint">{s.hint}</p>
            </div>
          );
        })}
        <ErrorNotice error={save.error} />
        <div class="form-actions">
          <Button variant="secondary" type="submit" busy={save.busy} busyLabel="Saving…" disabled={Boolean(locked) || !changed} {...disabledBecause(locked, lockReasonId)}>
            Save protection
          </Button>
        </div>
      </form>
    </section>
  );
}
