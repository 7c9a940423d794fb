import { NAME_MAX } from '../../../server/services/limits.js';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { Button, ErrorNotice, Field } from '../components/ui.js';
import { TYPE_HINTS, TYPE_LABELS } from '../format.js';
import { compact, otherError, redirectProblem, serverProblems } from '../form-checks.js';
import { useAction } from '../hooks.js';
import type { ClientCreated, ClientType } from '../types.js';

const TYPES: ClientType[] = ['service', 'web', 'spa', 'native'];

/**
 * Step one of a new credential: a name and the kind of application, which fixes how it
 * authenticates (a secret, or PKCE) and cannot change later. Scopes come next, on their own page.
 */
export function CreateCredentialDialog({ onClose, onCreated }: { onClose(): void; onCreated(client: ClientCreated): void }) {
  const [name, setName] = useState('');
  const [type, setType] = useState<ClientType>('service');
  const [environment, setEnvironment] = useState<'live' | 'test'>('live');
  const [redirect, setRedirect] = useState('');
  const create = useAction(() =>
    api.post<ClientCreated>('/clients', {
      client_name: name.trim(),
      type,
      environment,
      ...(type === 'service' ? {} : { redirect_uris: [redirect.trim()] }),
    }),
  );
  const signsPeopleIn = type !== 'service';
  // What the server would refuse, checked here first; shown after a first attempt, all at once.
  const [tried, setTried] = useState(false);
  const local = compact({
    client_name: name.trim() ? undefined : 'Give the credential a name.',
    redirect_uris: signsPeopleIn ? redirectProblem(redirect) : undefined,
  });
  const problems = { ...(tried ? local : {}), ...serverProblems(create.error) };
  const submit = async (e: Event) => {
    e.preventDefault();
    setTried(true);
    create.clearError();
    if (Object.keys(local).length) return;
    const client = await create.run();
    if (client) onCreated(client);
  };
  const fieldError = (field: string) => problems[field];
  return (
    <Dialog
      title="Create credential"
      description="Credentials let an application get tokens from Gatehouse. You choose what it may access next."
      onClose={onClose}
      size="large"
    >
      <form id="create-credential" onSubmit={submit} noValidate>
        <Field id="credential-name" label="Name" hint="Something people will recognise in the audit log, e.g. “Orders sync (production)”." error={fieldError('client_name')}>
          <input id="credential-name" type="text" required maxLength={NAME_MAX} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} autoFocus />
        </Field>
        <fieldset>
          <legend>Type</legend>
          <p class="hint">The type decides how the application proves who it is. It cannot be changed later.</p>
          <div class="choices" role="radiogroup">
            {TYPES.map((t) => (
              <label class="choice" key={t}>
                <input type="radio" name="credential-type" value={t} checked={type === t} onChange={() => setType(t)} />
                <div>
                  <strong>{TYPE_LABELS[t]}</strong>
                  <span>{TYPE_HINTS[t]}</span>
                </div>
              </label>
            ))}
          </div>
        </fieldset>
        {signsPeopleIn && (
          <Field
            id="credential-redirect"
            label="Redirect URI"
            hint={type === 'native' ? 'Where Gatehouse sends people back after they sign in: a loopback http://127.0.0.1 URI or a private-use scheme (com.example.app:/callback).' : 'Where Gatehouse sends people back after they sign in, e.g. https://app.example.com/callback. It must match exactly.'}
            error={fieldError('redirect_uris')}
          >
            <input id="credential-redirect" type="url" required value={redirect} onInput={(e) => setRedirect((e.currentTarget as HTMLInputElement).value)} />
          </Field>
        )}
        <Field id="credential-environment" label="Environment" hint="Test credentials get sk_test_ secrets, so a leaked one is easy to tell from a live one." error={fieldError('environment')}>
          <select id="credential-environment" value={environment} onChange={(e) => setEnvironment((e.currentTarget as HTMLSelectElement).value as 'live' | 'test')}>
            <option value="live">Live</option>
            <option value="test">Test</option>
          </select>
        </Field>
        <ErrorNotice error={otherError(create.error, ['client_name', 'redirect_uris', 'environment'])} />
      </form>
      <div class="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="primary" type="submit" form="create-credential" busy={create.busy} busyLabel="Creating…">
          Create credential
        </Button>
      </div>
    </Dialog>
  );
}
