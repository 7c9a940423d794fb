import { useState } from 'preact/hooks';
import { disabledBecause } from '../delegation.js';
import { api } from '../api.js';
import { Button, ErrorNotice, Field } from '../components/ui.js';
import { useAction } from '../hooks.js';
import { type Jwks, parseKeys } from '../jwks.js';
import type { Client, ClientUpdate } from '../types.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
type Auth = 'secret' | 'keys' | 'keys_uri';

/**
 * How a confidential credential authenticates (a secret, or private_key_jwt with public keys pasted
 * or at a URL), whether people may sign in to it from a device (RFC 8628), and where it hears of
 * their logouts (Back-Channel Logout 1.0).
 */
export function IntegrationSettings({ client, locked, lockReasonId, onSaved }: { client: Client; locked: string | undefined; lockReasonId: string; onSaved(c: Client): void }) {
  const canWrite = !locked;
  const confidential = client.token_endpoint_auth_method !== 'none';
  const signsPeopleIn = client.type !== 'service';
  const [auth, setAuth] = useState<Auth>(client.jwks_uri ? 'keys_uri' : client.jwks ? 'keys' : 'secret');
  const [pasted, setPasted] = useState(client.jwks ? JSON.stringify(client.jwks, null, 2) : '');
  const [parsed, setParsed] = useState<{ jwks?: Jwks; error?: string }>({ jwks: client.jwks ?? undefined });
  const [jwksUri, setJwksUri] = useState(client.jwks_uri ?? '');
  const [device, setDevice] = useState(client.grant_types.includes(DEVICE_GRANT));
  const [logoutUri, setLogoutUri] = useState(client.backchannel_logout_uri ?? '');
  const [sid, setSid] = useState(client.backchannel_logout_session_required);

  const readKeys = async (text: string) => {
    setPasted(text);
    try {
      setParsed({ jwks: await parseKeys(text) });
    } catch (err) {
      setParsed({ error: (err as Error).message });
    }
  };

  const save = useAction(async () => {
    const body: ClientUpdate = {};
    if (confidential) {
      if (auth === 'secret') Object.assign(body, { token_endpoint_auth_method: 'client_secret_basic', jwks: null, jwks_uri: null });
      if (auth === 'keys') Object.assign(body, { token_endpoint_auth_method: 'private_key_jwt', jwks: parsed.jwks, jwks_uri: null });
      if (auth === 'keys_uri') Object.assign(body, { token_endpoint_auth_method: 'private_key_jwt', jwks: null, jwks_uri: jwksUri.trim() });
      if (auth === 'secret' && client.token_endpoint_auth_method.startsWith('client_secret_')) delete body.token_endpoint_auth_method;
    }
    if (signsPeopleIn) {
      const others = client.grant_types.filter((g) => g !== DEVICE_GRANT);
      body.grant_types = (device ? [...others, DEVICE_GRANT] : others) as ClientUpdate['grant_types'];
      body.backchannel_logout_uri = logoutUri.trim() || null;
      body.backchannel_logout_session_required = sid;
    }
    onSaved(await api.patch<Client>(`/clients/${encodeURIComponent(client.client_id)}`, body));
  });
  const err = (field: string) => (save.error?.field?.startsWith(field) ? save.error.message : undefined);
  const shownKeys = auth === 'keys' ? (parsed.jwks?.keys ?? []) : [];

  return (
    <section class="section" aria-labelledby="integrations-title">
      <div class="section-head">
        <div>
          <h2 id="integrations-title">Sign-in and logout</h2>
          <p>How this credential proves who it is, and how it signs people in and out.</p>
        </div>
      </div>
      <form onSubmit={(e) => { e.preventDefault(); void save.run(); }} noValidate>
        {confidential && (
          <fieldset class="field">
            <legend>Client authentication</legend>
            <label class="check"><input type="radio" name="auth" checked={auth === 'secret'} disabled={!canWrite} {...disabledBecause(locked, lockReasonId)} onChange={() => setAuth('secret')} /> Client secret</label>
            <label class="check"><input type="radio" name="auth" checked={auth === 'keys'} disabled={!canWrite} {...disabledBecause(locked, lockReasonId)} onChange={() => setAuth('keys')} /> Private key JWT, with public keys pasted here</label>
            <label class="check"><input type="radio" name="auth" checked={auth === 'keys_uri'} disabled={!canWrite} {...disabledBecause(locked, lockReasonId)} onChange={() => setAuth('keys_uri')} /> Private key JWT, with public keys at a URL (jwks_uri)</label>
          </fieldset>
        )}
        {confidential && auth === 'keys' && (
          <Field id="integration-keys" label="Public key (PEM) or JWKS" hint="Paste -----BEGIN PUBLIC KEY----- … or {&quot;keys&quot;: […]}. Never the private key." error={parsed.error ?? err('jwks')}>
            <textarea id="integration-keys" rows={6} value={pasted} disabled={!canWrite} {...disabledBecause(locked, lockReasonId)} onInput={(e) => void readKeys((e.currentTarget as HTMLTextAreaElement).value)} />
          </Field>
        )}
        {shownKeys.length > 0 && (
          <table class="table keys-table" aria-label="Public keys">
            <thead><tr><th scope="col">Key id</th><th scope="col">Type</th><th scope="col">Algorithm</th></tr></thead>
            <tbody>
              {shownKeys.map((k, i) => (
                <tr key={k.kid ?? i}><td><code>{k.kid ?? '(none)'}</code></td><td>{k.kty}</td><td>{k.alg ?? 'any of RS256, PS256, ES256'}</td></tr>
              ))}
            </tbody>
          </table>
        )}
        {confidential && auth === 'keys_uri' && (
          <Field id="integration-jwks-uri" label="JWKS URL" hint="https; fetched when needed (2.5 s timeout, at most 64 KiB) and cached." error={err('jwks_uri')}>
            <input id="integration-jwks-uri" type="url" value={jwksUri} disabled={!canWrite} {...disabledBecause(locked, lockReasonId)} onInput={(e) => setJwksUri((e.currentTarget as HTMLInputElement).value)} />
          </Field>
        )}
        {signsPeopleIn && (
          <>
            <label class="check">
              <input type="checkbox" checked={device} disabled={!canWrite} {...disabledBecause(locked, lockReasonId)} onChange={(e) => setDevice((e.currentTarget as HTMLInputElement).checked)} /> Devices and command-line tools may sign people in with a code (device authorization, RFC 8628)
            </label>
            <Field id="integration-logout-uri" label="Back-channel logout URL" hint="Gatehouse POSTs a signed logout token here when a person's session ends. Empty: none." error={err('backchannel_logout_uri')}>
              <input id="integration-logout-uri" type="url" value={logoutUri} disabled={!canWrite} {...disabledBecause(locked, lockReasonId)} onInput={(e) => setLogoutUri((e.currentTarget as HTMLInputElement).value)} />
            </Field>
            <label class="check">
              <input type="checkbox" checked={sid} disabled={!canWrite || !logoutUri.trim()} {...disabledBecause(locked, lockReasonId)} onChange={(e) => setSid((e.currentTarget as HTMLInputElement).checked)} /> Logout tokens name the session (sid)
            </label>
          </>
        )}
        {save.error && !['jwks', 'backchannel_logout_uri'].some((f) => save.error!.field?.startsWith(f)) && <ErrorNotice error={save.error} />}
        <div class="form-actions">
          <Button variant="primary" type="submit" busy={save.busy} busyLabel="Saving…" disabled={!canWrite || (auth === 'keys' && !parsed.jwks)} {...disabledBecause(locked, lockReasonId)}>
            Save sign-in settings
          </Button>
        </div>
      </form>
    </section>
  );
}
