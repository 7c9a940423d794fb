import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { Badge, Button, ErrorNotice, Field, Loading, MoreButton, Notice, PageHeader, RequirePermission } from '../components/ui.js';
import { formatDateTime, relative } from '../format.js';
import { useAction } from '../hooks.js';
import { usePaged } from '../paged.js';
import { useSession } from '../session.js';
import type { RotationResult, SigningKey } from '../types.js';
import { IdCell } from '../components/id-cell.js';

/**
 * Signing keys: what signs access and ID tokens, published at /oauth/jwks for resource servers.
 * Listing needs apis:read (the JWKS shows the same publicly); rotating needs keys:write.
 */
export function SigningKeysPage() {
  return (
    <RequirePermission permission="apis:read" title="Signing keys" what="see the signing keys">
      <KeysList />
    </RequirePermission>
  );
}

const TONES = { active: 'success', pending: 'info', retired: 'neutral' } as const;
const STATUS_WORDS = { active: 'Signing', pending: 'Pending', retired: 'Retired' } as const;

function KeysList() {
  const { can } = useSession();
  const canRotate = can('keys:write');
  const list = usePaged<SigningKey>('/keys?limit=50');
  const [rotating, setRotating] = useState(false);
  const [done, setDone] = useState<string | undefined>();

  return (
    <>
      <PageHeader
        title="Signing keys"
        description={
          <>
            The keys that sign access and ID tokens. Resource servers verify tokens with the public halves, published at <code>/oauth/jwks</code>.
          </>
        }
        actions={
          <Button variant="primary" onClick={() => setRotating(true)} disabled={!canRotate} title={canRotate ? undefined : 'Needs the keys:write permission'}>
            Rotate keys
          </Button>
        }
      />
      {!canRotate && (
        <Notice>
          You can see the keys, but rotating them needs the <code>keys:write</code> permission.
        </Notice>
      )}
      {done && <Notice kind="success">{done}</Notice>}
      <ErrorNotice error={list.error} />
      {list.loading && !list.items.length ? <Loading label="Loading signing keys…" /> : list.items.length > 0 && <KeysTable keys={list.items} />}
      <MoreButton next={list.next} busy={list.loading} onMore={() => void list.more()} />
      {rotating && (
        <RotateDialog
          onClose={() => setRotating(false)}
          onRotated={(result) => {
            setRotating(false);
            setDone(rotationSummary(result));
            list.reload();
          }}
        />
      )}
    </>
  );
}

function rotationSummary({ keys, retiring }: RotationResult): string {
  const startsAt = keys[0]?.activates_at;
  const when = startsAt && new Date(startsAt).getTime() > Date.now() ? `from ${formatDateTime(startsAt)}` : 'from now';
  const retire = retiring.length ? ` The ${retiring.length === 1 ? 'key' : `${retiring.length} keys`} signing until then retire but stay published until the tokens they signed expire.` : '';
  return `${keys.length === 1 ? 'A new key was' : `${keys.length} new keys were`} created. They are published now and sign ${when}.${retire}`;
}

function KeysTable({ keys }: { keys: SigningKey[] }) {
  return (
    <div class="table-wrap">
      <table class="responsive">
        <thead>
          <tr>
            <th scope="col">Key ID</th>
            <th scope="col">Algorithms</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Signs from</th>
            <th scope="col">Retired</th>
            <th scope="col">Published until</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.kid}>
              <td data-label="Key ID">
                <IdCell id={k.kid} copyLabel={`Copy key ID ${k.kid}`} />
              </td>
              <td data-label="Algorithms">
                {k.algs.join(', ')} <span class="sub">{k.kty}</span>
              </td>
              <td data-label="Status">
                <Badge tone={TONES[k.status]}>{STATUS_WORDS[k.status]}</Badge>
              </td>
              <td class="nowrap" data-label="Created">
                {formatDateTime(k.created_at)}
              </td>
              <td class="nowrap" data-label="Signs from" title={formatDateTime(k.activates_at)}>
                {k.status === 'pending' ? relative(k.activates_at) : formatDateTime(k.activates_at)}
              </td>
              <td class="nowrap" data-label="Retired">
                {k.retired_at ? formatDateTime(k.retired_at) : '—'}
              </td>
              <td class="nowrap" data-label="Published until">
                {k.published_until ? formatDateTime(k.published_until) : 'While it signs'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** How long new keys wait before signing; "" leaves it to the server's KEY_ACTIVATION_DELAY. */
const DELAYS = [
  { value: '', label: 'The server’s default delay' },
  { value: '0', label: 'Now' },
  { value: '600', label: 'In 10 minutes' },
  { value: '3600', label: 'In 1 hour' },
  { value: '86400', label: 'In 1 day' },
];

function RotateDialog({ onClose, onRotated }: { onClose(): void; onRotated(result: RotationResult): void }) {
  const [delay, setDelay] = useState('');
  const rotate = useAction(() => api.post<RotationResult>('/keys/rotate', delay === '' ? {} : { activate_in: Number(delay) }));
  return (
    <Dialog
      title="Rotate signing keys"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant="primary"
            busy={rotate.busy}
            busyLabel="Rotating…"
            onClick={async () => {
              const result = await rotate.run();
              if (result) onRotated(result);
            }}
          >
            Rotate keys
          </Button>
        </>
      }
    >
      <p>
        New keys are created and published in the JWKS at once. They start signing after the delay you choose; the keys signing now then retire, and stay published until every token
        they signed has expired. Tokens already issued keep working.
      </p>
      <Field
        id="rotate-delay"
        label="New keys sign"
        hint="A delay lets resource servers that cache the JWKS fetch the new keys before tokens signed with them arrive."
      >
        <select id="rotate-delay" value={delay} onChange={(e) => setDelay((e.currentTarget as HTMLSelectElement).value)}>
          {DELAYS.map((d) => (
            <option key={d.value} value={d.value}>
              {d.label}
            </option>
          ))}
        </select>
      </Field>
      {delay === '0' && (
        <Notice kind="warning">
          Resource servers holding a cached JWKS will refuse new tokens until they fetch it again. Use <em>Now</em> when a key may have leaked.
        </Notice>
      )}
      <ErrorNotice error={rotate.error} title="The keys were not rotated." />
    </Dialog>
  );
}
